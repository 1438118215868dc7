-- The audience of an API campaign's segmentation: one row per member of the tenant's
-- customer_profile view, the row shape the campaign processor builds targets from.
-- Opted-out and blacklisted contacts and the opt-out ledger's phones are always left out.
--   opted_out_phones  ARRAY<STRING>  E.164 phones of the tenant's opt-out ledger (Firestore)
-- The last condition is the segmentation's, put in place by shared/services/segments.py and
-- assembled only from that module's fixed fragments: every value in it is a named parameter
-- (p0, p1, ...), plus as_of TIMESTAMP and zone STRING when a filter needs "now" or the
-- tenant's local calendar.
SELECT
  p.customer_id,
  p.contact_id,
  p.name,
  p.phone,
  p.bsuid,
  p.timezone,
  p.tags
FROM `{campaign_dataset}.customer_profile` AS p
WHERE NOT p.is_opted_out
  AND NOT p.is_blacklisted
  AND (p.phone IS NULL OR p.phone NOT IN UNNEST(@opted_out_phones))
  AND (
    {segment_filter}
  )
