"""Real-time endpoints against a real Azurite: schema capture, scoring formats, errors, keys."""
from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest

from core import realtime
from core.errors import InvalidRequest, NotFound, Unauthorized
from core.graph import Binding, Pipeline, PipelineParameter
from core.realtime_service import RealtimeSource
from core.service import Submission
from tests.core.test_service import run_inline, tutorial


@pytest.fixture(scope="module")
def trained(service) -> dict:
    run, job = service.submit(Submission(experiment="realtime", pipeline=tutorial()))
    run_inline(service, job)
    return service.get_run(run.run_id)


@pytest.fixture(scope="module")
def deployed(service, trained) -> tuple[realtime.RealtimeEndpoint, dict[str, str]]:
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    return service.realtime.deploy(f"cars-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "demo", "t")


@pytest.fixture(scope="module")
def cars(service) -> pd.DataFrame:
    return pd.read_csv(service.samples_dir / "automobile-price-raw.csv")


def rows(cars: pd.DataFrame, n: int = 3, start: int = 10) -> list[dict]:
    return json.loads(cars.drop(columns=["price"]).iloc[start:start + n].to_json(orient="records"))


def test_schema_is_captured_without_the_label_and_knows_what_is_needed(deployed):
    endpoint, keys = deployed
    schema = {c.name: c for c in endpoint.schema_}
    assert "price" not in schema and len(schema) == 25
    assert schema["make"].type == "string" and schema["make"].required
    assert schema["horsepower"].type == "number" and schema["curb-weight"].type == "integer"
    assert not schema["normalized-losses"].required  # the pipeline excludes it
    assert set(keys) == {"primary", "secondary"} and keys["primary"] != keys["secondary"]
    assert (endpoint.input_name, endpoint.output_name) == ("WebServiceInput0", "WebServiceOutput0")


def test_keys_are_stored_only_as_hashes(deployed, store):
    endpoint, keys = deployed
    stored = json.dumps(store.partition("realtimekeys", endpoint.name), default=str)
    assert keys["primary"] not in stored and keys["secondary"] not in stored


def test_designer_request_scores_like_the_batch_path(service, deployed, trained, cars):
    endpoint, keys = deployed
    batch = service.node_output(trained["run_id"], "score", "scored_dataset", None)
    sample = batch.drop(columns=["price", "Scored Labels"]).head(4)
    body = {"Inputs": {"WebServiceInput0": json.loads(sample.to_json(orient="records"))}, "GlobalParameters": {}}
    result = service.realtime.score(endpoint.name, keys["primary"], body)
    scored = result["Results"]["WebServiceOutput0"]
    assert [round(r["Scored Labels"], 6) for r in scored] == [round(v, 6) for v in batch["Scored Labels"].head(4)]
    assert "price" not in scored[0]


def test_mlflow_request_shapes(service, deployed, cars):
    endpoint, keys = deployed
    sample = rows(cars, 2)
    columns = list(sample[0])
    expected = service.realtime.score(endpoint.name, keys["secondary"], {"dataframe_records": sample})
    assert set(expected) == {"predictions"} and len(expected["predictions"]) == 2
    split = {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in sample]}}
    assert service.realtime.score(endpoint.name, keys["primary"], split) == expected
    assert service.realtime.score(endpoint.name, keys["primary"], {"instances": sample}) == expected
    schema_order = [c.name for c in endpoint.schema_]
    listed = {"instances": [[r.get(c) for c in schema_order] for r in sample]}
    assert service.realtime.score(endpoint.name, keys["primary"], listed) == expected


def test_safe_upcast_extra_columns_and_optional_columns(service, deployed, cars):
    endpoint, keys = deployed
    [row] = rows(cars, 1)
    baseline = service.realtime.score(endpoint.name, keys["primary"], {"dataframe_records": [row]})
    changed = {**row, "horsepower": int(row["horsepower"]), "unexpected": "ignored"}
    del changed["normalized-losses"]
    again = service.realtime.score(endpoint.name, keys["primary"], {"dataframe_records": [changed]})
    assert again["predictions"][0]["Scored Labels"] == pytest.approx(baseline["predictions"][0]["Scored Labels"])


def test_every_schema_problem_is_named_without_echoing_values(service, deployed, cars):
    endpoint, keys = deployed
    [row] = rows(cars, 1)
    bad = {**row, "horsepower": "secret-value-123", "curb-weight": 2.5}
    del bad["make"]
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(endpoint.name, keys["primary"], {"Inputs": {"WebServiceInput0": [bad]}})
    problems = {(p.code, p.column) for p in err.value.problems}
    assert problems == {("missing_column", "make"), ("wrong_type", "horsepower"), ("wrong_type", "curb-weight")}
    assert "secret-value-123" not in json.dumps(err.value.to_body())


@pytest.mark.parametrize("body, code", [
    ({}, "empty_request"), (None, "empty_request"), ({"Inputs": {"WebServiceInput0": []}}, "no_rows"),
    ({"Inputs": {"Other": [{}]}}, "missing_input"), ({"nothing": 1}, "unknown_request_shape"),
    ({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}, "invalid_dataframe_split"),
])
def test_malformed_bodies(service, deployed, body, code):
    endpoint, keys = deployed
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(endpoint.name, keys["primary"], body)
    assert err.value.problems[0].code == code


def test_keys_missing_wrong_and_regenerated(service, deployed, cars):
    endpoint, keys = deployed
    body = {"dataframe_records": rows(cars, 1)}
    for key in (None, "", "wrong", keys["primary"] + "x"):
        with pytest.raises(Unauthorized):
            service.realtime.score(endpoint.name, key, body)
    new_primary = realtime.regenerate_key(service.store, endpoint.name, "primary")
    service.realtime.forget(endpoint.name)
    with pytest.raises(Unauthorized):
        service.realtime.score(endpoint.name, keys["primary"], body)
    assert service.realtime.score(endpoint.name, new_primary, body)["predictions"]
    assert service.realtime.score(endpoint.name, keys["secondary"], body)["predictions"]


def test_update_to_another_version_and_delete(service, trained, cars):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    name = f"upd-{uuid.uuid4().hex[:6]}"
    endpoint, keys = service.realtime.deploy(name, RealtimeSource(draft_id=draft.id), "", None)
    published = service.publish(draft.id, f"rt-{name}", "", True, None)
    updated = service.realtime.update(name, RealtimeSource(pipeline_endpoint=published.endpoint), None, None)
    assert updated.deployment == 2 and "version 1" in updated.source
    assert service.realtime.score(name, keys["primary"], {"dataframe_records": rows(cars, 1)})["predictions"]
    realtime.delete(service.store, name)
    service.realtime.forget(name)
    with pytest.raises(NotFound):
        service.realtime.score(name, keys["primary"], {"dataframe_records": rows(cars, 1)})


def test_only_realtime_pipelines_deploy(service, trained):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    with pytest.raises(InvalidRequest) as err:
        service.realtime.deploy(f"b-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", None)
    assert err.value.problems[0].code == "not_realtime"


def test_global_parameters_set_pipeline_parameters_per_request(service, cars):
    doc = tutorial()
    doc.parameters.append(PipelineParameter(name="append_scores", default=True,
                                            bindings=[Binding(node="score", parameter="append_score_columns")]))
    run, job = service.submit(Submission(experiment="realtime", pipeline=doc))
    run_inline(service, job)
    draft, _ = service.create_inference_pipeline(run.run_id, "realtime")
    assert [p.name for p in service.get_draft(draft.id)[1].parameters] == ["append_scores"]
    endpoint, keys = service.realtime.deploy(f"glob-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", None)
    body = {"Inputs": {"WebServiceInput0": rows(cars, 2)}}
    full = service.realtime.score(endpoint.name, keys["primary"], body)["Results"]["WebServiceOutput0"]
    only = service.realtime.score(endpoint.name, keys["primary"], {**body, "GlobalParameters": {"append_scores": False}})
    assert len(full[0]) > 20 and list(only["Results"]["WebServiceOutput0"][0]) == ["Scored Labels"]
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(endpoint.name, keys["primary"], {**body, "GlobalParameters": {"nope": 1,
                                                                                              "append_scores": "x"}})
    assert {p.code for p in err.value.problems} == {"unknown_global_parameter", "invalid_global_parameter"}


def test_a_normalize_step_fitted_with_the_label_still_scores_without_it(service, cars):
    """Normalize Data's default takes every numeric column, the label too; callers send no label."""
    doc = tutorial().model_dump(mode="json")
    doc["nodes"].append({"id": "normalize", "component": "Normalize Data"})
    doc["edges"] = [e for e in doc["edges"] if e["source"]["node"] != "clean"] + [
        {"source": "clean.cleaned_dataset", "target": "normalize.dataset"},
        {"source": "normalize.transformed_dataset", "target": "split.dataset"}]
    run, job = service.submit(Submission(experiment="realtime", pipeline=Pipeline.model_validate(doc)))
    run_inline(service, job)
    draft, problems = service.create_inference_pipeline(run.run_id, "realtime")
    assert problems == [] and "TD-normalize" in {n.id for n in service.get_draft(draft.id)[1].nodes}
    endpoint, keys = service.realtime.deploy(f"norm-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", None)
    scored = service.realtime.score(endpoint.name, keys["primary"], {"dataframe_records": rows(cars, 2)})
    assert len(scored["predictions"]) == 2 and "price" not in scored["predictions"][0]
