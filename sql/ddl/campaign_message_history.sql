-- {CNPJ}_CAMPAIGN.message_history: one row per message event, append-only (the seed's schema).
-- Partitioned by day and clustered like the "already reached?" look-ups of the targeting queries.
CREATE TABLE IF NOT EXISTS `{campaign_dataset}.message_history` (
  user_id STRING,
  campaign_type STRING,
  sent_at TIMESTAMP,
  status STRING,
  message_content STRING,
  phone STRING
)
PARTITION BY DATE(sent_at)
CLUSTER BY campaign_type, user_id
