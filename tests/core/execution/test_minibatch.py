"""Scoring nodes split into mini-batches inside a pipeline run (Azurite)."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from core.components.models import TrainedModel
from core.errors import ComponentError
from core.service.facade import Service, Submission
from tests.core.service.test_service import run_inline, tutorial


@pytest.fixture(scope="module")
def small_batches(store, settings) -> Service:
    return Service(store, settings.model_copy(update={"mini_batch_rows": 20}))


def run(service: Service) -> dict:
    run_record, job = service.submit(
        Submission(experiment=f"mb-{uuid.uuid4().hex[:6]}", pipeline=tutorial(), regenerate_outputs=True)
    )
    run_inline(service, job)
    return service.get_run(run_record.run_id)


def test_split_scoring_matches_whole_scoring_row_for_row(service, small_batches):
    small_batches.samples_dir = service.samples_dir
    whole, split = run(service), run(small_batches)
    assert split["status"] == "Finished"
    assert split["nodes"]["score"]["note"] == "scored in 3 mini-batches of up to 20 rows"
    assert "note" not in whole["nodes"]["score"] or whole["nodes"]["score"]["note"] is None
    a = service.node_output(whole["run_id"], "score", "scored_dataset", None)
    b = service.node_output(split["run_id"], "score", "scored_dataset", None)
    pd.testing.assert_frame_equal(a, b)
    assert b.attrs["label"] == "price"  # metadata survives the join, so Evaluate still works
    assert split["metrics"]["evaluate"] == pytest.approx(whole["metrics"]["evaluate"])


def test_a_failing_mini_batch_fails_the_node_and_names_the_batch(service, small_batches, monkeypatch):
    small_batches.samples_dir = service.samples_dir
    original = TrainedModel.score
    calls = {"n": 0}

    def third_fails(self, df, append=True):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ComponentError("boom in this batch")
        return original(self, df, append)

    monkeypatch.setattr(TrainedModel, "score", third_fails)
    view = run(small_batches)
    assert view["status"] == "Failed" and view["failed_node"] == "score"
    assert "1 of 3 mini-batches failed: mini-batch 2: boom in this batch" in view["nodes"]["score"]["error"]
