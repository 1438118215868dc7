-- Add and remove tags on the given contacts, the ones whose tags the tag change computed will
-- change (so updated_at moves only when the tags do). The result is sorted and distinct, the
-- same order as shared.domain.contact_merge.retagged (STRING order is code point order in both).
UPDATE `{campaign_dataset}.contacts`
SET
  tags = ARRAY(
    SELECT DISTINCT tag
    FROM UNNEST(ARRAY_CONCAT(IFNULL(tags, []), @add)) AS tag
    WHERE tag NOT IN UNNEST(@remove)
    ORDER BY tag
  ),
  updated_at = @now
WHERE contact_id IN UNNEST(@contact_ids)
