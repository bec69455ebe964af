"""Shared fixtures: one real Azurite per test session, on free loopback ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.service.facade import Service
from core.settings import Settings
from core.storage.store import Store
from devhost.azurite import start_azurite, stop_azurite

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "test-signing-key-0123456789abcdef"


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
def settings(azurite: str) -> Settings:
    return Settings(storage_connection_string=azurite, artifact_signing_key=SIGNING_KEY)


@pytest.fixture(scope="session")
def store(settings: Settings) -> Store:
    store = Store.from_settings(settings)
    store.ensure()
    return store


@pytest.fixture(scope="session")
def service(store: Store, settings: Settings) -> Service:
    return Service(store, settings, ROOT / "samples" / "datasets")
