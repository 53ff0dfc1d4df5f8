"""Web latency under load: the main pages and the API served by gunicorn on PostgreSQL, against a light page.

Issue 17: p50/p95/p99 latency of the main pages and the API under 8
concurrent clients for 30 s, as a ratio to a light page measured in the same
run; goal: each main page's p95 at most 3 times the light page's. Then the same
while an activity import of 1,000,000 rows runs in another process (a figure,
not a gate: the machine has 2 cores, and the import takes one of them).

* Data: a fresh PostgreSQL database (``openbook_bench_web_<pid>``, on the
  server of ``OPENBOOK_TEST_POSTGRES_URL``, dropped at the end) holding
  ``load_data``: the demo and ``--rows`` generated Wirral visits for 2020-21,
  imported and priced. Or, with ``--database URL``, the full-scale demo
  (``openbook demo --scale full``: five years of Northshire, ~5,000,000
  visits), loaded once beforehand (~40 min) and copied for each run by
  ``CREATE DATABASE ... TEMPLATE`` into ``openbook_bench_web_<pid>`` (dropped
  at the end), so the run's writes never reach it; its pages are the same
  kinds (``main_pages``) on its agreement, its last settled year and that
  year's last quarter, as its accountant, a primary provider and its auditor
  (``scale_data``).
* Server: gunicorn with 4 sync workers, as the README serves production: two
  per core, so one worker's wait on the database never idles a core, and 8
  clients queue at the workers the way a busy office would.
* Clients: 8 threads, each with its own ``requests.Session`` per role (logged
  in through the login form, as a browser is) and the accountant's API token.
  Threads, not processes: a client spends its time waiting on a socket (the GIL
  is released there), and a process each would take memory and start-up time
  from the 2 cores the server needs. Every client alternates the light page
  with the next main page of the cycle (each client starting at a different
  one), so the light page's samples are spread over the same seconds as the
  main pages' and see the same machine.
* The light page is ``/status``: the login check and the read models' positions
  that every logged-in page runs (the "behind" banner), and nothing else — an
  indexed ``max`` of the event positions and two tiny tables. So a ratio is what
  a page costs beyond the fixed cost of any page; JSON, no template.
* Throughput: requests per second over all pages, against the same clients
  asking for the light page alone for a third of the time.
* During an import: ``openbook activity import`` of ``--import-rows`` new
  visits (at least 50,000) in another process, recording and pricing while the
  same mix runs; the import is stopped when the window ends. On the scale
  demo, generated visits of its last settled year, imported as its own are.

Usage: ``python -m bench.web`` (1,000,000 visits, 30 s) or ``python -m bench.web --rows 20000`` (5 s); ``python -m
bench`` runs it with the other benchmarks. Needs a PostgreSQL server (``make test`` needs one too). On the
full-scale demo: ``python -m bench.web --database postgresql+psycopg://postgres@127.0.0.1:5432/openbook_full``
(30 s a phase, an import of 1,000,000 rows; nobody may be connected to that database while it is copied).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from bench.figures import ROOT, figure, machine, write_results

GOAL = 3.0
CLIENTS = 8
WORKERS = 4
#: The concurrent import is at least this big, so that it lasts through a small run's window.
LEAST_IMPORT_ROWS = 50_000
LOADED = (date(2020, 4, 1), date(2021, 3, 31))  # the visits ``load_data`` imports, and the concurrent import's period
AGREEMENT = "wirral-homecare"
ROLES = {"accountant": "accountant@wirral.example", "provider": "finance@premiercare.example",
         "auditor": "auditor@audit.example"}  # fmt: skip
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@dataclass(frozen=True)
class Page:
    """One page the clients ask for: its name in the table, the role asking (``api``: the accountant's token)."""

    name: str
    role: str
    path: str


LIGHT = Page("light page: /status", "accountant", "/status")


def main_pages(agreement: str, quarter: str, year: str) -> tuple[Page, ...]:
    """The main pages and API GETs measured, on ``agreement``: ``quarter`` has cost returns, ``year`` a settlement
    (its first), and the provider's dashboard is that of the user logged in as the provider. The one list, for
    every data set."""
    return (
        Page("accountant's home", "accountant", "/accountant/"),
        Page("rate card", "accountant", f"/accountant/rates/{agreement}"),
        Page("market view", "accountant", f"/accountant/market/{agreement}/{quarter}"),
        Page("activity totals", "accountant", f"/accountant/activity/{agreement}"),
        Page("settlement", "accountant", f"/accountant/settlements/{agreement}/{year}/1"),
        Page("provider's dashboard", "provider", "/provider/"),
        Page("auditor's event browser", "auditor", "/auditor/events"),
        Page("API: rate card", "api", f"/api/v1/agreements/{agreement}/rates"),
        Page("API: activity totals", "api", f"/api/v1/agreements/{agreement}/activity/totals"),
        Page("API: cost returns", "api", f"/api/v1/agreements/{agreement}/returns"),
        Page("API: settlement", "api", f"/api/v1/agreements/{agreement}/settlements/{year}"),
    )


@dataclass(frozen=True)
class DataSet:
    """What the pages are measured on: the agreement, a quarter with returns and a settled year (the pages), the
    user of each role, and the concurrent import's visits (their period, and the import's effective date)."""

    name: str
    agreement: str
    quarter: str
    year: str
    roles: dict[str, str]
    visits: tuple[date, date]
    imported_on: date

    @property
    def pages(self) -> tuple[Page, ...]:
        return main_pages(self.agreement, self.quarter, self.year)


#: The demo and ``load_data``'s visits (the default).
DEMO = DataSet("the demo", AGREEMENT, "2019-20-Q1", "2019-20", ROLES, LOADED, date(2021, 4, 5))
MAIN = DEMO.pages


def scale_data(year: str) -> DataSet:
    """The scale demo (``openbook demo --scale``, ``demo/scale.py``) with ``year`` settled: its last quarter's
    returns and its settlement, its council's accountant, a primary provider's finance user (Ashgrove's) and its
    auditor; the concurrent import adds visits to that year, dated as its own imports are (after the year)."""
    from demo.scale import ACCOUNTANT, AGREEMENT, AUDITOR, DEFAULT_SEED, SIZES, ScaleRun

    provider = ScaleRun(SIZES["small"], DEFAULT_SEED).providers[0]  # a primary: among the most visits
    first = int(year[:4])
    return DataSet(f"the scale demo to {year}", AGREEMENT, f"{year}-Q4", year,
                   {"accountant": ACCOUNTANT.user, "provider": provider.finance.user, "auditor": AUDITOR.user},
                   (date(first, 4, 1), date(first + 1, 3, 31)), date(first + 1, 4, 5))  # fmt: skip


def last_settled_year(book: Any) -> str:
    """The last financial year the scale demo in ``book`` has a settlement for (its size decides which)."""
    from sqlalchemy import func, select

    from demo.scale import AGREEMENT
    from ledger.projections.settlements import settlements

    c = settlements.c
    with book.read_engine.connect() as conn:
        year = conn.execute(select(func.max(c.financial_year)).where(c.agreement == AGREEMENT)).scalar()
    if year is None:
        raise SystemExit(f"no settlement of {AGREEMENT} in {book.database}: is the scale demo loaded there?")
    return year


# -- percentiles and the figures -----------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``samples``, interpolated between the two nearest ranks.

    The same as ``numpy.percentile``'s default and ``statistics.quantiles(method="inclusive")``: p0 is the least
    sample, p100 the greatest, and a percentile between two samples lies on the line between them.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError("q must be from 0 to 100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    """Count, p50, p95, p99 and the worst of some latencies, in milliseconds."""
    return {"requests": len(seconds), **{f"p{q}_ms": round(percentile(seconds, q) * 1000, 2) for q in (50, 95, 99)},
            "max_ms": round(max(seconds) * 1000, 2)}  # fmt: skip


def page_figures(run: dict[str, Any], size: str, goal: float | None, when: str = "") -> list[dict[str, Any]]:
    """Each main page's p95 against the light page's p95 in the same run (``goal``: the ceiling on the ratio)."""
    light = run["pages"][LIGHT.name]["p95_ms"]
    return [
        figure(f"web p95: {name}{when}", stats["p95_ms"], light, "ms", size, goal=goal, lower_is_better=True,
               baseline_name=f"p95 of {LIGHT.path} in the same run")
        for name, stats in run["pages"].items() if name != LIGHT.name
    ]  # fmt: skip


# -- the data ------------------------------------------------------------------------------------


def load_data(book: Any, rows: int) -> None:
    """What the pages are measured on: the demo (passwords ``demo``) and ``rows`` priced Wirral visits for 2020-21.

    The one place the benchmark's data is made, so a larger generator (the full-scale demo) can replace it here.
    """
    from demo.partnerships import WIRRAL, give_demo_passwords, load_demo
    from domain.envelope import SYSTEM, Envelope

    load_demo(book)
    give_demo_passwords(book)
    if rows:
        with tempfile.TemporaryDirectory(prefix="openbook-bench-web-") as work:
            path = visits_file(book, os.path.join(work, "visits.csv"), rows, seed=20200401, id_prefix="B")
            book.activity.import_activity(Envelope(SYSTEM, date(2021, 4, 5), "benchmark: a year of generated visits",
                                                   None), WIRRAL, path)  # fmt: skip


def visits_file(book: Any, path: str, rows: int, *, seed: int, id_prefix: str, data: DataSet = DEMO) -> str:
    """A CSV of ``rows`` visits generated on ``data``'s agreement as recorded in ``book``, over ``data.visits``,
    with visit ids starting ``id_prefix``."""
    from demo.visits import visit_rows, write_visits

    agreement = book.records.agreement(data.agreement)
    return str(write_visits(path, visit_rows(agreement, rows, *data.visits, seed=seed, id_prefix=id_prefix)))


def visits_recorded(book: Any, agreement: str) -> int:
    """How many visits ``agreement`` has recorded (the activity totals' sum)."""
    from sqlalchemy import text

    with book.read_engine.connect() as conn:
        found = conn.execute(text("SELECT sum(visits) FROM activity_totals WHERE agreement = :a"), {"a": agreement})
        return int(found.scalar() or 0)


def api_token(book: Any, username: str) -> str:
    """A new API token for ``username`` (``openbook tokens create``), for the clients' API requests."""
    return book.security.tokens.create(username, "web benchmark", expires_in_days=1)[1]


@contextmanager
def bench_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database for this run (its URL), dropped afterwards whatever happens: empty, on the server
    of ``OPENBOOK_TEST_POSTGRES_URL``; or, given ``template`` (a database's URL), a copy of that database on its
    server (``CREATE DATABASE ... TEMPLATE``: a file copy, which PostgreSQL refuses while anyone is connected to
    the template), so the run's writes never reach it."""
    import psycopg

    from ledger.persistence.database import Database
    from ledger.settings import DEFAULT_TEST_POSTGRES_URL

    if template is None:
        server = Database.from_url(os.environ.get("OPENBOOK_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL))
        copied = ""
    else:
        source = Database.from_url(template)
        if source.url.get_backend_name() != "postgresql":
            raise SystemExit(f"--database: a PostgreSQL database, not {source}")
        # the maintenance database: a connection to the template itself would stop the copy
        server = Database.from_url(source.url.set(database="postgres").render_as_string(hide_password=False))
        copied = f' TEMPLATE "{source.url.database}"'
    name = f"openbook_bench_web_{os.getpid()}"
    with psycopg.connect(server.psycopg_conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            admin.execute(f'CREATE DATABASE "{name}"{copied}')
        except psycopg.errors.ObjectInUse as busy:  # someone is connected to the template
            raise SystemExit(f"cannot copy {source.url.database}: {busy}") from None
    try:
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server.psycopg_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(environment: dict[str, str], workers: int) -> Iterator[str]:
    """gunicorn serving ``web.app:create_app()`` on a free port, answering: its base URL; stopped afterwards."""
    import requests

    gunicorn = Path(sys.executable).with_name("gunicorn")
    port = _free_port()
    process = subprocess.Popen(
        [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "300",
         "--log-level", "warning", "web.app:create_app()"],
        env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # each worker opens the ledger: seconds on a busy machine
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped (exit {process.returncode}):\n{process.stderr.read()}")
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the clients ---------------------------------------------------------------------------------


def log_in(base: str, username: str, password: str) -> Any:
    """A ``requests.Session`` logged in through the login form, as a browser is."""
    import requests

    session = requests.Session()
    page = session.get(base + "/login", timeout=60)
    token = CSRF_META.search(page.text)
    if token is None:
        raise SystemExit(f"no CSRF token on {base}/login (status {page.status_code})")
    answer = session.post(base + "/login", data={"username": username, "password": password,
                                                 "csrf_token": token.group(1)}, allow_redirects=False, timeout=60)
    if answer.status_code != 302:
        raise SystemExit(f"logging in as {username} answered {answer.status_code}, not a redirect")
    return session


class Client:
    """One simulated user at a desk: a logged-in session per role and the API token, asking for page after page."""

    def __init__(self, base: str, password: str, token: str, roles: dict[str, str] = ROLES) -> None:
        import requests

        self.base = base
        self.sessions = {role: log_in(base, username, password) for role, username in roles.items()}
        self.sessions["api"] = requests.Session()
        self.sessions["api"].headers["Authorization"] = f"Bearer {token}"

    def get(self, page: Page) -> tuple[float, int]:
        """The seconds from asking for ``page`` to its whole body, and its status."""
        started = time.perf_counter()
        answer = self.sessions[page.role].get(self.base + page.path, allow_redirects=False, timeout=300)
        _body = answer.content
        return time.perf_counter() - started, answer.status_code

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def schedule(pages: Sequence[Page], start: int) -> list[Page]:
    """The light page before each main page, the main pages from the ``start``-th on (so clients differ)."""
    turned = [*pages[start % len(pages):], *pages[: start % len(pages)]] if pages else []
    return [p for page in turned for p in (LIGHT, page)] if turned else [LIGHT]


def run_load(clients: Sequence[Client], pages: Sequence[Page], seconds: float) -> dict[str, Any]:
    """Every client asks for its schedule's pages in turn for ``seconds``: each page's latencies and throughput."""
    samples: dict[str, list[float]] = {p.name: [] for p in (LIGHT, *pages)}
    failures: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def work(number: int, client: Client) -> None:
        cycle = schedule(pages, number * len(pages) // max(len(clients), 1))
        mine: list[tuple[str, float]] = []
        go.wait()
        i = 0
        while time.perf_counter() < stop_at[0]:
            page = cycle[i % len(cycle)]
            i += 1
            took, status = client.get(page)
            if status != 200:
                with lock:
                    failures.append(f"{page.path}: {status}")
                continue
            mine.append((page.name, took))
        with lock:
            for name, took in mine:
                samples[name].append(took)

    threads = [threading.Thread(target=work, args=(n, c), daemon=True) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    go.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    done = sum(len(s) for s in samples.values())
    return {
        "seconds": round(elapsed, 2),
        "requests": done,
        "per_second": round(done / elapsed, 1),
        "failed": len(failures),
        "failures": sorted(set(failures))[:20],
        "pages": {name: summary(s) for name, s in samples.items() if s},
    }


def warm_up(clients: Sequence[Client], pages: Sequence[Page]) -> None:
    """Every client asks for every page once, all at once and unmeasured: each worker compiles its templates and
    fills its caches, and a page a role may not read stops the benchmark here."""
    refused: list[str] = []

    def work(client: Client) -> None:
        for page in (LIGHT, *pages):
            _took, status = client.get(page)
            if status != 200:
                refused.append(f"{page.path} answered {status} to {page.role}")

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if refused:
        raise SystemExit("; ".join(sorted(set(refused))))


# -- the concurrent import -----------------------------------------------------------------------


@contextmanager
def importing(environment: dict[str, str], path: str, data: DataSet = DEMO) -> Iterator[dict[str, Any]]:
    """``openbook activity import`` of ``path`` into ``data``'s agreement, by its accountant, in another process
    while the block runs; stopped at its end if still going. Yields what is known of it (``seconds``: how long it
    ran; ``finished``: whether it ended itself)."""
    known: dict[str, Any] = {}
    command = [sys.executable, "-m", "cli.main", "--as", data.roles["accountant"], "activity", "import", path,
               "--agreement", data.agreement, "--effective", data.imported_on.isoformat(),
               "--reason", "benchmark: a concurrent import"]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        time.sleep(2.0)  # past Python's start-up and opening the ledger: reading and recording rows
        if process.poll() is not None:
            raise SystemExit(f"the concurrent import ended before the load began:\n{process.stderr.read()}")
        yield known
    finally:
        known["finished"] = process.poll() is not None
        if not known["finished"]:
            process.send_signal(signal.SIGTERM)
        process.wait()
        known["seconds"] = round(time.perf_counter() - started, 1)
        if known["finished"] and process.returncode:
            raise SystemExit(f"the concurrent import failed:\n{process.stderr.read()}")


# -- the driver ----------------------------------------------------------------------------------


def measure(rows: int, import_rows: int, seconds: float, clients: int, workers: int,
            database: str | None = None) -> dict[str, Any]:
    """The three phases, on ``load_data``'s ``rows`` visits or (``database``) on a copy of a loaded scale demo."""
    from demo.partnerships import DEMO_PASSWORD
    from ledger.bootstrap import open_openbook
    from ledger.persistence.database import Database

    result: dict[str, Any] = {}
    if database is not None:
        print(f"copying {Database.from_url(database)} ...", file=sys.stderr, flush=True)
    began = time.perf_counter()
    with bench_database(database) as url, tempfile.TemporaryDirectory(prefix="openbook-bench-web-") as work:
        book = open_openbook(Database.from_url(url))
        try:
            if database is None:
                print(f"loading the demo and {rows:,} priced visits into PostgreSQL ...", file=sys.stderr,
                      flush=True)  # fmt: skip
                began = time.perf_counter()
                load_data(book, rows)
                data = DEMO
            else:
                data = scale_data(last_settled_year(book))
                result["copy_seconds"] = round(time.perf_counter() - began, 1)
                result["scale_demo"] = {"name": data.name, "visits": visits_recorded(book, data.agreement),
                                  "events": book.projections.head()}  # fmt: skip
            result["load_seconds"] = round(time.perf_counter() - began, 1)
            token = api_token(book, data.roles["accountant"])
            print(f"writing {import_rows:,} visits for the concurrent import ...", file=sys.stderr, flush=True)
            more = visits_file(book, os.path.join(work, "more.csv"), import_rows, seed=20210405, id_prefix="L",
                               data=data)  # fmt: skip
        finally:
            book.close()
        environment = {**os.environ, "OPENBOOK_DATABASE_URL": url, "OPENBOOK_INSTANCE": os.path.join(work, "var"),
                       "PYTHONPATH": str(ROOT)}  # fmt: skip
        environment.pop("OPENBOOK_SECRET_KEY", None)  # one made into the instance folder, shared by every worker
        with served(environment, workers) as base:
            print(f"gunicorn ({workers} workers) at {base}; {clients} clients logging in ...", file=sys.stderr,
                  flush=True)  # fmt: skip
            began = time.perf_counter()
            users = [Client(base, DEMO_PASSWORD, token, data.roles) for _ in range(clients)]
            result["login_seconds"] = round(time.perf_counter() - began, 1)
            result["paths"] = {page.name: page.path for page in data.pages}
            try:
                warm_up(users, data.pages)
                print(f"{seconds:g} s of the main pages and the light page ...", file=sys.stderr, flush=True)
                result["idle"] = run_load(users, data.pages, seconds)
                print(f"{seconds / 3:g} s of the light page alone ...", file=sys.stderr, flush=True)
                result["light_only"] = run_load(users, (), seconds / 3)
                print(f"{seconds:g} s of the same during an import of {import_rows:,} rows ...", file=sys.stderr,
                      flush=True)  # fmt: skip
                with importing(environment, more, data) as imported:
                    result["during_import"] = run_load(users, data.pages, seconds)
                result["during_import"]["import"] = {"rows": import_rows, **imported}
            finally:
                for user in users:
                    user.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="priced visits loaded (default 1,000,000)")
    parser.add_argument("--import-rows", type=int, default=None,
                        help=f"rows of the concurrent import (default --rows, at least {LEAST_IMPORT_ROWS:,})")
    parser.add_argument("--seconds", type=float, default=None,
                        help="seconds of load per phase (default 30 at 1,000,000 rows or more, else 5)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help=f"concurrent clients (default {CLIENTS})")
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"gunicorn workers (default {WORKERS})")
    parser.add_argument("--database", default=None, metavar="URL",
                        help="a PostgreSQL database holding the scale demo (openbook demo --scale full): measure a "
                             "copy of it (CREATE DATABASE ... TEMPLATE) instead of loading the demo; --rows then "
                             "only sets the defaults")  # fmt: skip
    args, _others = parser.parse_known_args(argv)  # ``python -m bench`` passes every benchmark's options
    # argon2's cheapest hashes for the demo's passwords (as the test suite does): the 24 logins before the clock
    # starts take a second, not ten; no request measured checks a password.
    os.environ.setdefault("OPENBOOK_PASSWORD_HASHING", "fast")
    seconds = args.seconds if args.seconds is not None else (30.0 if args.rows >= 1_000_000 else 5.0)
    import_rows = args.import_rows if args.import_rows is not None else max(args.rows, LEAST_IMPORT_ROWS)
    measured = measure(args.rows, import_rows, seconds, args.clients, args.workers, args.database)
    data = measured.get("scale_demo")
    loaded = f"{args.rows:,} visits" if data is None else f"{data['name']}, {data['visits']:,} visits"
    size = f"{loaded}, {args.clients} clients, {seconds:g} s"
    idle, during, light = measured["idle"], measured["during_import"], measured["light_only"]
    if idle["failed"]:
        raise SystemExit(f"{idle['failed']} requests failed: {idle['failures']}")
    result = {
        "benchmark": "web latency under load",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "rows": args.rows if data is None else data["visits"],
        "data": loaded,
        "clients": args.clients,
        "workers": args.workers,
        "seconds": seconds,
        **measured,
    }
    result["figures"] = [
        *page_figures(idle, size, GOAL),
        figure("web throughput: every page", idle["per_second"], light["per_second"], "requests/s", size,
               baseline_name=f"the same clients asking for {LIGHT.path} alone"),
        *page_figures(during, size, None, when=f" (import of {import_rows:,} rows)"),
        figure(f"web throughput: every page (import of {import_rows:,} rows)", during["per_second"],
               light["per_second"], "requests/s", size,
               baseline_name=f"the same clients asking for {LIGHT.path} alone, no import"),
    ]  # fmt: skip
    _print_table(result, write_results("web", result))
    return 0


def _print_table(r: dict[str, Any], written: Path) -> None:
    print(f"\nweb latency, {r['data']}, {r['clients']} clients, gunicorn {r['workers']} workers, "
          f"{r['seconds']:g} s a phase (ms)")  # fmt: skip
    print(f"{'page':<34} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'÷light':>7} | {'during import: n':>16} "
          f"{'p50':>8} {'p95':>8} {'p99':>8} {'÷light':>7}")  # fmt: skip
    idle, during = r["idle"], r["during_import"]
    for name, a in idle["pages"].items():
        b = during["pages"].get(name, {"requests": 0, "p50_ms": math.nan, "p95_ms": math.nan, "p99_ms": math.nan})
        print(f"{name:<34} {a['requests']:>6} {a['p50_ms']:>8.1f} {a['p95_ms']:>8.1f} {a['p99_ms']:>8.1f} "
              f"{a['p95_ms'] / idle['pages'][LIGHT.name]['p95_ms']:>7.2f} | {b['requests']:>16} {b['p50_ms']:>8.1f} "
              f"{b['p95_ms']:>8.1f} {b['p99_ms']:>8.1f} "
              f"{b['p95_ms'] / during['pages'][LIGHT.name]['p95_ms']:>7.2f}")  # fmt: skip
    imported = during["import"]
    print(f"throughput: {idle['per_second']} requests/s ({r['light_only']['per_second']} for the light page alone); "
          f"{during['per_second']} during the import ({during['failed']} failed; the import ran "
          f"{imported['seconds']} s, {'finished' if imported['finished'] else 'stopped at the end'})")
    print(f"written to {written}")


if __name__ == "__main__":
    raise SystemExit(main())
