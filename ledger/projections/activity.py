"""Delivered activity as tables: every visit priced, and totals per provider, zone, service and month.

``visits`` holds each visit as last recorded (imported, then corrected) with
its price; ``activity_totals`` sums them per agreement, provider, zone (or
lot), service and month (with the month's financial quarter and year), so
spend by provider, zone, service, month or quarter is one small query. KPIs
and incentive triggers (the next pass) compare these hours with baselines.

Prices come from the one pricing path (``domain.rates.pricer.Pricer``). So that a
rebuild gives exactly the tables an incremental catch-up gave, a visit is
priced with the agreement and rate card *as recorded at the event being
applied*: the projection follows every agreement and rate-card event (only
their versions), loads those two aggregates at those versions, and re-prices
the visits a published or withdrawn rate (or a new payment basis) affects from
its effective date. A backdated rate therefore moves spend by the difference,
and the arrears use case can show it.

Money is stored as whole pence (``price_pence``, ``spend_pence``): exact on
both databases and safe to sum in SQL. Rates are exact decimal text.
A visit with no rate in force is kept, unpriced (``price_pence`` NULL), and
counted in ``unpriced_visits`` until a rate is published for it.

An import is applied ``STEP_VISITS`` visits per transaction, so no step holds
the write lock for more than a fraction of a second and other commands
interleave with a million-visit import. ``activity_applying`` keeps how far
it has got and ``activity_totals_applying`` its changes to the totals, both
committed with each step; its visits are hidden from readers
(``settled_visits``) and its totals and import row written only by its last
step, so no reader ever sees part of an import.

The arrears a backdated review owes (``domain.activity.arrears``) are kept
too, every calculation of them: ``arrears_reviews`` (one row per review, with
its window and how many calculations), ``arrears_calculations`` (each one's
total and basis), ``arrears_lines`` (each line with its working) and
``arrears_providers`` (each provider's total), all as the events recorded
them, so the last calculation is shown without loading the aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from domain.activity.activity_import import ActivityImport
from domain.activity.arrears import Arrears
from domain.activity.visits import FIELDS, VisitRow, decode_chunk
from domain.aggregate import LedgerEvent
from domain.agreements.agreement import Agreement
from domain.errors import NotFound, RuleBroken
from domain.money import pence_from_pounds
from domain.periods import quarter_of
from domain.rates.pricer import Pricer
from domain.rates.pricing import payable_minutes, price_visit
from domain.rates.rate_card import RateCard
from ledger.files.chunks import ChunkStore
from ledger.projections.base import Projection, handles
from ledger.projections.columns import ExactDecimal
from ledger.records import Records

metadata = MetaData()

#: What ``activity_totals`` can be broken down by: its grouping columns.
DIMENSIONS = ("provider", "zone", "service", "month", "quarter", "financial_year")

visits = Table(
    "visits",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("visit_id", String(64), primary_key=True),
    Column("provider", String(63), nullable=False),
    Column("client_ref", String(64), nullable=False),
    Column("district", String(8), nullable=False),
    Column("zone", String(63), nullable=False),  # the zone or lot delivered under
    Column("service", String(20), nullable=False),
    Column("band", String(63), nullable=False),  # "" when the package has no rate band
    Column("visit_date", String(10), nullable=False),  # ISO date of the planned start
    Column("month", String(7), nullable=False),  # "2019-04"
    Column("quarter", String(10), nullable=False),  # "2019-20-Q1"
    Column("planned_start", String(19), nullable=False),
    Column("planned_minutes", Integer, nullable=False),
    Column("actual_start", String(19), nullable=False),
    Column("actual_minutes", Integer, nullable=False),
    Column("carer_ref", String(64), nullable=False),
    Column("payable_minutes", Integer, nullable=False),  # under the agreement's payment basis
    Column("hourly_rate", ExactDecimal),  # None: no rate in force
    Column("price_pence", BigInteger),  # None: unpriced
    Column("import_id", String(36), nullable=False),  # the import that last recorded the visit
    Column("position", Integer, nullable=False),  # of its last change: an import, a correction or a re-pricing
    # The Imported event that first recorded the visit, which nothing later moves: whether a payment run recorded
    # before or after knew of the visit (a late visit was never paid at an old rate, so it owes no arrears).
    Column("recorded_position", Integer, nullable=False),
    Index("visits_by_key_and_date", "agreement", "service", "zone", "visit_date"),
)

activity_totals = Table(
    "activity_totals",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("zone", String(63), primary_key=True),
    Column("service", String(20), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("quarter", String(10), nullable=False),
    Column("financial_year", String(7), nullable=False),
    Column("visits", Integer, nullable=False),
    Column("planned_minutes", BigInteger, nullable=False),
    Column("actual_minutes", BigInteger, nullable=False),
    Column("payable_minutes", BigInteger, nullable=False),
    Column("spend_pence", BigInteger, nullable=False),
    Column("unpriced_visits", Integer, nullable=False),
)

activity_imports = Table(
    "activity_imports",
    metadata,
    Column("import_id", String(36), primary_key=True),
    Column("agreement", String(63), nullable=False, index=True),
    Column("file_name", Text, nullable=False),
    Column("file_digest", String(64), nullable=False),
    Column("file_format", String(8), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("corrected_visits", Integer, nullable=False),
    Column("changes", Integer, nullable=False),
    Column("first_date", String(10)),
    Column("last_date", String(10)),
    Column("spend_pence", BigInteger, nullable=False),  # of its new visits, as priced when it was applied
    Column("unpriced_visits", Integer, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

#: An import applied in steps (``STEP_VISITS`` at a time): how far it has got. Its visits are hidden until it ends.
activity_applying = Table(
    "activity_applying",
    metadata,
    Column("position", Integer, primary_key=True),  # the Imported event's
    Column("chunks_done", Integer, nullable=False),
    Column("visits_done", Integer, nullable=False),
    Column("spend_pence", BigInteger, nullable=False),
    Column("unpriced_visits", Integer, nullable=False),
)

#: The totals' changes of the steps applied so far, moved into ``activity_totals`` by the import's last step.
activity_totals_applying = Table(
    "activity_totals_applying",
    metadata,
    *(Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in activity_totals.columns),
)

#: The agreement and rate-card versions visits are priced at, as of this projection's position.
activity_pricing = Table(
    "activity_pricing",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("agreement_id", String(36), nullable=False, unique=True),
    Column("agreement_version", Integer, nullable=False),
    Column("card_id", String(36)),
    Column("card_version", Integer),
)

#: A backdated review's arrears: its window and the number of its last calculation.
arrears_reviews = Table(
    "arrears_reviews",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),  # the rate review's
    Column("arrears_id", String(36), nullable=False, unique=True),  # the Arrears aggregate: later events name only it
    Column("decided_on", Date, nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("calculations", Integer, nullable=False),
)

#: Every calculation of a review's arrears (1 is the first): its total and what it was calculated from.
arrears_calculations = Table(
    "arrears_calculations",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("calculation", Integer, primary_key=True),
    Column("total", ExactDecimal, nullable=False),
    Column("basis", Text, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
)

#: A calculation's lines in the order recorded, each with its working.
arrears_lines = Table(
    "arrears_lines",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("calculation", Integer, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("provider", String(63), nullable=False),
    Column("service", String(20), nullable=False),
    Column("zone", String(63), nullable=False),
    Column("band", String(63), nullable=False),
    Column("old_rate", ExactDecimal, nullable=False),
    Column("new_rate", ExactDecimal, nullable=False),
    Column("visits", Integer, nullable=False),
    Column("payable_minutes", BigInteger, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("working", Text, nullable=False),
)

#: A calculation's total per provider, in the order recorded.
arrears_providers = Table(
    "arrears_providers",
    metadata,
    Column("agreement", String(63), primary_key=True),
    Column("financial_year", String(7), primary_key=True),
    Column("calculation", Integer, primary_key=True),
    Column("provider", String(63), primary_key=True),
    Column("place", Integer, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
)

_VISIT_COLUMNS = (
    "agreement", "visit_id", "provider", "client_ref", "district", "zone", "service", "band", "visit_date", "month",
    "quarter", "planned_start", "planned_minutes", "actual_start", "actual_minutes", "carer_ref", "payable_minutes",
    "hourly_rate", "price_pence", "import_id", "position", "recorded_position",
)  # fmt: skip

Price = tuple[int, Decimal | None, int | None]  # payable minutes, hourly rate, pence

#: Visits an import prices and writes per transaction (whole chunks, so up to a chunk more): a fraction of a second.
STEP_VISITS = 40_000


def settled_visits() -> ColumnElement[bool]:
    """Visits of imports applied to their end: a reader never sees part of an import still being applied."""
    return visits.c.position.not_in(select(activity_applying.c.position))


def _events_of(aggregate_class: type) -> tuple[type, ...]:
    return tuple(
        v for v in vars(aggregate_class).values() if isinstance(v, type) and issubclass(v, LedgerEvent)
    )


_PERIODS: dict[str, tuple[str, str]] = {}


def periods_of(month: str) -> tuple[str, str]:
    """(financial quarter, financial year) of a month such as "2019-04"."""
    found = _PERIODS.get(month)
    if found is None:
        quarter = quarter_of(date.fromisoformat(month + "-01"))
        found = _PERIODS[month] = (str(quarter), str(quarter.year))
    return found


#: Not yet looked up (None is an answer: outside the term).
_UNKNOWN = object()


class Prices:
    """The one pricing path for a batch of visits, remembering each distinct question's answer.

    It asks the ``Pricer`` exactly what ``Pricer.price`` asks — the rate in
    force (``rate_for``), the payment basis (``payment_basis_on``), then
    ``domain.rates.pricing.price_visit`` — but remembers the arithmetic per (rate,
    basis, minutes), which a million visits share, instead of per date. The
    independent check (``ledger/audit/activity_totals.py``) calls ``Pricer.price``
    itself, and the tests hold the two equal. Without a rate card yet, every
    visit is unpriced but its payable minutes still follow the agreement's basis.
    """

    def __init__(self, agreement: Agreement, card: RateCard | None):
        self.agreement = agreement
        self.pricer = Pricer(agreement, card) if card is not None else None
        self._answers: dict[tuple[Any, ...], Price] = {}
        self._arithmetic: dict[tuple[Any, ...], Price] = {}
        self._dates: dict[str, date] = {}
        self._terms: dict[tuple[str, str, str, str], tuple[Any, Any] | None] = {}

    def __call__(self, service: str, zone: str, day: str, band: str, planned: int, actual: int) -> Price:
        key = (service, zone, day, band, planned, actual)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._price(service, zone, day, band, planned, actual)
            if len(self._answers) > 500_000:
                self._answers.clear()
            self._answers[key] = answer
        return answer

    def _price(self, service: str, zone: str, day: str, band: str, planned: int, actual: int) -> Price:
        where = (service, zone, day, band)
        terms = self._terms.get(where, _UNKNOWN)
        if terms is _UNKNOWN:
            terms = self._terms_on(service, zone, day, band)
            if len(self._terms) > 500_000:
                self._terms.clear()
            self._terms[where] = terms
        if terms is None:  # outside the term: an import never records one, but replay must not stop
            return actual, None, None
        basis, quote = terms
        if quote is None:
            return payable_minutes(basis, planned, actual), None, None
        key = (quote.hourly_rate, basis, planned, actual)
        found = self._arithmetic.get(key)
        if found is None:
            visit = price_visit(quote, basis, planned, actual)
            found = self._arithmetic[key] = (visit.payable_minutes, visit.hourly_rate, pence_from_pounds(visit.amount))
        return found

    def _terms_on(self, service: str, zone: str, day: str, band: str) -> tuple[Any, Any] | None:
        """The payment basis on ``day`` and the rate in force for the visit (None without one); None outside
        the term. Asked once per (service, zone, day, band): the visits of a day share it, whatever their minutes
        (asking per distinct minutes too cost most of pricing an import)."""
        on = self._dates.get(day)
        if on is None:
            on = self._dates[day] = date.fromisoformat(day)
        try:
            basis = self.agreement.payment_basis_on(on) if self.pricer is None else self.pricer.payment_basis_on(on)
        except RuleBroken:
            return None
        quote = None
        if self.pricer is not None:
            try:
                quote = self.pricer.rate_for(service, zone, on, band or None)
            except NotFound:
                pass
        return basis, quote


class _Deltas:
    """Changes to ``activity_totals`` gathered while applying one event, written once at its end."""

    def __init__(self, agreement: str):
        self.agreement = agreement
        self.rows: dict[tuple[str, str, str, str], list[int]] = {}

    def add(self, sign: int, provider: str, zone: str, service: str, month: str, planned: int, actual: int,
            price: Price) -> None:  # fmt: skip
        key = (provider, zone, service, month)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0, 0, 0, 0, 0, 0]
        payable, _rate, pence = price
        row[0] += sign
        row[1] += sign * planned
        row[2] += sign * actual
        row[3] += sign * payable
        if pence is None:
            row[5] += sign
        else:
            row[4] += sign * pence

    def take_staged(self, conn: Connection) -> None:
        """Add the changes earlier steps of an import staged (``activity_totals_applying``), and empty it."""
        ours = activity_totals_applying.c.agreement == self.agreement
        for r in conn.execute(select(activity_totals_applying).where(ours)):
            row = self.rows.setdefault((r.provider, r.zone, r.service, r.month), [0, 0, 0, 0, 0, 0])
            staged = (r.visits, r.planned_minutes, r.actual_minutes, r.payable_minutes, r.spend_pence, r.unpriced_visits)
            for n, change in enumerate(staged):
                row[n] += change
        conn.execute(delete(activity_totals_applying).where(ours))

    def write(self, conn: Connection, table: Table = activity_totals) -> None:
        """Add the changes to the totals (or, for a step of an import, to the staged changes)."""
        t = table.c
        for (provider, zone, service, month), d in self.rows.items():
            if not any(d):
                continue
            key = (t.agreement == self.agreement) & (t.provider == provider) & (t.zone == zone)
            key &= (t.service == service) & (t.month == month)
            changed = conn.execute(
                update(table)
                .where(key)
                .values(
                    visits=t.visits + d[0],
                    planned_minutes=t.planned_minutes + d[1],
                    actual_minutes=t.actual_minutes + d[2],
                    payable_minutes=t.payable_minutes + d[3],
                    spend_pence=t.spend_pence + d[4],
                    unpriced_visits=t.unpriced_visits + d[5],
                )
            )
            if changed.rowcount == 0:
                quarter, year = periods_of(month)
                conn.execute(
                    insert(table).values(
                        agreement=self.agreement, provider=provider, zone=zone, service=service, month=month,
                        quarter=quarter, financial_year=year, visits=d[0], planned_minutes=d[1],
                        actual_minutes=d[2], payable_minutes=d[3], spend_pence=d[4], unpriced_visits=d[5],
                    )  # fmt: skip
                )


class ActivityProjection(Projection):
    name = "activity"
    tables = (
        visits,
        activity_totals,
        activity_imports,
        activity_applying,
        activity_totals_applying,
        activity_pricing,
        arrears_reviews,
        arrears_calculations,
        arrears_lines,
        arrears_providers,
    )
    #: Not the visits (a million rows an import; docs/as-at.md gives the cost and the rule for them) nor the
    #: working state of an import applied in steps and of pricing, which no reader asks about.
    versioned = (
        activity_totals,
        activity_imports,
        arrears_reviews,
        arrears_calculations,
        arrears_lines,
        arrears_providers,
    )

    def __init__(self, records: Records, chunks: ChunkStore):
        """``records`` loads the agreement and rate card at a version; ``chunks`` holds the imported visit rows."""
        self.records = records
        self.chunks = chunks
        self._prices: dict[tuple[str, int, int | None], Prices] = {}
        #: Called with the number of visits applied so far (the CLI's progress bar while pricing).
        self.on_visits: Callable[[int], None] | None = None

    # -- what visits are priced with -------------------------------------------------------------

    def _state(self, conn: Connection, agreement: str) -> Any:
        return conn.execute(select(activity_pricing).where(activity_pricing.c.agreement == agreement)).one()

    def prices(self, conn: Connection, agreement: str) -> Prices:
        """The agreement and its card as recorded at this projection's position, as a ``Prices``."""
        state = self._state(conn, agreement)
        key = (agreement, state.agreement_version, state.card_version)
        found = self._prices.get(key)
        if found is None:
            loaded = self.records.at_version(UUID(state.agreement_id), state.agreement_version)
            card = None
            if state.card_version is not None:
                card = self.records.at_version(UUID(state.card_id), state.card_version)
            if len(self._prices) >= 8:
                self._prices.clear()
            found = self._prices[key] = Prices(loaded, card)
        return found

    @handles(*_events_of(Agreement))
    def agreement_changed(self, conn: Connection, e: Any, position: int) -> None:
        p = activity_pricing.c
        if isinstance(e, Agreement.Registered):
            conn.execute(
                insert(activity_pricing).values(
                    agreement=e.code, agreement_id=str(e.originator_id), agreement_version=e.originator_version
                )
            )
            return
        conn.execute(
            update(activity_pricing)
            .where(p.agreement_id == str(e.originator_id))
            .values(agreement_version=e.originator_version)
        )
        if isinstance(e, Agreement.PaymentBasisSet):
            code = conn.execute(select(p.agreement).where(p.agreement_id == str(e.originator_id))).scalar_one()
            self._reprice(conn, code, position, e.envelope.effective_date)

    @handles(RateCard.Created)
    def card_created(self, conn: Connection, e: RateCard.Created, position: int) -> None:
        conn.execute(
            update(activity_pricing)
            .where(activity_pricing.c.agreement == e.agreement)
            .values(card_id=str(e.originator_id), card_version=e.originator_version)
        )

    @handles(RateCard.RatePublished, RateCard.RateWithdrawn)
    def rate_changed(self, conn: Connection, e: Any, position: int) -> None:
        p = activity_pricing.c
        code = conn.execute(select(p.agreement).where(p.card_id == str(e.originator_id))).scalar_one()
        conn.execute(
            update(activity_pricing).where(p.card_id == str(e.originator_id)).values(card_version=e.originator_version)
        )
        self._reprice(conn, code, position, e.effective_from, service=e.service, zone=e.zone)

    def _reprice(
        self, conn: Connection, agreement: str, position: int, since: date, service: str | None = None,
        zone: str | None = None,
    ) -> None:  # fmt: skip
        """Price again the visits from ``since`` (of one service and zone, if given), month by month."""
        v, t = visits.c, activity_totals.c
        where = (t.agreement == agreement) & (t.month >= since.isoformat()[:7])
        if service is not None:
            where &= (t.service == service) & (t.zone == zone)
        months = sorted(set(conn.execute(select(t.month).where(where)).scalars()))
        if not months:
            return
        prices = self.prices(conn, agreement)
        deltas = _Deltas(agreement)
        sql = _update_price_sql(conn)
        for month in months:
            chosen = (v.agreement == agreement) & (v.month == month) & (v.visit_date >= since.isoformat())
            if service is not None:
                chosen &= (v.service == service) & (v.zone == zone)
            rows = conn.execute(
                select(
                    v.visit_id, v.provider, v.zone, v.service, v.band, v.visit_date, v.planned_minutes,
                    v.actual_minutes, v.payable_minutes, v.hourly_rate, v.price_pence,
                ).where(chosen)  # fmt: skip
            ).all()
            changes = []
            for r in rows:
                new = prices(r.service, r.zone, r.visit_date, r.band, r.planned_minutes, r.actual_minutes)
                old = (r.payable_minutes, r.hourly_rate, r.price_pence)
                if new != old:
                    deltas.add(-1, r.provider, r.zone, r.service, month, r.planned_minutes, r.actual_minutes, old)
                    deltas.add(1, r.provider, r.zone, r.service, month, r.planned_minutes, r.actual_minutes, new)
                    changes.append((new[0], _text(new[1]), new[2], position, agreement, r.visit_id))
            if changes:
                conn.exec_driver_sql(sql, changes)
        deltas.write(conn)

    # -- imports and corrections ---------------------------------------------------------------------

    @handles(ActivityImport.Imported)
    def imported(self, conn: Connection, e: ActivityImport.Imported, position: int) -> bool:
        """Price and record an import's visits, about ``STEP_VISITS`` (whole chunks) per transaction.

        Returns True while chunks remain: the step's visits, its changes to
        the totals (staged apart) and its progress (``activity_applying``) are
        committed together, so a crash resumes after the last step. Until the
        last step moves the staged changes into the totals and records the
        import, readers see none of it (``settled_visits``).
        """
        agreement = e.agreement
        prices = self.prices(conn, agreement)
        deltas = _Deltas(agreement)
        import_id = str(e.originator_id)
        a = activity_applying.c
        progress = conn.execute(select(activity_applying).where(a.position == position)).first()
        chunk, done, spend, unpriced = (
            (0, 0, 0, 0) if progress is None
            else (progress.chunks_done, progress.visits_done, progress.spend_pence, progress.unpriced_visits)
        )  # fmt: skip
        step_began = done
        while chunk < len(e.chunks) and done - step_began < STEP_VISITS:
            _kind, rows = decode_chunk(self.chunks.read(e.chunks[chunk], conn))
            chunk += 1
            params = []
            add = deltas.add
            for vid, provider, district, zone, service, band, client, carer, pstart, pmin, astart, amin in rows:
                planned, actual = int(pmin), int(amin)
                day = pstart[:10]
                month = day[:7]
                price = prices(service, zone, day, band, planned, actual)
                add(1, provider, zone, service, month, planned, actual, price)
                if price[2] is None:
                    unpriced += 1
                else:
                    spend += price[2]
                params.append(
                    (agreement, vid, provider, client, district, zone, service, band, day, month,
                     periods_of(month)[0], pstart, planned, astart, actual, carer, price[0], _text(price[1]),
                     price[2], import_id, position, position)
                )  # fmt: skip
            inserted = _insert_visits(conn, params)
            if inserted != len(params):
                self._replace_existing(conn, agreement, params, position, deltas)
            done += len(params)
            if self.on_visits:
                self.on_visits(done)
        if chunk < len(e.chunks):
            deltas.write(conn, activity_totals_applying)
            reached = {"chunks_done": chunk, "visits_done": done, "spend_pence": spend, "unpriced_visits": unpriced}
            if progress is None:
                conn.execute(insert(activity_applying).values(position=position, **reached))
            else:
                conn.execute(update(activity_applying).where(a.position == position).values(**reached))
            return True
        if progress is not None:
            deltas.take_staged(conn)
            conn.execute(delete(activity_applying).where(a.position == position))
        deltas.write(conn)
        conn.execute(
            insert(activity_imports).values(
                import_id=import_id, agreement=agreement, file_name=e.file_name, file_digest=e.file_digest,
                file_format=e.file_format, rows=e.rows, visits=e.visits, unchanged=e.unchanged, corrected_visits=0,
                changes=0, first_date=_iso(e.first_date), last_date=_iso(e.last_date), spend_pence=spend,
                unpriced_visits=unpriced, recorded_by=str(e.envelope.actor), recorded_at=e.timestamp, position=position,
            )  # fmt: skip
        )
        return False

    def _replace_existing(
        self, conn: Connection, agreement: str, params: list[tuple[Any, ...]], position: int, deltas: _Deltas
    ) -> None:
        """Visits an import recorded as new that another import recorded first: the later record wins.

        Only two imports racing each other can do this (each checks the
        visits recorded before it started); the totals move by the difference.
        """
        by_id = {p[1]: p for p in params}
        for start in range(0, len(params), 500):
            ids = [p[1] for p in params[start : start + 500]]
            for old in self._current(conn, agreement, ids):
                if old["position"] == position:
                    continue
                new = dict(zip(_VISIT_COLUMNS, by_id[old["visit_id"]], strict=True))
                new["hourly_rate"] = None if new["hourly_rate"] is None else Decimal(new["hourly_rate"])
                new["recorded_position"] = min(old["recorded_position"], position)  # known since the first record
                _remove(deltas, old)
                conn.execute(
                    update(visits)
                    .where((visits.c.agreement == agreement) & (visits.c.visit_id == old["visit_id"]))
                    .values(new)
                )

    def _current(self, conn: Connection, agreement: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(visits).where((visits.c.agreement == agreement) & visits.c.visit_id.in_(list(ids)))
        ).all()
        return [dict(r._mapping) for r in rows]

    @handles(ActivityImport.Corrected)
    def corrected(self, conn: Connection, e: ActivityImport.Corrected, position: int) -> None:
        agreement = conn.execute(
            select(activity_imports.c.agreement).where(activity_imports.c.import_id == str(e.originator_id))
        ).scalar_one()
        changes: dict[str, list[list[str]]] = {}
        for row in _corrections(e, self.chunks, conn):
            changes.setdefault(row[0], []).append(row)
        prices = self.prices(conn, agreement)
        deltas = _Deltas(agreement)
        ids = list(changes)
        for start in range(0, len(ids), 500):
            for old in self._current(conn, agreement, ids[start : start + 500]):
                row = VisitRow.from_fields([str(old[f]) for f in FIELDS])
                for _vid, field, _before, after in changes[row.visit_id]:
                    row = row.with_change(field, after)
                day = row.planned_start[:10]
                month = day[:7]
                price = prices(row.service, row.zone, day, row.band, row.planned_minutes, row.actual_minutes)
                _remove(deltas, old)
                deltas.add(
                    1, row.provider, row.zone, row.service, month, row.planned_minutes, row.actual_minutes, price
                )
                values = dict(zip(FIELDS, row.fields(), strict=True))
                values.update(
                    planned_minutes=row.planned_minutes, actual_minutes=row.actual_minutes, visit_date=day,
                    month=month, quarter=periods_of(month)[0], payable_minutes=price[0], hourly_rate=price[1],
                    price_pence=price[2], import_id=str(e.originator_id), position=position,
                )  # fmt: skip
                conn.execute(
                    update(visits)
                    .where((visits.c.agreement == agreement) & (visits.c.visit_id == row.visit_id))
                    .values(values)
                )
        deltas.write(conn)
        i = activity_imports.c
        conn.execute(
            update(activity_imports)
            .where(i.import_id == str(e.originator_id))
            .values(corrected_visits=i.corrected_visits + e.visits, changes=i.changes + e.changes, position=position)
        )

    # -- arrears of a backdated review ----------------------------------------------------------------

    @handles(Arrears.Calculated)
    def arrears_calculated(self, conn: Connection, e: Arrears.Calculated, position: int) -> None:
        conn.execute(
            insert(arrears_reviews).values(
                agreement=e.agreement, financial_year=e.financial_year, arrears_id=str(e.originator_id),
                decided_on=e.decided_on, window_start=e.window_start, window_end=e.window_end, calculations=1,
            )  # fmt: skip
        )
        _calculation(conn, e.agreement, e.financial_year, 1, e, position)

    @handles(Arrears.Recalculated)
    def arrears_recalculated(self, conn: Connection, e: Arrears.Recalculated, position: int) -> None:
        r = arrears_reviews.c
        review = conn.execute(select(arrears_reviews).where(r.arrears_id == str(e.originator_id))).one()
        calculation = review.calculations + 1
        conn.execute(
            update(arrears_reviews).where(r.arrears_id == str(e.originator_id)).values(calculations=calculation)
        )
        _calculation(conn, review.agreement, review.financial_year, calculation, e, position)


def _calculation(conn: Connection, agreement: str, year: str, calculation: int, e: Any, position: int) -> None:
    """One calculation of arrears (``Calculated`` or ``Recalculated``): its total, basis, lines and provider totals."""
    key = {"agreement": agreement, "financial_year": year, "calculation": calculation}
    conn.execute(
        insert(arrears_calculations).values(
            **key, total=e.total, basis=e.basis, effective_date=e.envelope.effective_date,
            recorded_by=str(e.envelope.actor), recorded_at=e.timestamp, position=position,
        )  # fmt: skip
    )
    if e.lines:
        conn.execute(insert(arrears_lines), [{**key, "line": n, **line} for n, line in enumerate(e.lines)])
    if e.providers:
        conn.execute(
            insert(arrears_providers),
            [{**key, "provider": p, "place": n, "amount": amount} for n, (p, amount) in enumerate(e.providers.items())],
        )


def _remove(deltas: _Deltas, old: dict[str, Any]) -> None:
    """Take a visit row, as the visits table holds it, out of the totals."""
    price = (old["payable_minutes"], old["hourly_rate"], old["price_pence"])
    deltas.add(-1, old["provider"], old["zone"], old["service"], old["month"], old["planned_minutes"],
               old["actual_minutes"], price)  # fmt: skip


def _corrections(e: ActivityImport.Corrected, chunks: ChunkStore, conn: Connection | None) -> Iterable[list[str]]:
    """Every [visit id, field, before, after] of a Corrected event, listed or in chunks, in order."""
    yield from e.corrections
    for digest in e.chunks:
        yield from decode_chunk(chunks.read(digest, conn))[1]


def _text(rate: Decimal | None) -> str | None:
    return None if rate is None else str(rate)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _insert_visits(conn: Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert visits, skipping any already there; returns how many were inserted.

    SQLite: a plain DB-API ``executemany`` of tuples (its fast path). PostgreSQL:
    ``COPY`` into a session's temporary table, then one ``INSERT ... SELECT``,
    several times faster than row-by-row inserts, in the same transaction.
    """
    columns = ", ".join(_VISIT_COLUMNS)
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(_VISIT_COLUMNS))
        return conn.exec_driver_sql(f"INSERT OR IGNORE INTO visits ({columns}) VALUES ({marks})", rows).rowcount
    driver = conn.connection.driver_connection
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS visits_incoming "
            "(LIKE visits INCLUDING DEFAULTS EXCLUDING CONSTRAINTS EXCLUDING INDEXES)"
        )
        cursor.execute("TRUNCATE visits_incoming")
        with cursor.copy(f"COPY visits_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO visits ({columns}) SELECT {columns} FROM visits_incoming ON CONFLICT DO NOTHING")
        return cursor.rowcount


def _update_price_sql(conn: Connection) -> str:
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    return (
        f"UPDATE visits SET payable_minutes = {mark}, hourly_rate = {mark}, price_pence = {mark}, position = {mark} "
        f"WHERE agreement = {mark} AND visit_id = {mark}"
    )
