-- GET /api/v1/contacts: one page of the tenant's people (the customer_profile view), with how
-- many match in all. Every value is a parameter, each filter off when its parameter is empty:
--   text          lower case, accents removed: part of the name or the e-mail
--   phone_digits  digits that the phone's digits contain (an E.164 number without its +)
--   tag           a tag (lower case, as stored)
--   erased_ids    ids of people erased at their request (LGPD): never listed again, even if
--                 the nightly load brings their customer row back
-- Names are compared without accents (NFD, marks removed), the way the service folds the text.
SELECT
  p.customer_id,
  p.contact_id,
  p.name,
  p.phone,
  p.tags,
  p.is_opted_out,
  p.is_blacklisted,
  p.visit_count,
  p.last_purchase,
  p.total_spent,
  COUNT(*) OVER () AS total
FROM `{campaign_dataset}.customer_profile` AS p
WHERE p.customer_id NOT IN UNNEST(@erased_ids)
  AND (
    @text = ''
    OR STRPOS(REGEXP_REPLACE(NORMALIZE(LOWER(IFNULL(p.name, '')), NFD), r'\p{M}', ''), @text) > 0
    OR STRPOS(LOWER(IFNULL(p.email, '')), @text) > 0
  )
  AND (
    @phone_digits = ''
    OR STRPOS(REGEXP_REPLACE(IFNULL(p.phone, ''), r'[^0-9]', ''), @phone_digits) > 0
  )
  AND (@tag = '' OR EXISTS(SELECT 1 FROM UNNEST(p.tags) AS t WHERE LOWER(t) = @tag))
ORDER BY p.name IS NULL, LOWER(p.name), p.customer_id
LIMIT @page_size OFFSET @skip
