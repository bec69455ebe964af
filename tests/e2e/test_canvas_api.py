"""What the canvas needs of the API, over HTTP: empty drafts, positions, cheap run polling."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import wait_for_run

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "pipelines" / "automobile-price-training.json"


def test_an_empty_draft_is_saved_read_edited_and_refused_for_runs(api: httpx.Client):
    created = api.post("/pipelines", json={})
    assert created.status_code == 201
    draft_id = created.json()["id"]
    read = api.get(f"/pipelines/{draft_id}")
    assert read.status_code == 200
    assert read.json()["pipeline"]["nodes"] == []
    assert [p["code"] for p in read.json()["problems"]] == ["no_nodes"]

    renamed = api.put(
        f"/pipelines/{draft_id}", json={"name": "My canvas"}, headers={"If-Match": read.headers["etag"]}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "My canvas"

    experiment = f"e2e-{uuid.uuid4().hex[:8]}"
    for body in ({"draft_id": draft_id}, {"pipeline": {}}):
        refused = api.post(f"/experiments/{experiment}/runs", json=body)
        assert refused.status_code == 400, refused.text
        assert "no_nodes" in [p["code"] for p in refused.json()["error"]["problems"]]
    assert api.get(f"/experiments/{experiment}/runs").json()["value"] == []


def test_node_positions_are_saved_with_the_draft(api: httpx.Client):
    doc = json.loads(SAMPLE.read_text())
    for i, node in enumerate(doc["nodes"]):
        node["position"] = {"x": 100 + i, "y": 80.25 * i}
    draft = api.post("/pipelines", json=doc).json()
    assert draft["valid"] is True
    saved = api.get(f"/pipelines/{draft['id']}").json()["pipeline"]["nodes"]
    assert [n["position"] for n in saved] == [n["position"] for n in doc["nodes"]]


def test_polling_a_run_answers_304_while_nothing_changed(api: httpx.Client):
    draft = api.post("/pipelines", json=json.loads(SAMPLE.read_text())).json()
    submitted = api.post(f"/experiments/e2e-{uuid.uuid4().hex[:8]}/runs", json={"draft_id": draft["id"]})
    run_id = submitted.json()["Id"]
    wait_for_run(api, run_id)
    first = api.get(f"/runs/{run_id}")
    assert first.status_code == 200 and first.headers["etag"]
    again = api.get(f"/runs/{run_id}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = api.get(f"/runs/{run_id}", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.json()["status"] == first.json()["status"]
