"""The ``campaigns`` command line: the local stack, tenants, data, ticks and targets."""
