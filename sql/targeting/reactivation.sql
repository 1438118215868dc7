-- REACTIVATION: customers with at least one COMPLETED sale whose last one happened before
-- inactive_before, not reached by this campaign since history_since (this month).
-- Only sales since active_since are read (the partitions of the look-back window): a
-- customer whose last sale is older than that is lost, not lapsed.
--   inactive_before  TIMESTAMP  local midnight of (today - inactive_days)
--   active_since     TIMESTAMP  local midnight of (today - lookback_days)
--   as_of            TIMESTAMP  the tick's instant: a replayed tick ignores later sales
--   campaign_type  STRING, history_since TIMESTAMP (common to every campaign)
WITH last_purchase AS (
  SELECT
    cpfCliente,
    MAX(data) AS last_purchase_at
  FROM `{raw_dataset}.vendas`
  WHERE status = 'COMPLETED'
    AND data >= @active_since
    AND data < @as_of
  GROUP BY cpfCliente
),
reached AS (
  SELECT DISTINCT user_id
  FROM `{campaign_dataset}.message_history`
  WHERE campaign_type = @campaign_type
    AND sent_at >= @history_since
)
SELECT
  c.id AS customer_id,
  c.nome AS name,
  c.telefone AS phone,
  lp.last_purchase_at
FROM `{raw_dataset}.clientes` AS c
JOIN last_purchase AS lp ON lp.cpfCliente = c.cpf
LEFT JOIN reached AS r ON r.user_id = c.id
WHERE lp.last_purchase_at < @inactive_before
  AND r.user_id IS NULL
-- When the month left cannot send them all, the most recently lapsed go first: the likeliest
-- to come back.
ORDER BY lp.last_purchase_at DESC, c.id
