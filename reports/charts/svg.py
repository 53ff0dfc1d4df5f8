"""The one way a chart becomes SVG text: accessible, byte-for-byte reproducible, and safe to render in threads.

Why it is done this way:

* **No pyplot.** pyplot keeps a global list of figures and a global backend;
  a web server rendering in threads must not share either. Each chart is a
  plain ``Figure`` with its own Agg canvas, and nothing calls
  ``matplotlib.use``.
* **Settings scoped, renders serialised.** The SVG writer reads
  ``svg.hashsalt`` and ``svg.fonttype`` from ``rcParams`` only, so they are set
  in an ``rc_context`` around the whole drawing and restored after it.
  ``rcParams`` is process-wide and matplotlib is not thread-safe, so one lock
  serialises renders: no other thread ever sees, or changes, our settings.
* **Same data, same bytes.** A fixed hash salt (the ids of clip paths and
  glyphs) and no ``Date`` in the metadata: tests and caches can compare output.
* **Drawn once per figures.** Laying out and writing a chart is most of the
  time of a page that shows one (about half a second: the market view, the
  activity totals), while its figures change only when the history does. So
  each builder is ``@remembered``: its SVG is kept per process, keyed by a
  digest of the builder's arguments (pickled: the same figures, the same
  key; any other figure, another key), for the last ``REMEMBERED`` charts.
  Same data gives the same bytes anyway, so a remembered chart is exactly the
  one that would be drawn again; an argument that cannot be pickled is drawn
  every time.
* **Text stays text.** ``svg.fonttype = none`` writes labels as ``<text>``
  in a generic font family: no font is embedded or fetched, and the figures
  can be read, searched and checked in the SVG.
* **Accessible.** A ``<title>`` and ``<desc>`` (in words, with the figures)
  open the document, with ``role="img"`` pointing at them; charts never use
  colour alone (each series also has its own marker, hatch or line style, and
  a legend or text label).

The XML declaration and doctype are dropped so the SVG can be inlined in an
HTML page as it is. Inlined, it is under the page's Content-Security-Policy
(``style-src 'self'``), which blocks ``style`` attributes and ``<style>``
elements: matplotlib writes both, so each ``style="fill: ...; stroke: ..."``
becomes the same presentation attributes (``fill="..." stroke="..."``), and
the ``<style>`` element's defaults (stroke joins and caps, inherited) go on
the ``<svg>`` element itself.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["INK", "MUTED", "PALETTE", "MARKERS", "plotted", "remembered", "render"]

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), paired with markers.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
INK, MUTED = "#222222", "#BBBBBB"

_SETTINGS = {
    "svg.hashsalt": "openbook",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
    # Text is names and figures people typed (a provider called "$Cash$ Care"), never mathtext: "$" is a dollar.
    "text.parse_math": False,
}
_LOCK = threading.Lock()
_PROLOGUE = re.compile(r"\A.*?(?=<svg[\s>])", re.DOTALL)
_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_STYLE_ELEMENT = re.compile(r"\s*<defs>\s*<style[^>]*>\*\{([^}]*)\}</style>\s*</defs>")
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')


#: How many charts a process keeps (``remembered``): every chart of a busy office's pages; a chart is 10-40 KB of SVG.
REMEMBERED = 256
_REMEMBERED: OrderedDict[bytes, str] = OrderedDict()
_REMEMBERED_LOCK = threading.Lock()


def remembered(builder: Callable[..., str]) -> Callable[..., str]:
    """``builder``'s SVG kept by its arguments, the least recently used dropped first (module docstring)."""

    @functools.wraps(builder)
    def chart(*args: Any, **kwargs: Any) -> str:
        try:
            named = (builder.__module__, builder.__qualname__, args, sorted(kwargs.items()))
            key = hashlib.sha256(pickle.dumps(named, protocol=pickle.HIGHEST_PROTOCOL)).digest()
        except (pickle.PicklingError, TypeError, AttributeError):  # not plain data: drawn, not kept
            return builder(*args, **kwargs)
        with _REMEMBERED_LOCK:
            svg = _REMEMBERED.get(key)
            if svg is not None:
                _REMEMBERED.move_to_end(key)
                return svg
        svg = builder(*args, **kwargs)
        with _REMEMBERED_LOCK:
            _REMEMBERED[key] = svg
            while len(_REMEMBERED) > REMEMBERED:
                _REMEMBERED.popitem(last=False)
        return svg

    return chart


def plotted(value: Decimal) -> float:
    """A figure as a position on the drawing.

    Drawing needs floats (matplotlib lays out in floating point); a float is
    used only for *where* a mark goes. Every figure shown as text on a chart is
    formatted from the Decimal itself, so no money shown is ever a float.
    """
    return float(value)


def render(draw: Callable[[Figure], None], *, title: str, desc: str, size: tuple[float, float]) -> str:
    """Draw a figure with ``draw`` and return it as an SVG document opening with ``<title>`` and ``<desc>``."""
    with _LOCK, rc_context(_SETTINGS):
        figure = Figure(figsize=size, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": "openbook"})
    return _accessible(_own_ids(_without_styles(_PROLOGUE.sub("", out.getvalue(), count=1)), title), title, desc)


def _attributes(declarations: str) -> str:
    """``fill: #fff; stroke-width: 0.8`` as presentation attributes: `` fill="#fff" stroke-width="0.8"``."""
    pairs = (part.split(":", 1) for part in declarations.split(";") if ":" in part)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def _without_styles(svg: str) -> str:
    """The same drawing with no ``style`` attribute or element, so a page's CSP lets it render (module docstring)."""
    defaults = ""
    found = _STYLE_ELEMENT.search(svg)
    if found is not None:
        defaults = _attributes(found.group(1))
        svg = svg[: found.start()] + svg[found.end() :]
    if "<style" in svg:  # a rule other than matplotlib's defaults: refuse rather than draw it wrongly
        raise ValueError("the SVG writer produced a <style> rule this module does not turn into attributes")
    svg = _STYLE_ATTRIBUTE.sub(lambda m: _attributes(m.group(1)), svg)
    opening = _SVG_TAG.search(svg)
    if opening is None or not defaults:
        return svg
    return svg[: opening.end() - 1] + defaults + svg[opening.end() - 1 :]


def _own_ids(svg: str, title: str) -> str:
    """The drawing with every id prefixed by a key of its own content, and each reference to one rewritten with it.

    matplotlib numbers its ids per figure (``patch_1``, ``axes_1``) and names
    markers and clip paths from the hash salt, so two charts inlined on one
    page would share ids: invalid HTML, and a reference (``url(#…)``) could
    resolve to the other chart's clip path. The key comes from the content, so
    the same chart still gives the same bytes.
    """
    key = "c" + hashlib.sha256(f"{title}\n{svg}".encode()).hexdigest()[:8]
    ids = set(_ID.findall(svg))
    svg = _ID.sub(lambda m: f'id="{key}-{m[1]}"', svg)
    return _REFERENCE.sub(lambda m: m[1] + (f"{key}-{m[2]}" if m[2] in ids else m[2]), svg)


def _accessible(svg: str, title: str, desc: str) -> str:
    """Put ``<title>`` and ``<desc>`` first inside ``<svg>`` and label the image by them (ids from the content)."""
    key = hashlib.sha256(f"{title}\n{desc}".encode()).hexdigest()[:10]
    opening = _SVG_TAG.search(svg)
    if opening is None:  # matplotlib always writes one; a change there must fail loudly, not silently lose the title
        raise ValueError("the SVG writer produced no <svg> element")
    tag = opening.group(0)
    labelled = tag[:-1] + f' role="img" aria-labelledby="title-{key} desc-{key}">'
    head = f'\n <title id="title-{key}">{escape(title)}</title>\n <desc id="desc-{key}">{escape(desc)}</desc>'
    return svg[: opening.start()] + labelled + head + svg[opening.end() :]
