-- One campaign's analytics in one pass: counts per section, the API's rates are computed
-- from them in Python (shared/services/analytics.py, which documents every rule).
--   campaign_id   STRING  message_history.campaign_id (BIRTHDAY..., or SEG_...)
--   period        STRING  one occurrence ('' = every occurrence)
--   window_days   INT64   attribution window after the message's first send
--   timezone      STRING  IANA zone of engagement_by_hour / _weekday
-- Each output row is (section, bucket) with the counts of the targets in it:
--   total ''           every target (of the period, when one is asked for)
--   period <period>    each occurrence
--   variant <name>     the A/B test group's targets of each variant (rollout excluded)
--   tag <tag>          targets whose phone is a contact with that tag (its current tags)
--   hour 00..23 / weekday 1..7 (ISO, Monday = 1)   first reads and first clicks by local time
-- A target counts in a state if it ever reached it, and a later state implies the earlier
-- ones: clicked (or replied) -> read -> delivered -> sent. Expired = never sent, its send-by passed first. Rows are deduplicated on event_id.
WITH events AS (
  SELECT
    event_id,
    ANY_VALUE(target_id) AS target_id,
    ANY_VALUE(user_id) AS user_id,
    ANY_VALUE(phone) AS phone,
    ANY_VALUE(period) AS period,
    ANY_VALUE(variant) AS variant,
    ANY_VALUE(status) AS status,
    ANY_VALUE(wamid) AS wamid,
    -- The rollout group of an A/B test carries the winner's variant but is no test data.
    LOGICAL_OR(ab_group = 'rollout') AS rollout,
    MIN(sent_at) AS at
  FROM `{campaign_dataset}.message_history`
  WHERE campaign_id = @campaign_id
    AND target_id IS NOT NULL
    AND target_id != ''
  GROUP BY event_id
),
clicks AS (
  -- Button replies and tracked-link taps carry the wamid of our message: a click belongs to the
  -- target that sent it (shared/services/link_clicks.py writes the link's row).
  SELECT
    m.target_id,
    MIN(c.sent_at) AS clicked_at
  FROM (SELECT DISTINCT target_id, wamid FROM events WHERE wamid IS NOT NULL AND wamid != '') AS m
  JOIN `{campaign_dataset}.message_history` AS c ON c.wamid = m.wamid
  WHERE c.status = 'CLICKED'
  GROUP BY m.target_id
),
replies AS (
  -- A customer's text or media answering our message carries its wamid too
  -- (shared/services/replies.py): a response of the target that sent it.
  SELECT
    m.target_id,
    MIN(c.sent_at) AS replied_at
  FROM (SELECT DISTINCT target_id, wamid FROM events WHERE wamid IS NOT NULL AND wamid != '') AS m
  JOIN `{campaign_dataset}.message_history` AS c ON c.wamid = m.wamid
  WHERE c.status = 'REPLIED'
  GROUP BY m.target_id
),
targets AS (
  SELECT
    e.target_id,
    MAX(e.period) AS period,
    MAX(e.user_id) AS user_id,
    MAX(e.phone) AS phone,
    MAX(e.variant) AS variant,
    LOGICAL_OR(e.rollout) AS rollout,
    MIN(IF(e.status IN ('SENT', 'DELIVERED', 'READ'), e.at, NULL)) AS sent_at,
    MIN(IF(e.status IN ('DELIVERED', 'READ'), e.at, NULL)) AS delivered_at,
    MIN(IF(e.status = 'READ', e.at, NULL)) AS read_at,
    LOGICAL_OR(e.status = 'EXPIRED') AS expired
  FROM events AS e
  GROUP BY e.target_id
),
reached AS (
  SELECT
    t.target_id,
    t.period,
    t.user_id,
    t.phone,
    IFNULL(t.variant, '') AS variant,
    IFNULL(t.rollout, FALSE) AS rollout,
    COALESCE(t.sent_at, c.clicked_at, p.replied_at) AS sent_at,
    COALESCE(t.delivered_at, c.clicked_at, p.replied_at) AS delivered_at,
    COALESCE(t.read_at, c.clicked_at, p.replied_at) AS read_at,
    c.clicked_at,
    p.replied_at,
    t.expired
  FROM targets AS t
  LEFT JOIN clicks AS c ON c.target_id = t.target_id
  LEFT JOIN replies AS p ON p.target_id = t.target_id
),
customers AS (
  SELECT DISTINCT id, cpf
  FROM `{raw_dataset}.clientes`
  WHERE cpf IS NOT NULL AND cpf != ''
),
attributable AS (
  -- Delivered messages to known customers. A sale goes to the customer's latest message of
  -- this campaign before it, so overlapping windows of a recurrent campaign never count a
  -- sale twice.
  SELECT
    r.target_id,
    c.cpf,
    r.sent_at,
    LEAD(r.sent_at) OVER (PARTITION BY c.cpf ORDER BY r.sent_at, r.target_id) AS next_sent_at
  FROM reached AS r
  JOIN customers AS c ON c.id = r.user_id
  WHERE r.delivered_at IS NOT NULL AND r.sent_at IS NOT NULL
),
conversions AS (
  SELECT
    a.target_id,
    SUM(v.valor) AS revenue
  FROM attributable AS a
  JOIN `{raw_dataset}.vendas` AS v ON v.cpfCliente = a.cpf
  WHERE v.status = 'COMPLETED'
    AND v.data >= a.sent_at
    AND v.data < TIMESTAMP_ADD(a.sent_at, INTERVAL @window_days DAY)
    AND (a.next_sent_at IS NULL OR v.data < a.next_sent_at)
  GROUP BY a.target_id
),
facts AS (
  SELECT
    r.*,
    v.target_id IS NOT NULL AS converted,
    IFNULL(v.revenue, 0) AS revenue
  FROM reached AS r
  LEFT JOIN conversions AS v ON v.target_id = r.target_id
  WHERE @period = '' OR r.period = @period
),
tags AS (
  SELECT DISTINCT c.phone, tag
  FROM `{campaign_dataset}.contacts` AS c, UNNEST(c.tags) AS tag
  WHERE c.phone IS NOT NULL AND tag IS NOT NULL AND tag != ''
),
grouped AS (
  SELECT 'total' AS section, '' AS bucket, f.* FROM facts AS f
  UNION ALL
  SELECT 'period', IFNULL(f.period, ''), f.* FROM facts AS f
  UNION ALL
  SELECT 'variant', f.variant, f.* FROM facts AS f WHERE f.variant != '' AND NOT f.rollout
  UNION ALL
  SELECT 'tag', g.tag, f.* FROM facts AS f JOIN tags AS g ON g.phone = f.phone
),
moments AS (
  -- First reads and first clicks in quarter-hour slots: every time zone's UTC offset is a
  -- whole number of quarter hours, so a slot lies within one local hour, and the zone
  -- conversion runs once per slot instead of once per message.
  SELECT TIMESTAMP_SECONDS(DIV(UNIX_SECONDS(read_at), 900) * 900) AS slot, 1 AS is_read,
    0 AS is_click
  FROM facts WHERE read_at IS NOT NULL
  UNION ALL
  SELECT TIMESTAMP_SECONDS(DIV(UNIX_SECONDS(clicked_at), 900) * 900), 0, 1
  FROM facts WHERE clicked_at IS NOT NULL
),
slots AS (
  SELECT slot, SUM(is_read) AS reads, SUM(is_click) AS clicks
  FROM moments
  GROUP BY slot
),
engagement AS (
  -- By the local hour and ISO weekday of the tenant's zone.
  SELECT 'hour' AS section, FORMAT_TIMESTAMP('%H', slot, @timezone) AS bucket, reads, clicks
  FROM slots
  UNION ALL
  SELECT 'weekday', FORMAT_TIMESTAMP('%u', slot, @timezone), reads, clicks
  FROM slots
)
SELECT
  section,
  bucket,
  COUNT(*) AS recipients,
  COUNTIF(sent_at IS NOT NULL) AS sent,
  COUNTIF(delivered_at IS NOT NULL) AS delivered,
  COUNTIF(read_at IS NOT NULL) AS read,
  COUNTIF(clicked_at IS NOT NULL) AS clicked,
  COUNTIF(converted) AS converted,
  SUM(revenue) AS revenue,
  COUNTIF(expired) AS expired,
  COUNTIF(replied_at IS NOT NULL) AS replied
FROM grouped
GROUP BY section, bucket
UNION ALL
SELECT
  section,
  bucket,
  0,
  0,
  0,
  SUM(reads),
  SUM(clicks),
  0,
  0.0,
  0,
  0
FROM engagement
GROUP BY section, bucket
