"""Tune Model Hyperparameters and the shared model metrics (core/components/tuning.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_limits

from core.components import learners as L
from core.components.base import Component, RunContext
from core.components.clustering import KMeansClustering, KMeansClusteringParams
from core.components.models import SCORED_LABELS, Learner, TrainedModel
from core.components.tuning import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    TuneModelHyperparameters,
    TuneModelHyperparametersParams,
    model_scores,
)
from core.errors import ColumnNotFound, ComponentError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
LABEL = "Name or numerical index of the label column"


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Histogram boosting runs OpenMP threads that crawl on a busy small machine; one is plenty here."""
    with threadpool_limits(1):
        yield


def make(component: type[Component], inputs: dict[str, Any] | None = None, **params: Any) -> Learner:
    out = component().run(inputs or {}, component.Parameters.model_validate(params), RunContext())
    return out["untrained_model"]


def tune(
    learner: Learner,
    train: pd.DataFrame,
    validation: pd.DataFrame | None = None,
    ctx: RunContext | None = None,
    **params: Any,
) -> tuple[pd.DataFrame, TrainedModel]:
    inputs = {"untrained_model": learner, "training_dataset": train}
    if validation is not None:
        inputs["validation_dataset"] = validation
    out = TuneModelHyperparameters().run(
        inputs, TuneModelHyperparametersParams.model_validate({LABEL: "y", **params}), ctx or RunContext()
    )
    return out["sweep_results"], out["trained_best_model"]


def regression_data() -> pd.DataFrame:
    X, y = make_regression(240, 3, noise=2.0, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["shop"] = np.where(df["a"] > 0, "north", "south")
    df["y"] = y
    return df


def binary_data() -> pd.DataFrame:
    X, y = make_classification(300, 4, n_informative=3, n_redundant=0, class_sep=1.0, random_state=3)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["y"] = np.where(y == 1, "yes", "no")
    return df


def boosted_over_trees_and_leaves() -> Learner:
    """Four runs, and 100 trees obviously beat a single tree."""
    return make(
        L.BoostedDecisionTreeRegression,
        **{
            "Create trainer mode": "ParameterRange",
            "Range for total number of trees constructed": "1; 100",
            "Range for maximum number of leaves per tree": "2; 16",
            "Range for learning rate": "0.2",
            "Range for minimum number of training instances required to form a leaf": "5",
            "Random number seed": 0,
        },
    )


# ---- parameters ----------------------------------------------------------------------------------


def test_defaults_are_the_designers() -> None:
    dumped = TuneModelHyperparametersParams.model_validate({LABEL: "y"}).model_dump(by_alias=True)
    del dumped[LABEL]
    assert dumped == {
        "Specify parameter sweeping mode": "Random sweep",
        "Maximum number of runs on random sweep": 5,
        "Random seed": 0,
        "Maximum number of runs on random grid": 5,
        "Random seed for random grid": 0,
        "Metric for measuring performance for classification": "Accuracy",
        "Metric for measuring performance for regression": "Mean absolute error",
    }
    schema = TuneModelHyperparameters.describe()
    assert [p["id"] for p in schema["inputs"]] == [
        "untrained_model",
        "training_dataset",
        "validation_dataset",
    ]
    assert schema["inputs"][2]["optional"] is True
    assert [p["type"] for p in schema["outputs"]] == ["DataFrameDirectory", "ModelDirectory"]


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {LABEL: "y", "Maximum number of runs on random sweep": 0},
        {LABEL: "y", "Maximum number of runs on random sweep": 10001},
        {LABEL: "y", "Specify parameter sweeping mode": "Bayesian"},
        {LABEL: "y", "Metric for measuring performance for classification": "Kappa"},
        {LABEL: "y", "Metric for measuring performance for regression": "MAPE"},
    ],
)
def test_bad_parameters_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TuneModelHyperparametersParams.model_validate(bad)


# ---- sweeping ------------------------------------------------------------------------------------


def test_entire_grid_picks_the_obvious_winner_and_lists_every_combination() -> None:
    ctx = RunContext()
    table, model = tune(
        boosted_over_trees_and_leaves(),
        regression_data(),
        ctx=ctx,
        **{"Specify parameter sweeping mode": "Entire grid"},
    )
    assert len(table) == 4
    assert list(table.columns) == [
        "max_leaf_nodes",
        "min_samples_leaf",
        "learning_rate",
        "max_iter",
        *REGRESSION_METRICS,
    ]
    runs = sorted(zip(table["max_leaf_nodes"], table["max_iter"], strict=True))
    assert runs == [(2, 1), (2, 100), (16, 1), (16, 100)]
    assert table["Mean absolute error"].is_monotonic_increasing  # best (lowest error) first
    assert table["max_iter"].iloc[0] == 100 and set(table["max_iter"].iloc[2:]) == {1}
    booster = model.pipeline.named_steps["model"]
    assert (booster.max_iter, booster.max_leaf_nodes) == (100, table["max_leaf_nodes"].iloc[0])
    assert model.label_column == "y" and model.task == "regression"
    assert ctx.metrics == {"Mean absolute error": table["Mean absolute error"].iloc[0]}
    assert "4 run(s)" in ctx.logs[0] and "3-fold cross-validation" in ctx.logs[0]


def test_the_chosen_metric_orders_the_results() -> None:
    table, _ = tune(
        boosted_over_trees_and_leaves(),
        regression_data(),
        **{
            "Specify parameter sweeping mode": "Entire grid",
            "Metric for measuring performance for regression": "Coefficient of determination",
        },
    )
    assert table["Coefficient of determination"].is_monotonic_decreasing  # higher is better
    assert table["max_iter"].iloc[0] == 100


def test_random_sweep_draws_distinct_runs_by_seed() -> None:
    learner = boosted_over_trees_and_leaves()
    two_runs = {"Maximum number of runs on random sweep": 2, "Random seed": 4}
    first, _ = tune(learner, regression_data(), **two_runs)
    again, _ = tune(learner, regression_data(), **two_runs)
    assert len(first) == 2
    assert len(set(zip(first["max_leaf_nodes"], first["max_iter"], strict=True))) == 2
    pd.testing.assert_frame_equal(first, again)
    everything, _ = tune(
        learner,
        regression_data(),
        **{"Specify parameter sweeping mode": "Random grid", "Maximum number of runs on random grid": 50},
    )
    assert len(everything) == 4  # never more runs than combinations


def test_a_single_parameter_learner_is_evaluated_once() -> None:
    learner = make(L.LinearRegression)
    table, model = tune(learner, regression_data())
    assert list(table.columns) == list(REGRESSION_METRICS)
    assert len(table) == 1
    assert model.score(regression_data()).attrs["score_columns"] == [SCORED_LABELS]


def test_validation_dataset_is_used_when_connected() -> None:
    df = binary_data()
    forest = make(
        L.TwoClassDecisionForest,
        **{
            "Create trainer mode": "ParameterRange",
            "Range for number of decision trees": "1; 16",
            "Range for the maximum depth of the decision trees": "1; 16",
            "Range for the number of random splits per node": "128",
            "Range for the minimum number of samples per leaf node": "1",
        },
    )
    ctx = RunContext()
    table, model = tune(
        forest,
        df.iloc[:200],
        df.iloc[200:],
        ctx=ctx,
        **{
            "Specify parameter sweeping mode": "Entire grid",
            "Metric for measuring performance for classification": "AUC",
        },
    )
    assert len(table) == 4 and list(table.columns[4:]) == list(CLASSIFICATION_METRICS)
    assert table["AUC"].is_monotonic_decreasing
    assert (table["n_estimators"].iloc[0], table["max_depth"].iloc[0]) == (16, 16)
    assert "validation dataset" in ctx.logs[0]
    assert model.classes == ["no", "yes"]
    assert model.pipeline.named_steps["model"].n_estimators == 16


def test_one_vs_all_of_a_ranged_learner_can_be_tuned() -> None:
    X, y = make_classification(
        180,
        4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y)
    binary = make(
        L.TwoClassLogisticRegression,
        **{
            "Create trainer mode": "ParameterRange",
            "Range for L1 regularization weight": "0",
            "Range for L2 regularization weight": "0.01; 100000",
            "Range for optimization tolerance": "0.0001",
        },
    )
    learner = make(L.OneVsAllMulticlass, {"untrained_binary_classification_model": binary})
    table, model = tune(learner, df, **{"Specify parameter sweeping mode": "Entire grid"})
    assert list(table.columns[:3]) == ["tol", "l1_weight", "l2_weight"]  # pipeline prefixes dropped
    assert table["l2_weight"].tolist() == [0.01, 100000.0]
    assert table["Accuracy"].iloc[0] > 0.85
    assert model.classes == [0, 1, 2]


# ---- refusals ------------------------------------------------------------------------------------


def test_label_picker_must_select_one_existing_column() -> None:
    with pytest.raises(ComponentError) as two:
        TuneModelHyperparameters().run(
            {"untrained_model": make(L.LinearRegression), "training_dataset": regression_data()},
            TuneModelHyperparametersParams.model_validate({LABEL: ["y", "a"]}),
            RunContext(),
        )
    assert two.value.code == "NotInRangeValue" and LABEL in str(two.value)
    with pytest.raises(ColumnNotFound) as absent:
        tune(make(L.LinearRegression), regression_data().drop(columns="y"))
    assert absent.value.column == "y"


def test_refusals_name_the_problem() -> None:
    kmeans = KMeansClustering().run({}, KMeansClusteringParams(), RunContext())["untrained_model"]
    with pytest.raises(ComponentError) as clustering:
        tune(kmeans, regression_data())
    assert clustering.value.code == "InvalidLearner"
    df = binary_data()
    with pytest.raises(ColumnNotFound) as unlabelled:
        tune(make(L.TwoClassDecisionForest), df.iloc[:200], df.iloc[200:].drop(columns="y"))
    assert unlabelled.value.column == "y"
    strange = df.iloc[200:].assign(y="maybe")
    with pytest.raises(ComponentError) as unseen:
        tune(make(L.TwoClassDecisionForest), df.iloc[:200], strange)
    assert (unseen.value.code, unseen.value.column) == ("InvalidLabel", "y")
    with pytest.raises(ComponentError) as tiny:
        tune(make(L.LinearRegression), regression_data().head(4))
    assert tiny.value.code == "TooFewRowsInDataset"


# ---- metrics -------------------------------------------------------------------------------------


def test_binary_metrics_on_a_hand_checked_case() -> None:
    y = np.array(["a", "b", "b", "a", "b"])
    predicted = np.array(["a", "b", "a", "a", "b"])
    p_b = np.array([0.2, 0.9, 0.4, 0.1, 0.8])
    scores = model_scores("binary", y, predicted, np.column_stack([1 - p_b, p_b]), ["a", "b"])
    log_loss = -np.mean(np.log([0.8, 0.9, 0.4, 0.9, 0.8]))
    prior = -(0.4 * math.log(0.4) + 0.6 * math.log(0.6))
    assert scores == pytest.approx(
        {
            "Accuracy": 0.8,
            "Precision": 1.0,
            "Recall": 2 / 3,
            "F-score": 0.8,
            "AUC": 1.0,
            "Average Log Loss": log_loss,
            "Train Log Loss": 1 - log_loss / prior,
        }
    )


def test_multiclass_metrics_are_macro_averages() -> None:
    y = [0, 0, 1, 2]
    predicted = [0, 1, 1, 1]
    scores = model_scores("multiclass", y, predicted, None, [0, 1, 2])
    # precision per class: 1, 1/3, 0 ; recall per class: 1/2, 1, 0
    assert scores["Accuracy"] == 0.5
    assert scores["Precision"] == pytest.approx((1 + 1 / 3) / 3)
    assert scores["Recall"] == pytest.approx(0.5)
    assert math.isnan(scores["AUC"]) and math.isnan(scores["Average Log Loss"])


def test_regression_metrics_use_the_option_names() -> None:
    scores = model_scores("regression", [1.0, 2, 3, 4], [1.5, 2, 2.5, 5], None, [])
    assert scores == pytest.approx(
        {
            "Mean absolute error": 0.5,
            "Root of mean squared error": math.sqrt(0.375),
            "Relative absolute error": 0.5,
            "Relative squared error": 0.3,
            "Coefficient of determination": 0.7,
        }
    )
