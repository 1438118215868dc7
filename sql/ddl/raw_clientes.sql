-- {CNPJ}_RAW.clientes: the tenant's customers, as loaded by the nightly data pipeline (the seed's schema).
CREATE TABLE IF NOT EXISTS `{raw_dataset}.clientes` (
  id STRING,
  nome STRING,
  dataNascimento TIMESTAMP,
  cpf STRING,
  telefone STRING,
  email STRING,
  genero STRING,
  dataCadastro TIMESTAMP,
  primeiraCompra TIMESTAMP
)
