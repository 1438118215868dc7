-- How far each of some campaigns has got, for the console's campaign list: its recipients
-- (targets with any history, as campaign_metrics.sql's total_recipients) and how many of them
-- were sent (reached SENT, DELIVERED or READ). Rows are deduplicated by counting targets.
--   campaign_ids  ARRAY<STRING>
SELECT
  campaign_id,
  COUNT(DISTINCT target_id) AS recipients,
  COUNT(DISTINCT IF(status IN ('SENT', 'DELIVERED', 'READ'), target_id, NULL)) AS sent
FROM `{campaign_dataset}.message_history`
WHERE campaign_id IN UNNEST(@campaign_ids)
  AND target_id IS NOT NULL
  AND target_id != ''
GROUP BY campaign_id
