"""Fixtures for the devhost tests: Azurite, the sample app, runtimes and a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.app_index import AppIndex
from devhost.durable import LocalDurableRuntime
from devhost.server import DevHost, DevHostConfig
from tests.devhost import sample_app
from tests.devhost.helpers import APP_MODULE, FUNCTION_KEY, LiveServer


@pytest.fixture
def index() -> AppIndex:
    return AppIndex.from_app(sample_app.app)


@pytest.fixture
def thread_runtime(index: AppIndex) -> Iterator[LocalDurableRuntime]:
    runtime = LocalDurableRuntime(index, workers="thread", max_workers=4)
    yield runtime
    runtime.shutdown()


@pytest.fixture(scope="module")
def process_runtime() -> Iterator[LocalDurableRuntime]:
    runtime = LocalDurableRuntime(
        AppIndex.from_app(sample_app.app), app_module=APP_MODULE, workers="process", max_workers=2
    )
    yield runtime
    runtime.shutdown()


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    config = DevHostConfig(
        app=APP_MODULE,
        port=0,
        workers="thread",
        max_workers=4,
        function_key=FUNCTION_KEY,
        max_body_bytes=1024 * 1024,
        app_dir=Path(__file__).parent,
        log_level="warning",
    )
    with LiveServer(DevHost(config, settings={})) as server:
        yield server
