-- BIRTHDAY: customers whose date of birth (the UTC calendar date of dataNascimento) falls on
-- today's local month and day, not reached by this campaign since history_since.
--   birthday_keys  ARRAY<STRING>  'MM-DD' celebrated today ('02-29' joins '02-28' in common years)
--   campaign_type  STRING, history_since TIMESTAMP, as_of TIMESTAMP (common to every campaign)
WITH reached AS (
  SELECT DISTINCT user_id
  FROM `{campaign_dataset}.message_history`
  WHERE campaign_type = @campaign_type
    AND sent_at >= @history_since
)
SELECT
  c.id AS customer_id,
  c.nome AS name,
  c.telefone AS phone,
  DATE(c.dataNascimento) AS birth_date
FROM `{raw_dataset}.clientes` AS c
LEFT JOIN reached AS r ON r.user_id = c.id
WHERE FORMAT_DATE('%m-%d', DATE(c.dataNascimento)) IN UNNEST(@birthday_keys)
  AND r.user_id IS NULL
-- Everyone has the same send-by (their birthday): the order only makes runs repeatable.
ORDER BY c.id
