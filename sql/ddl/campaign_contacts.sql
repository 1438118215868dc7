-- {CNPJ}_CAMPAIGN.contacts: the tenant's marketing contacts, imported through the API (the
-- seed's campaign_contacts, one row per phone). contact_id is "ct_" + the first 24 hex digits
-- of SHA-256(E.164 phone), so importing the same person twice finds the same row. Written only
-- by a load job into a per-import staging table + MERGE (sql/contacts/merge.sql) or a tag
-- UPDATE (sql/contacts/retag.sql), under the tenant's contacts lease in Firestore
-- (users/{cnpj}/locks/contacts): BigQuery limits concurrent DML per table.
-- groups and tags are sorted and distinct; tags are lower case. custom_fields is key/value
-- pairs sorted by key (keys folded to [a-z0-9_]), so segment filters can name a key as a query
-- parameter. Imports never change is_opted_out, is_blacklisted, created_at or last_interaction.
-- bsuid is the person's WhatsApp business-scoped user id (CC. + up to 128 letters and digits),
-- when the business knows it; a contact has a phone, a bsuid or both. A contact with no phone
-- has "ct_" + 24 hex digits of SHA-256("bsuid:" + bsuid) as its id. Added after the table
-- first shipped: sql/ddl/upgrades/contacts_bsuid.sql adds it to an older table in place.
CREATE TABLE IF NOT EXISTS `{campaign_dataset}.contacts` (
  contact_id STRING,
  phone STRING,
  name STRING,
  email STRING,
  groups ARRAY<STRING>,
  tags ARRAY<STRING>,
  custom_fields ARRAY<STRUCT<key STRING, value STRING>>,
  timezone STRING,
  is_opted_out BOOL,
  is_blacklisted BOOL,
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  last_interaction TIMESTAMP,
  bsuid STRING
)
CLUSTER BY phone
