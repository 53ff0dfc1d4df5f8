"""How an API request is heard: the bearer token, the ``Idempotency-Key`` of a POST, and the ledger's envelope.

**Tokens, never cookies.** ``web.users`` loads the user of a request under
``/api/`` from ``Authorization: Bearer <token>`` only (an active user's
token; a deactivated user's loads nobody), never from the session cookie;
without a valid token the gate (``web.access``) answers 401.

**Once-only POSTs.** ``recorded`` wraps every view that records: the
request must carry an ``Idempotency-Key`` (8-64 letters, digits, ``-``,
``_``), and its digest is taken over the request as sent (method, path and
query, body bytes). The same key and request again gets the first answer
back, stored (``ledger.security.replies``), and records nothing; the same
key with another request is a 409 naming the key. The ledger's own
idempotency is beneath this: the envelope carries a key derived from the
user's, so two copies of one request racing in two workers record once
(``Ledger._execute``), and an answer lost after the command committed is the
ledger's first result when the request comes again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from flask import Response, request

from domain.envelope import Envelope
from domain.errors import IdempotencyMismatch, InvalidInput
from ledger.security.replies import Reply
from web.access import current_actor
from web.api.spec import IDEMPOTENCY_HEADER, KEY_PATTERN, REPLAYED_HEADER
from web.services import book_of

_KEY = re.compile(KEY_PATTERN)


def _request_digest() -> str:
    """sha256 over the method, the path and query, and the body as sent: its bytes, or for a multipart upload
    its fields and files (a client's retry draws a new multipart boundary; the request is the same)."""
    digest = hashlib.sha256(f"{request.method}\n{request.full_path.rstrip('?')}\n".encode())
    if request.mimetype != "multipart/form-data":
        digest.update(request.get_data(cache=True))
        return digest.hexdigest()
    for name, value in sorted((str(name), str(value)) for name, value in request.form.items(multi=True)):
        digest.update(f"field {len(name)}:{name} {len(value)}:{value}\n".encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: (str(item[0]), item[1].filename or "")):
        digest.update(f"file {len(name)}:{name} {upload.filename or ''}\n".encode())
        for chunk in iter(lambda: upload.stream.read(1 << 20), b""):
            digest.update(chunk)
        upload.stream.seek(0)
    return digest.hexdigest()


def _key() -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise InvalidInput(f"{IDEMPOTENCY_HEADER}: every POST needs one (a fresh key per change you mean to make)")
    if not _KEY.match(key):
        raise InvalidInput(f"{IDEMPOTENCY_HEADER}: 8 to 64 letters, digits, '-' or '_', not {key[:70]!r}")
    return key


def ledger_key(key: str) -> str:
    """The ledger's idempotency key for the user's ``key``: the user's own, so two clients may pick the same one."""
    return "api-" + hashlib.sha256(f"{current_actor().user}\n{key}".encode()).hexdigest()[:40]


def recorded(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that records from a JSON body: required ``Idempotency-Key``, first answer kept and given again."""
    return _once(view, upload=False)


def recorded_upload(view: Callable[..., Any]) -> Callable[..., Any]:
    """``recorded`` for a view that takes a file (``multipart/form-data``)."""
    return _once(view, upload=True)


def _once(view: Callable[..., Any], *, upload: bool) -> Callable[..., Any]:
    @wraps(view)
    def once(*args: Any, **kwargs: Any) -> Any:
        key = _key()
        if upload and request.mimetype != "multipart/form-data":
            raise InvalidInput("body: send the file as multipart/form-data, in the field 'file'")
        if not upload and not request.is_json:
            raise InvalidInput("body: send it as JSON (Content-Type: application/json), {} when there are no fields")
        if not upload and request.get_data(cache=True).strip() and request.get_json(silent=True) is None:
            raise InvalidInput("body: is not valid JSON")
        digest = _request_digest()
        replies = book_of().security.replies
        username = current_actor().user
        earlier = replies.find(username, key)
        if earlier is not None:
            if earlier.digest != digest:
                raise IdempotencyMismatch(
                    f"{IDEMPOTENCY_HEADER}: {key!r} was already used for a different request; nothing was recorded"
                )
            return _replayed(earlier)
        answer = view(*args, **kwargs)
        if isinstance(answer, Response) and 200 <= answer.status_code < 300:
            kept = replies.keep(username, key, Reply(digest, answer.status_code, answer.get_data()))
            if kept.digest != digest:  # another request with this key won the race with a different body
                raise IdempotencyMismatch(f"{IDEMPOTENCY_HEADER}: {key!r} was already used for a different request")
        return answer

    return once


def _replayed(reply: Reply) -> Response:
    answer = Response(reply.body, status=reply.status, mimetype="application/json")
    answer.headers[REPLAYED_HEADER] = "true"
    return answer


def envelope(*, effective: date | None = None, reason: str | None = None) -> Envelope:
    """The envelope of this request's command: the token's user, the date (today if not given), why, the key."""
    return Envelope(
        actor=current_actor(),
        effective_date=effective or date.today(),
        reason=(reason or "").strip() or None,
        idempotency_key=ledger_key(_key()),
        date_stated=effective is not None,
    )
