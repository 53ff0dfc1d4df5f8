"""Crawl every page each demo user can reach by following the app's own links, and check each one.

The route walk (test_routes_by_role.py) proves each route answers its rule
for one example URL; this crawl proves the links the app actually prints
lead somewhere: starting from a user's start page it follows every
same-origin ``<a href>`` breadth-first (GET only) and asserts that no
printed link is dead (404), refused (403 - the app showed a link the role
cannot open) or broken (500), and that every page keeps the accessibility
and CSP rules of the web brief: one ``<h1>`` and headings in order, a
``<title>``, a label for every field, a caption for every table and a
scope on every ``<th>``, ids unique and every label/aria pointer landing on
one, no inline ``style=`` or ``<script>``. For provider users it also asserts no page names another
provider outside the user's own alliance (market pages are anonymised).

Every page of figures shows the as-at box (web/as_at.py; ``LIVE_ONLY`` lists
the pages that are not kept in the past). A second, smaller crawl starts as
known at an early position and asserts each page says so, offers no recording
form, and prints no link that leaves the past.

Sort links are folded into one URL (``*-sort``/``*-dir`` stripped),
exports are checked once per (table, format), up to a handful, and
statements once per (kind, format), so the crawl stays bounded.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest

from ledger.queries.organisations import list_organisations, list_users
from tests.web.support import USERS, log_in

MAX_PAGES = 400
#: Pages of one shape (the same path but for numbers, the same query keys) the crawl opens: enough to check the
#: shape, not every one of the history's events or revisions.
FAMILY_LIMIT = 8


def _family(target: str) -> str:
    url = urlsplit(target)
    keys = sorted({k for k, _ in parse_qsl(url.query, keep_blank_values=True)})
    return re.sub(r"/\d+(?=/|$)", "/N", url.path) + "?" + "&".join(keys)
MAX_EXPORTS = 4
#: Pages that show no read model's figures, or the live chain and jobs only: no as-at box (with ``?as_at=`` kept by
#: a link, they say they show the ledger as it is now).
LIVE_ONLY = re.compile(
    r"/account|/auditor/integrity.*|/statements/check|/admin/security-log|/admin/(organisations|users)/new"
    r"|/accountant/pool/[^/]+/set|.*/jobs/.*"
)
PROVIDER_ROLES = ("provider", "other-provider")
FIELDS = ("input", "select", "textarea")
UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}
EXPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: A statement's download (web/views/statements.py): fetched once per kind and format, as the exports are — each is a
#: file (a PDF takes a second or two to lay out), and its figures are the statements tests' to check; every other
#: statement link is fetched as its CSV data (the same statement built, no layout), so none answers 403 or 500.
STATEMENT = re.compile(r"/statements/(settlement|cost|payment|incentive|rate-notice)/.+")
#: Demo users whose pages link statements (at least these: a crawl of theirs that reaches none has lost the links).
STATEMENT_READERS = {"accountant", "ccg-accountant", "provider", "other-provider", "auditor"}
STATEMENT_TYPES = {"": "application/pdf", "pdf": "application/pdf", "html": "text/html", "csv": "text/csv"}


@dataclass
class Page(HTMLParser):
    """What the checks need from one HTML page, read with the standard library's parser."""

    links: list[str] = field(default_factory=list)
    headings: list[int] = field(default_factory=list)
    ids: Counter[str] = field(default_factory=Counter)
    references: set[str] = field(default_factory=set)
    unscoped_th: int = 0
    titles: list[str] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    fields: list[dict[str, str | None]] = field(default_factory=list)
    tables: list[dict[str, str | None]] = field(default_factory=list)
    captions: int = 0
    styled: list[str] = field(default_factory=list)
    inline_scripts: int = 0
    text: list[str] = field(default_factory=list)
    post_forms: list[str] = field(default_factory=list)
    as_at_box: bool = False
    as_at_banner: str | None = None
    _in_title: bool = False
    _in_script: bool = False

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.text += [value for value in a.values() if value]  # a name in a link, title or option shows too
        if "style" in a:
            self.styled.append(tag)
        if a.get("id"):
            self.ids[a["id"]] += 1
        for pointer in ("aria-labelledby", "aria-describedby"):
            self.references.update((a.get(pointer) or "").split())
        if tag == "a" and a.get("href") and "data-live" not in a:  # a page as at the past links to its live self
            self.links.append(a["href"])
        elif tag == "form" and (a.get("method") or "get").lower() == "post":
            self.post_forms.append(a.get("action") or "(this page)")
        elif tag == "p" and "data-as-at" in a:
            self.as_at_banner = a["data-as-at"]
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "th" and not a.get("scope"):
            self.unscoped_th += 1
        elif tag == "title":
            self._in_title = True
            self.titles.append("")
        elif tag == "label" and a.get("for"):
            self.label_for.add(a["for"])
        elif tag in FIELDS:
            if tag != "input" or (a.get("type") or "text").lower() not in UNLABELLED_INPUT_TYPES:
                self.fields.append({"tag": tag, **a})
        elif tag == "table":
            self.tables.append(a)
        elif tag == "caption":
            self.captions += 1
        elif tag == "script":
            self._in_script = not a.get("src")
            self.inline_scripts += self._in_script

        if tag == "input" and a.get("id") == "as_at-position":
            self.as_at_box = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles[-1] += data
        self.text.append(data)

    def problems(self) -> list[str]:
        found = []
        if self.headings.count(1) != 1:
            found.append(f"{self.headings.count(1)} <h1> elements")
        skips = [f"h{a}->h{b}" for a, b in zip(self.headings, self.headings[1:]) if b > a + 1]
        if skips:
            found.append(f"headings skip a level: {skips}")
        duplicates = sorted(i for i, n in self.ids.items() if n > 1)
        if duplicates:
            found.append(f"ids used more than once: {duplicates}")
        dangling = sorted((self.label_for | self.references) - set(self.ids))
        if dangling:
            found.append(f"label for= or aria- pointing at no id: {dangling}")
        if self.unscoped_th:
            found.append(f"{self.unscoped_th} <th> without scope")
        if not any(t.strip() for t in self.titles):
            found.append("no <title>")
        for f in self.fields:
            labelled = f.get("aria-label") or f.get("aria-labelledby") or (f.get("id") in self.label_for)
            if not labelled:
                found.append(f"unlabelled <{f['tag']} name={f.get('name')!r} id={f.get('id')!r}>")
        unnamed_tables = [t for t in self.tables if not t.get("aria-label") and not t.get("aria-labelledby")]
        if len(unnamed_tables) > self.captions:
            found.append(f"{len(unnamed_tables) - self.captions} <table> without <caption> or aria-label")
        if self.styled:
            found.append(f"inline style= on {sorted(set(self.styled))}")
        if self.inline_scripts:
            found.append(f"{self.inline_scripts} inline <script>")
        return found


def _parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def _normalise(href: str, base: str) -> str | None:
    """The crawlable form of ``href`` seen on ``base``: same origin, no fragment, sort arguments dropped."""
    url = urlsplit(urljoin(base, href))
    if url.scheme not in ("http", "https") or url.netloc != "localhost":
        return None
    if url.path.startswith("/static/"):
        return None
    query = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if not k.endswith(("-sort", "-dir"))]
    return urlunsplit(("", "", url.path, urlencode(sorted(query)), ""))


def _forbidden_names(book, username: str) -> dict[str, re.Pattern[str]]:
    """Other providers' names (or codes, as in a link) a provider user must never see: every provider but its
    own and its alliance's."""
    organisations = list_organisations(book.read_engine)
    own_code = next(u["organisation"] for u in list_users(book.read_engine) if u["username"] == username)
    own = next(o for o in organisations if o["code"] == own_code)
    alliance = own["member_of"] or own["code"]
    allowed = {own["code"], alliance} | {o["code"] for o in organisations if o["member_of"] == alliance}
    return {
        o["name"]: re.compile(rf"\b({re.escape(o['name'])}|{re.escape(o['code'])})\b")
        for o in organisations
        if o["kind"] == "provider" and o["code"] not in allowed
    }


@dataclass
class Crawl:
    pages: int = 0
    links: int = 0
    exports: int = 0
    export_links: int = 0
    statements: int = 0
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _crawl(client, forbidden: dict[str, re.Pattern[str]], as_at: int | None = None,
           family_limit: int = FAMILY_LIMIT) -> Crawl:  # fmt: skip
    """Live, or from the start page as known at position ``as_at`` (every link printed must keep it)."""
    crawl = Crawl()
    start = client.get("/" if as_at is None else f"/?as_at={as_at}", follow_redirects=True)
    start_url = _normalise(start.request.full_path, "http://localhost/")
    seen = {start_url}
    families: dict[str, int] = {}
    queue: deque[tuple[str, str]] = deque([(start_url, "(start)")])
    exported: set[tuple[str, str]] = set()
    downloaded: set[tuple[str, str]] = set()  # (statement kind, format), or ("csv", path) for the others
    while queue and crawl.pages < MAX_PAGES:
        url, found_on = queue.popleft()
        query = dict(parse_qsl(urlsplit(url).query))
        statement = STATEMENT.fullmatch(urlsplit(url).path)
        if statement:
            key = (statement[1], query.get("format", ""))
            if key in downloaded:  # every other statement link still answers: as its CSV data (no layout to pay)
                key = ("csv", urlsplit(url).path)
                url = urlunsplit(("", "", urlsplit(url).path, urlencode(sorted({**query, "format": "csv"}.items())), ""))
            if key not in downloaded:
                downloaded.add(key)
                crawl.statements += 1
                response = client.get(url)
                expected = STATEMENT_TYPES.get(dict(parse_qsl(urlsplit(url).query)).get("format", ""), "?")
                attachment = response.headers.get("Content-Disposition", "").startswith("attachment")
                if response.status_code != 200 or response.mimetype != expected or not attachment:
                    crawl.problems.append(
                        f"{url} (linked from {found_on}): statement {response.status_code} {response.mimetype}"
                    )
            continue
        if "export" in query:
            crawl.export_links += 1
            key = (query["export"], query.get("format", ""))
            if key in exported or len(exported) >= MAX_EXPORTS:
                continue
            exported.add(key)
            crawl.exports += 1
            response = client.get(url)
            expected = EXPORT_TYPES.get(query.get("format", ""), "?")
            attachment = response.headers.get("Content-Disposition", "").startswith("attachment")
            if response.status_code != 200 or response.mimetype != expected or not attachment:
                crawl.problems.append(
                    f"{url} (linked from {found_on}): export {response.status_code} {response.mimetype}"
                )
            continue
        crawl.pages += 1
        crawl.visited.append(url)
        response = client.get(url)
        final = url
        hops = 0
        while response.status_code in (301, 302, 303, 307, 308) and hops < 5:
            final = _normalise(response.headers["Location"], "http://localhost" + final) or ""
            if not final or "/login" in final:
                break
            response = client.get(final)
            hops += 1
        if response.status_code != 200:
            crawl.problems.append(f"{url} (linked from {found_on}): {response.status_code} (after redirects: {final})")
            continue
        if response.mimetype != "text/html" or response.headers.get("Content-Disposition", "").startswith("attachment"):
            continue  # a download (a statement's HTML among them) is a file, not a page of the app
        page = _parse(response.get_data(as_text=True))
        crawl.problems += [f"{url}: {p}" for p in page.problems()]
        crawl.problems += [f"{url}: {p}" for p in _as_at_problems(page, final, as_at)]
        text = " ".join(page.text)
        for name, pattern in forbidden.items():
            if pattern.search(text):
                crawl.problems.append(f"{url}: shows another provider's name {name!r}")
        for href in page.links:
            target = _normalise(href, "http://localhost" + final)
            if target is None:
                continue
            crawl.links += 1
            if "/logout" in target or target in seen or (as_at is not None and f"as_at={as_at}" not in target):
                continue  # (a link that leaves the past is a problem of its page, not a page to crawl)
            seen.add(target)
            family = _family(target)
            families[family] = families.get(family, 0) + 1
            if families[family] > family_limit:
                continue
            queue.append((target, url))
    return crawl


def _as_at_problems(page: Page, url: str, as_at: int | None) -> list[str]:
    """Live: a page that reads the read models shows the as-at box. As at a past position: the banner says so (or
    that the page is not kept as known then), no form records, and every link to a page stays at that position."""
    path = urlsplit(url).path
    if as_at is None:
        return [] if page.as_at_box or LIVE_ONLY.fullmatch(path) else ["no as-at box on a page of figures"]
    found = []
    expected = "live" if LIVE_ONLY.fullmatch(path) else str(as_at)  # "live": the page says it shows the ledger now
    if page.as_at_banner != expected:
        found.append(f"as-at banner {page.as_at_banner!r}, not {expected!r}")
    found += [f"a recording form ({action}) as at a past position" for action in page.post_forms if action != "/logout"]
    for href in page.links:
        target = urlsplit(urljoin("http://localhost" + url, href))
        if target.netloc == "localhost" and not target.path.startswith(("/static/", "/account")):
            if ("as_at", str(as_at)) not in parse_qsl(target.query) and href != "#content":
                found.append(f"a link that leaves the past: {href}")
    return found


@pytest.mark.parametrize("role", sorted(USERS))
def test_every_linked_page_opens_and_keeps_the_page_rules(app, demo_book, role):
    forbidden = _forbidden_names(demo_book, USERS[role]) if role in PROVIDER_ROLES else {}
    crawl = _crawl(log_in(app.test_client(), USERS[role]), forbidden)
    print(f"{role}: {crawl.pages} pages, {crawl.links} links, {crawl.exports} exports, "
          f"{crawl.statements} statements checked")
    assert crawl.pages > 1, f"{role}: the start page links nowhere"
    assert crawl.pages < MAX_PAGES, f"{role}: the crawl did not finish within {MAX_PAGES} pages"
    assert crawl.exports or not crawl.export_links, f"{role}: export links seen but none checked"
    if role in STATEMENT_READERS:
        assert crawl.statements, f"{role}: no statement link reached"
    assert not crawl.problems, f"{role}: {len(crawl.problems)} problems:\n" + "\n".join(crawl.problems[:60])


def first_position(book, topic_end: str) -> int:
    """The log position of the first event whose topic ends with ``topic_end``."""
    events = book.ledger.recorder.select_notifications(start=1, limit=book.projections.head())
    return next(n.id for n in events if n.topic.endswith(topic_end))


@pytest.mark.parametrize("role", ["provider", "accountant", "admin", "auditor"])
def test_every_linked_page_as_at_an_early_position_says_so_and_offers_no_action(app, demo_book, role):
    """From the start page as known when the first cost return was submitted (before any was accepted): a smaller
    crawl (two pages of a shape), every page with the banner, no recording form, and links that keep the position."""
    early = first_position(demo_book, "cost-return.submitted")
    forbidden = _forbidden_names(demo_book, USERS[role]) if role in PROVIDER_ROLES else {}
    crawl = _crawl(log_in(app.test_client(), USERS[role]), forbidden, as_at=early, family_limit=2)
    print(f"{role} as at {early}: {crawl.pages} pages, {crawl.links} links")
    assert crawl.pages > 1, f"{role}: the start page links nowhere"
    assert not crawl.problems, f"{role}: {len(crawl.problems)} problems:\n" + "\n".join(crawl.problems[:60])


def test_the_provider_check_names_every_other_provider_but_the_own_alliance(demo_book):
    premier = _forbidden_names(demo_book, USERS["provider"])
    haven = _forbidden_names(demo_book, USERS["other-provider"])
    assert "Haven Care" in premier and "Premier Care" in haven
    assert "Premier Care" not in premier and "Haven Care" not in haven
    assert premier["Haven Care"].search('<a href="/provider/returns/wirral-homecare/haven-care/2019-20-Q1">')


BAD_PAGE = """<html><head></head><body><h1>One</h1><h1>Two</h1><h3>Three</h3>
<label for="a">A</label><input id="a" name="a"><input name="b"><input type="hidden" name="c">
<label for="x">X</label><input id="a" aria-describedby="a-hint">
<select name="d"></select><textarea aria-label="e"></textarea>
<table><tr><th>x</th></tr></table><table aria-label="named"></table><table><caption>c</caption></table>
<p style="color: red">x</p><script>alert(1)</script><script src="/static/x.js"></script></body></html>"""


def test_the_page_checks_catch_each_broken_rule():
    assert _parse(BAD_PAGE).problems() == [
        "2 <h1> elements",
        "headings skip a level: ['h1->h3']",
        "ids used more than once: ['a']",
        "label for= or aria- pointing at no id: ['a-hint', 'x']",
        "1 <th> without scope",
        "no <title>",
        "unlabelled <input name='b' id=None>",
        "unlabelled <select name='d' id=None>",
        "1 <table> without <caption> or aria-label",
        "inline style= on ['p']",
        "1 inline <script>",
    ]


def test_the_login_page_and_the_error_pages_keep_the_page_rules(app):
    """Pages no link leads to in a crawl: the login page, a bad first-login link, a 404 and a 403."""
    anonymous = app.test_client()
    provider = log_in(app.test_client(), USERS["provider"])
    for client, url, status in (
        (anonymous, "/login", 200),
        (anonymous, "/first-login/not-a-token", 404),
        (provider, "/no-such-page", 404),
        (provider, "/accountant/", 403),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert _parse(response.get_data(as_text=True)).problems() == [], url
