"""The Store contract: every promise callers build on, kept alike by Azure storage (Azurite)
and the in-memory store, so use-case tests on memory say something about the real thing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pytest
from azure.data.tables import TableServiceClient, UpdateMode
from azure.storage.blob import BlobServiceClient

from core.errors import Conflict
from core.storage.memory import MemoryStore
from core.storage.store import PreconditionFailed, Store

TABLE = "contracttable"
CONTAINER = "contract"


class Colour(StrEnum):
    RED = "red"


@pytest.fixture(params=["memory", pytest.param("azure", marks=pytest.mark.azurite)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """A store with the app's resources and the contract's own table and container."""
    if request.param == "memory":
        memory = MemoryStore()
        memory.ensure()
        memory.create_table(TABLE)
        memory.create_container(CONTAINER)
        yield memory
        return
    azure = request.getfixturevalue("azure_store")
    connection = request.getfixturevalue("azure_settings").storage_connection_string
    TableServiceClient.from_connection_string(connection).create_table_if_not_exists(TABLE)
    blobs = BlobServiceClient.from_connection_string(connection)
    if not blobs.get_container_client(CONTAINER).exists():
        blobs.create_container(CONTAINER)
    yield azure


@pytest.fixture
def pk() -> str:
    """A partition of this test alone (the Azurite is shared by the session)."""
    return f"p{uuid.uuid4().hex[:12]}"


@pytest.fixture
def prefix() -> str:
    return f"b{uuid.uuid4().hex[:12]}/"


def entity(pk: str, rk: str, **properties) -> dict:
    return {"PartitionKey": pk, "RowKey": rk, **properties}


def in_parallel(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` on ``count`` threads released together; each outcome or exception."""
    barrier, outcomes = threading.Barrier(count), [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = work(i)
        except Exception as exc:  # the outcome is what the test inspects
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


# ---- blobs ---------------------------------------------------------------------------------
def test_ensure_is_idempotent(store: Store):
    store.ensure()
    store.ensure()


def test_put_and_get_blob_overwriting_by_default(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "a", b"one")
    store.put_blob(CONTAINER, prefix + "a", b"two")
    assert store.get_blob(CONTAINER, prefix + "a") == b"two"


def test_put_blob_without_overwrite_conflicts_and_keeps_the_first(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "a", b"first", overwrite=False)
    with pytest.raises(Conflict):
        store.put_blob(CONTAINER, prefix + "a", b"second", overwrite=False)
    assert store.get_blob(CONTAINER, prefix + "a") == b"first"


def test_racing_creates_without_overwrite_leave_one_winner(store: Store, prefix: str):
    outcomes = in_parallel(6, lambda i: store.put_blob(CONTAINER, prefix + "x", b"%d" % i, overwrite=False))
    winners = [i for i, o in enumerate(outcomes) if o is None]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if o is not None)
    assert store.get_blob(CONTAINER, prefix + "x") == b"%d" % winners[0]


def test_missing_blobs_read_as_key_errors(store: Store, prefix: str):
    with pytest.raises(KeyError):
        store.get_blob(CONTAINER, prefix + "none")
    with pytest.raises(KeyError):
        store.get_range(CONTAINER, prefix + "none", 0, 10)
    with pytest.raises(KeyError):
        store.download_to(CONTAINER, prefix + "none", "/dev/null")
    assert store.blob_metadata(CONTAINER, prefix + "none") is None


def test_get_range_reads_a_slice_and_less_at_the_end(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "r", b"0123456789")
    assert store.get_range(CONTAINER, prefix + "r", 2, 3) == b"234"
    assert store.get_range(CONTAINER, prefix + "r", 7, 100) == b"789"
    assert store.get_range(CONTAINER, prefix + "r", 0, 10) == b"0123456789"


def test_files_stream_in_and_out_with_type_and_metadata(store: Store, prefix: str, tmp_path: Path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(b"a,b\n1,2\n" * 1000)
    store.upload_file(CONTAINER, prefix + "f.csv", str(source), content_type="text/csv", metadata={"k": "v"})
    store.download_to(CONTAINER, prefix + "f.csv", str(target))
    assert target.read_bytes() == source.read_bytes()
    [details] = store.list_blob_details(CONTAINER, prefix)
    assert (details["content_type"], details["metadata"]) == ("text/csv", {"k": "v"})


def test_blob_metadata_has_the_etag_and_size(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "m", b"12345", metadata={"owner": "me"})
    first = store.blob_metadata(CONTAINER, prefix + "m")
    assert first is not None
    assert (first["owner"], first["size"]) == ("me", "5")
    store.put_blob(CONTAINER, prefix + "m", b"1234567", metadata={"owner": "me"})
    second = store.blob_metadata(CONTAINER, prefix + "m")
    assert second is not None
    assert second["etag"] != first["etag"]
    assert second["size"] == "7"


def test_listings_filter_by_prefix_in_name_order(store: Store, prefix: str):
    for name in ("b/2", "a", "b/1", "c"):
        store.put_blob(CONTAINER, prefix + name, name.encode())
    store.put_blob(CONTAINER, prefix[:-1] + "-other", b"x")
    assert store.list_blobs(CONTAINER, prefix) == [prefix + n for n in ("a", "b/1", "b/2", "c")]
    assert store.list_blobs(CONTAINER, prefix + "b/") == [prefix + "b/1", prefix + "b/2"]
    etags = dict(store.list_blob_etags(CONTAINER, prefix))
    # A listing gives the bare ETag; a blob's properties give it quoted, as the HTTP header does.
    assert f'"{etags[prefix + "a"]}"' == store.blob_metadata(CONTAINER, prefix + "a")["etag"]
    assert set(store.list_blobs(CONTAINER)) >= {prefix + "a", prefix[:-1] + "-other"}


def test_blob_details_carry_size_metadata_type_and_whole_second_utc_times(store: Store, prefix: str):
    before = datetime.now(UTC).replace(microsecond=0)
    store.put_blob(CONTAINER, prefix + "d", b"abc", metadata={"m": "1"})
    store.put_blob(CONTAINER, prefix + "e", b"", content_type="application/json")
    d, e = store.list_blob_details(CONTAINER, prefix)
    assert (d["name"], d["size"], d["metadata"], d["content_type"]) == (
        prefix + "d",
        3,
        {"m": "1"},
        "application/octet-stream",
    )
    assert (e["size"], e["metadata"], e["content_type"]) == (0, {}, "application/json")
    assert d["last_modified"].tzinfo is not None and d["last_modified"].microsecond == 0
    assert before - timedelta(seconds=5) <= d["last_modified"] <= datetime.now(UTC) + timedelta(seconds=5)


def test_touch_makes_a_blob_new_again_and_keeps_its_metadata(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "t", b"x", metadata={"keep": "yes"})
    old = store.blob_metadata(CONTAINER, prefix + "t")
    assert store.touch_blob(CONTAINER, prefix + "t") is True
    new = store.blob_metadata(CONTAINER, prefix + "t")
    assert new is not None and old is not None
    assert new["keep"] == "yes" and new["etag"] != old["etag"]
    assert store.get_blob(CONTAINER, prefix + "t") == b"x"
    assert store.touch_blob(CONTAINER, prefix + "missing") is False


def test_delete_unless_modified_since(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "old", b"x")
    [written] = store.list_blob_details(CONTAINER, prefix + "old")
    long_ago = written["last_modified"] - timedelta(hours=1)
    assert store.delete_blob_unless_modified_since(CONTAINER, prefix + "old", long_ago) is False
    assert store.get_blob(CONTAINER, prefix + "old") == b"x"
    later = written["last_modified"] + timedelta(seconds=2)
    store.put_blob(CONTAINER, prefix + "same", b"x")
    [same] = store.list_blob_details(CONTAINER, prefix + "same")
    # The very second it was written counts as not after: HTTP dates have whole seconds.
    assert store.delete_blob_unless_modified_since(CONTAINER, prefix + "same", same["last_modified"]) is True
    assert store.delete_blob_unless_modified_since(CONTAINER, prefix + "old", later) is True
    assert store.blob_metadata(CONTAINER, prefix + "old") is None
    assert store.delete_blob_unless_modified_since(CONTAINER, prefix + "old", later) is False


def test_a_touch_after_the_cutoff_saves_the_blob(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "kept", b"x")
    cutoff = datetime.now(UTC) + timedelta(seconds=1)
    while datetime.now(UTC) < cutoff + timedelta(seconds=1.1):
        pass  # Last-Modified has whole seconds: the touch must land in a later second
    assert store.touch_blob(CONTAINER, prefix + "kept")
    assert store.delete_blob_unless_modified_since(CONTAINER, prefix + "kept", cutoff) is False
    assert store.get_blob(CONTAINER, prefix + "kept") == b"x"


def test_delete_blob_tolerates_a_missing_one(store: Store, prefix: str):
    store.put_blob(CONTAINER, prefix + "gone", b"x")
    store.delete_blob(CONTAINER, prefix + "gone")
    store.delete_blob(CONTAINER, prefix + "gone")
    assert store.list_blobs(CONTAINER, prefix) == []


# ---- tables --------------------------------------------------------------------------------
def test_insert_then_get_with_the_same_etag(store: Store, pk: str):
    etag = store.insert(TABLE, entity(pk, "r", n=1))
    got = store.get(TABLE, pk, "r")
    assert got == {"PartitionKey": pk, "RowKey": "r", "n": 1, "etag": etag}
    assert store.get(TABLE, pk, "other") is None


def test_insert_of_an_existing_key_conflicts(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "r", n=1))
    with pytest.raises(Conflict):
        store.insert(TABLE, entity(pk, "r", n=2))
    assert store.get(TABLE, pk, "r")["n"] == 1


def test_racing_inserts_leave_exactly_one_winner(store: Store, pk: str):
    outcomes = in_parallel(8, lambda i: store.insert(TABLE, entity(pk, "claim", by=i)))
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, str)]
    assert len(winners) == 1
    assert all(isinstance(o, Conflict) for i, o in enumerate(outcomes) if i not in winners)
    assert store.get(TABLE, pk, "claim")["by"] == winners[0]


def test_values_come_back_as_the_sdk_sends_them(store: Store, pk: str):
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    store.insert(
        TABLE,
        entity(
            pk,
            "types",
            s="text",
            i=-7,
            f=2.5,
            whole=3.0,
            yes=True,
            at=moment,
            raw=b"\x00\x01",
            colour=Colour.RED,
            empty="",
            nothing=None,
            etag="ignored: reads add it",
        ),
    )
    got = store.get(TABLE, pk, "types")
    assert got is not None
    etag = got.pop("etag")
    assert etag != "ignored: reads add it"
    assert got == {
        "PartitionKey": pk,
        "RowKey": "types",
        "s": "text",
        "i": -7,
        "f": 2.5,
        "whole": 3.0,
        "yes": True,
        "at": moment,
        "raw": b"\x00\x01",
        "colour": "red",
        "empty": "",
    }
    assert isinstance(got["whole"], float) and got["at"].utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [2**31, [1, 2], {"a": 1}])
def test_values_the_sdk_cannot_send_are_type_errors(store: Store, pk: str, value):
    with pytest.raises(TypeError):
        store.insert(TABLE, entity(pk, "bad", value=value))
    assert store.get(TABLE, pk, "bad") is None


def test_upsert_merges_or_replaces(store: Store, pk: str):
    store.upsert(TABLE, entity(pk, "u", a=1, b=2))
    store.upsert(TABLE, entity(pk, "u", b=3, c=None))
    assert {k: v for k, v in store.get(TABLE, pk, "u").items() if k != "etag"} == entity(pk, "u", a=1, b=3)
    store.upsert(TABLE, entity(pk, "u", c=4), merge=False)
    assert {k: v for k, v in store.get(TABLE, pk, "u").items() if k != "etag"} == entity(pk, "u", c=4)


def test_every_write_changes_the_etag(store: Store, pk: str):
    first = store.insert(TABLE, entity(pk, "e", n=0))
    store.upsert(TABLE, entity(pk, "e", n=1))
    second = store.get(TABLE, pk, "e")["etag"]
    third = store.update(TABLE, entity(pk, "e", n=2), second)
    assert len({first, second, third}) == 3
    assert store.get(TABLE, pk, "e")["etag"] == third


def test_update_with_a_stale_etag_fails_and_changes_nothing(store: Store, pk: str):
    etag = store.insert(TABLE, entity(pk, "o", n=0, keep="x"))
    newer = store.update(TABLE, entity(pk, "o", n=1), etag)
    with pytest.raises(PreconditionFailed):
        store.update(TABLE, entity(pk, "o", n=99), etag)
    got = store.get(TABLE, pk, "o")
    assert (got["n"], got["keep"], got["etag"]) == (1, "x", newer)
    store.update(TABLE, entity(pk, "o", n=2), newer, merge=False)
    assert "keep" not in store.get(TABLE, pk, "o")


def test_update_with_the_wildcard_etag_writes_any_version_of_an_existing_entity(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "w", n=0, drop="me"))
    store.upsert(TABLE, entity(pk, "w", n=1))
    etag = store.update(TABLE, entity(pk, "w", n=2), "*", merge=False)
    assert store.get(TABLE, pk, "w") == {**entity(pk, "w", n=2), "etag": etag}
    with pytest.raises(PreconditionFailed):
        store.update(TABLE, entity(pk, "never", n=1), "*")


def test_update_of_a_missing_entity_is_a_precondition_failure(store: Store, pk: str):
    etag = store.insert(TABLE, entity(pk, "gone", n=0))
    store.delete(TABLE, pk, "gone")
    with pytest.raises(PreconditionFailed):
        store.update(TABLE, entity(pk, "gone", n=1), etag)
    assert store.get(TABLE, pk, "gone") is None


def test_of_two_writers_with_one_etag_only_the_first_wins(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "race", n=0))
    etag = store.get(TABLE, pk, "race")["etag"]
    outcomes = in_parallel(6, lambda i: store.update(TABLE, entity(pk, "race", n=i + 1), etag))
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, str)]
    assert len(winners) == 1
    assert all(isinstance(o, PreconditionFailed) for i, o in enumerate(outcomes) if i not in winners)
    assert store.get(TABLE, pk, "race")["n"] == winners[0] + 1


def test_optimistic_increments_lose_no_update(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "counter", n=0))

    def increment(_: int) -> None:
        while True:
            current = store.get(TABLE, pk, "counter")
            try:
                store.update(TABLE, entity(pk, "counter", n=current["n"] + 1), current["etag"])
                return
            except PreconditionFailed:
                continue

    assert in_parallel(5, increment) == [None] * 5
    assert store.get(TABLE, pk, "counter")["n"] == 5


def test_query_filters_of_every_shape_the_product_uses(store: Store, pk: str):
    other = pk + "z"
    rows = [
        entity(pk, "1", status="Running", run_id="a", endpoint="e1", n=1),
        entity(pk, "2", status="Completed", run_id="b", endpoint="e1", n=2),
        entity(pk, "3", status="NotStarted", run_id="a", n=3),
        entity(other, "1", status="Running", run_id="c", endpoint="e1", n=4),
    ]
    for row in rows:
        store.insert(TABLE, row)

    def keys(filter: str, **parameters) -> list[tuple[str, str]]:
        return [
            (e["PartitionKey"], e["RowKey"])
            for e in store.query(TABLE, filter, parameters)
            if e["PartitionKey"] in (pk, other)
        ]

    assert keys("PartitionKey ne ''") == [(pk, "1"), (pk, "2"), (pk, "3"), (other, "1")]
    assert keys("PartitionKey ne '~'") == keys("PartitionKey ne ''")
    assert keys("PartitionKey eq @pk", pk=pk) == [(pk, "1"), (pk, "2"), (pk, "3")]
    assert keys("RowKey eq @id and PartitionKey eq @pk", id="1", pk=other) == [(other, "1")]
    assert keys("run_id eq @id", id="a") == [(pk, "1"), (pk, "3")]
    assert keys("status eq @a or status eq @b", a="NotStarted", b="Running") == [
        (pk, "1"),
        (pk, "3"),
        (other, "1"),
    ]
    assert keys("PartitionKey eq @s and status eq @p", s=pk, p="Running") == [(pk, "1")]
    assert keys(
        "endpoint eq @endpoint and PartitionKey eq @experiment and status eq @status",
        endpoint="e1",
        experiment=pk,
        status="Completed",
    ) == [(pk, "2")]
    assert keys("endpoint eq @e", e="e1") == [(pk, "1"), (pk, "2"), (other, "1")]  # 3 has none
    assert keys("n ge @low and n lt @high", low=2, high=4) == [(pk, "2"), (pk, "3")]
    assert keys("n eq @n", n="2") == []  # a string is never equal to a number
    found = {e["RowKey"]: e for e in store.query(TABLE, "PartitionKey eq @pk", {"pk": pk})}
    assert found["1"]["etag"] == store.get(TABLE, pk, "1")["etag"]


def test_quotes_in_parameters_are_escaped(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "q", name="it's"))
    assert [
        e["RowKey"] for e in store.query(TABLE, "PartitionKey eq @pk and name eq @n", {"pk": pk, "n": "it's"})
    ] == ["q"]


def test_partition_answers_one_partition_in_row_order(store: Store, pk: str):
    for rk in ("b", "a", "c"):
        store.insert(TABLE, entity(pk, rk))
    store.insert(TABLE, entity(pk + "x", "a"))
    assert [e["RowKey"] for e in store.partition(TABLE, pk)] == ["a", "b", "c"]
    assert store.partition(TABLE, pk + "none") == []


def test_delete_tolerates_a_missing_entity(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "d"))
    store.delete(TABLE, pk, "d")
    store.delete(TABLE, pk, "d")
    assert store.get(TABLE, pk, "d") is None


def test_submit_applies_upserts_and_deletes_in_batches_of_a_hundred(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "old", n=0))
    store.submit(TABLE, [("upsert", entity(pk, f"{i:03d}", n=i)) for i in range(150)])
    store.submit(TABLE, [("delete", entity(pk, "old")), ("upsert", entity(pk, "000", m=1))])
    rows = store.partition(TABLE, pk)
    assert len(rows) == 150
    assert (rows[0]["n"], rows[0]["m"]) == (0, 1)


def test_submit_creates_updates_and_replaces(store: Store, pk: str):
    store.submit(TABLE, [("create", entity(pk, "a", x=1, y=2)), ("upsert", entity(pk, "b", x=1))])
    store.submit(
        TABLE,
        [("update", entity(pk, "a", x=3)), ("upsert", entity(pk, "b", y=5), {"mode": UpdateMode.REPLACE})],
    )
    a, b = ({k: v for k, v in e.items() if k != "etag"} for e in store.partition(TABLE, pk))
    assert (a, b) == (entity(pk, "a", x=3, y=2), entity(pk, "b", y=5))
    with pytest.raises(Exception):  # noqa: B017 - each implementation says it its own way
        store.submit(TABLE, [("create", entity(pk, "a", x=9))])
    with pytest.raises(Exception):  # noqa: B017
        store.submit(TABLE, [("update", entity(pk, "c", x=9))])
    assert store.get(TABLE, pk, "a")["x"] == 3 and store.get(TABLE, pk, "c") is None


def test_submit_answers_each_entity_s_etag_for_conditional_writes(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "gone"))
    etags = store.submit(
        TABLE, [("upsert", entity(pk, "a", x=1)), ("create", entity(pk, "b")), ("delete", entity(pk, "gone"))]
    )
    assert etags[2] is None and etags[0] == store.get(TABLE, pk, "a")["etag"]
    assert etags[1] == store.get(TABLE, pk, "b")["etag"]
    store.update(TABLE, entity(pk, "a", x=2), etags[0])  # as the batch left it: the write goes through
    with pytest.raises(PreconditionFailed):
        store.update(TABLE, entity(pk, "a", x=3), etags[0])  # written since


def test_a_failing_batch_changes_nothing(store: Store, pk: str):
    store.insert(TABLE, entity(pk, "kept", n=0))
    with pytest.raises(Exception):  # noqa: B017 - each implementation says it its own way
        store.submit(TABLE, [("upsert", entity(pk, "kept", n=1)), ("delete", entity(pk, "never-was"))])
    assert store.get(TABLE, pk, "kept")["n"] == 0
    assert [e["RowKey"] for e in store.partition(TABLE, pk)] == ["kept"]


def test_a_batch_stays_within_one_partition(store: Store, pk: str):
    with pytest.raises(Exception):  # noqa: B017 - each implementation says it its own way
        store.submit(TABLE, [("upsert", entity(pk, "a")), ("upsert", entity(pk + "x", "a"))])
    assert store.get(TABLE, pk, "a") is None
