"""The blob trigger poller against a real Azurite."""

import asyncio
import logging

import pytest
from azure.storage.blob import BlobServiceClient

from devhost.azurite import start_azurite, stop_azurite
from devhost.blobs import RECEIPTS_CONTAINER, BlobPoller
from tests.devhost import sample_app


@pytest.fixture(scope="module")
def azurite():
    """An Azurite of its own: these tests empty and refill batch-input, and a local host that
    another file started in this session polls the session's one."""
    handle = start_azurite()
    yield handle.connection_string
    stop_azurite(handle)


@pytest.fixture
def storage(azurite, monkeypatch):
    monkeypatch.setenv("AzureWebJobsStorage", azurite)  # used by the function
    service = BlobServiceClient.from_connection_string(azurite)
    for name in ("batch-input", "batch-output", RECEIPTS_CONTAINER):
        if service.get_container_client(name).exists():
            service.delete_container(name)
    service.create_container("batch-input")
    sample_app.BLOB_CALLS.clear()
    yield service
    service.close()


@pytest.fixture
def new_poller(index, azurite):
    """Makes pollers (as a restarted host would) and stops them after the test."""
    pollers = []

    def make(settings=None, **options) -> BlobPoller:
        settings = {"AzureWebJobsStorage": azurite} if settings is None else settings
        pollers.append(BlobPoller(index.blob_triggers, settings, **options))
        return pollers[-1]

    yield make
    for poller in pollers:
        asyncio.run(poller.stop())


def poll(poller: BlobPoller) -> int:
    return asyncio.run(poller.poll_once())


def upload(storage, name: str, data: bytes) -> None:
    storage.get_container_client("batch-input").upload_blob(name, data, overwrite=True)


def test_fires_once_per_new_or_changed_blob_and_remembers_across_restarts(new_poller, storage):
    upload(storage, "ep1/before-start.csv", b"a,b\n1,2\n")
    upload(storage, "no-endpoint.csv", b"ignored: the path needs {endpoint}/{name}")
    poller = new_poller()

    assert poll(poller) == 1  # blobs present at start-up fire too
    name, data, uri = sample_app.BLOB_CALLS[0]
    assert (name, data) == ("batch-input/ep1/before-start.csv", b"a,b\n1,2\n")
    assert uri.endswith("/batch-input/ep1/before-start.csv")
    assert poll(poller) == 0

    upload(storage, "ep2/folder/new.csv", b"new")
    assert poll(poller) == 1
    assert sample_app.BLOB_CALLS[-1][:2] == ("batch-input/ep2/folder/new.csv", b"new")

    upload(storage, "ep1/before-start.csv", b"rewritten")  # new ETag: a new version
    assert poll(poller) == 1
    assert sample_app.BLOB_CALLS[-1][:2] == ("batch-input/ep1/before-start.csv", b"rewritten")

    assert poll(new_poller()) == 0  # receipts survive a restart
    receipts = [b.name for b in storage.get_container_client(RECEIPTS_CONTAINER).list_blobs()]
    assert len(receipts) == 3
    assert all(r.startswith("blobreceipts/devhost/on_batch_input/") for r in receipts)
    outputs = [b.name for b in storage.get_container_client("batch-output").list_blobs()]
    assert len(outputs) == 3


def test_failing_function_is_retried_then_given_up(new_poller, storage, caplog):
    upload(storage, "ep1/bad.csv", b"fail")
    poller = new_poller(max_attempts=2)
    with caplog.at_level(logging.ERROR, logger="devhost.blobs"):
        assert poll(poller) == 1
        assert poll(poller) == 1
        assert poll(poller) == 0
    assert len(sample_app.BLOB_CALLS) == 2
    assert "giving up on blob batch-input/ep1/bad.csv" in caplog.text
    (receipt,) = storage.get_container_client(RECEIPTS_CONTAINER).list_blobs(include=["metadata"])
    assert receipt.metadata == {"outcome": "failed"}


def test_missing_container_and_missing_setting(new_poller, storage, caplog):
    storage.delete_container("batch-input")
    assert poll(new_poller()) == 0
    with caplog.at_level(logging.ERROR, logger="devhost.blobs"):
        assert poll(new_poller(settings={})) == 0
    assert "app setting 'AzureWebJobsStorage' is not set" in caplog.text
