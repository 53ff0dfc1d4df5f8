"""The worked examples the tests share: figures in, figures out, with where each figure comes from.

One copy of each table, so a test's expected result and its inputs cannot
drift apart between files.
"""

from __future__ import annotations

from decimal import Decimal

#: The Homecare Association's 2020-21 minimum price breakdown (DOMAIN.md), £ per contact hour, by cost line:
#: contact pay £8.72, travel time £1.70, employer NI and pension together £1.14, other on-costs together £1.97,
#: mileage £1.36, running the business £5.20, surplus £0.60 — £20.69 in all. The splits of the combined
#: figures are invented: NI £0.70 + pension £0.44; holiday £1.26 + training £0.31 + sickness and other £0.40;
#: running the business over seven lines. PPE was free from the government in 2020-21, so it is £0.
PER_HOUR_2020_21: dict[str, str] = {
    "contact_pay": "8.72", "travel_pay": "1.70", "mileage": "1.36", "employer_ni": "0.70", "pension": "0.44",
    "holiday_pay": "1.26", "training": "0.31", "sickness_other_oncosts": "0.40", "ppe": "0",
    "office_staff": "2.60", "premises": "0.50", "it_rostering": "0.35", "insurance": "0.30",
    "regulator_fees": "0.25", "recruitment": "0.40", "other_business_costs": "0.80", "surplus": "0.60",
}  # fmt: skip

#: What the lines above add up to: the minimum price per contact hour for 2020-21.
TOTAL_PER_HOUR_2020_21 = Decimal("20.69")

#: The National Living Wage the 2020-21 price was built on (from 1 April 2020), and the year before's.
NLW_2020 = Decimal("8.72")
NLW_2019 = Decimal("8.21")
