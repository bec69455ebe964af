"""Hostile input over HTTP: every bad request gets a 4xx that says why, and nothing else leaks."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import FUNCTION_KEY

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "pipelines" / "automobile-price-training.json"
LONG = "n" * 20_000


def tutorial() -> dict:
    return json.loads(SAMPLE.read_text())


def assert_refused(answer: httpx.Response, status: int = 400) -> dict:
    assert answer.status_code == status, answer.text[:500]
    error = answer.json()["error"]
    assert error["code"] and error["message"]
    for leak in ("ArrowInvalid", "set_int_max_str_digits", "Traceback", "RecursionError"):
        assert leak not in answer.text
    return error


@pytest.mark.parametrize(
    "route",
    ["/pipelines", "/validate", "/experiments/deep/runs", "/realtime", "/pipelineendpoints/deep/versions"],
)
def test_json_nested_a_thousand_levels_deep_is_a_400(api: httpx.Client, route: str):
    body = '{"pipeline": ' + "[" * 1000 + "]" * 1000 + "}"
    error = assert_refused(api.post(route, content=body.encode()))
    assert error["problems"][0]["code"] == "json_too_deep"


def test_a_number_with_too_many_digits_names_no_python_internals(api: httpx.Client):
    error = assert_refused(api.post("/validate", content=b'{"name": ' + b"9" * 5000 + b"}"))
    assert error["problems"][0]["field"] == "body"


def test_a_stale_or_malformed_if_match_is_a_412(api: httpx.Client):
    created = api.post("/pipelines", json=tutorial())
    draft_id, etag = created.json()["id"], created.headers["ETag"]
    assert api.put(f"/pipelines/{draft_id}", json=tutorial(), headers={"If-Match": etag}).status_code == 200
    stale = api.put(f"/pipelines/{draft_id}", json=tutorial(), headers={"If-Match": etag})
    assert assert_refused(stale, 412)["problems"][0]["field"] == "If-Match"
    malformed = api.put(f"/pipelines/{draft_id}", json=tutorial(), headers={"If-Match": "not-an-etag"})
    assert_refused(malformed, 412)
    current = api.get(f"/pipelines/{draft_id}").headers["ETag"]
    assert (
        api.put(f"/pipelines/{draft_id}", json=tutorial(), headers={"If-Match": current}).status_code == 200
    )
    assert api.put(f"/pipelines/{draft_id}", json=tutorial(), headers={"If-Match": "*"}).status_code == 200


def test_endpoint_default_changes_honour_if_match(api: httpx.Client):
    draft = api.post("/pipelines", json=tutorial()).json()["id"]
    name = f"ifm-{uuid.uuid4().hex[:6]}"
    for _ in range(2):
        assert api.post(f"/pipelineendpoints/{name}/versions", json={"draft_id": draft}).status_code == 201
    etag = api.get(f"/pipelineendpoints/{name}").headers["ETag"]
    changed = api.put(f"/pipelineendpoints/{name}/default", json={"version": 2}, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.json()["default_version"] == 2
    stale = api.put(f"/pipelineendpoints/{name}/default", json={"version": 1}, headers={"If-Match": etag})
    assert_refused(stale, 412)
    assert api.get(f"/pipelineendpoints/{name}").json()["default_version"] == 2
    assert_refused(api.post(f"/pipelineendpoints/{name}/rollback", headers={"If-Match": "garbage"}), 412)


@pytest.mark.parametrize(
    "method, route",
    [
        ("GET", "/datasets/{n}"),
        ("POST", "/datasets/{n}"),
        ("GET", "/datasets/{n}/versions/1"),
        ("GET", "/pipelines/{n}"),
        ("PUT", "/pipelines/{n}"),
        ("DELETE", "/pipelines/{n}"),
        ("GET", "/experiments/{n}/runs"),
        ("POST", "/experiments/{n}/runs"),
        ("GET", "/runs/{n}"),
        ("GET", "/runs/{n}/nodes/x"),
        ("GET", "/assets/{n}"),
        ("GET", "/pipelineendpoints/{n}"),
        ("POST", "/pipelineendpoints/{n}/versions"),
        ("GET", "/realtime/{n}"),
        ("DELETE", "/realtime/{n}"),
        ("POST", "/realtime/{n}/score"),
    ],
)
def test_a_20000_character_name_is_a_400_naming_the_rule(api: httpx.Client, method: str, route: str):
    answer = api.request(method, route.format(n=LONG), content=b"a\n1\n" if method != "GET" else None)
    error = assert_refused(answer)
    assert error["problems"][0]["code"] == "invalid_name" and LONG not in answer.text


def test_names_in_bodies_are_checked_too(api: httpx.Client):
    assert_refused(api.post("/realtime", json={"name": LONG, "draft_id": "x"}))
    assert_refused(api.post("/pipelineendpoints/ok-name/versions", json={"draft_id": LONG}))
    assert_refused(api.post("/datasets/ok-name", content=b"a\n1\n", params={"description": "d" * 20_000}))


def test_text_kept_in_table_rows_is_bounded_before_storage(api: httpx.Client):
    """A description or assignments past what a table property holds is a 400, not a storage fault."""
    assert_refused(api.post("/pipelines", json={**tutorial(), "description": "d" * 40_000}))
    big = {"training_fraction": "x" * 40_000}
    assert_refused(
        api.post("/experiments/big/runs", json={"pipeline": tutorial(), "parameter_assignments": big})
    )
    draft = api.post("/pipelines", json=tutorial()).json()["id"]
    assert_refused(
        api.post(
            "/pipelineendpoints/big-text/versions", json={"draft_id": draft, "description": "d" * 40_000}
        )
    )


def test_a_ragged_csv_is_refused_naming_its_first_bad_lines(api: httpx.Client):
    name = f"ragged-{uuid.uuid4().hex[:6]}"
    error = assert_refused(api.post(f"/datasets/{name}", content=b"a,b\n1,2,3,4\n5\n"))
    assert [p["field"] for p in error["problems"]] == ["line 2", "line 3"]
    assert api.get(f"/datasets/{name}").status_code == 404


def test_a_csv_with_1500_columns_is_registered(api: httpx.Client):
    header = ",".join(f"column_number_{i:05d}" for i in range(1500))
    name = f"wide-{uuid.uuid4().hex[:6]}"
    created = api.post(f"/datasets/{name}", content=f"{header}\n{','.join(['1'] * 1500)}\n".encode())
    assert created.status_code == 201, created.text[:300]
    assert len(api.get(f"/datasets/{name}").json()["columns"]) == 1500


def test_validation_reports_switched_off_components_and_the_catalogue_says_so(api: httpx.Client):
    # The test host turns Execute Python Script on (for slow nodes) and leaves SQL off.
    doc = {
        "nodes": [
            {"id": "data", "component": "Enter Data Manually", "parameters": {"Data": "a\n1\n"}},
            {
                "id": "sql",
                "component": "Apply SQL Transformation",
                "parameters": {"sql_query_script": "select * from t1"},
            },
        ],
        "edges": [{"source": "data.dataset", "target": "sql.t1"}],
    }
    answer = api.post("/validate", json=doc).json()
    assert [(p["code"], p["node"]) for p in answer["problems"]] == [("component_disabled", "sql")]
    assert "DESIGNER_ENABLE_SQL" in answer["problems"][0]["message"]
    assert_refused(api.post("/experiments/off/runs", json={"pipeline": doc}))
    catalogue = {c["id"]: c for c in api.get("/components").json()["value"]}
    assert catalogue["apply_sql_transformation"]["enabled"] is False
    assert catalogue["execute_python_script"]["enabled"] is True
    assert catalogue["execute_python_script"]["deterministic"] is False
    assert catalogue["apply_sql_transformation"]["deterministic"] is False
    assert catalogue["split_data"]["enabled"] is True


def test_pipeline_parameter_names_and_bindings_are_unique(api: httpx.Client):
    draft = api.post("/pipelines", json=tutorial()).json()["id"]
    taken = api.post(
        f"/pipelines/{draft}/parameters",
        json={"name": "training_fraction", "node": "train", "parameter": "Label column"},
    )
    assert assert_refused(taken, 409)["problems"][0]["field"] == "parameters.training_fraction"
    bound = api.post(
        f"/pipelines/{draft}/parameters", json={"name": "share", "node": "split", "parameter": "fraction"}
    )
    assert assert_refused(bound, 409)["problems"][0]["code"] == "parameter_bound_twice"


def test_the_api_document_describes_every_route_from_the_parsing_models(api: httpx.Client, host_url: str):
    assert httpx.get(f"{host_url}/api/openapi.json").status_code == 401  # the function key, as everywhere
    doc = api.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    import function_app
    from devhost.app_index import AppIndex

    for route in AppIndex.from_app(function_app.app).http:
        path = "/" + route.route.replace(":int", "").replace("{*", "{")  # a catch-all is one parameter
        for method in route.methods or ():
            assert method.lower() in doc["paths"][path], (method, path)
    create = doc["paths"]["/pipelines"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pipeline"
    }
    from core.pipelines.document import Pipeline

    assert set(doc["components"]["schemas"]["Pipeline"]["properties"]) == set(Pipeline.model_fields)
    assert doc["paths"]["/pipelines/{draft_id}"]["put"]["responses"]["412"]
    assert FUNCTION_KEY not in json.dumps(doc)
