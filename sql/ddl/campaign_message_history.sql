-- {CNPJ}_CAMPAIGN.message_history: one row per state change of a target, append-only.
-- The seed's columns first (its queries keep working), then what delivery adds. Production
-- refuses UPDATE/DELETE on rows still in the streaming buffer, so nothing here is ever
-- updated: readers take the latest row per target, and a retried append of the same change
-- repeats its event_id (deduplicate on it).
-- campaign_type is the campaign's kind (BIRTHDAY, WELCOME, REACTIVATION, LOYALTY or SEGMENT) under
-- the seed's column name; campaign_id is the campaign itself (a kind, or an API campaign's SEG_ id).
-- Partitioned by day and clustered like the "already reached?" look-ups of the targeting queries.
CREATE TABLE IF NOT EXISTS `{campaign_dataset}.message_history` (
  user_id STRING,
  campaign_type STRING,
  sent_at TIMESTAMP,
  status STRING,
  message_content STRING,
  phone STRING,
  event_id STRING,
  campaign_id STRING,
  target_id STRING,
  wamid STRING,
  template STRING,
  variant STRING,
  error_code INT64,
  error_reason STRING,
  attempt INT64,
  period STRING,
  voucher_code STRING,
  ab_group STRING
)
PARTITION BY DATE(sent_at)
CLUSTER BY campaign_type, user_id
