"""Shared fixtures: one real Azurite per test session, on free loopback ports.

Markers (declared in pyproject.toml) are applied here by directory and fixture use:
``azurite`` (needs the Azurite this file starts), ``browser`` (tests/ui), ``slow`` (more than a
few seconds). The fast set, for a developer between edits:

    .venv/bin/python -m pytest -m "not azurite and not browser and not slow"

CI (scripts/test.sh) runs everything. tests/core swaps in a :class:`MemoryStore` for use-case
tests (tests/core/conftest.py); a module there that needs the real Azurite says
``pytestmark = pytest.mark.azurite``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.service.facade import Service
from core.settings import Settings
from core.storage.azure import AzureStore
from core.storage.store import Store
from devhost.azurite import start_azurite, stop_azurite

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "test-signing-key-0123456789abcdef"

# Where every test talks to a real host on Azurite (or a browser on one), or to the storage
# itself (tests/core/conftest.py gives these the Azurite store, the rest of tests/core memory).
AZURITE_DIRS = ("tests/e2e", "tests/ui", "tests/core/storage/test_artifacts.py")
BROWSER_DIRS = ("tests/ui",)
# Tests that take more than about five seconds each (crash and fault runs, fuzzing, MLflow's
# own environment, whole training runs); matched by node id prefix.
SLOW = (
    "tests/e2e/test_host_faults.py",
    "tests/e2e/test_openapi_fuzz.py",
    "tests/core/serving/test_model_export.py",
    "tests/core/pipelines/test_script_export.py",
    "tests/core/service/test_classification_runs.py",
    "tests/core/service/test_lineage.py",
    "tests/core/components/test_sandbox.py::test_kernel_layers_refuse_without_the_audit_hook",
    "tests/core/components/test_tuning.py::test_random_sweep_draws_distinct_runs_by_seed",
    "tests/core/components/test_tuning.py::test_entire_grid_picks_the_obvious_winner",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """A fresh in-memory Azurite for the session; yields its connection string."""
    handle = start_azurite()
    yield handle.connection_string
    stop_azurite(handle)


@pytest.fixture(scope="session")
def azure_settings(azurite: str) -> Settings:
    return Settings(storage_connection_string=azurite, artifact_signing_key=SIGNING_KEY)


@pytest.fixture(scope="session")
def azure_store(azure_settings: Settings) -> AzureStore:
    store = AzureStore.from_settings(azure_settings)
    store.ensure()
    return store


@pytest.fixture(scope="session")
def azure_service(azure_store: AzureStore, azure_settings: Settings) -> Service:
    return Service(azure_store, azure_settings, ROOT / "samples" / "datasets")


# The names tests ask for; tests/core/conftest.py gives them in-memory twins.
@pytest.fixture(scope="session")
def settings(azure_settings: Settings) -> Settings:
    return azure_settings


@pytest.fixture(scope="session")
def store(azure_store: AzureStore) -> Store:
    return azure_store


@pytest.fixture(scope="session")
def service(azure_service: Service) -> Service:
    return azure_service


def _under(node: pytest.Item | pytest.Collector, prefixes: tuple[str, ...]) -> bool:
    return any(node.nodeid.startswith(prefix) for prefix in prefixes)


def needs_azurite(item: pytest.Item | pytest.Collector) -> bool:
    """Whether a test (or module) uses the Azurite: marked so, in a host directory, asking for
    the fixture, or starting one of its own."""
    return (
        item.get_closest_marker("azurite") is not None
        or _under(item, AZURITE_DIRS)
        or "azurite" in getattr(item, "fixturenames", ())
        or getattr(getattr(item, "module", None), "start_azurite", None) is start_azurite
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_azurite(item) and item.get_closest_marker("azurite") is None:
            item.add_marker(pytest.mark.azurite)
        if _under(item, BROWSER_DIRS):
            item.add_marker(pytest.mark.browser)
        if _under(item, SLOW):
            item.add_marker(pytest.mark.slow)
    if hasattr(config, "workerinput"):  # the longest unit (below) first, so no worker ends alone on it
        items.sort(key=lambda item: not _under(item, BROWSER_DIRS))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With pytest-xdist (scripts/test.sh), a worker takes whole files, so module fixtures stay
    together, and all the browser files: one Chromium at a time, as dragging on two shared
    cores with two browsers loses mouse moves."""
    from xdist.scheduler import LoadScopeScheduling

    class FilesAndBrowser(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return BROWSER_DIRS[0] if _under_path(path, BROWSER_DIRS) else path

    return FilesAndBrowser(config, log)


def _under_path(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path.startswith(prefix) for prefix in prefixes)
