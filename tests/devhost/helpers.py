"""Shared by the devhost tests (kept out of conftest.py so tests can import it)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from devhost.server import DevHost

APP_MODULE = "tests.devhost.sample_app"
FUNCTION_KEY = "test-function-key"

T = TypeVar("T")


def wait_until(probe: Callable[[], T], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        time.sleep(interval)


class LiveServer:
    """A DevHost served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, host: DevHost) -> None:
        self.host = host
        self.base_url = ""
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="devhost-test-server")

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(30) or not self.base_url:
            raise RuntimeError("devhost did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.host.request_stop()
        self._thread.join(30)
        self.host.close()

    def _serve(self) -> None:
        def ready(url: str) -> None:
            self.base_url = url
            self._ready.set()

        asyncio.run(self.host.serve(on_ready=ready))
        self._ready.set()  # start-up failed: do not keep the fixture waiting
