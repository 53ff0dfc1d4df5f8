"""The ``openbook`` command line: one module per command group."""
