"""Evaluate Model (core/components/evaluation.py) and the whole tutorial chain."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.components.base import RunContext
from core.components.evaluation import EvaluateModel, evaluate, regression_metrics
from core.components.learners import LinearRegression, LinearRegressionParams
from core.components.models import SCORED_LABELS
from core.components.training import ScoreModel, ScoreModelParams, TrainModel, TrainModelParams
from core.components.transformation import (
    CleanMissingData,
    CleanMissingDataParams,
    SelectColumnsInDataset,
    SelectColumnsParams,
    SplitData,
    SplitDataParams,
)
from core.errors import ComponentError

AUTOMOBILE = Path(__file__).resolve().parents[3] / "samples" / "datasets" / "automobile-price-raw.csv"
DESIGNER_REGRESSION_METRICS = [
    "Mean_Absolute_Error",
    "Root_Mean_Squared_Error",
    "Relative_Absolute_Error",
    "Relative_Squared_Error",
    "Coefficient_of_Determination",
]


def scored(y: list[float], pred: list[float], label: str = "y") -> pd.DataFrame:
    df = pd.DataFrame({"x": range(len(y)), label: y, SCORED_LABELS: pred})
    df.attrs.update({"label": label, "task": "regression", "score_columns": [SCORED_LABELS]})
    return df


# y = [1, 2, 3, 4], predictions [1.5, 2, 2.5, 5]: errors 0.5, 0, -0.5, 1; mean(y) = 2.5
#   MAE  = (0.5 + 0 + 0.5 + 1) / 4                      = 0.5
#   RMSE = sqrt((0.25 + 0 + 0.25 + 1) / 4) = sqrt(0.375)
#   RAE  = 2 / (1.5 + 0.5 + 0.5 + 1.5)     = 2 / 4      = 0.5
#   RSE  = 1.5 / (2.25 + 0.25 + 0.25 + 2.25) = 1.5 / 5  = 0.3
#   R²   = 1 - RSE                                       = 0.7
HAND = {
    "Mean_Absolute_Error": 0.5,
    "Root_Mean_Squared_Error": math.sqrt(0.375),
    "Relative_Absolute_Error": 0.5,
    "Relative_Squared_Error": 0.3,
    "Coefficient_of_Determination": 0.7,
}


def test_regression_metrics_match_a_hand_computation() -> None:
    got = regression_metrics(np.array([1.0, 2, 3, 4]), np.array([1.5, 2, 2.5, 5]))
    assert sorted(got) == sorted(DESIGNER_REGRESSION_METRICS)
    assert got == pytest.approx(HAND)
    assert all(type(v) is float for v in got.values())


def test_perfect_predictions() -> None:
    got = regression_metrics(np.array([1.0, 2, 3]), np.array([1.0, 2, 3]))
    assert got == pytest.approx(
        {
            "Mean_Absolute_Error": 0,
            "Root_Mean_Squared_Error": 0,
            "Relative_Absolute_Error": 0,
            "Relative_Squared_Error": 0,
            "Coefficient_of_Determination": 1,
        }
    )


def test_evaluate_model_outputs_the_designer_metric_names_and_logs_them() -> None:
    ctx = RunContext()
    out = EvaluateModel().run({"scored_dataset": scored([1, 2, 3, 4], [1.5, 2, 2.5, 5])}, None, ctx)
    table = out["evaluation_results"]
    assert list(table.columns) == ["Dataset", *DESIGNER_REGRESSION_METRICS]
    assert table["Dataset"].tolist() == ["Scored dataset"]
    assert table.iloc[0][DESIGNER_REGRESSION_METRICS].to_dict() == pytest.approx(HAND)
    assert set(ctx.metrics) == set(DESIGNER_REGRESSION_METRICS)
    assert ctx.metrics == pytest.approx(HAND)


def test_evaluate_model_compares_a_second_scored_dataset() -> None:
    ctx = RunContext()
    left = scored([1, 2, 3, 4], [1.5, 2, 2.5, 5])
    right = scored([10, 20, 30], [10, 20, 30], label="price")
    table = EvaluateModel().run({"scored_dataset": left, "scored_dataset_to_compare": right}, None, ctx)[
        "evaluation_results"
    ]
    assert table["Dataset"].tolist() == ["Scored dataset", "Scored dataset to compare"]
    assert table.iloc[0][DESIGNER_REGRESSION_METRICS].to_dict() == pytest.approx(HAND)
    assert table.iloc[1]["Mean_Absolute_Error"] == 0
    assert table.iloc[1]["Coefficient_of_Determination"] == 1
    assert ctx.metrics == pytest.approx(HAND)  # the left input is the one logged


def test_evaluate_model_ignores_an_absent_compare_input() -> None:
    out = EvaluateModel().run(
        {"scored_dataset": scored([1, 2, 3, 4], [1.5, 2, 2.5, 5]), "scored_dataset_to_compare": None},
        None,
        RunContext(),
    )
    assert len(out["evaluation_results"]) == 1


def test_rows_without_a_label_are_not_evaluated() -> None:
    df = scored([1, 2, np.nan, 3, 4], [1.5, 2, 99, 2.5, 5])
    assert evaluate(df) == pytest.approx(HAND)


def test_unscored_dataset_is_refused() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "x": [0, 1]})
    with pytest.raises(ComponentError) as info:
        EvaluateModel().run({"scored_dataset": df}, None, RunContext())
    assert info.value.code == "NotScoredDataset"


def test_dataset_without_score_tags_is_refused() -> None:
    df = scored([1, 2], [1, 2])
    df.attrs.clear()  # e.g. scores typed in by hand, not from Score Model
    with pytest.raises(ComponentError) as info:
        evaluate(df)
    assert info.value.code == "NotScoredDataset"


def test_unscored_compare_dataset_is_refused() -> None:
    with pytest.raises(ComponentError) as info:
        EvaluateModel().run(
            {
                "scored_dataset": scored([1, 2], [1, 2]),
                "scored_dataset_to_compare": pd.DataFrame({"y": [1.0]}),
            },
            None,
            RunContext(),
        )
    assert info.value.code == "NotScoredDataset"


def test_scored_dataset_without_its_label_is_refused() -> None:
    df = scored([1, 2], [1, 2]).drop(columns="y")
    with pytest.raises(ComponentError) as info:
        evaluate(df)
    assert (info.value.code, info.value.column) == ("NotLabeledDataset", "y")


def test_no_labelled_rows_is_refused() -> None:
    with pytest.raises(ComponentError) as info:
        evaluate(scored([np.nan, np.nan], [1, 2]))
    assert info.value.code == "TooFewRowsInDataset"


def test_unsupported_task_is_refused() -> None:
    df = scored([1, 0], [1, 0])
    df.attrs["task"] = "clustering"
    with pytest.raises(ComponentError) as info:
        evaluate(df)
    assert info.value.code == "InvalidLearner"


def test_the_tutorial_chain_on_automobile_price_data() -> None:
    """Select Columns -> Clean Missing Data -> Split Data -> Linear Regression -> Train -> Score ->
    Evaluate, with the tutorial's parameters."""
    ctx = RunContext()
    raw = pd.read_csv(AUTOMOBILE)
    assert raw.shape == (205, 26)
    selected = SelectColumnsInDataset().run(
        {"dataset": raw},
        SelectColumnsParams.model_validate(
            {
                "Select Columns": {
                    "start": "all",
                    "rules": [{"action": "exclude", "by": "name", "values": ["normalized-losses"]}],
                }
            }
        ),
        ctx,
    )["results_dataset"]
    cleaned = CleanMissingData().run(
        {"dataset": selected},
        CleanMissingDataParams.model_validate({"Cleaning mode": "Remove entire row"}),
        ctx,
    )["cleaned_dataset"]
    assert not cleaned.isna().any().any()
    parts = SplitData().run(
        {"dataset": cleaned},
        SplitDataParams.model_validate(
            {"Fraction of rows in the first output dataset": 0.7, "Random seed": 0}
        ),
        ctx,
    )
    train_rows, test_rows = parts["results_dataset1"], parts["results_dataset2"]
    assert len(train_rows) == round(0.7 * len(cleaned))
    lrn = LinearRegression().run({}, LinearRegressionParams(), ctx)["untrained_model"]
    model = TrainModel().run(
        {"untrained_model": lrn, "dataset": train_rows},
        TrainModelParams.model_validate({"Label column": "price"}),
        ctx,
    )["trained_model"]
    scored_test = ScoreModel().run({"trained_model": model, "dataset": test_rows}, ScoreModelParams(), ctx)[
        "scored_dataset"
    ]
    results = EvaluateModel().run({"scored_dataset": scored_test}, None, ctx)["evaluation_results"]
    r2 = results.iloc[0]["Coefficient_of_Determination"]
    assert r2 > 0.8
    assert ctx.metrics["Coefficient_of_Determination"] == r2
    assert 0 < ctx.metrics["Mean_Absolute_Error"] < ctx.metrics["Root_Mean_Squared_Error"]
    assert ctx.metrics["Relative_Squared_Error"] == pytest.approx(1 - r2)
