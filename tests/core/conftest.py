"""Use cases run on a :class:`MemoryStore`: the same promises as Azure storage, no Azurite.

One store (and one service) for the whole session, as with the shared Azurite, so tests that
find each other's records behave alike. A module that exercises the storage itself, or relies
on something only the real service does, declares ``pytestmark = pytest.mark.azurite`` and gets
the Azurite-backed fixtures of tests/conftest.py instead.
"""

from __future__ import annotations

import pytest

from core.service.facade import Service
from core.settings import Settings
from core.storage.memory import MemoryStore
from core.storage.store import Store
from tests.conftest import ROOT, SIGNING_KEY, needs_azurite


@pytest.fixture(scope="session")
def memory_store() -> MemoryStore:
    store = MemoryStore()
    store.ensure()
    return store


@pytest.fixture(scope="session")
def memory_settings() -> Settings:
    return Settings(artifact_signing_key=SIGNING_KEY)


@pytest.fixture(scope="session")
def memory_service(memory_store: MemoryStore, memory_settings: Settings) -> Service:
    return Service(memory_store, memory_settings, ROOT / "samples" / "datasets")


def _pick(request: pytest.FixtureRequest, name: str) -> object:
    """The Azurite fixture ``name`` for a module that needs it, else its in-memory twin."""
    return request.getfixturevalue(f"azure_{name}" if needs_azurite(request.node) else f"memory_{name}")


@pytest.fixture(scope="module")
def settings(request: pytest.FixtureRequest) -> Settings:
    return _pick(request, "settings")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def store(request: pytest.FixtureRequest) -> Store:
    return _pick(request, "store")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest) -> Service:
    return _pick(request, "service")  # type: ignore[return-value]
