"""The runs of every experiment, newest first, filtered and paged (the studio's Jobs list)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import wait_for_run

TUTORIAL = json.loads(
    (Path(__file__).resolve().parents[2] / "samples/pipelines/automobile-price-training.json").read_text()
)


def test_runs_of_every_experiment_newest_first_filtered_and_paged(api: httpx.Client):
    experiment = f"e2e-jobs-{uuid.uuid4().hex[:6]}"
    ids = []
    for _ in range(3):
        ids.append(api.post(f"/experiments/{experiment}/runs", json={"pipeline": TUTORIAL}).json()["Id"])
        wait_for_run(api, ids[-1])

    mine = api.get("/runs", params={"experiment": experiment}).json()
    assert [r["run_id"] for r in mine["value"]] == ids[::-1] and mine["count"] == 3
    page = api.get("/runs", params={"experiment": experiment, "top": 2, "skip": 1}).json()
    assert [r["run_id"] for r in page["value"]] == ids[1::-1]
    assert all(r["submitted_by"] == "function-key" for r in page["value"])

    everywhere = api.get("/runs", params={"status": "Finished", "top": 200}).json()
    assert set(ids) <= {r["run_id"] for r in everywhere["value"]}
    assert {r["status"] for r in everywhere["value"]} == {"Finished"}
    assert api.get("/runs", params={"status": "Failed", "experiment": experiment}).json()["value"] == []

    assert api.get("/runs", params={"endpoint": f"none-{experiment}"}).json()["value"] == []

    for bad in ({"status": "Done"}, {"top": "0"}, {"top": "201"}, {"skip": "-1"}):
        refused = api.get("/runs", params=bad)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["problems"][0]["field"] in bad
