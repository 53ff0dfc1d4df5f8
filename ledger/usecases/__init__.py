"""Use cases, one module per area; ``ledger.application.Ledger`` combines them."""
