"""How far each read model has got: the runner writes it, and a reader as at a past position checks it.

Apart from ``runner.py`` so that ``ledger/queries/`` can read it without
importing the runner, which writes (queries only read).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table

#: The runner's own tables (``runner.py`` adds the rest).
metadata = MetaData()

#: The last position each projection applied, written with its changes.
positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)
