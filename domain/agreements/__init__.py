"""Agreements: who commissions what care, where, from whom and on what terms, as at any date."""
