-- WELCOME: customers who signed up on the local day [signup_from, signup_until) (yesterday),
-- never reached by this campaign.
--   signup_from, signup_until  TIMESTAMP  the UTC instants bounding that local day
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
  c.dataCadastro AS signed_up_at
FROM `{raw_dataset}.clientes` AS c
LEFT JOIN reached AS r ON r.user_id = c.id
WHERE c.dataCadastro >= @signup_from
  AND c.dataCadastro < @signup_until
  AND r.user_id IS NULL
-- When the days left cannot send them all, the longest waiting go first.
ORDER BY c.dataCadastro, c.id
