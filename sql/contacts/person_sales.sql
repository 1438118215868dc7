-- Every sale of one customer (by CPF), any status: the LGPD export. vendas is clustered by
-- cpfCliente, so this reads the customer's blocks only; it is not bounded in time on purpose
-- (the data subject is owed all of it).
SELECT data, valor, status, tipoPagamento, cupom
FROM `{raw_dataset}.vendas`
WHERE cpfCliente = @cpf
ORDER BY data
