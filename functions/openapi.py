"""The management API described: each route declares its models, the document is built from them.

``@api(...)``, next to ``@bp.route``, records what a route takes and answers: the pydantic
model its body is parsed with, the model of its answer, its query model and its error
statuses. ``GET /api/openapi.json`` joins those declarations with the routes and methods the
blueprints registered, so the document cannot drift from what the app parses: the request
schemas are the parsing models' own ``model_json_schema``. The decorator also checks every
path parameter against the one name check (:mod:`core.names`) before the function runs, so a
malformed name never reaches storage and the document's patterns are the ones enforced.

The document needs the function key like every other route: it describes nothing secret,
but the rule "every route but health and the UI's files needs a key" has no exceptions.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import azure.functions as func
from pydantic import BaseModel

from core import names
from core.errors import DesignerError, InvalidRequest, Problem
from functions.common import json_errors, json_response, problems_response

Body = type[BaseModel] | str | None  # a model, or a media type such as "text/csv"

# Path parameters by name; ``{name}`` depends on the route and is declared per route.
PATH_KINDS = {
    "draft_id": "draft",
    "run_id": "run",
    "node_id": "node",
    "experiment": "experiment",
    "port": "port",
}
ERROR_TEXT = {
    400: "The request is invalid; every problem is listed",
    401: "Missing or wrong key",
    404: "Not found",
    409: "Conflicts with the current state",
    412: "If-Match is not the current ETag",
    503: "Storage is unreachable for a moment; retry after Retry-After seconds",
}


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers."""

    summary: str
    body: Body = None
    response: Any = None  # a model, a media type, {media type: model or None}, or None (no body)
    status: int = 200
    errors: tuple[int, ...] = (400,)
    query: type[BaseModel] | None = None
    name_kind: str | None = None
    security: str = "function_key"  # "function_key" | "endpoint_key" | "anonymous"
    headers: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())


REGISTRY: dict[str, Operation] = {}


def api(summary: str, **declared: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route's contract, and check its path parameters before it runs."""
    operation = Operation(summary=summary, **declared)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[fn.__name__] = operation

        def refused(req: func.HttpRequest) -> func.HttpResponse | None:
            try:
                check_path(req.route_params, operation)
            except DesignerError as exc:
                return problems_response(exc.status, type(exc).__name__, exc.message, exc.problems)
            return None

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(req: func.HttpRequest, *args: Any, **kwargs: Any) -> Any:
                return refused(req) or await fn(req, *args, **kwargs)

            return run_async

        @functools.wraps(fn)
        def run(req: func.HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return refused(req) or fn(req, *args, **kwargs)

        return run

    return decorate


def path_kind(param: str, operation: Operation) -> str | None:
    if param == "name":
        return operation.name_kind
    return PATH_KINDS.get(param)


def check_path(params: dict[str, str], operation: Operation) -> None:
    """Every path parameter a well-formed name; all problems at once."""
    problems: list[Problem] = []
    for param, value in params.items():
        kind = path_kind(param, operation)
        if kind is None:
            continue
        try:
            names.check(kind, value, param)
        except InvalidRequest as exc:
            problems += exc.problems
    if problems:
        raise InvalidRequest("The path names no valid resource", problems)


def parse_query(req: func.HttpRequest, model: type[BaseModel]) -> Any:
    """The query string as ``model`` (so the document's query schema is the parsing one)."""
    from functions.common import build

    return build(model, dict(req.params))


# ---- the document ------------------------------------------------------------------------------
def http_modules() -> list[ModuleType]:
    """Every blueprint module of ``functions``, found in the package so a new one cannot be left out."""
    import functions

    found = sorted(info.name for info in pkgutil.iter_modules(functions.__path__) if info.name != "openapi")
    modules = [importlib.import_module(f"functions.{name}") for name in found]
    return [m for m in modules if hasattr(m, "bp")]  # every blueprint: HTTP routes may sit beside timers


def routes() -> list[tuple[str, str, str, str]]:
    """(route, method, function name, auth level) of every HTTP function the blueprints register."""
    found = []
    for module in (*http_modules(), sys.modules[__name__]):
        for builder in module.bp._function_builders:  # the registered functions, as the host indexes them
            function = builder._function
            trigger = function.get_trigger()
            if trigger is None or trigger.get_binding_name() != "httpTrigger":
                continue
            auth = str(getattr(trigger.auth_level, "value", trigger.auth_level) or "function").lower()
            for method in trigger.methods or []:
                found.append(
                    (
                        trigger.route,
                        str(getattr(method, "value", method)).upper(),
                        function.get_function_name(),
                        auth,
                    )
                )
    return found


def document(base_url: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route, from the routes and their declared models."""
    defs: dict[str, Any] = {}
    _ref(ErrorBody, defs, "validation")
    paths: dict[str, dict[str, Any]] = {}
    for route, method, name, auth in sorted(routes()):
        operation = REGISTRY.get(name) or Operation(summary=name)
        path, parameters = _path(route, operation)
        entry: dict[str, Any] = {
            "operationId": name,
            "summary": operation.summary,
            "parameters": parameters,
            "responses": _responses(operation, defs),
        }
        if operation.tags:
            entry["tags"] = list(operation.tags)
        entry["parameters"] += _query(operation, defs) + _headers(operation)
        if operation.body is not None:
            entry["requestBody"] = _request(operation.body, defs)
        security = (
            "anonymous"
            if auth == "anonymous" and operation.security == "function_key"
            else operation.security
        )
        entry["security"] = {
            "function_key": [{"FunctionKey": []}, {"FunctionKeyQuery": []}],
            "endpoint_key": [{"EndpointKey": []}, {"Bearer": []}],
            "anonymous": [],
        }[security]
        paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ML pipeline designer",
            "version": "1",
            "description": "Datasets, components, pipeline drafts, runs, assets, pipeline endpoints "
            "and real-time endpoints. Errors are ErrorBody: every problem found.",
        },
        "servers": [{"url": f"{base_url}/api"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "FunctionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "FunctionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
                "EndpointKey": {"type": "apiKey", "in": "header", "name": "api-key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _path(route: str, operation: Operation) -> tuple[str, list[dict[str, Any]]]:
    parameters = []

    def param(match: re.Match[str]) -> str:
        name, constraint = match.group(1), match.group(2)
        kind = path_kind(name, operation)
        if constraint == "int":
            schema: dict[str, Any] = {"type": "integer", "minimum": 1}
        elif kind:
            schema = {"type": "string", "pattern": names.RULES[kind][0]}
        else:
            schema = {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return "/" + re.sub(r"\{\*?(\w+)(?::(\w+))?\}", param, route), parameters  # {*path}: a catch-all


def _schema(model: type[BaseModel], defs: dict[str, Any], mode: str = "validation") -> dict[str, Any]:
    """``model``'s JSON schema with its definitions moved to the document's components."""
    schema = model.model_json_schema(mode=mode, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    defs.update(schema.pop("$defs", {}))
    return schema


def _ref(model: type[BaseModel], defs: dict[str, Any], mode: str) -> dict[str, Any]:
    key = model.__name__ if mode == "validation" else f"{model.__name__}Answer"
    if key not in defs:
        defs[key] = {}  # reserve: a model that refers to itself
        defs[key] = _schema(model, defs, mode)
    return {"$ref": f"#/components/schemas/{key}"}


def _request(body: type[BaseModel] | str, defs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, str):
        return {"required": True, "content": {body: {"schema": {"type": "string"}}}}
    required = bool(body.model_json_schema().get("required"))  # else an empty body is {}
    return {"required": required, "content": {"application/json": {"schema": _ref(body, defs, "validation")}}}


def _responses(operation: Operation, defs: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": operation.summary}
    if isinstance(operation.response, dict):  # one answer in several media types (?format=)
        answer["content"] = {
            media: _content(media, model, defs) for media, model in operation.response.items()
        }
    elif isinstance(operation.response, str):
        answer["content"] = {operation.response: _content(operation.response, None, defs)}
    elif operation.response is not None:
        answer["content"] = {"application/json": _content("application/json", operation.response, defs)}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    responses = {str(operation.status): answer}
    for status in sorted({*operation.errors, 400, 503}):
        responses[str(status)] = {"description": ERROR_TEXT.get(status, "Refused"), "content": error}
    return responses


def _content(media: str, model: type[BaseModel] | None, defs: dict[str, Any]) -> dict[str, Any]:
    if model is not None:
        return {"schema": _ref(model, defs, "serialization")}
    return {"schema": {"type": "object"} if media == "application/json" else {"type": "string"}}


def _query(operation: Operation, defs: dict[str, Any]) -> list[dict[str, Any]]:
    if operation.query is None:
        return []
    schema = _schema(operation.query, defs)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _headers(operation: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "The ETag of the version this change was decided on",
        }
        for name in operation.headers
    ]


# ---- the route -------------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str
    message: str
    problems: list[Problem] = []


class ErrorBody(BaseModel):
    """Every refusal: the error's code and message, and each problem found, located."""

    error: ErrorDetail


bp = func.Blueprint()


@bp.route(route="openapi.json", methods=["GET"])
@api("This document: the management API in OpenAPI 3.1", response="application/json", errors=())
@json_errors
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(document(req.url.split("/api/", 1)[0]))
