"""Read models: SQLAlchemy tables kept up to date from the event history.

Each projection writes its tables and records the last position it applied
in the same transaction, so a crash can never apply an event twice or skip
one. The library's own projection runner keeps its tracking in the event
store's connection and cannot share a SQLAlchemy transaction, so openbook
runs projections with the small runner in ``runner.py`` (docs/projections.md).
"""
