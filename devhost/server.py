"""One devhost: the indexed app, its durable runtime, blob poller and HTTP server.

``python -m devhost`` builds a :class:`DevHost` and serves it; tests and scripts can
do the same in-process. The uvicorn lifespan starts the blob poller and resumes the
orchestrations a previous host left running and, on shutdown, stops the poller and
the durable runtime (its activity worker processes). With ``AzureWebJobsStorage``
set, orchestration statuses and histories live in that storage account (in the task
hub's ``<hub>-durable`` container), so runs survive the host; without it, in memory.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from .activities import WorkerKind
from .app_index import AppIndex, load_app
from .blobs import BlobPoller
from .durable import LocalDurableRuntime
from .durable_api import RPC_PREFIX, DurableEndpoints
from .history_store import BlobHistoryStore, HistoryStore
from .http import DevHostApp, MiB
from .settings import read_host_config
from .timers import TimerService

log = logging.getLogger(__name__)

FUNCTION_KEY_SETTING = "DEVHOST_FUNCTION_KEY"
STORAGE_SETTING = "AzureWebJobsStorage"
# The Python worker's setting for the thread pool that runs synchronous functions.
THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"


@dataclass(frozen=True)
class DevHostConfig:
    app: str = "function_app"  # importable module[:attribute]
    host: str = "127.0.0.1"
    port: int = 7071  # 0 picks a free port
    workers: WorkerKind = "process"
    max_workers: int | None = None  # default: host.json maxConcurrentActivityFunctions, else one per CPU
    function_key: str | None = None  # default: DEVHOST_FUNCTION_KEY, else a random key
    poll_interval: float = 0.25
    max_body_bytes: int = 100 * MiB
    app_dir: Path = field(default_factory=Path.cwd)
    log_level: str = "info"


class _RuntimeService:
    """Stops the durable runtime with the server (start-up happens in DevHost)."""

    def __init__(self, runtime: LocalDurableRuntime) -> None:
        self._runtime = runtime

    async def start(self) -> None:
        self._runtime.start_recovery()

    async def stop(self) -> None:
        await asyncio.to_thread(self._runtime.shutdown)


class DevHost:
    """Builds everything from ``config`` and the app ``settings``; ``serve()`` runs it.

    Constructing it binds the listening socket (so a busy port fails fast and
    ``base_url`` is known at once), imports the app and starts the activity workers;
    call ``close()`` if ``serve()`` is never reached or was interrupted.
    """

    def __init__(self, config: DevHostConfig, settings: Mapping[str, str]) -> None:
        self._socket = _listen(config.host, config.port)
        runtime: LocalDurableRuntime | None = None
        try:
            self.index = AppIndex.from_app(load_app(config.app))
            host_config = read_host_config(config.app_dir, settings)
            self.task_hub = host_config.task_hub
            threads = settings.get(THREAD_COUNT_SETTING)
            self._function_threads = int(threads) if threads else None
            self.function_key = config.function_key or settings.get(FUNCTION_KEY_SETTING) or ""
            if not self.function_key:
                self.function_key = secrets.token_urlsafe(24)
                log.warning(
                    "%s is not set; this run's function key is %s", FUNCTION_KEY_SETTING, self.function_key
                )
            self.poller = BlobPoller(
                self.index.blob_triggers,
                settings,
                interval=config.poll_interval,
                durable_client_binding=self._background_client_binding,
            )
            self.timers = TimerService(
                self.index.timer_triggers, settings, durable_client_binding=self._background_client_binding
            )
            self.runtime = runtime = LocalDurableRuntime(
                self.index,
                app_module=config.app,
                workers=config.workers,
                max_workers=config.max_workers or host_config.max_concurrent_activities,
                history_store=_history_store(settings, self.task_hub),
            )
            self.asgi = DevHostApp(
                self.index,
                runtime=runtime,
                function_key=self.function_key,
                route_prefix=host_config.route_prefix,
                max_body_bytes=config.max_body_bytes,
                task_hub=self.task_hub,
                services=[self.poller, self.timers, _RuntimeService(runtime)],
                invoke_function=self.timers.invoke,
            )
            log.info(
                "devhost: %d functions, task hub %s, orchestration state %s",
                len(self.index.http)
                + len(self.index.orchestrators)
                + len(self.index.activities)
                + len(self.index.blob_triggers),
                self.task_hub,
                "in storage" if settings.get(STORAGE_SETTING) else "in memory",
            )
            # Idle connections stay open 130 s, as Kestrel keeps them in the Functions host:
            # the durable client's pooled connections (aiohttp keeps them 15 s) must never be
            # closed by the server as the client reuses them (a reset start_new otherwise).
            self.server = uvicorn.Server(
                uvicorn.Config(
                    self.asgi,
                    host=config.host,
                    port=config.port,
                    lifespan="on",
                    log_level=config.log_level,
                    timeout_graceful_shutdown=10,
                    timeout_keep_alive=130,
                    # a line per request costs a small request a sixth of its time: debug only
                    access_log=config.log_level.lower() in ("debug", "trace"),
                )
            )
            _without_rpc_access_lines(logging.getLogger("uvicorn.access"))
        except BaseException:
            if runtime is not None:
                runtime.shutdown()
            self._socket.close()
            raise

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the listening socket."""
        address, port = self._socket.getsockname()[:2]
        if ipaddress.ip_address(address).is_unspecified:  # bound to all interfaces
            address = "::1" if ":" in address else "127.0.0.1"
        return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"

    async def serve(self, on_ready: Callable[[str], None] = lambda url: None) -> None:
        """Serve until ``request_stop()`` or SIGINT/SIGTERM; ``on_ready(base_url)``
        is called once the lifespan start-up is done and requests are accepted."""
        if self._function_threads:  # sync functions run on the loop's default executor
            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(self._function_threads, thread_name_prefix="function")
            )
        serving = asyncio.create_task(self.server.serve(sockets=[self._socket]))
        while not self.server.started and not serving.done():
            await asyncio.sleep(0.02)
        if self.server.started:
            on_ready(self.base_url)
        await serving

    def request_stop(self) -> None:
        self.server.should_exit = True

    def close(self) -> None:
        """Stop the durable runtime and release the port if serve() did not."""
        self.runtime.shutdown()
        self._socket.close()

    def _background_client_binding(self) -> str:
        """Durable client binding for functions that are not called over HTTP."""
        base = self.base_url
        return DurableEndpoints(base, base, self.task_hub, self.asgi.rpc_token).client_binding()


class _NoRpcLines(logging.Filter):
    """Drops access-log lines of the internal durable rpc endpoint: it is the host
    talking to itself (every status poll), and its paths carry the rpc token."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (len(args) >= 3 and str(args[2]).startswith(RPC_PREFIX))


def _without_rpc_access_lines(logger: logging.Logger) -> None:
    if not any(isinstance(f, _NoRpcLines) for f in logger.filters):
        logger.addFilter(_NoRpcLines())


def _history_store(settings: Mapping[str, str], task_hub: str) -> HistoryStore | None:
    connection = settings.get(STORAGE_SETTING)
    return BlobHistoryStore(connection, task_hub) if connection else None


class ListenError(OSError):
    """The host/port cannot be bound (in use, not a local address, ...)."""


def _listen(host: str, port: int) -> socket.socket:
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, protocol)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as error:
        listener.close()
        raise ListenError(error.errno, f"cannot listen on {host}:{port}: {error.strerror}") from None
    return listener
