"""One module per command group of the `facilitation` CLI."""
