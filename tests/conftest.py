"""Shared fixtures: one real Azurite per test session, on free loopback ports."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.service import Service
from core.settings import Settings
from core.store import Store

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "test-signing-key-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> Iterator[str]:
    ports = [_free_port() for _ in range(3)]
    cmd = [str(ROOT / "node_modules/.bin/azurite"), "--blobHost", "127.0.0.1", "--blobPort", str(ports[0]),
           "--queueHost", "127.0.0.1", "--queuePort", str(ports[1]), "--tableHost", "127.0.0.1",
           "--tablePort", str(ports[2]), "--skipApiVersionCheck", "--silent", "--disableTelemetry",
           "--inMemoryPersistence"]
    log = tmp_path_factory.mktemp("azurite") / "azurite.log"
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while any(socket.socket().connect_ex(("127.0.0.1", p)) for p in ports):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Azurite did not start: {log.read_text()}")
        time.sleep(0.05)
    key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};"
           f"BlobEndpoint=http://127.0.0.1:{ports[0]}/devstoreaccount1;"
           f"QueueEndpoint=http://127.0.0.1:{ports[1]}/devstoreaccount1;"
           f"TableEndpoint=http://127.0.0.1:{ports[2]}/devstoreaccount1;")
    proc.terminate()
    proc.wait(10)


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
