-- One person of the customer_profile view, by their id (customer_id: the customer's id, or the
-- contact id of a contact who is no customer) or by their imported contact's id. A contact
-- whose phone two customer rows share matches both: the customer_id match comes first.
SELECT
  p.customer_id,
  p.contact_id,
  p.cpf,
  p.name,
  p.phone,
  p.bsuid,
  p.email,
  p.timezone,
  p.groups,
  p.tags,
  p.custom_fields,
  p.is_opted_out,
  p.is_blacklisted,
  p.birth_date,
  p.signed_up_at,
  p.last_purchase,
  p.visit_count,
  p.total_spent
FROM `{campaign_dataset}.customer_profile` AS p
WHERE p.customer_id = @person_id OR p.contact_id = @person_id
ORDER BY IF(p.customer_id = @person_id, 0, 1)
LIMIT 1
