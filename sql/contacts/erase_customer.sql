-- LGPD erasure: the personal columns of the person's customer row are emptied. The row and its
-- CPF stay: sales (vendas) are fiscal records the business must keep (LGPD Art. 16, I), and
-- they reach the customer only through the CPF. Run under the tenant's contacts lease.
UPDATE `{raw_dataset}.clientes`
SET nome = NULL, email = NULL, dataNascimento = NULL, telefone = NULL, genero = NULL
WHERE id = @customer_id
