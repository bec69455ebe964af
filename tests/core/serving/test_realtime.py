"""Real-time endpoints against a real Azurite: schema capture, scoring formats, errors, keys."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest

from core.errors import InvalidRequest, Unauthorized
from core.pipelines.document import Binding, Pipeline, PipelineParameter
from core.service.facade import Submission
from core.service.realtime import RealtimeSource
from core.serving import deployments, requests
from tests.core.service.test_service import run_inline, tutorial


@pytest.fixture(scope="module")
def trained(service) -> dict:
    run, job = service.submit(Submission(experiment="realtime", pipeline=tutorial()))
    run_inline(service, job)
    return service.get_run(run.run_id)


@pytest.fixture(scope="module")
def deployed(service, trained) -> tuple[deployments.RealtimeEndpoint, dict[str, str]]:
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    return service.realtime.deploy(
        f"cars-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "demo", "t"
    )


@pytest.fixture(scope="module")
def cars(service) -> pd.DataFrame:
    return pd.read_csv(service.samples_dir / "automobile-price-raw.csv")


def rows(cars: pd.DataFrame, n: int = 3, start: int = 10) -> list[dict]:
    return json.loads(cars.drop(columns=["price"]).iloc[start : start + n].to_json(orient="records"))


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
    body = {
        "Inputs": {"WebServiceInput0": json.loads(sample.to_json(orient="records"))},
        "GlobalParameters": {},
    }
    result = service.realtime.score(endpoint.name, keys["primary"], body)
    scored = result["Results"]["WebServiceOutput0"]
    assert [round(r["Scored Labels"], 6) for r in scored] == [
        round(v, 6) for v in batch["Scored Labels"].head(4)
    ]
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
    assert again["predictions"][0]["Scored Labels"] == pytest.approx(
        baseline["predictions"][0]["Scored Labels"]
    )


def test_every_schema_problem_is_named_without_echoing_values(service, deployed, cars):
    endpoint, keys = deployed
    [row] = rows(cars, 1)
    bad = {**row, "horsepower": "secret-value-123", "curb-weight": 2.5}
    del bad["make"]
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(endpoint.name, keys["primary"], {"Inputs": {"WebServiceInput0": [bad]}})
    problems = {(p.code, p.column) for p in err.value.problems}
    assert problems == {
        ("missing_column", "make"),
        ("wrong_type", "horsepower"),
        ("wrong_type", "curb-weight"),
    }
    assert "secret-value-123" not in json.dumps(err.value.to_body())


@pytest.mark.parametrize(
    "body, code",
    [
        ({}, "empty_request"),
        (None, "empty_request"),
        ({"Inputs": {"WebServiceInput0": []}}, "no_rows"),
        ({"Inputs": {"Other": [{}]}}, "missing_input"),
        ({"nothing": 1}, "unknown_request_shape"),
        ({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}, "invalid_dataframe_split"),
    ],
)
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
    new_primary = deployments.regenerate_key(service.store, endpoint.name, "primary")
    service.realtime.forget(endpoint.name)
    with pytest.raises(Unauthorized):
        service.realtime.score(endpoint.name, keys["primary"], body)
    assert service.realtime.score(endpoint.name, new_primary, body)["predictions"]
    assert service.realtime.score(endpoint.name, keys["secondary"], body)["predictions"]


def test_update_to_another_version_and_delete(service, trained, cars):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    name = f"upd-{uuid.uuid4().hex[:6]}"
    _endpoint, keys = service.realtime.deploy(name, RealtimeSource(draft_id=draft.id), "", None)
    published = service.publish(draft.id, f"rt-{name}", "", True, None)
    updated = service.realtime.update(name, RealtimeSource(pipeline_endpoint=published.endpoint), None, None)
    assert updated.deployment == 2 and "version 1" in updated.source
    assert service.realtime.score(name, keys["primary"], {"dataframe_records": rows(cars, 1)})["predictions"]
    deployments.delete(service.store, name)
    service.realtime.forget(name)
    with pytest.raises(Unauthorized):  # as a wrong key: names cannot be probed
        service.realtime.score(name, keys["primary"], {"dataframe_records": rows(cars, 1)})


def test_only_realtime_pipelines_deploy(service, trained):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "batch")
    with pytest.raises(InvalidRequest) as err:
        service.realtime.deploy(f"b-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", None)
    assert err.value.problems[0].code == "not_realtime"


def test_global_parameters_set_pipeline_parameters_per_request(service, cars):
    doc = tutorial()
    doc.parameters.append(
        PipelineParameter(
            name="append_scores",
            default=True,
            bindings=[Binding(node="score", parameter="append_score_columns")],
        )
    )
    run, job = service.submit(Submission(experiment="realtime", pipeline=doc))
    run_inline(service, job)
    draft, _ = service.create_inference_pipeline(run.run_id, "realtime")
    assert [p.name for p in service.get_draft(draft.id)[1].parameters] == ["append_scores"]
    endpoint, keys = service.realtime.deploy(
        f"glob-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", None
    )
    body = {"Inputs": {"WebServiceInput0": rows(cars, 2)}}
    full = service.realtime.score(endpoint.name, keys["primary"], body)["Results"]["WebServiceOutput0"]
    only = service.realtime.score(
        endpoint.name, keys["primary"], {**body, "GlobalParameters": {"append_scores": False}}
    )
    assert len(full[0]) > 20 and list(only["Results"]["WebServiceOutput0"][0]) == ["Scored Labels"]
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(
            endpoint.name, keys["primary"], {**body, "GlobalParameters": {"nope": 1, "append_scores": "x"}}
        )
    assert {p.code for p in err.value.problems} == {"unknown_global_parameter", "invalid_global_parameter"}


def test_a_normalize_step_fitted_with_the_label_still_scores_without_it(service, cars):
    """Normalize Data's default takes every numeric column, the label too; callers send no label."""
    doc = tutorial().model_dump(mode="json")
    doc["nodes"].append({"id": "normalize", "component": "Normalize Data"})
    doc["edges"] = [e for e in doc["edges"] if e["source"]["node"] != "clean"] + [
        {"source": "clean.cleaned_dataset", "target": "normalize.dataset"},
        {"source": "normalize.transformed_dataset", "target": "split.dataset"},
    ]
    run, job = service.submit(Submission(experiment="realtime", pipeline=Pipeline.model_validate(doc)))
    run_inline(service, job)
    draft, problems = service.create_inference_pipeline(run.run_id, "realtime")
    assert problems == [] and "TD-normalize" in {n.id for n in service.get_draft(draft.id)[1].nodes}
    endpoint, keys = service.realtime.deploy(
        f"norm-{uuid.uuid4().hex[:6]}", RealtimeSource(draft_id=draft.id), "", None
    )
    scored = service.realtime.score(endpoint.name, keys["primary"], {"dataframe_records": rows(cars, 2)})
    assert len(scored["predictions"]) == 2 and "price" not in scored["predictions"][0]


def test_the_tutorial_is_served_by_the_compiled_path(deployed):
    endpoint, _ = deployed
    assert endpoint.serving["path"] == "compiled", endpoint.serving
    assert "checked equal to the DataFrame path" in endpoint.serving["reason"]


def test_compiled_and_dataframe_paths_answer_alike_over_the_whole_sample(service, deployed, cars):
    """Every sample row, in one batch and one by one: the service's answer equals the DataFrame path's."""
    endpoint, _keys = deployed
    scorer = service.realtime._scorer(endpoint)
    sample = rows(cars, 60, 0)
    with_overrides = scorer.pipeline.overrides_for({})  # an empty override set still means "no overrides"
    assert with_overrides == {}
    for batch in [sample] + [[r] for r in sample[:20]]:
        columns = requests.check_rows(batch, endpoint.schema_)
        compiled = scorer.score(columns, len(batch), None)
        frame_path = scorer.score(columns, len(batch), {})  # overrides take the DataFrame path
        assert compiled[0] == frame_path[0] and compiled[1] == frame_path[1]
        assert [(d.row, d.node) for d in compiled[2]] == [(d.row, d.node) for d in frame_path[2]]


def test_rows_removed_by_clean_missing_data_are_reported(service, deployed, cars):
    endpoint, keys = deployed
    sample = rows(cars, 3)
    sample[1]["horsepower"] = None  # the tutorial's Clean Missing Data removes rows missing it
    answer = service.realtime.score(endpoint.name, keys["secondary"], {"dataframe_records": sample})
    assert len(answer["predictions"]) == 2
    [dropped] = answer["dropped_rows"]
    assert dropped["row"] == 1 and "Clean Missing Data" in dropped["reason"] and dropped["node"]
    alone = service.realtime.score(
        endpoint.name, keys["secondary"], {"Inputs": {"WebServiceInput0": [sample[1]]}}
    )
    assert alone["Results"]["WebServiceOutput0"] == [] and alone["dropped_rows"][0]["row"] == 0
    full = service.realtime.score(endpoint.name, keys["secondary"], {"dataframe_records": rows(cars, 3)})
    assert "dropped_rows" not in full


def test_a_null_the_pipeline_does_not_clean_is_a_schema_problem(service, deployed, cars):
    endpoint, keys = deployed
    schema = {c.name: c for c in endpoint.schema_}
    assert not schema["make"].nullable and schema["horsepower"].nullable
    sample = rows(cars, 3)
    sample[2]["make"] = None
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(endpoint.name, keys["secondary"], {"dataframe_records": sample})
    [problem] = err.value.problems
    assert (problem.code, problem.column) == ("missing_value", "make") and "rows 2" in problem.message


@pytest.mark.parametrize("value", [9223372036854775808, -9223372036854775809, 1e30, 2.0**63])
def test_an_integer_beyond_64_bits_is_a_schema_problem(service, deployed, cars, value):
    endpoint, keys = deployed
    [row] = rows(cars, 1)
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score(
            endpoint.name, keys["secondary"], {"dataframe_records": [{**row, "curb-weight": value}]}
        )
    assert {(p.code, p.column) for p in err.value.problems} == {("wrong_type", "curb-weight")}


def test_the_largest_int64_still_fits(service, deployed, cars):
    endpoint, _keys = deployed
    [row] = rows(cars, 1)
    columns = requests.check_rows([{**row, "curb-weight": 9223372036854775807}], endpoint.schema_)
    assert columns["curb-weight"] == [9223372036854775807]


def test_deep_json_is_refused_before_parsing_and_keys_come_first(service, deployed):
    endpoint, keys = deployed
    deep = b"[" * 1000 + b"]" * 1000
    with pytest.raises(Unauthorized):  # no key: the body is never read
        service.realtime.score_json(endpoint.name, None, deep)
    with pytest.raises(InvalidRequest) as err:
        service.realtime.score_json(endpoint.name, keys["secondary"], deep)
    assert err.value.problems[0].code == "too_deep"
    nested_in_string = json.dumps({"dataframe_records": [{"make": '\\"' + "[" * 500, "x": "\\"}]}).encode()
    with pytest.raises(InvalidRequest) as err:  # brackets inside strings do not count
        service.realtime.score_json(endpoint.name, keys["secondary"], nested_in_string)
    assert err.value.problems[0].code != "too_deep"


def test_an_unknown_endpoint_answers_like_a_wrong_key(service, deployed, cars):
    endpoint, keys = deployed
    body = {"dataframe_records": rows(cars, 1)}
    with pytest.raises(Unauthorized) as unknown:
        service.realtime.score("no-such-endpoint", keys["secondary"], body)
    with pytest.raises(Unauthorized) as wrong:
        service.realtime.score(endpoint.name, "wrong", body)
    assert unknown.value.to_body() == wrong.value.to_body()
