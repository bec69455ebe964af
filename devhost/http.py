"""The ASGI application: HTTP triggers, the durable HTTP API and a readiness probe.

Requests are handled the way the Functions host hands them to the Python worker:
the route table comes from the app's route templates (under ``/api`` by default),
the function's auth level decides whether a key is needed, the user function gets a
real ``azure.functions.HttpRequest`` and its ``HttpResponse`` is converted with the
worker's own ``HttpResponseConverter``. Errors come back as JSON
``{"error": {"code", "message"}}`` and never stop the server.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

import azure.functions as func
from azure.functions.http import HttpResponseConverter

from .app_index import ANONYMOUS, AppIndex, HttpFunction
from .durable import LocalDurableRuntime
from .durable_api import RPC_PREFIX, WEBHOOK_PREFIX, DurableEndpoints, handle_durable_request
from .invoke import call_async, with_context
from .routes import Router

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MiB = 1024 * 1024
HOST_STATUS_PATH = "/admin/host/status"
ADMIN_FUNCTIONS_PREFIX = "/admin/functions/"  # run a non-HTTP function now (the host's admin API)
KEY_HEADER = "x-functions-key"
KEY_QUERY = "code"


class Service(Protocol):
    """Something that runs beside the server (the blob poller, the durable runtime)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, value: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
        body = b"" if value is None else json.dumps(value).encode()
        content_type = [("content-type", "application/json; charset=utf-8")] if body else []
        return cls(status, body, content_type + list(headers))

    @classmethod
    def error(cls, status: int, code: str, message: str, **details: Any) -> Response:
        return cls.json(status, {"error": {"code": code, "message": message, **details}})

    async def send(self, send: Send) -> None:
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in self.headers
            if k.lower() != "content-length"
        ]
        headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class _BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Request:
    """The parts of an ASGI request that the handlers need."""

    method: str
    path: str
    query_string: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names, repeated headers joined with ", "
    body: bytes
    origin: str  # scheme://host[:port] as the caller addressed us
    client_host: str | None
    server: tuple[str, int] | None

    @classmethod
    async def read(cls, scope: Scope, receive: Receive, max_body_bytes: int) -> Request:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if int(headers.get("content-length") or 0) > max_body_bytes:
            raise _BodyTooLarge()
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_body_bytes:
                raise _BodyTooLarge()
            chunks.append(chunk)
            more = message.get("more_body", False)
        query_string = scope.get("query_string", b"").decode("latin-1")
        query: dict[str, str] = {}
        for name, value in parse_qsl(query_string, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        server = scope.get("server")
        host = headers.get("host") or (f"{server[0]}:{server[1]}" if server else "localhost")
        client = scope.get("client")
        return cls(
            scope["method"].upper(),
            scope["path"],
            query_string,
            query,
            headers,
            b"".join(chunks),
            f"{scope.get('scheme', 'http')}://{host}",
            client[0] if client else None,
            tuple(server) if server else None,
        )

    @property
    def url(self) -> str:
        return self.origin + self.path + (f"?{self.query_string}" if self.query_string else "")


class DevHostApp:
    """ASGI app serving one indexed Functions app.

    ``function_key`` protects FUNCTION- and ADMIN-level functions and the public
    durable webhooks (devhost has one key where Azure has function, host, master
    and system keys). ``services`` are started and stopped with the server.
    """

    def __init__(
        self,
        index: AppIndex,
        *,
        runtime: LocalDurableRuntime,
        function_key: str,
        route_prefix: str = "api",
        max_body_bytes: int = 100 * MiB,
        task_hub: str = "DevHostHub",
        services: Sequence[Service] = (),
        rpc_token: str | None = None,
        invoke_function: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        if not function_key:
            raise ValueError("a function key is required")
        # The rpc endpoint's key: known to this process only, it reaches the SDK's client
        # in the binding's rpcBaseUrl and is never part of an answer.
        self.rpc_token = rpc_token or secrets.token_urlsafe(24)
        self._rpc_token = self.rpc_token
        self._router: Router[HttpFunction] = Router((f.route, f) for f in index.http)
        self._function_key = function_key
        self._runtime = runtime
        self._prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""
        self._max_body_bytes = max_body_bytes
        self._task_hub = task_hub
        self._services = list(services)
        self._invoke_function = invoke_function

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            try:
                request = await Request.read(scope, receive, self._max_body_bytes)
            except _BodyTooLarge:
                response = Response.error(
                    413, "PayloadTooLarge", f"The request body exceeds {self._max_body_bytes} bytes."
                )
            else:
                response = await self._dispatch(request)
            await response.send(send)
        # websocket connections are not accepted: returning closes them

    # -- routing ------------------------------------------------------------------------
    async def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path == HOST_STATUS_PATH:
            return Response.json(200, {"state": "Running"})
        if path.startswith(ADMIN_FUNCTIONS_PREFIX) and request.method == "POST":
            return await self._admin_invoke(request, path[len(ADMIN_FUNCTIONS_PREFIX) :])
        if path.startswith(RPC_PREFIX):
            if not self._is_local(request):
                return Response.error(403, "Forbidden", "The durable rpc endpoint is local only.")
            rest = path[len(RPC_PREFIX) :]
            token, _, after_token = rest.partition("/")
            if hmac.compare_digest(token.encode(), self._rpc_token.encode()):
                return self._durable(request, after_token)
            if not self._has_key(request):
                return _unauthorized()
            return self._durable(request, rest)
        if path.startswith(WEBHOOK_PREFIX):
            if not self._has_key(request):
                return _unauthorized()
            return self._durable(request, path[len(WEBHOOK_PREFIX) :])
        if self._prefix and not (path == self._prefix or path.startswith(self._prefix + "/")):
            return _not_found(request)
        return await self._function(request, path[len(self._prefix) :])

    async def _function(self, request: Request, route_path: str) -> Response:
        matches = self._router.match(route_path)
        if not matches:
            return _not_found(request)
        allowed = [(f, values) for f, values in matches if f.methods is None or request.method in f.methods]
        if not allowed:
            methods = sorted({m for f, _ in matches for m in f.methods or ()})
            response = Response.error(
                405,
                "MethodNotAllowed",
                f"{request.method} is not allowed for {request.path}.",
                allowed=methods,
            )
            response.headers.append(("allow", ", ".join(methods)))
            return response
        function, route_values = allowed[0]
        if function.auth_level != ANONYMOUS and not self._has_key(request):
            return _unauthorized()
        return await self._invoke(function, request, route_values)

    async def _invoke(
        self, function: HttpFunction, request: Request, route_values: dict[str, str]
    ) -> Response:
        http_request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=request.headers,
            params=request.query,
            route_params=route_values,
            body=request.body,
        )
        kwargs: dict[str, Any] = {function.trigger_arg: http_request}
        if function.durable_client_arg:
            kwargs[function.durable_client_arg] = self.durable_endpoints(request).client_binding()
        kwargs = with_context(function.func, function.name, kwargs, request.headers)
        try:
            result = await call_async(function.func, kwargs)
            return _to_response(result)
        except Exception as error:
            log.exception("Executed 'Functions.%s' (Failed)", function.name)
            return Response.error(
                500,
                "FunctionError",
                f"Exception while executing function: Functions.{function.name}",
                type=type(error).__name__,
                detail=str(error),
            )

    async def _admin_invoke(self, request: Request, name: str) -> Response:
        """The host's ``POST /admin/functions/{name}``; answers 202 once the call has finished."""
        if not self._has_key(request):
            return _unauthorized()
        try:
            found = self._invoke_function is not None and await self._invoke_function(name)
        except Exception as error:
            log.exception("Executed 'Functions.%s' (Failed)", name)
            return Response.error(
                500,
                "FunctionError",
                f"Exception while executing function: Functions.{name}",
                type=type(error).__name__,
                detail=str(error),
            )
        if not found:
            return Response.error(404, "NotFound", f"No timer function {name!r}.")
        return Response(202)

    def _durable(self, request: Request, path: str) -> Response:
        answer = handle_durable_request(
            self._runtime, self.durable_endpoints(request), request.method, path, request.query, request.body
        )
        return Response.json(answer.status, answer.body, list(answer.headers.items()))

    def durable_endpoints(self, request: Request) -> DurableEndpoints:
        """Durable URLs for this request: public ones in the caller's terms, rpc on
        the very socket the request arrived on (always reachable from here)."""
        rpc_origin = request.origin
        if request.server:
            address, port = request.server
            rpc_origin = f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"
        return DurableEndpoints(request.origin, rpc_origin, self._task_hub, self._rpc_token)

    # -- auth ---------------------------------------------------------------------------
    def _has_key(self, request: Request) -> bool:
        provided = request.headers.get(KEY_HEADER) or request.query.get(KEY_QUERY) or ""
        return hmac.compare_digest(provided.encode(), self._function_key.encode())

    @staticmethod
    def _is_local(request: Request) -> bool:
        """Like the extension's localhost-only rpc listener: same-machine callers only."""
        if request.client_host is None:
            return False
        if request.server and request.client_host == request.server[0]:
            return True
        try:
            return ipaddress.ip_address(request.client_host).is_loopback
        except ValueError:
            return False

    # -- lifespan -----------------------------------------------------------------------
    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for service in self._services:
                        await service.start()
                except Exception as error:
                    log.exception("devhost start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for service in reversed(self._services):
                    await service.stop()
                await _close_durable_client_session()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _to_response(result: Any) -> Response:
    """What the worker's HttpResponseConverter makes of a function's return value
    (anything but an HttpResponse or a str, None included, is an error)."""
    try:
        datum = HttpResponseConverter.encode(result, expected_type=None)
    except NotImplementedError:
        raise TypeError(
            f"an HTTP function must return func.HttpResponse or str, not {type(result).__name__}"
        ) from None
    if datum.type == "string":
        return Response(200, datum.value.encode(), [("content-type", "text/plain; charset=utf-8")])
    value = datum.value
    headers = [(name, header.value) for name, header in value["headers"].items()]
    for cookie in value["cookies"] or ():
        headers += [("set-cookie", morsel.OutputString()) for morsel in cookie.values()]
    return Response(int(value["status_code"].value), value["body"].value or b"", headers)


def _not_found(request: Request) -> Response:
    return Response.error(404, "NotFound", f"No function serves {request.method} {request.path}.")


def _unauthorized() -> Response:
    return Response.error(
        401,
        "Unauthorized",
        f"A valid function key is required in the '{KEY_HEADER}' header "
        f"or the '{KEY_QUERY}' query parameter.",
    )


async def _close_durable_client_session() -> None:
    """The SDK's DurableOrchestrationClient shares one aiohttp session per process,
    bound to the event loop that first used it; close it with the loop that served it
    so a later server in the same process (tests) does not inherit a dead session."""
    from azure.durable_functions.models.utils import http_utils

    await http_utils._close_session()
