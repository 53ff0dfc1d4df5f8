"""A wage floor recorded before bands were kept replays, and takes the band in force on its date.

The ``openbook:wage-floors.rate-added`` event gained an optional ``band``; its topic is unchanged. An event
stored without it (as every one recorded before) must replay into the aggregate and the read model, and the
invented 2027 National Living Wage of £13.10 it records keeps the band then in force, "21 and over".
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from domain.envelope import SYSTEM, Envelope
from domain.returns.wage_floors import WageFloors
from ledger.queries import returns as views


def test_a_rate_stored_without_a_band_replays_with_the_band_in_force(book):
    envelope = Envelope(SYSTEM, date(2026, 11, 20), "announced")
    floors = WageFloors.start(envelope)
    floors.add_rate(envelope, "national-living-wage", date(2027, 4, 1), D("13.10"))
    stored = [book.ledger.mapper.to_stored_event(e) for e in floors.collect_events()]
    state = json.loads(stored[1].state)
    del state["band"]  # as stored before bands were kept
    stored[1] = replace(stored[1], state=json.dumps(state, separators=(",", ":")).encode("utf-8"))
    book.ledger.recorder.insert_events(stored)
    book.projections.catch_up()

    floor = book.returns.wage_floor_table().statutory_floor_on(date(2027, 4, 1))
    assert (floor.name, floor.hourly_rate, floor.band) == ("National Living Wage", D("13.10"), "21 and over")
    [added] = views.wage_floors_added(book.read_engine)
    assert (added["floor"], added["hourly_rate"], added["band"]) == ("national-living-wage", D("13.10"), None)
