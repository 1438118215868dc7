-- A contacts table created before contacts could carry a BSUID gets the column in place: adding
-- a NULLABLE column keeps every row (each reads NULL), as Terraform's in-place update does in
-- production from tables.json. Idempotent: re-registering a tenant runs it again harmlessly.
ALTER TABLE `{campaign_dataset}.contacts` ADD COLUMN IF NOT EXISTS bsuid STRING
