"""What every HTTP function shares: the service, JSON in and out, and error mapping."""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from core.errors import DesignerError, Problem
from core.service import Service
from core.settings import Settings
from core.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = ROOT / "samples" / "datasets"
M = TypeVar("M", bound=BaseModel)
log = logging.getLogger("designer")


@functools.cache
def service() -> Service:
    """Built on first use in each worker process (never at import time)."""
    settings = Settings.from_env(os.environ)
    store = Store.from_settings(settings)
    store.ensure()
    return Service(store, settings, SAMPLES_DIR)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(data, default=str), status_code=status,
                             mimetype="application/json", headers=headers)


def cacheable_json(req: func.HttpRequest, data: Any) -> func.HttpResponse:
    """JSON with an ETag of its content; 304 when the client's ``If-None-Match`` still holds.

    Pollers (the canvas watching a run) then move a few bytes while nothing changes.
    """
    body = json.dumps(data, default=str)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in (t.strip() for t in req.headers.get("if-none-match", "").split(",")):
        return func.HttpResponse(status_code=304, headers=headers)
    return func.HttpResponse(body, status_code=200, mimetype="application/json", headers=headers)


def problems_response(status: int, code: str, message: str, problems: list[Problem]) -> func.HttpResponse:
    return json_response({"error": {"code": code, "message": message,
                                    "problems": [p.model_dump(exclude_none=True) for p in problems]}},
                         status)


def validation_problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """pydantic errors as problems; locations like ``nodes.2.id`` name the node where possible."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        out.append(Problem(code="invalid_field", field=prefix + ".".join(loc), message=err["msg"]))
    return out


def parse_json(req: func.HttpRequest) -> dict[str, Any]:
    """The body as a JSON object (an empty body is an empty object)."""
    try:
        data = json.loads(req.get_body() or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DesignerError("The body is not valid JSON", [Problem(code="invalid_json", field="body",
                                                                   message=str(exc))]) from exc
    if not isinstance(data, dict):
        raise DesignerError("The body must be a JSON object", [Problem(code="invalid_json", field="body",
                                                                       message="Send a JSON object")])
    return data


def parse_body(req: func.HttpRequest, model: type[M]) -> M:
    """The JSON body as ``model``; a :class:`DesignerError` naming every bad field otherwise."""
    return build(model, parse_json(req))


def build(model: type[M], data: Any) -> M:
    """``model`` from request data; a :class:`DesignerError` naming every bad field otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DesignerError(f"The request is not a valid {model.__name__}", validation_problems(exc)) from exc


def caller(req: func.HttpRequest) -> str:
    """Who called: the Entra ID principal App Service authentication vouches for, else the key.

    The header is believed only where that authentication is on: it strips forged copies.
    """
    if service().settings.trust_client_principal:
        principal = req.headers.get("x-ms-client-principal-name")
        if principal:
            return principal
    return "function-key"


def json_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map refused requests to 4xx JSON and unexpected faults to a 500 that leaks no internals."""

    def to_response(exc: Exception) -> func.HttpResponse:
        if isinstance(exc, DesignerError):
            return problems_response(exc.status, type(exc).__name__, exc.message, exc.problems)
        log.exception("unhandled error in %s", fn.__name__)
        return json_response({"error": {"code": "InternalError",
                                        "message": "The service failed; the error was logged."}}, 500)

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - this is the error boundary
                return to_response(exc)
        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the error boundary
            return to_response(exc)
    return run
