"""Comparing two runs of the german credit pipeline over HTTP."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import wait_for_run

GERMAN = Path(__file__).resolve().parents[2] / "samples" / "pipelines" / "german-credit-classification.json"


def run_german(api: httpx.Client, experiment: str, fraction: float) -> str:
    doc = json.loads(GERMAN.read_text())
    next(n for n in doc["nodes"] if n["id"] == "split")["parameters"][
        "Fraction of rows in the first output dataset"
    ] = fraction
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "cross_validate"]  # not needed here
    doc["edges"] = [e for e in doc["edges"] if not e["target"].startswith("cross_validate.")]
    submitted = api.post(f"/experiments/{experiment}/runs", json={"pipeline": doc})
    assert submitted.status_code == 202, submitted.text
    run = wait_for_run(api, submitted.json()["Id"])
    assert run["status"] == "Finished", run
    return run["run_id"]


def test_two_runs_compare_parameters_metrics_and_curves(api: httpx.Client):
    experiment = f"e2e-{uuid.uuid4().hex[:8]}"
    first, second = run_german(api, experiment, 0.7), run_german(api, experiment, 0.5)

    found = api.get("/compare", params={"runs": f"{first},{second}"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert [r["run_id"] for r in body["runs"]] == [first, second]
    differing = [(r["node"], r["parameter"], r["values"]) for r in body["parameters"] if r["differs"]]
    assert differing == [("split", "fraction", [0.7, 0.5])]
    auc = next(r for r in body["metrics"] if r["node"] == "evaluate" and r["metric"] == "AUC")
    assert all(0.5 < v <= 1 for v in auc["values"]) and auc["differs"]

    for name in ("roc_curve", "precision_recall_curve"):
        plot = api.get(body["plots"][name].removeprefix("/api"))
        assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
    assert api.get("/compare", params={"runs": first}).status_code == 400
    assert api.get("/compare", params={"runs": f"{first},nope"}).status_code == 404
    assert api.get("/compare/plots/lift", params={"runs": f"{first},{second}"}).status_code == 404
