"""An artifact reader's memory of recent artifacts: reads it can answer need no download."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from core.components import PortType
from core.storage.artifacts import ArtifactIntegrityError, Artifacts, RecentBytes


def remembering(store, key: str = "test-signing-key") -> Artifacts:
    return Artifacts(store, key).remembering(RecentBytes())


def test_a_written_table_is_read_back_from_memory(store, monkeypatch):
    recent = remembering(store)
    df = pd.DataFrame({"x": [1, 2, 3], "tag": [uuid.uuid4().hex] * 3})
    ref = recent.put(PortType.DATA, df)

    def no_download(*_args, **_kwargs):
        raise AssertionError("downloaded what was in memory")

    monkeypatch.setattr(store, "get_blob", no_download)
    pd.testing.assert_frame_equal(recent.get(ref, PortType.DATA), df)  # as Parquet gives it back


def test_a_model_is_trusted_from_memory_only_under_the_key_that_signed_it(store):
    ref = remembering(store).put(PortType.UNTRAINED_MODEL, {"m": uuid.uuid4().hex})
    other = remembering(store, "a-different-signing-key")
    with pytest.raises(ArtifactIntegrityError):
        other.get(ref, PortType.UNTRAINED_MODEL)


def test_the_least_recently_used_bytes_go_first():
    recent = RecentBytes(limit_bytes=10, largest=8)
    recent.add("a", b"aaaa", False)
    recent.add("b", b"bbbb", False)
    recent.get("a")
    recent.add("c", b"cccc", True)
    recent.add("big", b"x" * 9, False)  # larger than any entry may be: not kept
    assert recent.get("b") is None and recent.get("big") is None
    assert recent.get("a") == (b"aaaa", False)
    assert recent.get("c") == (b"cccc", True)


def test_a_table_named_but_not_yet_stored_is_read_counted_and_copied_from_memory(store, tmp_path):
    """A chain's next node reads its input while the upload is still under way."""
    recent = remembering(store)
    df = pd.DataFrame({"x": range(7), "tag": [uuid.uuid4().hex] * 7})
    item = recent.encode(PortType.DATA, df)
    container, _, name = item.ref.partition("/")
    assert store.blob_metadata(container, name) is None  # not stored yet
    pd.testing.assert_frame_equal(recent.get(item.ref, PortType.DATA), df)
    assert recent.rows(item.ref) == 7
    copy = tmp_path / "input.parquet"
    recent.download_to(item.ref, str(copy))
    pd.testing.assert_frame_equal(pd.read_parquet(copy), df)
    assert recent.store_encoded(item) == item.ref
    assert store.blob_metadata(container, name)["rows"] == "7"
    assert Artifacts(store, "test-signing-key").rows(item.ref) == 7  # no memory: from the metadata


def test_a_small_table_is_written_in_one_round_trip_and_a_model_looks_first(store, monkeypatch):
    recent = remembering(store)
    touched: list[str] = []
    real = store.touch_blob
    monkeypatch.setattr(store, "touch_blob", lambda c, n: touched.append(n) or real(c, n))
    table = recent.put(PortType.DATA, pd.DataFrame({"x": [uuid.uuid4().hex]}))
    model = recent.put(PortType.UNTRAINED_MODEL, {"m": uuid.uuid4().hex})
    assert touched == [model.partition("/")[2]]  # the table was written without looking
    assert table != model
