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

    with httpx.Client(
        base_url=f"{host_url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60
    ) as api:
        run_id = api.post("/experiments/e2e-realtime/runs", json={"pipeline": TUTORIAL}).json()["Id"]
        assert wait_for_run(api, run_id)["status"] == "Finished"
        draft = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "realtime"}).json()
        deployed = api.post(
            "/realtime", json={"name": f"cars-{uuid.uuid4().hex[:6]}", "draft_id": draft["id"]}
        )
        assert deployed.status_code == 201, deployed.text
        return {**deployed.json(), "run_id": run_id}


def rows(n: int, start: int = 0) -> list[dict]:
    return json.loads(CARS.drop(columns=["price"]).iloc[start : start + n].to_json(orient="records"))


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
    bad = httpx.post(
        url, json={"dataframe_records": [{"make": 3}]}, headers={"api-key": endpoint["keys"]["primary"]}
    )
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
                codes.append(
                    client.post(url, json={"dataframe_records": rows(1, (i * 50 + j) % 190)}).status_code
                )
        return codes

    with ThreadPoolExecutor(8) as pool:
        for codes in pool.map(worker, range(8)):
            statuses += codes
    assert len(statuses) == 400 and set(statuses) == {200}


# ---- the compiled path over HTTP: same answers, dropped rows, error shapes -------------------------
GERMAN = json.loads((ROOT / "samples/pipelines/german-credit-classification.json").read_text())


def scored_output(api: httpx.Client, run_id: str, node: str) -> pd.DataFrame:
    split = api.get(f"/runs/{run_id}/nodes/{node}/outputs/scored_dataset", params={"format": "json"}).json()
    return pd.DataFrame(split["data"], columns=split["columns"])


def test_the_tutorial_endpoint_is_compiled_and_answers_as_its_training_run(
    host_url: str, endpoint: dict, api
):
    assert endpoint["serving"]["path"] == "compiled", endpoint["serving"]
    batch = scored_output(api, endpoint["run_id"], "score")
    inputs = json.loads(batch.drop(columns=["price", "Scored Labels"]).head(25).to_json(orient="records"))
    url = f"{host_url}{endpoint['scoring_uri']}"
    headers = {"api-key": endpoint["keys"]["primary"]}
    together = httpx.post(url, json={"Inputs": {"WebServiceInput0": inputs}}, headers=headers).json()
    alone = [
        httpx.post(url, json={"dataframe_records": [row]}, headers=headers).json()["predictions"][0]
        for row in inputs[:10]
    ]
    labels = [r["Scored Labels"] for r in together["Results"]["WebServiceOutput0"]]
    assert labels == pytest.approx(batch["Scored Labels"].head(25).tolist(), rel=1e-9)
    assert [r["Scored Labels"] for r in alone] == pytest.approx(labels[:10], rel=1e-9)
    assert "dropped_rows" not in together


def test_the_german_credit_endpoint_answers_as_its_training_run(host_url: str, api):
    run_id = api.post("/experiments/e2e-realtime/runs", json={"pipeline": GERMAN}).json()["Id"]
    assert wait_for_run(api, run_id, timeout=300)["status"] == "Finished"
    draft = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "realtime"})
    assert draft.status_code in (200, 201), draft.text
    draft_id = draft.json()["id"]
    served = keep_one_output(api, draft_id, "score_logistic")
    deployed = api.post("/realtime", json={"name": f"credit-{uuid.uuid4().hex[:6]}", "draft_id": draft_id})
    assert deployed.status_code == 201, deployed.text
    endpoint = deployed.json()
    assert endpoint["serving"]["path"] == "compiled", endpoint["serving"]
    columns = [c["name"] for c in endpoint["input_schema"]]
    credit = pd.read_csv(ROOT / "samples/datasets/german-credit.csv")
    inputs = json.loads(credit[columns].head(30).to_json(orient="records"))
    url = f"{host_url}{endpoint['scoring_uri']}"
    headers = {"api-key": endpoint["keys"]["primary"]}
    together = httpx.post(url, json={"dataframe_records": inputs}, headers=headers)
    assert together.status_code == 200, together.text
    scored = together.json()["predictions"]
    assert len(scored) == 30 and {"Scored Labels", "Scored Probabilities"} <= set(scored[0])
    for i, row in enumerate(inputs[:8]):  # one by one: the same labels and probabilities
        [one] = httpx.post(url, json={"dataframe_records": [row]}, headers=headers).json()["predictions"]
        assert one["Scored Labels"] == scored[i]["Scored Labels"]
        assert one["Scored Probabilities"] == pytest.approx(scored[i]["Scored Probabilities"], abs=1e-6)
    batch = scored_output(api, run_id, served)  # the run scored its test split: the same rows score alike
    rows_ = json.loads(batch[columns].head(20).to_json(orient="records"))
    answer = httpx.post(url, json={"dataframe_records": rows_}, headers=headers).json()["predictions"]
    assert [a["Scored Labels"] for a in answer] == batch["Scored Labels"].head(20).tolist()
    assert [a["Scored Probabilities"] for a in answer] == pytest.approx(
        batch["Scored Probabilities"].head(20).tolist(), abs=1e-6
    )  # ONNX Runtime within its checked tolerance


def keep_one_output(api: httpx.Client, draft_id: str, scorer: str) -> str:
    """The german credit pipeline scores two models, so its draft has two Web Service Outputs; an
    endpoint answers with one: keep ``scorer``'s, drop the other model's scoring."""
    got = api.get(f"/pipelines/{draft_id}")
    doc = got.json()["pipeline"]
    fed_by = {e["target"]["node"]: e["source"]["node"] for e in doc["edges"]}
    outputs = [n["id"] for n in doc["nodes"] if n["component"] == "web_service_output"]
    drop = {o for o in outputs if fed_by[o] != scorer} | {fed_by[o] for o in outputs if fed_by[o] != scorer}
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] not in drop]
    doc["edges"] = [
        e for e in doc["edges"] if e["source"]["node"] not in drop and e["target"]["node"] not in drop
    ]
    doc["outputs"] = [o for o in doc["outputs"] if o["node"] not in drop]
    put = api.put(f"/pipelines/{draft_id}", json=doc, headers={"If-Match": got.headers["etag"]})
    assert put.status_code == 200, put.text
    return scorer


def test_rows_the_pipeline_removes_are_reported(host_url: str, endpoint: dict):
    url = f"{host_url}{endpoint['scoring_uri']}"
    sample = rows(3, 10)
    sample[1]["horsepower"] = None  # Clean Missing Data removes rows missing it
    answer = httpx.post(
        url, json={"dataframe_records": sample}, headers={"api-key": endpoint["keys"]["primary"]}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["predictions"]) == 2
    assert [(d["row"], "Clean Missing Data" in d["reason"]) for d in body["dropped_rows"]] == [(1, True)]


def assert_error_shape(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert {"code", "message"} <= set(error)
    return error


def test_errors_keep_their_shape(host_url: str, endpoint: dict):
    url = f"{host_url}{endpoint['scoring_uri']}"
    headers = {"api-key": endpoint["keys"]["primary"]}
    [row] = rows(1)
    wrong = assert_error_shape(
        httpx.post(url, json={"dataframe_records": [{**row, "make": 3}]}, headers=headers), 400
    )
    assert [(p["code"], p["column"]) for p in wrong["problems"]] == [("wrong_type", "make")]
    for value in (9223372036854775808, 1e30):
        big = httpx.post(
            url,
            content=json.dumps({"dataframe_records": [{**row, "curb-weight": value}]}),
            headers={**headers, "content-type": "application/json"},
        )
        assert [(p["code"], p["column"]) for p in assert_error_shape(big, 400)["problems"]] == [
            ("wrong_type", "curb-weight")
        ]
    null = assert_error_shape(
        httpx.post(url, json={"dataframe_records": [{**row, "make": None}]}, headers=headers), 400
    )
    assert [(p["code"], p["column"]) for p in null["problems"]] == [("missing_value", "make")]


def test_deep_json_and_unknown_endpoints(host_url: str, endpoint: dict):
    url = f"{host_url}{endpoint['scoring_uri']}"
    deep = b"[" * 1000 + b"]" * 1000
    assert_error_shape(httpx.post(url, content=deep), 401)  # no key: the body is never parsed
    too_deep = assert_error_shape(
        httpx.post(url, content=deep, headers={"api-key": endpoint["keys"]["primary"]}), 400
    )
    assert too_deep["problems"][0]["code"] == "too_deep"
    unknown = httpx.post(
        f"{host_url}/api/realtime/no-such-endpoint/score",
        json={"dataframe_records": rows(1)},
        headers={"api-key": endpoint["keys"]["primary"]},
    )
    wrong_key = httpx.post(url, json={"dataframe_records": rows(1)}, headers={"api-key": "wrong"})
    assert_error_shape(unknown, 401)
    assert unknown.json() == wrong_key.json()
    swagger = httpx.get(f"{host_url}/api/realtime/no-such-endpoint/swagger.json", headers={"api-key": "x"})
    assert_error_shape(swagger, 401)


def test_the_test_route_scores_as_score_does_with_the_function_key(host_url: str, endpoint: dict, api):
    body = {"Inputs": {"WebServiceInput0": rows(3)}}
    scored = httpx.post(
        f"{host_url}{endpoint['scoring_uri']}", json=body, headers={"api-key": endpoint["keys"]["primary"]}
    )
    tested = api.post(f"/realtime/{endpoint['name']}/test", json=body)
    assert tested.status_code == 200, tested.text
    assert tested.json() == scored.json()
    mlflow = api.post(f"/realtime/{endpoint['name']}/test", json={"dataframe_records": rows(1)})
    assert mlflow.json()["predictions"] == scored.json()["Results"]["WebServiceOutput0"][:1]
    # the endpoint's own key is not the management key, and a name nobody deployed is a 404
    refused = httpx.post(
        f"{host_url}/api/realtime/{endpoint['name']}/test",
        json=body,
        headers={"api-key": endpoint["keys"]["primary"]},
    )
    assert refused.status_code == 401
    assert api.post("/realtime/no-such-endpoint/test", json=body).status_code == 404
    bad = api.post(f"/realtime/{endpoint['name']}/test", json={"Inputs": {}})
    assert bad.status_code == 400 and bad.json()["error"]["problems"]
