"""The API document: every route declared, request schemas taken from the parsing models."""

from __future__ import annotations

import azure.functions as func
import pytest

import function_app  # noqa: F401 - registers every blueprint
from core import names
from core.pipelines.document import Pipeline
from functions import openapi


def test_every_http_route_declares_its_contract():
    undeclared = [
        (route, method, name) for route, method, name, _ in openapi.routes() if name not in openapi.REGISTRY
    ]
    assert undeclared == [], "add @api(...) under @bp.route for these"


def test_request_schemas_are_the_parsing_models_own():
    doc = openapi.document("")
    assert doc["openapi"] == "3.1.0"
    body = doc["paths"]["/pipelines"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Pipeline"}
    expected = Pipeline.model_json_schema(ref_template="#/components/schemas/{model}")
    expected.pop("$defs")
    assert doc["components"]["schemas"]["Pipeline"] == expected
    name = doc["paths"]["/datasets/{name}"]["post"]["parameters"][0]
    assert name["schema"]["pattern"] == names.NAME


def test_path_names_are_checked_before_the_route_runs():
    called = []

    @openapi.api("probe", name_kind="dataset")
    def probe(req):
        called.append(req)
        return func.HttpResponse("ok")

    bad = func.HttpRequest("GET", "http://x/api/datasets/x", body=b"", route_params={"name": "n" * 20_000})
    assert probe(bad).status_code == 400 and not called
    good = func.HttpRequest("GET", "http://x/api/datasets/x", body=b"", route_params={"name": "cars"})
    assert probe(good).status_code == 200 and called
    openapi.REGISTRY.pop("probe")


@pytest.mark.parametrize("route", ["/realtime/{name}/score", "/realtime/{name}/swagger.json"])
def test_scoring_routes_are_described_with_the_endpoint_key(route):
    operation = next(iter(openapi.document("")["paths"][route].values()))
    assert operation["security"] == [{"EndpointKey": []}, {"Bearer": []}]


def test_every_http_module_of_the_package_is_described():
    from pathlib import Path

    files = {p.stem for p in Path(openapi.__file__).parent.glob("http_*.py")} | {"timers"}
    assert files <= {m.__name__.rsplit(".", 1)[1] for m in openapi.http_modules()}
    described = {name for _, _, name, _ in openapi.routes()}
    assert {"compare_runs", "create_schedule", "collect_garbage", "drop_file", "delete_run"} <= described


def test_a_catch_all_route_is_one_path_parameter():
    path, parameters = openapi._path("ui/{*path}", openapi.Operation(summary="static files"))
    assert path == "/ui/{path}"
    assert parameters == [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}]
