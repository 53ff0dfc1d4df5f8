"""What a demo step is, and running a list of them: the whole demo is one list (``demo.partnerships.steps``).

A step is (label, run): ``run(book)`` records one command, each with an
idempotency key, so running the list twice records nothing the second time.
A step that has nothing to do (a month with no activity, a sample already
imported) returns without recording. The list's length is known before it
runs, so a progress bar over it is sized right.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.bootstrap import Openbook

Step = tuple[str, Callable[["Openbook"], Any]]
Progress = Callable[[str], None]


def run_steps(book: Openbook, steps: Iterable[Step], progress: Progress | None = None) -> int:
    """Run each step once, in order, telling ``progress`` its label; returns how many ran."""
    count = 0
    for label, run in steps:
        run(book)
        count += 1
        if progress is not None:
            progress(label)
    return count
