"""Runs whose orchestration is gone are failed with the reason; ended runs keep their end."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from core.pipelines.document import Pipeline
from core.registry import runs
from core.registry.runs import RunStatus
from core.service.facade import Submission

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "automobile-price-training.json"


def submitted(service):
    pipeline = Pipeline.model_validate(json.loads(SAMPLE.read_text()))
    return service.submit(
        Submission(experiment=f"exp-{uuid.uuid4().hex[:8]}", pipeline=pipeline, regenerate_outputs=True)
    )[0]  # nothing reused at submit


def test_an_active_run_is_failed_with_the_reason_and_its_nodes_closed(service):
    run = submitted(service)
    service.run_started(run.experiment, run.run_id)
    node = runs.get_node(service.store, run.run_id, "automobile")
    node.status = RunStatus.RUNNING
    runs.update_node(service.store, node, "status")

    assert service.fail_orphaned_run(run.run_id, "The run's orchestration was terminated: test") is True
    view = service.get_run(run.run_id)
    assert view["status"] == "Failed" and view["error"] == "The run's orchestration was terminated: test"
    assert view["ended_at"] is not None
    assert view["nodes"]["automobile"]["status"] == "Failed"
    assert view["nodes"]["automobile"]["error"].startswith("The run's orchestration was terminated")
    assert view["nodes"]["evaluate"]["note"] == "not run: the run's orchestration ended"


def test_an_ended_run_keeps_its_status(service):
    for end in (RunStatus.CANCELED, RunStatus.FINISHED):
        run = submitted(service)
        run.status = end
        runs.update_run(service.store, run, "status")
        assert service.fail_orphaned_run(run.run_id, "gone") is False
        assert service.get_run(run.run_id)["status"] == end.value
        assert service.get_run(run.run_id)["error"] is None
