"""Pipeline endpoints against a real Azurite: versions, defaults under concurrency, audit, status."""

from __future__ import annotations

import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import Conflict, InvalidRequest, NotFound
from core.registry import endpoints

PIPELINE_REF = ""


@pytest.fixture(autouse=True)
def stored_pipeline(service) -> None:
    """A real (empty) pipeline document: the storage is shared, and other tests read every endpoint."""
    global PIPELINE_REF
    PIPELINE_REF = service.artifacts.put_json({"name": "p", "nodes": []}, "pipeline")


def publish(store, name: str, set_default: bool = False, by: str = "alice") -> endpoints.EndpointVersion:
    return endpoints.publish(
        store,
        name,
        description="d",
        kind="batch_inference",
        pipeline_name="p",
        pipeline_ref=PIPELINE_REF,
        parameters={"x": 1},
        set_default=set_default,
        by=by,
    )


def unique() -> str:
    return f"ep-{uuid.uuid4().hex[:8]}"


def test_first_publish_creates_the_endpoint_and_becomes_default(store):
    name = unique()
    first = publish(store, name)
    assert first.version == 1
    endpoint = endpoints.get(store, name)
    assert endpoint.default_version == 1 and endpoint.status == "Active"
    assert publish(store, name).version == 2
    assert endpoints.get(store, name).default_version == 1  # not asked to become default


def test_fifty_concurrent_publishes_get_fifty_distinct_versions(store):
    name = unique()
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda i: publish(store, name, set_default=i % 2 == 0).version, range(50)))
    assert sorted(got) == list(range(1, 51))
    assert [v.version for v in endpoints.versions(store, name)] == list(range(1, 51))


def test_concurrent_default_changes_are_all_kept_in_the_audit_trail(store):
    name = unique()
    for _ in range(10):
        publish(store, name)
    targets = [2, 3, 4, 5, 6, 7, 8, 9, 10, 2, 3, 4]
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda v: endpoints.set_default_version(store, name, v, "bob"), targets))
    trail = endpoints.audit_trail(store, name)
    changes = [t for t in trail if t.action == "set_default"]
    # Each recorded change starts where the previous one ended: no update was lost.
    chain = list(reversed(changes))
    assert chain[0].from_version is None and chain[0].to_version == 1
    for before, after in itertools.pairwise(chain):
        assert after.from_version == before.to_version
    assert endpoints.get(store, name).default_version == chain[-1].to_version


def test_rollback_returns_to_the_previous_default(store):
    name = unique()
    publish(store, name)
    publish(store, name, set_default=True, by="carol")
    assert endpoints.get(store, name).default_version == 2
    endpoints.rollback_default(store, name, "dave")
    assert endpoints.get(store, name).default_version == 1
    latest = endpoints.audit_trail(store, name)[0]
    assert (latest.action, latest.by, latest.from_version, latest.to_version) == ("rollback", "dave", 2, 1)


def test_rollback_with_no_history_is_refused(store):
    name = unique()
    publish(store, name)
    with pytest.raises(InvalidRequest):
        endpoints.rollback_default(store, name, "x")


def test_disabled_endpoint_or_version_refuses_submissions(store):
    name = unique()
    publish(store, name)
    publish(store, name)
    endpoints.set_status(store, name, "Disabled", "erin", version=2)
    assert endpoints.resolve_for_submit(store, name, None).version == 1
    with pytest.raises(Conflict, match="disabled"):
        endpoints.resolve_for_submit(store, name, 2)
    endpoints.set_status(store, name, "Disabled", "erin")
    with pytest.raises(Conflict, match="disabled"):
        endpoints.resolve_for_submit(store, name, 1)
    endpoints.set_status(store, name, "Active", "erin")
    assert endpoints.resolve_for_submit(store, name, None).version == 1


def test_unknown_endpoint_and_version(store):
    with pytest.raises(NotFound):
        endpoints.resolve_for_submit(store, unique(), None)
    name = unique()
    publish(store, name)
    with pytest.raises(NotFound):
        endpoints.resolve_for_submit(store, name, 7)
    with pytest.raises(NotFound):
        endpoints.set_default_version(store, name, 7, "x")
