-- {CNPJ}_CAMPAIGN.customer_profile: one row per audience member, the one table segments query.
-- A member is a customer (clientes) or an imported contact (contacts) or both: the two are
-- matched by phone, normalised here the way shared/domain/phones.normalize_br_mobile does for
-- the shapes customer exports hold (punctuation, +55 or 55, trunk 0 and carrier codes, legacy
-- 8-digit mobiles that get their ninth digit); tests/sql/test_segment_sql.py checks it agrees
-- with the Python rule. Only valid mobiles match, so two unusable numbers never join people.
--   customer_id  clientes.id when a customer is part of the row, else contacts.contact_id
--   phone        E.164 when the number is a valid Brazilian mobile, else the raw text as stored
--                (the processor still reports why it cannot be used)
--   name, email  the imported contact's first (what the business set there, an import's update
--                must show), the customer record's to fill gaps
--   bsuid        the imported contact's WhatsApp user id, when the business gave one: a contact
--                with a bsuid and no phone is still a member, sent to by its bsuid
--   signed_up_at clientes.dataCadastro, else the contact's created_at
--   birth_date   the UTC calendar date of dataNascimento, as the BIRTHDAY campaign reads it
--   last_purchase, visit_count, total_spent  COMPLETED sales only (0 and NULL without any)
-- Behaviour over time ("days since") depends on the moment of the query, so it is computed by
-- the segment query from its as_of parameter, never stored here.
CREATE OR REPLACE VIEW `{campaign_dataset}.customer_profile` AS
WITH raw_phones AS (
  SELECT telefone AS raw FROM `{raw_dataset}.clientes` WHERE telefone IS NOT NULL
  UNION DISTINCT
  SELECT phone AS raw FROM `{campaign_dataset}.contacts` WHERE phone IS NOT NULL
),
typed_phones AS (
  -- The 0xx long-distance placeholder becomes its 0; then only ASCII digits and the
  -- punctuation people type between them may remain: a letter anywhere (a typo) or another
  -- script's digits make the number unusable, never keypad digits of a stranger's number.
  SELECT
    raw,
    REGEXP_REPLACE(REGEXP_REPLACE(raw, r'^\s+|\s+$', ''), r'^([\s(]*0)[xX]{2}', r'\1') AS typed
  FROM raw_phones
),
phone_digits AS (
  SELECT
    raw,
    IF(
      REGEXP_CONTAINS(typed, r'^[0-9+()./ \t\x{00a0}-]+$'), REGEXP_REPLACE(typed, r'[^0-9]', ''), ''
    ) AS digits,
    REGEXP_CONTAINS(raw, r'^\s*\+') AS international
  FROM typed_phones
),
phone_national AS (
  SELECT
    raw,
    CASE
      -- +CC: only Brazil's 55 is ours; any other country is foreign.
      WHEN international THEN IF(STARTS_WITH(digits, '55'), SUBSTR(digits, 3), NULL)
      -- trunk 0 plus a carrier code (0 15 11 98765-4321), then the 10-11 digit number
      WHEN REGEXP_CONTAINS(digits, r'^0(?:1[245]|2[1-35]|31|4[13]|[56]5|99)[0-9]{10,11}$')
        THEN SUBSTR(digits, 4)
      -- trunk 0 alone (011 98765-4321, 0xx11 ...)
      WHEN STARTS_WITH(digits, '0') THEN SUBSTR(digits, 2)
      -- 55 without the plus: too long to be a national number, so it is the country code
      WHEN REGEXP_CONTAINS(digits, r'^55[0-9]{10,11}$') THEN SUBSTR(digits, 3)
      ELSE digits
    END AS national
  FROM phone_digits
),
phone_ninth_digit AS (
  SELECT
    raw,
    IF(
      REGEXP_CONTAINS(national, r'^[0-9]{2}[6-9][0-9]{7}$'),
      CONCAT(SUBSTR(national, 1, 2), '9', SUBSTR(national, 3)),
      national
    ) AS national
  FROM phone_national
),
phones AS (
  -- A valid area code (the numbering plan's list) followed by a 9-digit mobile number.
  SELECT
    raw,
    IF(
      REGEXP_CONTAINS(
        national, r'^(?:[14689][1-9]|2[12478]|3[1-578]|5[13-5]|7[13-579])9[0-9]{8}$'
      ),
      CONCAT('+55', national),
      NULL
    ) AS e164
  FROM phone_ninth_digit
),
customer_rows AS (
  SELECT c.id, c.nome, c.telefone, c.cpf, c.email, c.dataNascimento, c.dataCadastro, ph.e164
  FROM `{raw_dataset}.clientes` AS c
  LEFT JOIN phones AS ph ON ph.raw = c.telefone
),
contact_rows AS (
  SELECT
    k.contact_id, k.phone, k.name, k.email, k.groups, k.tags, k.custom_fields, k.timezone,
    k.is_opted_out, k.is_blacklisted, k.created_at, k.bsuid, ph.e164
  FROM `{campaign_dataset}.contacts` AS k
  LEFT JOIN phones AS ph ON ph.raw = k.phone
),
purchases AS (
  SELECT
    cpfCliente,
    MAX(data) AS last_purchase,
    COUNT(*) AS visit_count,
    ROUND(SUM(valor), 2) AS total_spent
  FROM `{raw_dataset}.vendas`
  WHERE status = 'COMPLETED'
  GROUP BY cpfCliente
)
SELECT
  COALESCE(c.id, k.contact_id) AS customer_id,
  k.contact_id,
  NULLIF(c.cpf, '') AS cpf,
  COALESCE(NULLIF(TRIM(k.name), ''), NULLIF(TRIM(c.nome), '')) AS name,
  COALESCE(c.e164, k.e164, NULLIF(TRIM(c.telefone), ''), NULLIF(TRIM(k.phone), '')) AS phone,
  COALESCE(NULLIF(TRIM(k.email), ''), NULLIF(TRIM(c.email), '')) AS email,
  NULLIF(TRIM(k.timezone), '') AS timezone,
  IFNULL(k.groups, ARRAY<STRING>[]) AS groups,
  IFNULL(k.tags, ARRAY<STRING>[]) AS tags,
  IFNULL(k.custom_fields, ARRAY<STRUCT<key STRING, value STRING>>[]) AS custom_fields,
  IFNULL(k.is_opted_out, FALSE) AS is_opted_out,
  IFNULL(k.is_blacklisted, FALSE) AS is_blacklisted,
  DATE(c.dataNascimento) AS birth_date,
  COALESCE(c.dataCadastro, k.created_at) AS signed_up_at,
  v.last_purchase,
  IFNULL(v.visit_count, 0) AS visit_count,
  IFNULL(v.total_spent, 0) AS total_spent,
  NULLIF(TRIM(k.bsuid), '') AS bsuid
FROM customer_rows AS c
FULL OUTER JOIN contact_rows AS k ON k.e164 = c.e164
LEFT JOIN purchases AS v ON v.cpfCliente = NULLIF(c.cpf, '')
