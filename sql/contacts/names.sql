-- The name an imported contact gives each of these ids, where it gives one: a built-in
-- campaign's targets (customers from clientes) take it over the customer record's, the
-- contact-first rule of the customer_profile view (what the business set in the contact is
-- what it wants to be called; an `update` import shows in the next message).
--   contact_ids  ARRAY<STRING>  "ct_" ids of the targets' E.164 phones, at most 10,000
SELECT contact_id, TRIM(name) AS name
FROM `{campaign_dataset}.contacts`
WHERE contact_id IN UNNEST(@contact_ids)
  AND NULLIF(TRIM(name), '') IS NOT NULL
