"""Dataset registration against a real Azurite."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from core import datasets
from core.errors import InvalidRequest, NotFound
from core.store import Store


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


@pytest.mark.parametrize("body, code", [
    (b"", "empty_body"),
    (b"a,b\n", "no_rows"),
    (b"a,,c\n1,2,3\n", "unnamed_column"),
    (b'a,b\n"1,2\n', "invalid_csv"),
])
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
