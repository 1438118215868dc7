-- Every message_history row about one person since a moment: rows of their targets (user_id is
-- the target's customer id) and rows that name their phone (clicks carry only the phone).
-- Deduplicated on the whole row: a retried append repeats its event_id and its values.
--   customer_id  the person's customer_profile id
--   phone        their E.164 phone, or '' when they have none (then only user_id matches)
--   since        the person's page reads a year; the LGPD export passes the epoch
SELECT DISTINCT
  event_id,
  user_id,
  campaign_type,
  campaign_id,
  target_id,
  sent_at,
  status,
  phone,
  template,
  variant,
  wamid,
  error_code,
  error_reason,
  attempt,
  period,
  voucher_code,
  ab_group,
  message_content
FROM `{campaign_dataset}.message_history`
WHERE sent_at >= @since
  AND (user_id = @customer_id OR (@phone != '' AND phone = @phone))
ORDER BY sent_at, event_id
