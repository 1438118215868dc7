-- How many imported contacts give a name: a built-in campaign's run looks its targets' names
-- up in contacts (sql/contacts/names.sql) only when there is one, since passing every target's
-- id costs time in proportion to the targets (bqemulator: seconds for 40,000).
SELECT COUNT(*) AS named
FROM `{campaign_dataset}.contacts`
WHERE NULLIF(TRIM(name), '') IS NOT NULL
