"""The artifact garbage collector on a store of its own, so every blob in it is known to the test.

In memory: the contract suite holds it to Azure's Last-Modified and If-Unmodified-Since."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.components import PortType, lookup
from core.components.base import PLOT_NOT_DRAWN
from core.registry import gc, runs
from core.service.facade import Service, Submission
from core.settings import Settings
from core.storage.artifacts import ARTIFACTS
from core.storage.memory import MemoryStore
from tests.conftest import ROOT, SIGNING_KEY
from tests.core.service.test_service import run_inline, tutorial


@pytest.fixture(scope="module")
def fresh() -> Iterator[Service]:
    settings = Settings(artifact_signing_key=SIGNING_KEY)
    store = MemoryStore()
    store.ensure()
    yield Service(store, settings, ROOT / "samples" / "datasets")


def node_refs(service: Service, run_id: str) -> set[str]:
    """What the run's nodes reference; a plot not drawn yet references nothing."""
    return {
        ref
        for n in runs.get_nodes(service.store, run_id)
        for ref in (*n.outputs.values(), *n.plots.values())
        if ref != PLOT_NOT_DRAWN
    }


def artifact_names(service: Service) -> set[str]:
    return {f"{ARTIFACTS}/{name}" for name in service.store.list_blobs(ARTIFACTS)}


def read_everything(service: Service) -> None:
    """Every run with each output and plot, every draft, every endpoint version and its model."""
    for experiment in runs.list_experiments(service.store):
        for run in runs.list_runs(service.store, experiment):
            view = service.get_run(run.run_id)
            service.artifacts.get_json(run.pipeline_ref)
            for node_id, node in view["nodes"].items():
                component = lookup(node["component"])
                for port, ref in node["outputs"].items():
                    out = next(p for p in component.outputs if p.id == port)
                    service.artifacts.get(ref, out.type)
                for name in node["plots"]:
                    service.node_plot(run.run_id, node_id, name)
    from core.pipelines import drafts
    from core.registry import endpoints

    for draft in drafts.list_drafts(service.store):
        service.get_draft(draft.id)
    for endpoint in endpoints.list_endpoints(service.store):
        for version in endpoints.versions(service.store, endpoint.name):
            doc = service.artifacts.get_json(version.pipeline_ref)
            for node in doc["nodes"]:
                if node["component"] == "trained_model_asset":
                    service.artifacts.get(node["parameters"]["ref"], PortType.MODEL)


def test_gc_frees_exactly_the_unreferenced_artifacts_and_everything_stays_readable(fresh: Service):
    service = fresh
    keep_draft, _ = service.create_draft(tutorial())
    first, job = service.submit(Submission(experiment="gc", draft_id=keep_draft.id))
    run_inline(service, job)
    service.register_output(first.run_id, "train", "trained_model", "gc-model", "", "tester")
    inference, _ = service.create_inference_pipeline(first.run_id, "batch")
    before_asset = service.get_draft(inference.id)[0].pipeline_ref
    service.use_asset(
        inference.id, "MD-train", "gc-model", 1, None
    )  # the draft's first document is now unused
    service.publish(inference.id, "gc-endpoint", "v1", True, "tester")

    scratch_doc = tutorial()
    scratch_doc.name = "scratch"
    scratch, _ = service.create_draft(scratch_doc)
    service.lifecycle.delete_draft(scratch.id)

    second, job = service.submit(Submission(experiment="gc", draft_id=keep_draft.id, regenerate_outputs=True))
    run_inline(service, job)
    second_refs = node_refs(service, second.run_id) | {
        runs.get_run(service.store, second.run_id).pipeline_ref
    }
    service.lifecycle.delete_run(second.run_id)

    strays = {
        service.artifacts.put_bytes(os.urandom(100 + i), "stray", "application/octet-stream")
        for i in range(3)
    }
    kept_by_others = node_refs(service, first.run_id) | {first.pipeline_ref}
    expected = strays | {scratch.pipeline_ref, before_asset} | (second_refs - kept_by_others)
    everything = artifact_names(service)

    young = service.collect_garbage(dry_run=True, grace_minutes=60)
    assert young.freed.count == 0  # all of it was written within the grace period

    dry = service.collect_garbage(dry_run=True, grace_minutes=0)
    assert set(dry.freed.names) == expected
    assert dry.freed.bytes > 0 and dry.artifacts_scanned == len(everything)
    assert artifact_names(service) == everything  # a dry run deletes nothing

    done = service.collect_garbage(dry_run=False, grace_minutes=0)
    assert set(done.freed.names) == expected
    assert artifact_names(service) == everything - expected
    read_everything(service)  # draws the plots not drawn yet: the collector keeps them too
    drawn = runs.get_node(service.store, first.run_id, "evaluate").plots
    assert drawn and PLOT_NOT_DRAWN not in drawn.values()
    assert service.collect_garbage(dry_run=True, grace_minutes=0).freed.count == 0


def test_an_unfinished_run_holds_back_what_was_written_after_it_started(fresh: Service):
    service = fresh
    going, _ = service.submit(Submission(experiment="gc-going", pipeline=tutorial()))
    stray = service.artifacts.put_bytes(os.urandom(64), "stray", "application/octet-stream")
    report = service.collect_garbage(dry_run=True, grace_minutes=0)
    assert report.held_back_by_run == going.run_id and stray not in report.freed.names
    service.start_failed(going, "ended by the test")
    assert stray in service.collect_garbage(dry_run=True, grace_minutes=0).freed.names


def test_an_orphan_dataset_blob_is_collected(fresh: Service):
    service = fresh
    service.store.put_blob("datasets", "half-written/1/data.parquet", b"PAR1")  # a blob without its row
    report = service.collect_garbage(dry_run=False, grace_minutes=0)
    assert report.orphan_dataset_blobs.names == ["datasets/half-written/1/data.parquet"]
    assert service.store.list_blobs("datasets", "half-written/") == []
    assert service.store.list_blobs("datasets", "automobile-price-raw/")  # a registered one stays


def test_node_rows_of_a_run_whose_delete_was_cut_short_are_swept(fresh: Service):
    service = fresh
    run, _ = service.submit(Submission(experiment="gc-cut", pipeline=tutorial()))
    service.start_failed(run, "ended by the test")
    service.store.delete(runs.RUNS, run.experiment, run.run_id)  # the delete stopped after its first step
    assert runs.get_nodes(service.store, run.run_id)
    assert service.collect_garbage(dry_run=True, grace_minutes=0).orphan_run_nodes == len(tutorial().nodes)
    assert runs.get_nodes(service.store, run.run_id)  # a dry run leaves them
    service.collect_garbage(dry_run=False, grace_minutes=0)
    assert runs.get_nodes(service.store, run.run_id) == []


def test_an_artifact_written_again_during_a_collection_is_kept(fresh: Service):
    service = fresh
    data = os.urandom(80)
    ref = service.artifacts.put_bytes(data, "stray", "application/octet-stream")
    cutoff = datetime.now(UTC) + timedelta(seconds=1)
    name = ref.partition("/")[2]
    time.sleep(2.5)  # Last-Modified and If-Unmodified-Since have whole seconds
    assert (
        service.artifacts.put_bytes(data, "stray", "application/octet-stream") == ref
    )  # same content: touched
    assert not service.store.delete_blob_unless_modified_since(ARTIFACTS, name, cutoff)
    assert service.artifacts.get_bytes(ref) == data
    report = gc.collect(service.store, cutoff, timedelta(0), dry_run=False)
    assert ref not in report.freed.names and service.artifacts.get_bytes(ref) == data
