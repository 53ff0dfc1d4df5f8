"""Delivered activity: visit records, their imports, and the arrears a backdated rate owes on them."""
