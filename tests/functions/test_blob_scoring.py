"""The blob trigger's duplicate check, with a mocked durable client and a real Azurite."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from unittest.mock import AsyncMock

import pytest
from azure.functions.blob import InputStream

from functions import blob_scoring


@pytest.fixture
def trigger(service, monkeypatch):
    monkeypatch.setattr(blob_scoring, "service", lambda: service)
    return blob_scoring.on_batch_input.build().get_user_function().client_function


def upload(store) -> str:
    path = f"ep-{uuid.uuid4().hex[:6]}/f.csv"
    store.put_blob("batch-input", path, b"a\n1\n")
    return f"batch-input/{path}"


def test_a_new_upload_starts_one_run_named_after_blob_and_etag(trigger, store):
    name = upload(store)
    client = SimpleNamespace(
        get_status=AsyncMock(return_value=SimpleNamespace(runtime_status=None)),
        start_new=AsyncMock(return_value="id"),
    )
    asyncio.run(trigger(blob=InputStream(name=name, data=b"", length=0), client=client))
    client.start_new.assert_awaited_once()
    (orchestrator,) = client.start_new.await_args.args
    kwargs = client.start_new.await_args.kwargs
    assert orchestrator == "score_file" and kwargs["instance_id"].startswith("batch-")
    assert kwargs["client_input"]["blob"] == name


def test_a_second_delivery_starts_nothing(trigger, store):
    name = upload(store)
    client = SimpleNamespace(
        get_status=AsyncMock(return_value=SimpleNamespace(runtime_status="Completed")), start_new=AsyncMock()
    )
    asyncio.run(trigger(blob=InputStream(name=name, data=b"", length=0), client=client))
    client.start_new.assert_not_awaited()


def test_blobs_outside_an_endpoint_folder_are_ignored(trigger, store):
    store.put_blob("batch-input", "loose.csv", b"a\n1\n")
    client = SimpleNamespace(get_status=AsyncMock(), start_new=AsyncMock())
    asyncio.run(trigger(blob=InputStream(name="batch-input/loose.csv", data=b"", length=0), client=client))
    client.start_new.assert_not_awaited()
