"""Real-time endpoint over loopback HTTP: deploy, score with keys, swagger, and a bounded load test."""
from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.e2e.conftest import wait_for_run

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())
CARS = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv")


@pytest.fixture(scope="module")
def endpoint(host_url: str) -> dict:
    from tests.e2e.conftest import FUNCTION_KEY
    with httpx.Client(base_url=f"{host_url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60) as api:
        run_id = api.post("/experiments/e2e-realtime/runs", json={"pipeline": TUTORIAL}).json()["Id"]
        assert wait_for_run(api, run_id)["status"] == "Finished"
        draft = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "realtime"}).json()
        deployed = api.post("/realtime", json={"name": f"cars-{uuid.uuid4().hex[:6]}", "draft_id": draft["id"]})
        assert deployed.status_code == 201, deployed.text
        return {**deployed.json(), "run_id": run_id}


def rows(n: int, start: int = 0) -> list[dict]:
    return json.loads(CARS.drop(columns=["price"]).iloc[start:start + n].to_json(orient="records"))


def test_scoring_with_either_key_header(host_url: str, endpoint: dict):
    url = f"{host_url}{endpoint['scoring_uri']}"
    body = {"Inputs": {"WebServiceInput0": rows(2)}, "GlobalParameters": {}}
    bearer = httpx.post(url, json=body, headers={"Authorization": f"Bearer {endpoint['keys']['primary']}"})
    api_key = httpx.post(url, json=body, headers={"api-key": endpoint["keys"]["secondary"]})
    assert bearer.status_code == api_key.status_code == 200
    assert bearer.json() == api_key.json()
    assert len(bearer.json()["Results"]["WebServiceOutput0"]) == 2
    assert bearer.headers["access-control-allow-origin"] == "*"


def test_scoring_refuses_missing_or_wrong_keys_and_bad_rows(host_url: str, endpoint: dict):
    url = f"{host_url}{endpoint['scoring_uri']}"
    body = {"dataframe_records": rows(1)}
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"api-key": "wrong"}).status_code == 401
    bad = httpx.post(url, json={"dataframe_records": [{"make": 3}]},
                     headers={"api-key": endpoint["keys"]["primary"]})
    assert bad.status_code == 400
    problems = bad.json()["error"]["problems"]
    assert ("wrong_type", "make") in {(p["code"], p.get("column")) for p in problems}
    assert sum(p["code"] == "missing_column" for p in problems) >= 10
    assert httpx.post(url, content=b"{", headers={"api-key": endpoint["keys"]["primary"]}).status_code == 400


def test_swagger_describes_the_request(host_url: str, endpoint: dict):
    url = f"{host_url}{endpoint['swagger_uri']}"
    assert httpx.get(url).status_code == 401
    doc = httpx.get(url, headers={"api-key": endpoint["keys"]["primary"]}).json()
    row = doc["components"]["schemas"]["Row"]
    assert "make" in row["required"] and "price" not in row["properties"]
    assert "normalized-losses" in row["properties"] and "normalized-losses" not in row["required"]


def test_regenerating_one_key_keeps_the_other_working(host_url: str, endpoint: dict, api: httpx.Client):
    regenerated = api.post(f"/realtime/{endpoint['name']}/keys/regenerate", json={"keyType": "Secondary"})
    assert regenerated.status_code == 200
    url = f"{host_url}{endpoint['scoring_uri']}"
    body = {"dataframe_records": rows(1)}
    assert httpx.post(url, json=body, headers={"api-key": regenerated.json()["key"]}).status_code == 200
    assert httpx.post(url, json=body, headers={"api-key": endpoint["keys"]["primary"]}).status_code == 200


def test_load_on_loopback_shows_no_errors(host_url: str, endpoint: dict):
    """Bounded: 400 requests from 8 threads, stopping after 60 s whatever happens."""
    url = f"{host_url}{endpoint['scoring_uri']}"
    headers = {"api-key": endpoint["keys"]["primary"]}
    deadline = time.monotonic() + 60
    statuses: list[int] = []

    def worker(i: int) -> list[int]:
        codes = []
        with httpx.Client(headers=headers, timeout=10) as client:
            for j in range(50):
                if time.monotonic() > deadline:
                    break
                codes.append(client.post(url, json={"dataframe_records": rows(1, (i * 50 + j) % 190)}).status_code)
        return codes

    with ThreadPoolExecutor(8) as pool:
        for codes in pool.map(worker, range(8)):
            statuses += codes
    assert len(statuses) == 400 and set(statuses) == {200}
