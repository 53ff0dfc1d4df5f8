"""The statements' own charts: a return's cost groups stacked against the rate, and a settlement's share bands.

Figures in are the shapes the queries return (``return_sheet``, a settlement's
``statement``), figures out are the text the SVG writes: each chart must say
every figure it draws, in ``format_gbp``, and tell its series apart by hatch or
line style as well as shade, so a greyscale print still reads. The worked
figures are DOMAIN.md's: the Homecare Association's 2020-21 breakdown against
Wirral's £15.60, and the example bands (50% to 90% of target, 25% beyond; 50% to
110%, 100% beyond) on a £12m pooled budget.
"""

from __future__ import annotations

import re
from decimal import Decimal as D
from xml.etree import ElementTree

from domain.money import format_gbp
from ledger.queries.returns import RatePaid
from reports.charts import cost_breakdown_chart, share_bands_chart

#: HCA 2020-21 per hour (DOMAIN.md) in the return's groups: pay = contact £8.72 + travel time £1.70; on-costs =
#: NI and pension £1.14 + other on-costs £1.97; mileage £1.36; running the business £5.20; surplus £0.60. Total
#: £20.69 (the HCA's own minimum price), gap against £15.60: -£5.09.
GROUPS = [("pay", "Careworker pay (contact and travel time)", "10.42"), ("on-costs", "On-costs", "3.11"),
          ("travel", "Mileage and vehicles", "1.36"), ("consumables", "PPE and consumables", "0.00"),
          ("running-the-business", "Running the business", "5.20"), ("surplus", "Surplus", "0.60")]  # fmt: skip


def sheet(surplus: str = "0.60", rate: D | None = D("15.60")) -> dict:
    groups = [{"group": g, "label": label, "per_hour": D(surplus if g == "surplus" else x)} for g, label, x in GROUPS]
    total = sum((g["per_hour"] for g in groups), D(0))
    return {
        "provider_name": "Premier Care", "period": "2020-21-Q1", "groups": groups,
        "totals": {"total_per_hour": total}, "rate": RatePaid(rate, "rate card", rate, rate, "the card"),
        "gap": None if rate is None else rate - total,
    }  # fmt: skip


def texts(svg: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))


def hatches(svg: str) -> set[str]:
    """The hatch patterns the chart draws: each a <pattern> of its own."""
    return set(re.findall(r'<pattern id="(?:c[0-9a-f]+-)?(h[0-9a-f]+)"', svg))  # the chart's own key, then the hatch


def test_the_cost_breakdown_writes_each_group_the_total_and_the_rate_paid():
    svg = cost_breakdown_chart(sheet())
    written = texts(svg)
    for _, label, figure in GROUPS:
        assert f"{label} {format_gbp(D(figure))}" in written
    assert "cost £20.69" in written and "rate paid £15.60" in written
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
    assert "Total £20.69" in desc and "gap -£5.09" in desc
    # greyscale: the five drawn segments with width carry five different hatches (pay is solid dark grey)
    assert len(hatches(svg)) >= 4
    assert "style=" not in svg and "<style" not in svg  # inlined under the pages' CSP
    ElementTree.fromstring(svg)


def test_a_deficit_is_drawn_and_named_and_no_rate_means_no_rate_line():
    svg = cost_breakdown_chart(sheet(surplus="-0.80", rate=None))
    written = texts(svg)
    assert "deficit -£0.80" in written and "cost £19.29" in written
    assert "rate paid £" not in written
    assert "No rate paid is known." in svg


BANDS = [  # 12m target: 25% below 90%, 50% 90-100%, 50% 100-110%, 100% above 110%; actual £11.4m (a 5% underspend)
    {"band": "25% of the variance below 90% of target", "provider_share": D("0.25"), "spend_from": None,
     "spend_to": D("10800000.00"), "variance_in_band": D("0"), "provider_amount": D("0.00")},
    {"band": "50% of the variance between 90% and 100% of target", "provider_share": D("0.5"),
     "spend_from": D("10800000.00"), "spend_to": D("12000000.00"), "variance_in_band": D("600000.000"),
     "provider_amount": D("300000.00")},
    {"band": "50% of the variance between 100% and 110% of target", "provider_share": D("0.5"),
     "spend_from": D("12000000.00"), "spend_to": D("13200000.00"), "variance_in_band": D("0"),
     "provider_amount": D("0.00")},
    {"band": "100% of the variance above 110% of target", "provider_share": D("1"), "spend_from": D("13200000.00"),
     "spend_to": None, "variance_in_band": D("0"), "provider_amount": D("0.00")},
]  # fmt: skip


def test_the_share_bands_chart_marks_the_target_the_actual_and_each_bands_share():
    s = {"target": D("12000000.00"), "actual": D("11400000.00"), "variance": D("600000.00"), "bands": BANDS,
         "provider_amount_uncapped": D("300000.00")}  # fmt: skip
    svg = share_bands_chart(s, year="2020-21")
    written = texts(svg)
    assert "target £12,000,000.00" in written and "actual spend £11,400,000.00" in written
    assert "variance (target − actual) £600,000.00" in written and "before cap £300,000.00" in written
    assert all(b["band"] in written for b in BANDS) and all(share in written for share in ("25%", "50%", "100%"))
    assert len(hatches(svg)) >= 3  # the bands read apart without colour
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
    assert "variance in band £600,000.00, provider side £300,000.00" in desc
    assert "style=" not in svg
    other = share_bands_chart({**s, "actual": D("12480000.00"), "variance": D("-480000.00"),
                               "provider_amount_uncapped": D("-240000.00")}, year="2020-21")  # fmt: skip
    assert "actual spend £12,480,000.00" in texts(other) and "before cap -£240,000.00" in texts(other)
