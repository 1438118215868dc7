-- A few members of a segmentation's audience, for a person checking who a campaign reaches:
-- the same query that builds targets, first by name.
--   sample_size  INT64  how many rows
SELECT customer_id, name, phone
FROM (
{audience}
)
ORDER BY name, customer_id
LIMIT @sample_size
