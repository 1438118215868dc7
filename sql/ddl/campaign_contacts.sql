-- {CNPJ}_CAMPAIGN.contacts: the tenant's marketing contacts, imported through the API (the
-- seed's campaign_contacts, one row per phone). contact_id is derived from the E.164 phone, so
-- importing the same person twice finds the same row. Written only by load job + MERGE (or a
-- tag UPDATE) under the tenant's contacts lock: BigQuery limits concurrent DML per table.
-- custom_fields is key/value pairs, so segment filters can name a key as a query parameter.
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
