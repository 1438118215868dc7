"""One module per Google SDK. Each translates SDK errors into the domain's error vocabulary."""
