-- {CNPJ}_CAMPAIGN.contacts: the tenant's marketing contacts, imported through the API (the
-- seed's campaign_contacts, one row per phone). contact_id is "ct_" + the first 24 hex digits
-- of SHA-256(E.164 phone), so importing the same person twice finds the same row. Written only
-- by a load job into a per-import staging table + MERGE (sql/contacts/merge.sql) or a tag
-- UPDATE (sql/contacts/retag.sql), under the tenant's contacts lease in Firestore
-- (users/{cnpj}/locks/contacts): BigQuery limits concurrent DML per table.
-- groups and tags are sorted and distinct; tags are lower case. custom_fields is key/value
-- pairs sorted by key (keys folded to [a-z0-9_]), so segment filters can name a key as a query
-- parameter. Imports never change is_opted_out, is_blacklisted, created_at or last_interaction.
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
  last_interaction TIMESTAMP
)
CLUSTER BY phone
