-- Messages sent and revenue attributed to them, per local day, for the console's 30-day chart
-- (shared/services/activity.py documents the rules; attribution as in campaign_metrics.sql).
--   since        TIMESTAMP  the first local day's first instant
--   until        TIMESTAMP  the instant after the last local day
--   lookback     TIMESTAMP  since minus the attribution window: earlier messages earn sales in range
--   window_days  INT64      attribution window after a message's first send
--   timezone     STRING     IANA zone of the days
--   campaign_id  STRING     one campaign ('' = every campaign of the tenant)
-- sent: targets first sent that local day. revenue: COMPLETED sales made that local day by a
-- customer whose message (delivered) was first sent within the window before the sale; a sale
-- goes to the latest such message before it only, so each sale counts once.
WITH events AS (
  SELECT
    event_id,
    ANY_VALUE(campaign_id) AS campaign_id,
    ANY_VALUE(target_id) AS target_id,
    ANY_VALUE(user_id) AS user_id,
    ANY_VALUE(status) AS status,
    ANY_VALUE(wamid) AS wamid,
    MIN(sent_at) AS at
  FROM `{campaign_dataset}.message_history`
  WHERE sent_at >= @lookback
    AND sent_at < @until
    AND (@campaign_id = '' OR campaign_id = @campaign_id)
    AND target_id IS NOT NULL
    AND target_id != ''
  GROUP BY event_id
),
clicks AS (
  -- Button replies and tracked-link taps carry the wamid of our message: a click proves it
  -- was sent and delivered.
  SELECT
    m.campaign_id,
    m.target_id,
    MIN(c.sent_at) AS clicked_at
  FROM (
    SELECT DISTINCT campaign_id, target_id, wamid FROM events WHERE wamid IS NOT NULL AND wamid != ''
  ) AS m
  JOIN `{campaign_dataset}.message_history` AS c ON c.wamid = m.wamid
  WHERE c.sent_at >= @lookback
    AND c.status = 'CLICKED'
  GROUP BY m.campaign_id, m.target_id
),
targets AS (
  SELECT
    campaign_id,
    target_id,
    MAX(user_id) AS user_id,
    MIN(IF(status IN ('SENT', 'DELIVERED', 'READ'), at, NULL)) AS sent_at,
    MIN(IF(status IN ('DELIVERED', 'READ'), at, NULL)) AS delivered_at
  FROM events
  GROUP BY campaign_id, target_id
),
reached AS (
  SELECT
    t.campaign_id,
    t.target_id,
    t.user_id,
    COALESCE(t.sent_at, c.clicked_at) AS sent_at,
    COALESCE(t.delivered_at, c.clicked_at) AS delivered_at
  FROM targets AS t
  LEFT JOIN clicks AS c ON c.campaign_id = t.campaign_id AND c.target_id = t.target_id
),
customers AS (
  SELECT DISTINCT id, cpf
  FROM `{raw_dataset}.clientes`
  WHERE cpf IS NOT NULL AND cpf != ''
),
attributable AS (
  SELECT
    c.cpf,
    r.sent_at,
    LEAD(r.sent_at) OVER (
      PARTITION BY c.cpf ORDER BY r.sent_at, r.campaign_id, r.target_id
    ) AS next_sent_at
  FROM reached AS r
  JOIN customers AS c ON c.id = r.user_id
  WHERE r.delivered_at IS NOT NULL AND r.sent_at IS NOT NULL
),
sales AS (
  SELECT
    v.data,
    v.valor
  FROM attributable AS a
  JOIN `{raw_dataset}.vendas` AS v ON v.cpfCliente = a.cpf
  WHERE v.data >= @since
    AND v.data < @until
    AND v.status = 'COMPLETED'
    AND v.data >= a.sent_at
    AND v.data < TIMESTAMP_ADD(a.sent_at, INTERVAL @window_days DAY)
    AND (a.next_sent_at IS NULL OR v.data < a.next_sent_at)
),
per_day AS (
  SELECT FORMAT_TIMESTAMP('%F', sent_at, @timezone) AS day, 1 AS sent, 0.0 AS revenue
  FROM reached
  WHERE sent_at >= @since AND sent_at < @until
  UNION ALL
  SELECT FORMAT_TIMESTAMP('%F', data, @timezone), 0, valor
  FROM sales
)
SELECT
  day,
  SUM(sent) AS sent,
  SUM(revenue) AS revenue
FROM per_day
GROUP BY day
