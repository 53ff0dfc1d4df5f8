"""What a provider may see of a settlement statement: its own lines and the pool's shared totals.

A settlement is the partnership's, but each provider's figures are its own
business. A provider sees the totals the partnership shares (target, actual
spend, variance, the bands, the provider side's amount before and after the
caps and what the caps remove), the commissioners' contributions (the
agreement's terms), and its own lines. It never sees a figure summed over
providers beyond those: not the pool's priced activity nor its incentive
payments (with actual spend, each gives the other, and less its own, the
other providers'), not the total clawed back, not the commissioners' cost or
its split (the cost is actual + provider side − clawbacks, so it gives the
clawbacks), and not the checks that add the providers' figures up.

The statement is stored as the settlement computed it; this is a filter over
its data, by the steps' labels (stored text, like topics, which never change).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: The pool's steps (party "") a provider sees: the totals the partnership shares.
SHARED_STEPS = frozenset({
    "actual spend",
    "target",
    "variance",
    "provider side's amount before cap",
    "provider side's amount after cap",
    "removed by the cap (stays with the commissioners)",
})

#: The statement's figures a provider sees besides its own lines (``clawback_total`` and
#: ``commissioner_cost`` are summed over providers, so they are left out).
SHARED_FIGURES = ("target", "actual", "variance", "bands", "provider_amount_uncapped", "provider_amount",
                  "removed_by_cap")  # fmt: skip

#: "£250,000.00 × priced activity £38,992.46 / £108,754.62 (allocate, to the penny)": the divisor is the
#: providers' total.
_SHARE = re.compile(r"^(?P<own>.* × (?P<basis>priced activity|the agreed split) \S+) / \S+ (?P<rest>\(allocate.*)$")


def provider_statement(statement: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """The statement's data as ``provider`` may see it (``SettlementStatement.to_data`` shape, narrowed)."""
    shown: dict[str, Any] = {name: statement[name] for name in SHARED_FIGURES if name in statement}
    shown["clawbacks"] = [c for c in statement["clawbacks"] if c["provider"] == provider]
    shown["providers"] = {p: x for p, x in statement["providers"].items() if p == provider}
    shown["commissioners"] = {c: {"contribution": x["contribution"]} for c, x in statement["commissioners"].items()}
    shown["steps"] = [_step(step, provider) for step in statement["steps"] if _sees(step, provider)]
    return shown


def provider_comparison(comparison: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """A re-settlement's comparison as ``provider`` may see it: its own figures and the contributions."""
    return {
        "providers": {p: rows for p, rows in comparison["providers"].items() if p == provider},
        "commissioners": {
            c: {f: row for f, row in rows.items() if f == "contribution"}
            for c, rows in comparison["commissioners"].items()
        },
    }


def _sees(step: Mapping[str, Any], provider: str) -> bool:
    if step["party"]:
        return step["party"] == provider
    return step["label"] in SHARED_STEPS or step["label"].startswith("band ")


def _step(step: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """The step with any providers' total in its formula named rather than shown."""
    formula = step["formula"]
    if step["label"] == "actual spend":
        formula = "the pool's priced activity + incentive payments"
    elif step["label"] == "provider share" and (m := _SHARE.match(formula)):
        formula = f"{m['own']} / every provider's {m['basis'].removeprefix('the ')} {m['rest']}"
    return {**step, "formula": formula}
