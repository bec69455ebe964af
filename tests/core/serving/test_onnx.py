"""ONNX Runtime scoring: conversions checked against scikit-learn, fallbacks, and the real-time path."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from core.components import learners
from core.components.base import RunContext
from core.components.models import Learner, TrainedModel, fit
from core.errors import ColumnNotFound, ComponentError
from core.pipelines.document import Pipeline, parse_parameters
from core.service.facade import Submission
from core.service.realtime import RealtimeSource
from core.serving import deployments, requests
from core.serving import onnx as oa
from tests.core.service.test_service import run_inline, tutorial

ROOT = Path(__file__).resolve().parents[3]


def learner(component: type, **parameters) -> Learner:
    return component().run({}, parse_parameters(component, parameters), RunContext())["untrained_model"]


@pytest.fixture(scope="module")
def cars() -> pd.DataFrame:
    raw = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv")
    return raw.drop(columns=["normalized-losses"]).dropna().reset_index(drop=True)


@pytest.fixture(scope="module")
def ridge(cars) -> TrainedModel:
    """The tutorial's model: Linear Regression (ordinary least squares, L2 weight 0.001) on price."""
    return fit(Learner(Ridge(alpha=0.001), "regression", "Linear Regression"), cars, "price")


@pytest.fixture(scope="module")
def features(cars) -> pd.DataFrame:
    return cars.drop(columns=["price"])


@pytest.fixture(scope="module")
def accelerated_ridge(ridge, features) -> oa.AcceleratedModel:
    onnx = oa.convert(ridge, features.head(5))
    assert onnx is not None
    return oa.AcceleratedModel.wrap(ridge, onnx)


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """A small two-class set with a string, an integer, a float and a boolean feature."""
    rng = np.random.default_rng(7)
    n = 240
    frame = pd.DataFrame(
        {
            "city": pd.array(rng.choice(["oslo", "lima", "pune", "kobe"], n), dtype="str"),
            "visits": rng.integers(0, 20, n),
            "spend": rng.gamma(2.0, 30.0, n),
            "member": rng.random(n) < 0.4,
        }
    )
    signal = (
        (frame["city"] == "lima") * 1.2 + frame["spend"] / 60 - frame["visits"] / 8 + frame["member"] * 0.5
    )
    frame["churned"] = np.where(signal + rng.normal(0, 0.6, n) > signal.median(), "yes", "no")
    return frame


def same_scores(want: pd.DataFrame, got: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=oa.RTOL, atol=oa.ATOL)
    assert got.attrs == want.attrs
    assert list(got.columns) == list(want.columns)


# ---- the tutorial's regression model -----------------------------------------------------------
def test_tutorial_model_converts_and_scores_every_row_like_scikit_learn(ridge, features, accelerated_ridge):
    onnx = accelerated_ridge.onnx
    assert [i.kind for i in onnx.inputs if i.column == "make"] == ["string"]
    assert {
        i.kind for i in onnx.inputs if i.column != "make" and ridge.feature_dtypes[i.column] != "str"
    } == {"double"}  # float64 arithmetic, as scikit-learn's
    want = ridge.pipeline.predict(features)
    single = np.concatenate([onnx.predict(features.iloc[[i]]) for i in range(len(features))])
    assert np.allclose(single, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
    assert np.allclose(onnx.predict(features.head(40)), want[:40], rtol=1e-9)
    assert isinstance(onnx.onnx_bytes, bytes) and onnx.session.get_session_options().intra_op_num_threads == 1


@pytest.mark.parametrize("append", [True, False])
def test_accelerated_score_is_trained_model_score(ridge, features, accelerated_ridge, append):
    for rows in (features.iloc[[3]], features.iloc[10:30], features.iloc[[5, 1, 7]]):
        rows = rows.copy()
        rows.attrs = {"source": "request"}
        same_scores(ridge.score(rows, append=append), accelerated_ridge.score(rows, append=append))
    assert isinstance(accelerated_ridge, TrainedModel)


def test_large_batches_use_scikit_learn(ridge, features, accelerated_ridge, monkeypatch):
    def refuse(feed):
        raise AssertionError("ONNX Runtime was used for a large batch")

    monkeypatch.setattr(accelerated_ridge.onnx, "run", refuse)
    rows = features.head(oa.SMALL_BATCH)
    pd.testing.assert_frame_equal(accelerated_ridge.score(rows), ridge.score(rows))  # exactly: scikit-learn
    with pytest.raises(AssertionError):
        accelerated_ridge.score(features.head(oa.SMALL_BATCH - 1))


def test_unseen_levels_score_as_scikit_learn_does(ridge, features, accelerated_ridge):
    rows = features.iloc[[0, 1, 2]].copy()
    rows["make"] = pd.array(["tesla", "volvo", "polestar"], dtype="str")
    rows["fuel-type"] = pd.array(["hydrogen", "gas", "electric"], dtype="str")
    want = ridge.score(rows)
    assert accelerated_ridge.onnx.predict(rows) is not None  # the ONNX path takes unseen levels
    same_scores(want, accelerated_ridge.score(rows))
    same_scores(ridge.score(rows.iloc[[0]]), accelerated_ridge.score(rows.iloc[[0]]))


def test_rows_the_fast_path_does_not_take_get_scikit_learns_answer(ridge, features, accelerated_ridge):
    row = features.iloc[[4]]
    with pytest.raises(ColumnNotFound):
        accelerated_ridge.score(row.drop(columns=["make"]))
    missing = row.copy()
    missing["horsepower"] = np.nan
    with pytest.raises(ComponentError) as err:
        accelerated_ridge.score(missing)
    assert err.value.code == "MissingValues"
    missing_level = row.copy()
    missing_level["make"] = pd.array([None], dtype="str")
    with pytest.raises(ComponentError):
        accelerated_ridge.score(missing_level)
    nullable = row.astype({"curb-weight": "Int64"})  # an extension array: scikit-learn scores it
    same_scores(ridge.score(nullable), accelerated_ridge.score(nullable))
    reordered = row[list(reversed(row.columns))].assign(extra="ignored")
    same_scores(ridge.score(reordered), accelerated_ridge.score(reordered))
    assert accelerated_ridge.score(features.head(0)).empty


def test_a_model_refusing_unknown_levels_still_refuses_them(cars, features):
    strict_learner = learner(
        learners.LinearRegression, **{"Allow unknown levels in categorical features": False}
    )
    strict = fit(strict_learner, cars, "price")
    onnx = oa.convert(strict, features.head(5))
    assert onnx is not None and next(i for i in onnx.inputs if i.column == "make").levels
    model = oa.AcceleratedModel.wrap(strict, onnx)
    row = features.iloc[[2]].copy()
    same_scores(strict.score(row), model.score(row))
    row["make"] = pd.array(["tesla"], dtype="str")
    with pytest.raises(ComponentError) as err:
        model.score(row)
    assert err.value.code == "InvalidDataset" and "tesla" in str(err.value)


# ---- classifiers ------------------------------------------------------------------------------
def test_two_class_logistic_regression_labels_and_probabilities(people):
    model = fit(learner(learners.TwoClassLogisticRegression), people, "churned")
    rows = people.drop(columns=["churned"])
    result = oa.try_convert(model, rows.head(5))
    assert result.onnx is not None, result.reason
    assert "float64" in result.reason
    onnx = result.onnx
    labels, proba = model.predictions(rows)
    for i in range(len(rows)):
        got_labels, got_proba = onnx.predictions(rows.iloc[[i]])
        assert got_labels.tolist() == labels[i : i + 1].tolist()
        assert np.allclose(got_proba, proba[i : i + 1], rtol=oa.RTOL, atol=oa.ATOL)
    assert np.allclose(onnx.predict_proba(rows.head(20)), proba[:20], rtol=oa.RTOL, atol=oa.ATOL)
    accelerated = oa.AcceleratedModel.wrap(model, onnx)
    for batch in (rows.iloc[[0]], rows.head(30)):
        want, got = model.score(batch), accelerated.score(batch)
        same_scores(want, got)
        assert got["Scored Labels"].dtype == want["Scored Labels"].dtype
    unseen = rows.iloc[[0]].assign(city=pd.array(["rome"], dtype="str"))
    same_scores(model.score(unseen), accelerated.score(unseen))


def test_multiclass_forest_with_integer_labels(people):
    data = people.assign(tier=(people["spend"] // 30).clip(upper=3).astype("int64")).drop(columns=["churned"])
    model = fit(learner(learners.MulticlassDecisionForest), data, "tier")
    rows = data.drop(columns=["tier"])
    result = oa.try_convert(model, rows.head(5))
    assert result.onnx is not None, result.reason
    assert "float32" in result.reason  # trees compare float32 features, as scikit-learn's do
    accelerated = oa.AcceleratedModel.wrap(model, result.onnx)
    for i in range(0, len(rows), 7):
        same_scores(model.score(rows.iloc[[i]]), accelerated.score(rows.iloc[[i]]))
    assert accelerated.score(rows.iloc[[0]])["Scored Labels"].dtype == np.int64


# ---- what does not convert ----------------------------------------------------------------------
def test_a_model_skl2onnx_cannot_convert_falls_back_with_the_reason(cars, features, caplog):
    poisson = fit(learner(learners.PoissonRegression), cars, "price")
    result = oa.try_convert(poisson, features.head(5))
    assert result.onnx is None
    assert "skl2onnx cannot convert" in result.reason and "PenalisedPoissonRegressor" in result.reason
    with caplog.at_level("INFO", logger="core.serving.onnx"):
        assert oa.convert(poisson, features.head(5)) is None
    assert "PenalisedPoissonRegressor" in caplog.text


def test_one_vs_one_is_not_converted(people):
    binary = learner(learners.TwoClassAveragedPerceptron)
    ovo = learners.OneVsOneMulticlass().run(
        {"untrained_binary_classification_model": binary}, None, RunContext()
    )["untrained_model"]
    data = people.assign(tier=(people["spend"] // 30).clip(upper=2).astype("int64")).drop(columns=["churned"])
    result = oa.try_convert(fit(ovo, data, "tier"), data.drop(columns=["tier"]).head(5))
    assert result.onnx is None and "two-class" in result.reason


def test_verification_catches_different_predictions(cars, ridge, features, accelerated_ridge):
    other = fit(Learner(Ridge(alpha=10.0), "regression", "Linear Regression"), cars, "price")
    problem = oa.verify(other, accelerated_ridge.onnx, oa.probe_rows(other, features.head(5)))
    assert problem and "differ" in problem
    assert oa.verify(ridge, accelerated_ridge.onnx, oa.probe_rows(ridge, features.head(5))) is None


def test_without_sample_rows_nothing_is_converted(ridge, features):
    assert oa.try_convert(ridge, features.head(0)).onnx is None
    assert "lack" in oa.try_convert(ridge, features.head(3).drop(columns=["make"])).reason


def test_probe_rows_mix_levels_and_include_an_unseen_one(ridge, features):
    probes = oa.probe_rows(ridge, features.head(5))
    assert len(probes) == 5 + oa.PROBE_ROWS
    assert list(probes.columns) == list(features.columns)
    assert dict(probes.dtypes.astype(str)) == dict(features.dtypes.astype(str))
    known = set(features["make"])
    assert len(set(probes["make"]) - known) == 1  # the unseen level
    assert len(set(probes["make"]) & known) > len(set(features["make"].head(5)))


# ---- the real-time path ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(service) -> dict:
    run, job = service.submit(Submission(experiment="onnx", pipeline=tutorial()))
    run_inline(service, job)
    return service.get_run(run.run_id)


def _accelerated_steps(scorer) -> list[str]:
    return [
        s.node_id
        for s in scorer.steps
        if isinstance(scorer.static.get(s.inputs.get("trained_model")), oa.AcceleratedModel)
    ]


def test_deployment_records_onnx_and_scores_like_the_batch_path(service, trained):
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    name = f"onnx-{uuid.uuid4().hex[:6]}"
    endpoint, keys = service.realtime.deploy(name, RealtimeSource(draft_id=draft.id), "", None)
    assert endpoint.acceleration == {"score": oa.ONNX}
    assert deployments.get(service.store, name).acceleration == {"score": oa.ONNX}  # stored and read back
    batch = service.node_output(trained["run_id"], "score", "scored_dataset", None)
    sample = batch.drop(columns=["price", "Scored Labels"]).head(6)
    for i in range(len(sample)):
        body = {"dataframe_records": json.loads(sample.iloc[[i]].to_json(orient="records"))}
        [scored] = service.realtime.score(name, keys["primary"], body)["predictions"]
        assert scored["Scored Labels"] == pytest.approx(batch["Scored Labels"].iloc[i], rel=1e-9)
    scorer = service.realtime._scorers[(name, endpoint.deployment)].pipeline
    assert _accelerated_steps(scorer) == ["score"]
    unseen = {**json.loads(sample.iloc[[0]].to_json(orient="records"))[0], "make": "tesla"}
    plain = service.realtime._scorer(
        endpoint.model_copy(update={"acceleration": {}, "deployment": 99})
    ).pipeline
    assert _accelerated_steps(plain) == []  # not verified at deployment: scikit-learn only
    frame = requests.to_frame([unseen], endpoint.schema_)
    same_scores(plain.score(frame), scorer.score(frame))
    deployments.delete(service.store, name)
    service.realtime.forget(name)


def test_deployment_records_why_a_model_stays_on_scikit_learn(service):
    doc = tutorial().model_dump(mode="json")
    learner_node = next(n for n in doc["nodes"] if n["id"] == "learner")
    learner_node["component"], learner_node["parameters"] = "Poisson Regression", {}
    run, job = service.submit(Submission(experiment="onnx", pipeline=Pipeline.model_validate(doc)))
    run_inline(service, job)
    draft, _ = service.create_inference_pipeline(run.run_id, "realtime")
    name = f"pois-{uuid.uuid4().hex[:6]}"
    endpoint, keys = service.realtime.deploy(name, RealtimeSource(draft_id=draft.id), "", None)
    how = endpoint.acceleration["score"]
    assert how.startswith("scikit-learn: skl2onnx cannot convert") and "PenalisedPoissonRegressor" in how
    assert deployments.get(service.store, name).acceleration == endpoint.acceleration
    cars = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv").drop(columns=["price"])
    body = {"dataframe_records": json.loads(cars.iloc[[3]].to_json(orient="records"))}
    assert service.realtime.score(name, keys["primary"], body)["predictions"][0]["Scored Labels"] > 0
    assert _accelerated_steps(service.realtime._scorers[(name, endpoint.deployment)].pipeline) == []
    deployments.delete(service.store, name)
    service.realtime.forget(name)


def test_records_without_acceleration_load(service, trained):
    """Endpoints stored before this field existed read back as 'nothing accelerated'."""
    draft, _ = service.create_inference_pipeline(trained["run_id"], "realtime")
    name = f"old-{uuid.uuid4().hex[:6]}"
    service.realtime.deploy(name, RealtimeSource(draft_id=draft.id), "", None)
    entity = service.store.get(deployments.ENDPOINTS, deployments.PARTITION, name)
    entity = {k: v for k, v in entity.items() if k not in ("acceleration", "etag")}
    service.store.update(deployments.ENDPOINTS, entity, "*", merge=False)
    assert deployments.get(service.store, name).acceleration == {}
    deployments.delete(service.store, name)
