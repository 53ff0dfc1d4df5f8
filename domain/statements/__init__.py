"""Statements sent out: each issue recorded with the digest of the document that left the system."""
