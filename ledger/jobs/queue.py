"""Jobs as users ask for and see them: enqueue checks the kind and the actor's right first; a provider's users see
only their own organisation's jobs (the rule is ``ledger.authorisation.jobs_seen_by``), the operator every job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.envelope import Actor
from domain.errors import InvalidInput
from ledger.authorisation import jobs_seen_by
from ledger.jobs.kinds import JobKind
from ledger.jobs.store import Job, JobStore
from ledger.records import Records


class JobQueue:
    def __init__(self, store: JobStore, records: Records, kinds: Mapping[str, JobKind]):
        self.store = store
        self.records = records
        self.kinds = kinds

    def enqueue(self, kind: str, actor: Actor, arguments: dict[str, Any]) -> str:
        """Queue a job of ``kind`` for ``actor``, once the kind's check lets the actor ask for it; its id."""
        found = self.kinds.get(kind)
        if found is None:
            raise InvalidInput(f"kind: no kind of job {kind!r}; the kinds are {', '.join(sorted(self.kinds))}")
        title = found.check(self.records, actor, arguments)
        return self.store.enqueue(kind, actor, arguments, title)

    def get(self, actor: Actor, job_id: str) -> Job:
        """One job the actor may see; another organisation's job is not found, exactly like one that does not exist."""
        organisation = jobs_seen_by(self.records, actor)
        return self.store.get(job_id, organisation, everyone=organisation is None)

    def list_for(self, actor: Actor, state: str | None = None) -> list[Job]:
        """The jobs the actor may see, newest first."""
        organisation = jobs_seen_by(self.records, actor)
        return self.store.list_for(organisation, everyone=organisation is None, state=state)
