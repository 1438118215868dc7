"""Use cases. Each takes its ports as arguments and never builds a client itself."""
