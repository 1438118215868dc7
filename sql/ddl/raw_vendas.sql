-- {CNPJ}_RAW.vendas: the tenant's sales (the seed's schema). Partitioned by day and clustered by
-- customer so the targeting queries' time windows and joins read only what they need.
CREATE TABLE IF NOT EXISTS `{raw_dataset}.vendas` (
  data TIMESTAMP,
  cpfCliente STRING,
  valor FLOAT64,
  status STRING,
  tipoPagamento STRING,
  cupom STRING
)
PARTITION BY DATE(data)
CLUSTER BY cpfCliente
