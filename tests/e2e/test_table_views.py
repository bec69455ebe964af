"""Dataset previews and profiles, and node output profiles, over HTTP."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pandas as pd

from tests.e2e.conftest import wait_for_run

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = ROOT / "samples" / "datasets" / "automobile-price-raw.csv"


def test_a_dataset_version_previews_its_first_rows_and_profiles_its_columns(api: httpx.Client):
    name = f"cars-{uuid.uuid4().hex[:6]}"
    assert api.post(f"/datasets/{name}", content=SAMPLE_CSV.read_bytes()).status_code == 201
    expected = pd.read_csv(SAMPLE_CSV)

    preview = api.get(f"/datasets/{name}/versions/1/preview", params={"rows": 3}).json()
    assert preview["rows"] == len(expected) and len(preview["data"]) == 3
    assert preview["columns"] == list(expected.columns)
    assert preview["data"][0][preview["columns"].index("make")] == expected["make"][0]

    found = api.get(f"/datasets/{name}/versions/1/profile").json()
    assert found["rows"] == found["profiled_rows"] == len(expected)
    price = next(c for c in found["columns"] if c["name"] == "price")
    assert price["kind"] == "Numeric" and price["missing"] == int(expected["price"].isna().sum())
    assert abs(price["mean"] - expected["price"].mean()) < 1e-9
    make = next(c for c in found["columns"] if c["name"] == "make")
    assert make["top_values"][0] == {
        "value": expected["make"].value_counts().index[0],
        "count": int(expected["make"].value_counts().iloc[0]),
    }


def test_bad_preview_requests_get_a_clear_4xx(api: httpx.Client):
    name = f"cars-{uuid.uuid4().hex[:6]}"
    api.post(f"/datasets/{name}", content=b"a,b\n1,2\n")
    for rows in ("0", "1001", "x"):
        bad = api.get(f"/datasets/{name}/versions/1/preview", params={"rows": rows})
        assert bad.status_code == 400 and bad.json()["error"]["problems"][0]["field"] == "rows"
    assert api.get(f"/datasets/{name}/versions/9/profile").status_code == 404


def test_a_node_output_is_profiled(api: httpx.Client):
    doc = json.loads((ROOT / "samples" / "pipelines" / "automobile-price-training.json").read_text())
    draft = api.post("/pipelines", json=doc).json()
    run_id = api.post(f"/experiments/e2e-{uuid.uuid4().hex[:8]}/runs", json={"draft_id": draft["id"]}).json()[
        "Id"
    ]
    assert wait_for_run(api, run_id)["status"] == "Finished"
    found = api.get(f"/runs/{run_id}/nodes/score/outputs/scored_dataset/profile").json()
    scored = next(c for c in found["columns"] if c["name"] == "Scored Labels")
    assert found["rows"] == 58 and scored["kind"] == "Numeric" and scored["missing"] == 0
    assert api.get(f"/runs/{run_id}/nodes/train/outputs/trained_model/profile").status_code == 400
