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
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from pydantic import BaseModel, ValidationError

from core.clock import FileClock
from core.errors import DesignerError, InvalidRequest, Problem, ServiceUnavailable
from core.service.facade import Service
from core.settings import Settings
from core.storage.azure import AzureStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = ROOT / "samples" / "datasets"
M = TypeVar("M", bound=BaseModel)
log = logging.getLogger("designer")
CLOCK_FILE_SETTING = "DESIGNER_CLOCK_FILE"


@functools.cache
def service() -> Service:
    """Built on first use in each worker process (never at import time)."""
    settings = Settings.from_env(os.environ)
    store = AzureStore.from_settings(settings)
    store.ensure()
    clock_file = os.environ.get(CLOCK_FILE_SETTING)  # tests of the local host only
    return Service(store, settings, SAMPLES_DIR, clock=FileClock(clock_file) if clock_file else None)


def loaded_service() -> Service | None:
    """The service if this worker has built it already, else ``None`` (nothing is built): a
    caller on the event loop can then tell whether a call may block on building it."""
    return service() if service.cache_info().currsize else None


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, default=str), status_code=status, mimetype="application/json", headers=headers
    )


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
    return json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "problems": [p.model_dump(exclude_none=True) for p in problems],
            }
        },
        status,
    )


def validation_problems(exc: ValidationError, prefix: str = "") -> list[Problem]:
    """pydantic errors as problems; locations like ``nodes.2.id`` name the node where possible."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        out.append(Problem(code="invalid_field", field=prefix + ".".join(loc), message=err["msg"]))
    return out


MAX_JSON_DEPTH = 64


def load_json(body: bytes, empty: Any = None) -> Any:
    """JSON bytes to data, refusing what cannot be a request: invalid or nested over 64 levels.

    Deep nesting would otherwise exhaust the recursion limit in the parser or in validation.
    """
    try:
        data = json.loads(body) if body else empty
    except RecursionError:
        data = None
        depth = MAX_JSON_DEPTH + 1
    except (ValueError, UnicodeDecodeError) as exc:
        raise DesignerError(
            "The body is not valid JSON",
            [Problem(code="invalid_json", field="body", message=_json_reason(exc))],
        ) from None
    else:
        depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise DesignerError(
            "The body is nested too deeply",
            [
                Problem(
                    code="json_too_deep",
                    field="body",
                    message=f"JSON objects and arrays may be nested at most {MAX_JSON_DEPTH} levels deep",
                )
            ],
        )
    return data


def _json_reason(exc: Exception) -> str:
    """Where the JSON breaks, in the parser's words, without echoing the body."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    if isinstance(exc, UnicodeDecodeError):
        return "The body is not UTF-8 text"
    return "A number in the body has more digits than any request needs (at most 4300)"


def json_depth(data: Any) -> int:
    """How deeply objects and arrays nest (a scalar is 0), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(req: func.HttpRequest) -> dict[str, Any]:
    """The body as a JSON object (an empty body is an empty object)."""
    data = load_json(req.get_body(), {})
    if not isinstance(data, dict):
        raise DesignerError(
            "The body must be a JSON object",
            [Problem(code="invalid_json", field="body", message="Send a JSON object")],
        )
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


def row_count(req: func.HttpRequest, default: int, most: int) -> int:
    """The ``rows`` query parameter: a whole number from 1 to ``most``."""
    text = req.params.get("rows")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise InvalidRequest(
            "Bad query",
            [Problem(code="invalid_query", field="rows", message=f"rows is a whole number from 1 to {most}")],
        )
    return int(text)


def caller(req: func.HttpRequest) -> str:
    """Who called: the Entra ID principal App Service authentication vouches for, else the key.

    The header is believed only where that authentication is on: it strips forged copies.
    """
    if service().trusts_client_principal():
        principal = req.headers.get("x-ms-client-principal-name")
        if principal:
            return principal
    return "function-key"


def storage_unavailable(exc: BaseException) -> bool:
    """A storage request that could not be sent, got no answer, timed out or was told 503,
    possibly wrapped by the code that made it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ServiceRequestError, ServiceResponseError)):
            return True
        if isinstance(current, HttpResponseError) and current.status_code == 503:
            return True
        current = current.__cause__ or current.__context__
    return False


def json_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map refused requests to 4xx JSON, storage outages to 503 with Retry-After, and
    unexpected faults to a 500 that leaks no internals."""

    def to_response(exc: Exception) -> func.HttpResponse:
        if storage_unavailable(exc):
            log.warning("storage unavailable in %s: %s", fn.__name__, type(exc).__name__)
            gone = ServiceUnavailable("Storage is unavailable at the moment; try again shortly.")
            return json_response(gone.to_body(), gone.status, {"Retry-After": str(gone.retry_after)})
        if isinstance(exc, DesignerError):
            return problems_response(exc.status, type(exc).__name__, exc.message, exc.problems)
        log.exception("unhandled error in %s", fn.__name__)
        return json_response(
            {"error": {"code": "InternalError", "message": "The service failed; the error was logged."}}, 500
        )

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                return to_response(exc)

        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            return to_response(exc)

    return run
