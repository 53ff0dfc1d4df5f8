"""Credentials, login throttling and the security log: operational state kept apart from the event history."""
