"""Rates: the rate card, the one pricing path, and the yearly rate review with its uplift arithmetic."""
