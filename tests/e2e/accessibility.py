"""An automated accessibility check of a page in the browser: axe-core, vendored under tests/e2e/vendor/.

axe is evaluated through the browser's debugging protocol, which the page's
Content-Security-Policy does not govern, so a page is checked exactly as the
app serves it (no ``bypass_csp`` needed): a journey can watch for CSP refusals
and check accessibility on the same page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (WCAG 2.1 A and AA rules), as axe reports them."""
    if not page.evaluate("() => typeof axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa', 'best-practice']}})"
    )
    return result["violations"]


def serious(page: Any) -> list[str]:
    """Every serious or critical violation, one line each (rule, impact, first offending element)."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target'] if v['nodes'] else '?'}"
        for v in violations(page)
        if v.get("impact") in SERIOUS
    ]
