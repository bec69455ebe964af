"""The worker's memory of recent artifacts: reads it can answer need no download."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from core.components import PortType
from core.execution import executor
from core.storage.artifacts import ArtifactIntegrityError, Artifacts


def test_a_written_table_is_read_back_from_memory(service, monkeypatch):
    recent = executor._RecentArtifacts(service.artifacts)
    df = pd.DataFrame({"x": [1, 2, 3], "tag": [uuid.uuid4().hex] * 3})
    ref = recent.put(PortType.DATA, df)

    def no_download(*_args, **_kwargs):
        raise AssertionError("downloaded what was in memory")

    monkeypatch.setattr(service.store, "get_blob", no_download)
    pd.testing.assert_frame_equal(recent.get(ref, PortType.DATA), df)  # as Parquet gives it back


def test_a_model_is_trusted_from_memory_only_under_the_key_that_signed_it(service, store):
    ref = executor._RecentArtifacts(service.artifacts).put(PortType.UNTRAINED_MODEL, {"m": uuid.uuid4().hex})
    other = executor._RecentArtifacts(Artifacts(store, "a-different-signing-key"))
    with pytest.raises(ArtifactIntegrityError):
        other.get(ref, PortType.UNTRAINED_MODEL)


def test_the_least_recently_used_bytes_go_first():
    recent = executor._Recent(limit_bytes=10, largest=8)
    recent.add(("k", "a"), b"aaaa", False)
    recent.add(("k", "b"), b"bbbb", False)
    recent.get(("k", "a"))
    recent.add(("k", "c"), b"cccc", True)
    recent.add(("k", "big"), b"x" * 9, False)  # larger than any entry may be: not kept
    assert recent.get(("k", "b")) is None and recent.get(("k", "big")) is None
    assert recent.get(("k", "a")) == (b"aaaa", False)
    assert recent.get(("k", "c")) == (b"cccc", True)
