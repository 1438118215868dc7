-- The stored contacts among the given ids (an import's or a tag change's read, under the
-- tenant's contacts lease). Ids come in chunks of at most 10,000.
SELECT
  contact_id,
  phone,
  name,
  email,
  groups,
  tags,
  custom_fields,
  timezone,
  is_opted_out,
  is_blacklisted,
  created_at,
  updated_at,
  last_interaction,
  bsuid
FROM `{campaign_dataset}.contacts`
WHERE contact_id IN UNNEST(@contact_ids)
