"""Herefordshire's zones and lots as the demo draws them: read by the agreement's set-up and the sample visits.

The seeds give the zones only as maps, so the postcode districts of each
zone are invented (plausible Herefordshire HR districts); the pathways and
lots are the seeds'.
"""

from __future__ import annotations

#: Pathway O zones: zone -> (name, postcode districts). The districts are invented (the seeds give maps).
HEREFORDSHIRE_ZONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "zone-a": ("Pathway O Zone A", ("HR5", "HR6")),
    "zone-b": ("Pathway O Zone B", ("HR7", "HR8")),
    "zone-c": ("Pathway O Zone C", ("HR1", "HR4")),
    "zone-d": ("Pathway O Zone D", ("HR2", "HR9")),
    "zone-e": ("Pathway O Zone E", ("HR3",)),
}

#: Pathway D (complex needs): separate lots split north/south, each spanning O zones.
HEREFORDSHIRE_LOTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "complex-north": ("Pathway D Complex A & B (north)", ("zone-a", "zone-b")),
    "complex-south": ("Pathway D Complex C, D, E (south)", ("zone-c", "zone-d", "zone-e")),
}
