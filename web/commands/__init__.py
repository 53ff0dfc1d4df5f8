"""Command groups of the ``openbook`` CLI, one module per area, registered on the main group in web/cli.py."""
