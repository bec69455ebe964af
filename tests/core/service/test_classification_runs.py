"""A two-class pipeline run through the service: metrics, side-by-side evaluation, plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.components.base import PLOT_NOT_DRAWN
from core.pipelines.document import Pipeline
from core.registry import runs
from core.service.facade import Submission
from functions import links
from tests.core.service.test_service import run_inline

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "german-credit-classification.json"


@pytest.fixture(scope="module")
def credit_run(service) -> dict:
    pipeline = Pipeline.model_validate(json.loads(SAMPLE.read_text()))
    assert service.validate(pipeline) == []
    run, job = service.submit(Submission(experiment="credit", pipeline=pipeline))
    assert job.plan.stages[0] == ["boosted", "credit", "logistic"]  # independent nodes share a stage
    run_inline(service, job)
    return links.run(service.get_run(run.run_id))  # as the HTTP answer shows it, with links


def test_evaluate_reports_the_designer_binary_metrics(credit_run):
    assert credit_run["status"] == "Finished", credit_run.get("error")
    metrics = credit_run["metrics"]["evaluate"]
    assert {"AUC", "Accuracy", "Precision", "Recall", "F1_Score"} <= set(metrics)
    assert metrics["AUC"] > 0.7 and metrics["Accuracy"] > 0.7


def test_evaluate_compares_both_models_in_its_table(service, credit_run):
    table = service.node_output(credit_run["run_id"], "evaluate", "evaluation_results", None)
    assert len(table) == 2 and table["AUC"].between(0.6, 1).all()


def test_plots_are_named_by_the_run_and_served_as_png(service, credit_run):
    plots = credit_run["nodes"]["evaluate"]["plots"]
    assert {"roc_curve", "precision_recall_curve", "lift_curve", "confusion_matrix"} <= set(plots)
    assert plots["roc_curve"] == f"/api/runs/{credit_run['run_id']}/nodes/evaluate/plots/roc_curve"
    png = service.node_plot(credit_run["run_id"], "evaluate", "roc_curve")  # drawn now, on first view
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
    recorded = runs.get_node(service.store, credit_run["run_id"], "evaluate").plots
    assert service.artifacts.get_bytes(recorded["roc_curve"]) == png
    assert recorded["lift_curve"] == PLOT_NOT_DRAWN  # not viewed yet


def test_cross_validation_scores_every_row_once_over_ten_folds(service, credit_run):
    folds = service.node_output(credit_run["run_id"], "cross_validate", "evaluation_results_by_fold", None)
    assert folds["Fold Number"].tolist()[:10] == [str(i) for i in range(10)]
    scored = service.node_output(credit_run["run_id"], "cross_validate", "scored_results", None)
    assert len(scored) == 1000 and set(scored["Fold Number"]) == set(range(10))
