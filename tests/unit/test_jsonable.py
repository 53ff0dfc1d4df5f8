"""``json_ready``: every figure crosses as exact fixed-point text, whatever places it carries."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

from domain.money import money_places
from ledger.jsonable import json_ready


def test_decimals_cross_as_exact_fixed_point_text_never_a_float_or_an_exponent():
    figures = {"amount": D("1234.50"), "loss": D("-3.00"), "edge": D("1.08E+7"), "rate": D("13.7000"), "hours": D("1E+4")}
    assert json_ready(figures) == {
        "amount": "1234.50", "loss": "-3.00", "edge": "10800000", "rate": "13.7000", "hours": "10000",
    }  # fmt: skip
    text = json.dumps(json_ready({"on": date(2019, 4, 1), "parts": (D("0.7"), D("0.3"))}))
    assert text == '{"on": "2019-04-01", "parts": ["0.7", "0.3"]}'


def test_an_exact_amount_of_whole_pennies_is_written_with_two_places_and_its_value_kept():
    assert str(money_places(D("10800000.000"))) == "10800000.00"  # 90% of a £12,000,000.00 target
    assert str(money_places(D("5"))) == "5.00"
    assert str(money_places(D("-0.50"))) == "-0.50"
    assert str(money_places(D("3240000.005"))) == "3240000.005"  # not whole pennies: as it is, never rounded
