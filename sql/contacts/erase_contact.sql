-- LGPD erasure: the person's imported contact row goes (name, e-mail, tags, groups, custom
-- fields, time zone). Run under the tenant's contacts lease, like every change of contacts.
DELETE FROM `{campaign_dataset}.contacts`
WHERE contact_id = @contact_id
