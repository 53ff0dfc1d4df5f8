"""Charts drawn on the server as SVG text, for the web pages and the PDF statements alike.

Each builder takes what a query in ``ledger/queries`` returns (dicts of
Decimals) and gives back one accessible, reproducible SVG document
(``reports.charts.svg``): the market view (``market_chart``), the pooled
budget's position (``pool_chart``), priced activity by month
(``activity_chart``), a provider's cost per hour over time
(``unit_cost_chart``), one return's cost groups stacked against the rate paid
(``cost_breakdown_chart``) and a settlement's gain and pain share bands with
the year's actual (``share_bands_chart``). No builder decides who may see what: the query's
access already did, and names are drawn only when the caller asks for them.
"""

from reports.charts.activity import activity_chart
from reports.charts.cost_breakdown import cost_breakdown_chart
from reports.charts.market import market_chart
from reports.charts.pool import pool_chart
from reports.charts.share_bands import share_bands_chart
from reports.charts.unit_cost import unit_cost_chart

__all__ = [
    "activity_chart", "cost_breakdown_chart", "market_chart", "pool_chart", "share_bands_chart", "unit_cost_chart",
]
