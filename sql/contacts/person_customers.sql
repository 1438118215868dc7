-- The tenant's customer record (clientes) of one person, every column: the LGPD export.
SELECT id, nome, dataNascimento, cpf, telefone, email, genero, dataCadastro, primeiraCompra
FROM `{raw_dataset}.clientes`
WHERE id = @customer_id
