-- The size of a segmentation's audience: a count over exactly the query that builds targets.
SELECT COUNT(*) AS audience
FROM (
{audience}
)
