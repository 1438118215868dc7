"""Pure business rules: no Google SDK, no clock, no environment."""
