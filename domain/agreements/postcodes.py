"""UK postcodes, reduced to what commissioning needs: the postcode district.

Zones and lots are drawn by postcode district (the outward code: "CH45" of
"CH45 3AB"), so a person's full postcode is only ever needed long enough to
find its district. A full postcode may identify someone's home, so no message
here repeats it; errors say what shape was expected instead.
"""

from __future__ import annotations

import re

from domain.errors import InvalidInput

__all__ = ["check_district", "postcode_district"]

_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_FULL_POSTCODE = re.compile(rf"({_OUTWARD}) ?([0-9][A-Z]{{2}})")
_DISTRICT = re.compile(_OUTWARD)


def postcode_district(postcode: str) -> str:
    """The UK outward code (postcode district) of a postcode, or of a district given alone.

    "CH45 3AB", "ch45 3ab" and "CH453AB" all give "CH45" (the inward code is
    always the last three characters: a digit and two letters); "CH45" gives
    "CH45". The message never repeats the postcode: it may be someone's home.
    """
    text = " ".join(postcode.upper().split()) if isinstance(postcode, str) else ""
    match = _FULL_POSTCODE.fullmatch(text)
    if match:
        return match[1]
    if _DISTRICT.fullmatch(text):
        return text
    raise InvalidInput("postcode: not a UK postcode (e.g. 'CH45 3AB') or postcode district (e.g. 'CH45')")


def check_district(district: object, field: str = "districts") -> str:
    """A postcode district as given to a zone ("ch41 " becomes "CH41"); a full postcode is refused."""
    text = district.strip().upper() if isinstance(district, str) else ""
    if not _DISTRICT.fullmatch(text):
        raise InvalidInput(f"{field}: {district!r} is not a postcode district such as 'CH41'")
    return text
