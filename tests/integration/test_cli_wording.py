"""The CLI's text says what it means: one provider's return, hours with thousands separators, an absent pool as none.

Run on the demo (Wirral's 2019-20 returns and pool, Herefordshire's 2017-18
incentives, which has no pool) and on a market of one accepted return.
"""

from __future__ import annotations

import pytest

from ledger.authorisation import provider_access
from ledger.queries import returns as views
from tests.integration.agreement_setup import WIRRAL
from tests.integration.returns_setup import finance, setup
from tests.integration.test_cost_return_market import Q, file


def lines_of(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_a_market_of_one_accepted_return_says_one_providers_return(book):
    setup(book)
    file(book, "premier-care")
    seen = views.market(book.read_engine, provider_access(book.records, finance("premier-care"), WIRRAL, "premier-care"), Q)
    assert seen["not_enough_providers"]["message"] == (
        f"no market figures: 1 provider's return is accepted for {Q} and at least 5 are needed, "
        "so that no provider's costs can be read from the quartiles"
    )


@pytest.mark.demo
def test_hours_have_thousands_separators_and_an_absent_pool_is_none(book, openbook):
    assessment = lines_of(openbook("incentives", "show", "--agreement", "herefordshire-hlah", "--year", "2017-18"))
    assert "  baseline:  1,675.00 h (fixed in the scheme from 2017-18)" in assessment
    assert "  actual:    1,540.88 h (2017-18 activity: 92,453 payable minutes ÷ 60)" in assessment
    sheet = lines_of(openbook("returns", "show", "--agreement", WIRRAL, "--provider", "premier-care",
                              "--period", "2019-20-Q1"))  # fmt: skip
    assert any(line.startswith("contact hours 45,500.00; ") for line in sheet)
    no_pool = lines_of(openbook("agreements", "show", "herefordshire-hlah", "--on", "2018-06-01"))
    assert "pooled budget 2018-19: none" in no_pool  # contributions are set for 2017-18 only
    pool = lines_of(openbook("agreements", "show", WIRRAL, "--on", "2019-06-01"))
    assert any(line.startswith("pooled budget 2019-20: £12,000,000.00 (") for line in pool)
