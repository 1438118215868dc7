-- Voucher redemptions of one campaign: per period, plus one row with period NULL for the whole
-- campaign. A redemption is a COMPLETED sale in vendas whose cupom is one of the campaign's
-- codes, made while the code was valid; each code counts once, with its first such sale.
--
-- The campaign's codes come from message_history (voucher_code, with the target's period), so
-- no code list has to be read from Firestore. A code's validity starts at its first history
-- row (the target was queued, seconds after the code was issued; nobody can know the code
-- earlier) and lasts through the local date validity_days after that day, as
-- VoucherConfig.expires_at computes from the issue instant (shared/domain/vouchers.py).
-- Only a target first queued on a later local date than its code was issued (issued just
-- before midnight) gets a day more here than its message says.
-- Parameters: campaign_id STRING, validity_days INT64 (the campaign's voucher), timezone
-- STRING (the tenant's IANA zone).
--
-- Cashiers type codes, so cupom is compared as normalize_code does: upper case, without
-- spaces and hyphens, O read as 0 and I/L as 1 in the last eight symbols.
-- Columns: period (NULL = whole campaign), vouchers_issued (codes with a history row),
-- vouchers_sent (codes whose message reached SENT, DELIVERED or READ), redemptions, revenue.
WITH history AS (
  SELECT voucher_code AS code, period, sent_at, status
  FROM `{campaign_dataset}.message_history`
  WHERE campaign_id = @campaign_id AND voucher_code IS NOT NULL AND voucher_code != ''
),
codes AS (
  SELECT
    code,
    MIN(period) AS period,
    MIN(sent_at) AS valid_from,
    LOGICAL_OR(status IN ('SENT', 'DELIVERED', 'READ')) AS sent
  FROM history
  GROUP BY code
),
windows AS (
  SELECT
    code,
    period,
    sent,
    valid_from,
    DATE_ADD(DATE(valid_from, @timezone), INTERVAL @validity_days DAY) AS last_valid_day
  FROM codes
),
typed AS (
  SELECT data, valor, REGEXP_REPLACE(UPPER(cupom), r'[\s-]', '') AS cupom
  FROM `{raw_dataset}.vendas`
  WHERE status = 'COMPLETED' AND cupom IS NOT NULL
),
sales AS (
  SELECT
    data,
    valor,
    CONCAT(
      SUBSTR(cupom, 1, LENGTH(cupom) - 8),
      TRANSLATE(SUBSTR(cupom, LENGTH(cupom) - 7), 'OIL', '011')
    ) AS code
  FROM typed
  WHERE LENGTH(cupom) >= 8
),
redemptions AS (
  SELECT
    windows.code,
    windows.period,
    sales.valor,
    ROW_NUMBER() OVER (PARTITION BY windows.code ORDER BY sales.data, sales.valor) AS nth
  FROM windows
  JOIN sales
    ON sales.code = windows.code
    AND sales.data >= windows.valid_from
    AND DATE(sales.data, @timezone) <= windows.last_valid_day
),
firsts AS (
  SELECT code, period, valor FROM redemptions WHERE nth = 1
),
per_period AS (
  SELECT
    windows.period,
    COUNT(*) AS vouchers_issued,
    COUNTIF(windows.sent) AS vouchers_sent,
    COUNT(firsts.code) AS redemptions,
    ROUND(COALESCE(SUM(firsts.valor), 0), 2) AS revenue
  FROM windows
  LEFT JOIN firsts ON firsts.code = windows.code
  GROUP BY windows.period
)
SELECT period, vouchers_issued, vouchers_sent, redemptions, revenue
FROM per_period
UNION ALL
SELECT
  CAST(NULL AS STRING) AS period,
  COALESCE(SUM(vouchers_issued), 0) AS vouchers_issued,
  COALESCE(SUM(vouchers_sent), 0) AS vouchers_sent,
  COALESCE(SUM(redemptions), 0) AS redemptions,
  ROUND(COALESCE(SUM(revenue), 0), 2) AS revenue
FROM per_period
ORDER BY period NULLS FIRST
