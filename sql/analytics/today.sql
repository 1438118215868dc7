-- The tenant's messages of one local day, per campaign, for the console's Início
-- (shared/services/activity.py documents the rules).
--   day_start      TIMESTAMP  the local day's first instant
--   day_end        TIMESTAMP  the next local day's first instant
--   waiting_since  TIMESTAMP  how far back a message still waiting to go is looked for
-- Per campaign: sent = targets first sent that day, and of those the ones delivered and read
-- (so far); failed / expired = targets whose latest change is a failure / an expiry (its
-- send-by passed before it could go) made that day; waiting = targets
-- whose latest change left them planned but not sent yet (QUEUED, or SENDING right now).
-- Rows are deduplicated on event_id; event ids end in "#<version>", the target's own order.
WITH events AS (
  SELECT
    event_id,
    ANY_VALUE(campaign_id) AS campaign_id,
    ANY_VALUE(target_id) AS target_id,
    ANY_VALUE(status) AS status,
    MIN(sent_at) AS at,
    MAX(SAFE_CAST(REGEXP_EXTRACT(event_id, r'#([0-9]+)$') AS INT64)) AS version
  FROM `{campaign_dataset}.message_history`
  WHERE sent_at >= @waiting_since
    AND sent_at < @day_end
    AND target_id IS NOT NULL
    AND target_id != ''
  GROUP BY event_id
),
targets AS (
  SELECT
    campaign_id,
    target_id,
    MIN(IF(status IN ('SENT', 'DELIVERED', 'READ'), at, NULL)) AS sent_at,
    LOGICAL_OR(status IN ('DELIVERED', 'READ')) AS delivered,
    LOGICAL_OR(status = 'READ') AS read,
    MAX(version) AS last_version
  FROM events
  GROUP BY campaign_id, target_id
),
latest AS (
  SELECT
    t.*,
    e.status AS latest_status,
    e.at AS latest_at
  FROM targets AS t
  JOIN events AS e
    ON e.campaign_id = t.campaign_id
    AND e.target_id = t.target_id
    AND e.version = t.last_version
)
SELECT
  campaign_id,
  COUNTIF(sent_at >= @day_start) AS sent,
  COUNTIF(sent_at >= @day_start AND delivered) AS delivered,
  COUNTIF(sent_at >= @day_start AND read) AS read,
  COUNTIF(latest_status = 'FAILED' AND latest_at >= @day_start) AS failed,
  COUNTIF(latest_status = 'EXPIRED' AND latest_at >= @day_start) AS expired,
  COUNTIF(latest_status IN ('QUEUED', 'SENDING')) AS waiting
FROM latest
GROUP BY campaign_id
