"""Dataset registration against a real Azurite."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import InvalidRequest, NotFound
from core.registry import datasets
from core.storage.store import Store


def unique(prefix: str = "ds") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_upload_registers_version_one_then_two(service):
    name = unique()
    v1 = service.register_csv(name, b"a,b\n1,x\n2,y\n", "first")
    v2 = service.register_csv(name, b"a,b\n3,z\n", "second")
    assert (v1.version, v2.version) == (1, 2)
    assert [c.name for c in v1.columns] == ["a", "b"] and v1.rows == 2
    assert datasets.get(service.store, name).version == 2
    assert datasets.get(service.store, name, 1).description == "first"
    df = service.artifacts.get(v1.ref, __import__("core.components", fromlist=["PortType"]).PortType.DATA)
    assert df["a"].tolist() == [1, 2]


@pytest.mark.parametrize(
    "body, code",
    [
        (b"", "empty_body"),
        (b"a,b\n", "no_rows"),
        (b"a,,c\n1,2,3\n", "unnamed_column"),
        (b'a,b\n"1,2\n', "invalid_csv"),
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(service, body, code):
    name = unique()
    with pytest.raises(InvalidRequest) as err:
        service.register_csv(name, body)
    assert code in [p.code for p in err.value.problems]
    assert datasets.versions(service.store, name) == []
    assert service.store.list_blobs("datasets", f"{name}/") == []


def test_invalid_name_is_refused(service):
    with pytest.raises(InvalidRequest) as err:
        service.register_csv("no spaces/or slashes", b"a\n1\n")
    assert err.value.problems[0].field == "name"


def test_concurrent_uploads_get_distinct_versions(service):
    name = unique()
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda i: service.register_csv(name, f"a\n{i}\n".encode()).version, range(6)))
    assert sorted(got) == [1, 2, 3, 4, 5, 6]


def test_sample_is_registered_once_on_first_use(service):
    first = datasets.resolve(service.store, "automobile-price-raw", None, service.samples_dir)
    again = service.register_sample("automobile-price-raw")
    assert first.version == again.version == 1
    assert first.rows == 205 and len(first.columns) == 26 and first.source == "sample"


def test_unknown_dataset_and_sample(service, store: Store):
    with pytest.raises(NotFound):
        datasets.get(store, unique())
    with pytest.raises(NotFound):
        service.register_sample("not-a-sample")


def test_concurrent_first_uses_of_a_sample_register_it_once(service, store):
    name = "german-credit"  # start from a clean slate for this sample
    store.delete_blob("datasets", f"{name}/1/data.parquet")
    for entity in store.partition("datasets", name):
        store.delete("datasets", name, entity["RowKey"])
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: service.register_sample(name).version, range(4)))
    assert got == [1, 1, 1, 1] and [v.version for v in datasets.versions(store, name)] == [1]


def _stored(service) -> tuple[int, int]:
    """Every dataset blob and table row there is."""
    return (
        len(service.store.list_blobs("datasets")),
        len(list(service.store.query("datasets", "PartitionKey ne ''"))),
    )


@pytest.mark.parametrize(
    "body, lines",
    [
        (b"a,b\n1,2,3,4\n5\n", ["line 2", "line 3"]),
        (b"a,b\n1,2\n3,4\n5,6,7\n", ["line 4"]),
    ],
)
def test_ragged_rows_are_refused_naming_their_lines(service, body, lines):
    before = _stored(service)
    with pytest.raises(InvalidRequest) as err:
        service.register_csv(unique(), body)
    assert [p.field for p in err.value.problems] == lines
    assert {p.code for p in err.value.problems} == {"ragged_row"}
    assert _stored(service) == before


def test_empty_text_cells_are_missing_values():
    from core.tables import csvfile

    frame = csvfile.read_frame(b"n,s\n1,x\n2,\n,y\n")
    assert frame["s"].isna().tolist() == [False, True, False]
    assert frame["n"].isna().tolist() == [False, False, True]


def test_a_thousand_and_more_columns_are_registered_and_read_back(service):
    columns = [f"feature_with_a_long_name_{i:05d}" for i in range(1500)]
    body = (",".join(columns) + "\n" + ",".join(str(i) for i in range(1500)) + "\n").encode()
    name = unique()
    entry = service.register_csv(name, body)
    assert [c.name for c in datasets.get(service.store, name).columns] == columns
    assert entry.rows == 1 and datasets.list_datasets(service.store)


@pytest.mark.parametrize("body", [b"a,b\n1,2,3\n", b"", b"a\n", b"a,a\n1,2\n"])
def test_refused_uploads_leave_no_blob_and_no_row(service, body):
    before = _stored(service)
    with pytest.raises(InvalidRequest):
        service.register_csv(unique(), body)
    assert _stored(service) == before


def test_a_row_that_cannot_be_written_takes_its_blobs_with_it(service, monkeypatch):
    """Storage refusing the row (here: made to) must not leave the Parquet or schema blob behind."""
    columns = ",".join(f"c{i:05d}" for i in range(3000))
    before = _stored(service)

    def refuse(table, entity):
        raise RuntimeError("storage refused the row")

    monkeypatch.setattr(service.store, "insert", refuse)
    with pytest.raises(RuntimeError):
        service.register_csv(unique(), f"{columns}\n{','.join('1' * 3000)}\n".encode())
    monkeypatch.undo()
    assert _stored(service) == before


def test_long_names_and_descriptions_are_refused_before_storage(service):
    with pytest.raises(InvalidRequest) as err:
        datasets.get(service.store, "n" * 20_000)
    assert err.value.problems[0].code == "invalid_name" and len(err.value.problems[0].message) < 300
    with pytest.raises(InvalidRequest) as err:
        service.register_csv(unique(), b"a\n1\n", "d" * 20_000)
    assert err.value.problems[0].field == "description"
