-- LOYALTY: customers with at least min_visits COMPLETED sales from local midnight of
-- (today - window_months) up to the tick, not reached by this campaign since history_since.
--   window_start  TIMESTAMP  local midnight of today - window_months (prunes vendas partitions)
--   min_visits    INT64
--   as_of         TIMESTAMP  the tick's instant
--   campaign_type  STRING, history_since TIMESTAMP (common to every campaign)
WITH visits AS (
  SELECT
    cpfCliente,
    COUNT(*) AS visit_count,
    ROUND(SUM(valor), 2) AS total_spent
  FROM `{raw_dataset}.vendas`
  WHERE status = 'COMPLETED'
    AND data >= @window_start
    AND data < @as_of
  GROUP BY cpfCliente
  HAVING COUNT(*) >= @min_visits
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
  v.visit_count,
  v.total_spent
FROM `{raw_dataset}.clientes` AS c
JOIN visits AS v ON v.cpfCliente = c.cpf
LEFT JOIN reached AS r ON r.user_id = c.id
WHERE r.user_id IS NULL
-- When the days left cannot send them all, the most loyal go first.
ORDER BY v.visit_count DESC, v.total_spent DESC, c.id
