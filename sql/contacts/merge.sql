-- Write an import's planned contacts (loaded into a staging table) in one statement.
-- The values were computed by the import's merge (shared/domain/contact_merge.py), so a matched row
-- takes them as they are, except what an import never changes: the opt-out and blacklist
-- flags, created_at and last_interaction. New rows start neither opted out nor blacklisted.
MERGE `{campaign_dataset}.contacts` AS target
USING `{campaign_dataset}.{staging_table}` AS source
ON target.contact_id = source.contact_id
WHEN MATCHED THEN
  UPDATE SET
    phone = source.phone,
    bsuid = source.bsuid,
    name = source.name,
    email = source.email,
    groups = source.groups,
    tags = source.tags,
    custom_fields = source.custom_fields,
    timezone = source.timezone,
    updated_at = source.updated_at
WHEN NOT MATCHED THEN
  INSERT (
    contact_id, phone, name, email, groups, tags, custom_fields, timezone,
    is_opted_out, is_blacklisted, created_at, updated_at, last_interaction, bsuid
  )
  VALUES (
    source.contact_id, source.phone, source.name, source.email, source.groups, source.tags,
    source.custom_fields, source.timezone,
    FALSE, FALSE, source.created_at, source.updated_at, NULL, source.bsuid
  )
