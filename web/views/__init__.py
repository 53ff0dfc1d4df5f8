"""Blueprints, one per kind of user (public, provider, accountant, auditor) and the JSON API."""
