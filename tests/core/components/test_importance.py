"""Permutation Feature Importance (core/components/importance.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components import learners as L
from core.components.base import Component, RunContext
from core.components.importance import PermutationFeatureImportance, PermutationFeatureImportanceParams
from core.components.models import TrainedModel, fit
from core.errors import ColumnNotFound, ComponentError

METRIC = "Metric for measuring performance"


def trained(component: type[Component], df: pd.DataFrame, **params: Any) -> TrainedModel:
    out = component().run({}, component.Parameters.model_validate(params), RunContext())
    learner = out["untrained_model"]
    return fit(learner, df, "y")


def importance(
    model: TrainedModel, test: pd.DataFrame, ctx: RunContext | None = None, **params: Any
) -> pd.DataFrame:
    out = PermutationFeatureImportance().run(
        {"trained_model": model, "test_data": test},
        PermutationFeatureImportanceParams.model_validate(params),
        ctx or RunContext(),
    )
    return out["feature_importance"]


def signal_and_noise(rows: int = 400) -> pd.DataFrame:
    """``y`` depends strongly on ``signal``, weakly on ``hint``, and not at all on ``noise`` or ``tag``."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "noise": rng.normal(size=rows),
            "signal": rng.normal(size=rows),
            "hint": rng.normal(size=rows),
            "tag": rng.choice(["x", "y", "z"], rows),
        }
    )
    df["y"] = 5.0 * df["signal"] + 1.0 * df["hint"] + rng.normal(scale=0.1, size=rows)
    return df


def test_defaults_and_options() -> None:
    defaults = PermutationFeatureImportanceParams().model_dump(by_alias=True)
    assert defaults == {"Random seed": 0, METRIC: "Accuracy"}
    for bad in ({"Random seed": -1}, {METRIC: "F-score"}, {METRIC: "AUC"}):
        with pytest.raises(ValidationError):
            PermutationFeatureImportanceParams.model_validate(bad)
    described = PermutationFeatureImportance.describe()
    assert [p["name"] for p in described["inputs"]] == ["Trained model", "Test data"]
    assert described["outputs"][0]["name"] == "Feature importance"


@pytest.mark.parametrize(
    "metric",
    [
        "Mean Absolute Error",
        "Root Mean Squared Error",
        "Relative Absolute Error",
        "Relative Squared Error",
        "Coefficient of Determination",
    ],
)
def test_regression_ranks_informative_features_above_noise(metric: str) -> None:
    df = signal_and_noise()
    model = trained(L.LinearRegression, df.iloc[:300])
    ctx = RunContext()
    table = importance(model, df.iloc[300:], ctx, **{METRIC: metric})
    assert list(table.columns) == ["Feature", "Score"]
    assert table["Feature"].tolist()[:2] == ["signal", "hint"]
    assert set(table["Feature"]) == {"noise", "signal", "hint", "tag"}
    assert table["Score"].is_monotonic_decreasing
    scores = dict(zip(table["Feature"], table["Score"], strict=True))
    assert scores["signal"] > 1.0 if metric != "Coefficient of Determination" else scores["signal"] > 0.5
    assert abs(scores["noise"]) < 0.05 * scores["signal"]
    assert "most important: 'signal'" in ctx.logs[0]


@pytest.mark.parametrize("metric", ["Accuracy", "Precision", "Recall", "Average Log Loss"])
def test_classification_ranks_the_informative_feature_above_noise(metric: str) -> None:
    df = signal_and_noise()
    df["y"] = np.where(df["signal"] > 0, "up", "down")
    model = trained(L.TwoClassLogisticRegression, df.iloc[:300])
    table = importance(model, df.iloc[300:], **{METRIC: metric})
    scores = dict(zip(table["Feature"], table["Score"], strict=True))
    assert table["Feature"].iloc[0] == "signal"
    assert scores["signal"] > 0.2
    assert scores["signal"] > scores["noise"] + 0.2


def test_multiclass_models_are_supported_and_the_seed_makes_it_repeatable() -> None:
    df = signal_and_noise()
    df["y"] = pd.cut(df["signal"], [-np.inf, -0.5, 0.5, np.inf], labels=["low", "mid", "high"]).astype(str)
    model = trained(L.MulticlassDecisionForest, df.iloc[:300])
    first = importance(model, df.iloc[300:], **{"Random seed": 3})
    pd.testing.assert_frame_equal(first, importance(model, df.iloc[300:], **{"Random seed": 3}))
    assert first["Feature"].iloc[0] == "signal"
    assert dict(zip(first["Feature"], first["Score"], strict=True))["signal"] > 0.3


def test_a_metric_of_the_wrong_task_is_refused() -> None:
    df = signal_and_noise()
    with pytest.raises(ComponentError) as regression:
        importance(trained(L.LinearRegression, df), df)  # the default, Accuracy, is for classification
    assert regression.value.code == "NotInRangeValue" and METRIC in str(regression.value)
    df["y"] = np.where(df["signal"] > 0, "up", "down")
    with pytest.raises(ComponentError, match="regression metric"):
        importance(trained(L.TwoClassDecisionForest, df), df, **{METRIC: "Mean Absolute Error"})


def test_test_data_problems_name_the_column() -> None:
    df = signal_and_noise()
    model = trained(L.LinearRegression, df.iloc[:300])
    test = df.iloc[300:]
    with pytest.raises(ColumnNotFound) as no_label:
        importance(model, test.drop(columns="y"), **{METRIC: "Mean Absolute Error"})
    assert no_label.value.column == "y"
    with pytest.raises(ColumnNotFound) as no_feature:
        importance(model, test.drop(columns="hint"), **{METRIC: "Mean Absolute Error"})
    assert no_feature.value.column == "hint"
    with pytest.raises(ComponentError) as unlabelled:
        importance(model, test.assign(y=np.nan), **{METRIC: "Mean Absolute Error"})
    assert unlabelled.value.code == "TooFewRowsInDataset"
    df["y"] = np.where(df["signal"] > 0, "up", "down")
    classifier = trained(L.TwoClassDecisionForest, df.iloc[:300])
    with pytest.raises(ComponentError) as unseen:
        importance(classifier, df.iloc[300:].assign(y="sideways"))
    assert (unseen.value.code, unseen.value.column) == ("InvalidLabel", "y")
