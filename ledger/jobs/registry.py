"""Every kind of job openbook runs, by name: the one registry (``ledger.bootstrap`` hands it to the queue).

A new kind (verification, statement batches) is a module like ``activity_import`` and one more name here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.jobs.activity_import import ACTIVITY_IMPORT
from ledger.jobs.export_history import EXPORT
from ledger.jobs.kinds import JobKind
from ledger.jobs.verify_chain import VERIFY


def default_kinds() -> Mapping[str, JobKind]:
    return {kind.name: kind for kind in (ACTIVITY_IMPORT, VERIFY, EXPORT)}
