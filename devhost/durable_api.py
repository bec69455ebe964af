"""The Durable Functions HTTP API that clients and the SDK's client object talk to.

Two copies of the same API exist, as in the real host: the public webhooks under
``/runtime/webhooks/durabletask/`` (what ``create_check_status_response`` links to)
and the internal "rpc" endpoint that the SDK's ``DurableOrchestrationClient`` calls
from inside functions (``rpcBaseUrl`` in the durable client binding; served to
loopback callers only). Both need a key: the webhooks the function key (header or
``code=``), the rpc endpoint the function key or the host's rpc token, a secret path
segment of ``rpcBaseUrl`` (the SDK client sends nothing but the URL it is given).
No URL in an answer carries a key: callers add their own. Both map onto
:class:`LocalDurableRuntime`. Implemented: start, status, list (filtered by
``runtimeStatus`` and ``instanceIdPrefix``), terminate and purge (of ended instances).
Anything else answers 501.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from azure.core.exceptions import AzureError

from .durable import (
    ACTIVE_STATUSES,
    FAILED,
    InstanceExistsError,
    LocalDurableRuntime,
    UnknownOrchestratorError,
)

WEBHOOK_PREFIX = "/runtime/webhooks/durabletask/"
RPC_PREFIX = "/durabletask/"
# How long a client should wait before asking again while storage is away.
RETRY_AFTER_SECONDS = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any = None  # JSON-serialisable; None means an empty body
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DurableEndpoints:
    """Where this host serves the durable API, as seen by one request."""

    public_origin: str  # scheme://host:port the caller used
    rpc_origin: str  # http://address:port of the socket, reachable from this process
    task_hub: str
    rpc_token: str = ""  # secret path segment of rpcBaseUrl (the rpc endpoint's key)

    @property
    def base_url(self) -> str:
        return self.public_origin + WEBHOOK_PREFIX.rstrip("/")

    def client_binding(self) -> str:
        """The JSON the worker passes for a ``durableClient`` binding.

        The public URLs carry no key (``create_check_status_response`` copies them
        into answers); only ``rpcBaseUrl``, which the SDK keeps to itself, carries the
        rpc token."""
        query = self._query()
        instance = f"{self.base_url}/instances/INSTANCEID"
        rpc_path = RPC_PREFIX + (f"{quote(self.rpc_token, safe='')}/" if self.rpc_token else "")
        orchestrators = f"{self.base_url}/orchestrators/{{functionName}}[/{{instanceId}}]"
        return json.dumps(
            {
                "taskHubName": self.task_hub,
                "creationUrls": {
                    "createNewInstancePostUri": orchestrators,
                    "createAndWaitOnNewInstancePostUri": orchestrators
                    + "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}",
                },
                "managementUrls": {
                    "id": "INSTANCEID",
                    "statusQueryGetUri": f"{instance}?{query}",
                    "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
                    "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
                    "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
                    "purgeHistoryDeleteUri": f"{instance}?{query}",
                    "restartPostUri": f"{instance}/restart?{query}",
                    "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
                    "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
                },
                "baseUrl": self.base_url,
                "requiredQueryStringParameters": "",
                "rpcBaseUrl": self.rpc_origin + rpc_path,
            }
        )

    def management_payload(self, instance_id: str) -> dict[str, str]:
        urls = json.loads(self.client_binding())["managementUrls"]
        return {name: url.replace("INSTANCEID", quote(instance_id, safe="")) for name, url in urls.items()}

    def _query(self) -> str:
        return f"taskHub={quote(self.task_hub)}&connection=Storage"


def handle_durable_request(
    runtime: LocalDurableRuntime,
    endpoints: DurableEndpoints,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: bytes,
) -> ApiResponse:
    """Serve ``path`` (relative to the webhook or rpc prefix; the caller is authorised).

    Storage that does not answer gives 503 with Retry-After, as the real host's
    storage provider errors do, rather than a 500 or a hang."""
    try:
        return _route(runtime, endpoints, method, path, query, body)
    except AzureError as error:
        log.warning("durable API %s %s: storage unavailable (%s)", method, path, type(error).__name__)
        return ApiResponse(
            503,
            _error("The task hub's storage is unavailable; try again shortly."),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def _route(
    runtime: LocalDurableRuntime,
    endpoints: DurableEndpoints,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: bytes,
) -> ApiResponse:
    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    if method == "POST" and len(parts) in (2, 3) and parts[0] == "orchestrators":
        return _start(runtime, endpoints, parts[1], parts[2] if len(parts) == 3 else None, body)
    if method == "GET" and parts == ["instances"] and not {"createdTimeFrom", "createdTimeTo"} & set(query):
        return _list(runtime, query)
    if method == "GET" and len(parts) == 2 and parts[0] == "instances":
        return _status(runtime, parts[1], query)
    if method == "POST" and len(parts) == 3 and parts[0] == "instances" and parts[2] == "terminate":
        return _terminate(runtime, parts[1], query.get("reason", ""))
    if method == "DELETE" and len(parts) == 2 and parts[0] == "instances":
        return _purge(runtime, parts[1])
    return ApiResponse(
        501,
        _error(
            f"devhost does not implement {method} {path} of the durable "
            "HTTP API (only start, status, list, terminate and purge)"
        ),
    )


def _start(
    runtime: LocalDurableRuntime,
    endpoints: DurableEndpoints,
    name: str,
    instance_id: str | None,
    body: bytes,
) -> ApiResponse:
    try:
        instance_id = runtime.start_new(name, _input_json(body), instance_id)
    except UnknownOrchestratorError as error:
        return ApiResponse(400, _error(str(error)))  # the SDK client reads ExceptionMessage
    except InstanceExistsError as error:
        return ApiResponse(409, _error(str(error)))
    except ValueError as error:
        return ApiResponse(400, _error(f"The request body is not valid JSON: {error}"))
    payload = endpoints.management_payload(instance_id)
    return ApiResponse(202, payload, {"Location": payload["statusQueryGetUri"]})


def _status(runtime: LocalDurableRuntime, instance_id: str, query: Mapping[str, str]) -> ApiResponse:
    status = runtime.get_status(instance_id, show_history=_flag(query, "showHistory"))
    if status is None:
        return ApiResponse(404)
    if status["runtimeStatus"] in ACTIVE_STATUSES:
        return ApiResponse(202, status)
    if status["runtimeStatus"] == FAILED and _flag(query, "returnInternalServerErrorOnFailure"):
        return ApiResponse(500, status)
    return ApiResponse(200, status)


def _list(runtime: LocalDurableRuntime, query: Mapping[str, str]) -> ApiResponse:
    wanted = {s for s in query.get("runtimeStatus", "").split(",") if s}
    prefix = query.get("instanceIdPrefix", "")
    return ApiResponse(
        200,
        [
            s
            for s in runtime.list_statuses()
            if (not wanted or s["runtimeStatus"] in wanted) and s["instanceId"].startswith(prefix)
        ],
    )


def _terminate(runtime: LocalDurableRuntime, instance_id: str, reason: str) -> ApiResponse:
    try:
        accepted = runtime.terminate(instance_id, reason)
    except KeyError:
        return ApiResponse(404)
    return ApiResponse(202 if accepted else 410)


def _purge(runtime: LocalDurableRuntime, instance_id: str) -> ApiResponse:
    try:
        purged = runtime.purge(instance_id)
    except InstanceExistsError as error:
        return ApiResponse(409, _error(str(error)))
    return ApiResponse(200, {"instancesDeleted": 1}) if purged else ApiResponse(404)


def _input_json(body: bytes) -> str | None:
    """The orchestration input as JSON text.

    The SDK client serialises the input to JSON text and then posts that text as a
    JSON string (aiohttp ``json=``), so a JSON string body holding valid JSON is
    that text. Any other JSON body (curl, Postman) is the input itself.
    """
    if not body.strip():
        return None
    value = json.loads(body)
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except ValueError:
            pass
    return json.dumps(value)


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() == "true"


def _error(message: str) -> dict[str, str]:
    """The ASP.NET error shape the Durable extension answers with."""
    return {"Message": "An error has occurred.", "ExceptionMessage": message}
