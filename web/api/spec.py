"""The OpenAPI document and request checking: one spectree instance, the models on each view.

Each view says what it takes and answers with ``@spec.validate(query=...,
json=..., resp=answers(Model))``; spectree checks the request against the
models before the view runs (a refusal becomes our 400, ``_refuse``) and the
answer after it, and builds ``/api/v1/openapi.json`` from the same models,
so the document cannot drift from what the views do. ``mode="strict"``: only
views decorated here are in it (the pages are not an API). No documentation
pages are served: spectree's load scripts from a CDN, which the
Content-Security-Policy forbids.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, current_app
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from domain.errors import InvalidInput
from web.api.models import ApiError

#: The statuses every view may answer besides its own, each with the one error shape (``web/errors.py``).
ERRORS = {400: "invalid input", 401: "no valid token", 403: "role refused", 404: "not found or not yours",
          409: "conflict", 422: "a rule refused it",
          503: "the database cannot be reached: nothing was recorded; try again after Retry-After seconds"}  # fmt: skip
#: What a POST may answer besides: its body over ``OPENBOOK_MAX_UPLOAD_MB`` (Flask's MAX_CONTENT_LENGTH).
TOO_LARGE = "the request is larger than the site accepts (OPENBOOK_MAX_UPLOAD_MB); nothing was kept"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


def validation_problems(errors: list[dict[str, Any]]) -> list[str]:
    """pydantic's errors as the ledger words its problems: "field.path: message"."""
    return [f"{'.'.join(str(part) for part in e['loc']) or 'body'}: {e['msg']}" for e in errors]


def _refuse(req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any) -> None:
    """A request its models refuse is ``InvalidInput`` naming each field: the one 400 shape, never spectree's."""
    if error is not None:
        raise InvalidInput(validation_problems(adapter.validation_errors(error)))


def _broken_answer(req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any) -> None:
    """An answer that breaks its own model is our bug: the one 500 (logged in full), never spectree's list."""
    if error is not None:
        raise RuntimeError(f"{req.method} {req.path} answered outside its model: {adapter.validation_errors(error)}")


spec = SpecTree(
    "flask",
    title="openbook API",
    version="1",
    description="The open-book ledger for machine clients: money as decimal strings; docs/api.md.",
    mode="strict",
    page_templates={},
    annotations=False,
    before=_refuse,
    after=_broken_answer,
    validation_error_status=400,
    validation_error_model=ApiError,
    naming_strategy=lambda model: model.__name__,  # every model's name is unique in the API: no hashes in the document
    nested_naming_strategy=lambda parent, child: child,
    security_schemes=[SecurityScheme(name="token", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"token": []},
)


def answers(model: Any, status: int = 200) -> Response:
    """The view's answer (``model`` with ``status``) and every error status with ``ApiError``."""
    return Response(**{f"HTTP_{status}": model}, **{f"HTTP_{code}": (ApiError, why) for code, why in ERRORS.items()})


def document(app: Flask | None = None) -> dict[str, Any]:
    """The OpenAPI document of ``app`` (built once per app): spectree's, with what no model says: the
    ``Idempotency-Key`` header on every POST (checked by ``web.api.calls.recorded``, not by a model, as its case
    varies by client), the ``Idempotent-Replayed`` header of an answer given again, ``Retry-After`` on a 503, and
    a POST's 413 (``web.errors``: a body over the size limit, refused before the view)."""
    app = app or current_app
    cached = app.extensions.get("openbook_api_document")
    if cached is None:
        with app.app_context():
            cached = copy.deepcopy(spec.spec)  # spectree keeps its own; every app has the same API
        for operations in cached["paths"].values():
            for method, operation in operations.items():
                if method == "post":
                    operation["parameters"].append({
                        "name": IDEMPOTENCY_HEADER, "in": "header", "required": True,
                        "description": "Your key for this request: sent again with the same body, the first answer "
                                       "comes back and nothing is recorded twice; with another body, 409.",
                        "schema": {"type": "string", "pattern": KEY_PATTERN},
                    })  # fmt: skip
                    responses = operation["responses"]
                    for code in [c for c in responses if c.startswith("2")]:
                        responses[code].setdefault("headers", {})[REPLAYED_HEADER] = {
                            "description": "true when this is the first answer to this key given again",
                            "schema": {"type": "string", "enum": ["true"]},
                        }
                    responses["413"] = {**copy.deepcopy(responses["400"]), "description": TOO_LARGE}
                if "503" in operation["responses"]:
                    operation["responses"]["503"]["headers"] = {
                        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
                    }
        app.extensions["openbook_api_document"] = cached
    return cached
