"""Statements as HTML and as PDF, from one Jinja template and one stylesheet (``reports/templates/``).

* **One template, two outputs.** ``render_html`` is what the web app will show;
  ``render_pdf`` gives the same HTML to WeasyPrint, so the page and the PDF
  cannot disagree about a figure.
* **Escaped.** Autoescape is on for every template: a provider's name, a note
  or a reason typed by a user is text, never markup, on every page and PDF.
* **Fonts embedded, never looked up.** The stylesheet's ``@font-face`` rules
  point at the DejaVu files of Debian's ``fonts-dejavu-core`` (``make deps``)
  under a family name of our own, so no system font can stand in; a machine
  without the files is told what to install rather than given a PDF in some
  other font. Charts' SVG text is set in the same family.
* **Money one way.** Money cells are ``domain.money.format_gbp`` (``£1,234.50``,
  ``-£1,234.50``: a minus, never brackets), right-aligned.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from domain.errors import SettingsError
from domain.money import format_gbp, format_quantity
from reports.statements.frame import Facts, Figure, Note, Statement, Table

__all__ = ["FONT_DIR", "FONT_FAMILY", "render_html", "render_pdf"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: Where Debian's fonts-dejavu-core puts the fonts (``make deps`` installs it).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf")
#: The family the stylesheet declares with @font-face: a name no installed font has, so nothing else can match it.
FONT_FAMILY = "Openbook Statement Sans"
_SVG_FONT = re.compile(r'font-family="[^"]*"')
_DASH = "–"  # an empty cell: an en dash, not a zero that was never computed


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def cell(value: Any, kind: str = "text", places: int | None = None) -> str:
    """A cell's text: money by ``format_gbp``, dates as "30 June 2020", counts and quantities with separators
    (``format_quantity``; at least ``places`` decimal places when the column states them, so every figure of a
    column of hours reads 28.00 beside 17.78), text as given."""
    if value is None:
        return _DASH
    if value == "":
        return ""  # a cell left blank on purpose (a total row's text columns)
    if kind == "money":
        return format_gbp(value if isinstance(value, Decimal) else Decimal(str(value)))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format_quantity(value, places or 0)  # hours, minutes: separators, never rounded
    if isinstance(value, int):
        return format_quantity(value, places) if places else f"{value:,}"
    if isinstance(value, datetime):
        return f"{_day(value)} {value:%H:%M} UTC"
    if isinstance(value, date):
        return _day(value)
    return str(value)


def _figure_svg(svg: str) -> Markup:
    """A chart's SVG with its text set in the embedded family (matplotlib names system fonts).

    The SVG is ``reports.charts.svg.render``'s own output (built from figures, its text escaped there), so it is
    marked safe here and nowhere else.
    """
    return Markup(_SVG_FONT.sub(f'font-family="{FONT_FAMILY}"', svg))  # noqa: S704 - our own chart, escaped inside


def _escaped(name: str | None) -> bool:
    """Autoescape every template but the stylesheet (ours alone, no user text: its quotes must stay quotes)."""
    return name is None or not name.endswith(".css")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=_escaped, undefined=StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
    )  # fmt: skip
    env.filters["cell"] = cell
    env.filters["figure_svg"] = _figure_svg
    env.tests["table"] = lambda block: isinstance(block, Table)
    env.tests["facts"] = lambda block: isinstance(block, Facts)
    env.tests["figure"] = lambda block: isinstance(block, Figure)
    env.tests["note"] = lambda block: isinstance(block, Note)
    return env


_ENV = _environment()


def _fonts() -> dict[str, str]:
    missing = [name for name in FONT_FILES if not (FONT_DIR / name).is_file()]
    if missing:
        raise SettingsError(
            f"statement fonts missing from {FONT_DIR}: {', '.join(missing)}; install Debian's fonts-dejavu-core "
            "(`make deps`)"
        )
    return {name.removesuffix(".ttf"): (FONT_DIR / name).as_uri() for name in FONT_FILES}


def render_html(statement: Statement) -> str:
    """The statement as one HTML document (its stylesheet inline, fonts by file URL, charts inline)."""
    stylesheet = Markup(_ENV.get_template("statement.css").render(fonts=_fonts(), family=FONT_FAMILY))  # noqa: S704
    return _ENV.get_template("statement.html").render(s=statement, p=statement.provenance, stylesheet=stylesheet)


def render_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF: WeasyPrint over ``render_html``, title and author in its metadata."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment that HTML output does not need

    return HTML(string=render_html(statement), base_url=str(TEMPLATES)).write_pdf()
