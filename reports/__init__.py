"""Read-only builders of what people take away: statements (data -> HTML -> PDF), charts and table exports.

``reports.charts`` draws the queries' figures as accessible, reproducible SVG;
``reports.tables`` exports any table as CSV or XLSX and sorts it. Both take
the answers of ``ledger/queries`` (the access already applied) and never
import the web or the command line.
"""
