"""Run records: a run is found by its id with point lookups, older runs by the scan."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from core.errors import NotFound
from core.registry import runs


def _run(experiment: str) -> tuple[runs.RunRecord, list[runs.NodeRecord]]:
    run_id = uuid.uuid4().hex
    run = runs.RunRecord(
        run_id=run_id,
        experiment=experiment,
        created_at=datetime.now(UTC),
        pipeline_name="p",
        pipeline_ref="artifacts/x",
        node_count=1,
    )
    return run, [runs.NodeRecord(run_id=run_id, node_id="n1", component="c")]


def test_a_run_is_found_through_its_index_row_and_its_nodes_do_not_include_it(store):
    run, nodes = _run("runs-index")
    runs.create(store, run, nodes)
    index = store.get(runs.NODES, run.run_id, runs.INDEX_ROW)
    assert index is not None and index["experiment"] == "runs-index"
    assert runs.get_run(store, run.run_id) == run
    assert [n.node_id for n in runs.get_nodes(store, run.run_id)] == ["n1"]


def test_a_run_written_before_the_index_is_found_by_the_scan(store):
    run, nodes = _run("runs-old")
    runs.create(store, run, nodes)
    store.delete(runs.NODES, run.run_id, runs.INDEX_ROW)
    assert runs.get_run(store, run.run_id) == run
    assert runs.fail_if_active(store, run.run_id, "gone", datetime.now(UTC)) is not None


def test_an_index_row_without_its_run_is_no_run(store):
    run, _ = _run("runs-half")
    store.submit(
        runs.NODES,
        [("upsert", {"PartitionKey": run.run_id, "RowKey": runs.INDEX_ROW, "experiment": "runs-half"})],
    )
    with pytest.raises(NotFound):
        runs.get_run(store, run.run_id)
