"""Organisations (councils, CCGs/ICBs, providers, audit bodies) and the people who act for them."""
