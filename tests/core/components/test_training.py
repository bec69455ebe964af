"""Linear Regression, Train Model and Score Model (learners.py, training.py, models.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import StandardScaler

from core.components.base import RunContext
from core.components.learners import LinearRegression, LinearRegressionParams
from core.components.models import SCORED_LABELS, Learner, TrainedModel
from core.components.training import ScoreModel, ScoreModelParams, TrainModel, TrainModelParams
from core.components.transformation import (
    CleanMissingData,
    CleanMissingDataParams,
    SelectColumnsInDataset,
    SelectColumnsParams,
)
from core.errors import ColumnNotFound, ComponentError

AUTOMOBILE = Path(__file__).resolve().parents[3] / "samples" / "datasets" / "automobile-price-raw.csv"


def learner(**params: object) -> Learner:
    out = LinearRegression().run({}, LinearRegressionParams.model_validate(params), RunContext())
    return out["untrained_model"]


def train(
    df: pd.DataFrame, label: str, lrn: Learner | None = None, ctx: RunContext | None = None
) -> TrainedModel:
    out = TrainModel().run(
        {"untrained_model": lrn or learner(), "dataset": df},
        TrainModelParams.model_validate({"Label column": label}),
        ctx or RunContext(),
    )
    return out["trained_model"]


def score(model: TrainedModel, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
    out = ScoreModel().run(
        {"trained_model": model, "dataset": df}, ScoreModelParams(append_score_columns=append), RunContext()
    )
    return out["scored_dataset"]


@pytest.fixture(scope="module")
def automobile() -> pd.DataFrame:
    """The tutorial's data after Select Columns (without normalized-losses) and Clean Missing Data."""
    raw = pd.read_csv(AUTOMOBILE)
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
        RunContext(),
    )["results_dataset"]
    return CleanMissingData().run(
        {"dataset": selected},
        CleanMissingDataParams.model_validate({"Cleaning mode": "Remove entire row"}),
        RunContext(),
    )["cleaned_dataset"]


@pytest.fixture
def line() -> pd.DataFrame:
    """y = 2x + 1 exactly, plus a colour that does not matter."""
    return pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "colour": ["red", "blue", "red", "blue", "red", "blue"],
            "y": [1.0, 3.0, 5.0, 7.0, 9.0, 11.0],
        }
    )


# ---- Linear Regression ---------------------------------------------------------------------------


def test_linear_regression_ols_defaults() -> None:
    lrn = learner()
    assert (lrn.task, lrn.algorithm) == ("regression", "Linear Regression")
    assert isinstance(lrn.estimator, Ridge)
    assert lrn.estimator.alpha == 0.001
    assert lrn.estimator.fit_intercept is True


def test_linear_regression_ols_parameters_by_designer_name() -> None:
    lrn = learner(
        **{
            "Solution method": "Ordinary Least Squares",
            "L2 regularization weight": 0.5,
            "Include intercept term": False,
        }
    )
    assert (lrn.estimator.alpha, lrn.estimator.fit_intercept) == (0.5, False)


def test_linear_regression_online_gradient_descent() -> None:
    lrn = learner(
        **{
            "Solution method": "Online Gradient Descent",
            "Learning rate": 0.05,
            "Number of epochs over which algorithm iterates through examples": 7,
            "Random number seed": 3,
        }
    )
    assert lrn.task == "regression"
    assert isinstance(lrn.estimator, SkPipeline)  # normalised by default
    scaler, sgd = (step for _, step in lrn.estimator.steps)
    assert isinstance(scaler, StandardScaler) and isinstance(sgd, SGDRegressor)
    assert (sgd.eta0, sgd.max_iter, sgd.random_state, sgd.learning_rate) == (0.05, 7, 3, "invscaling")
    assert sgd.average is True


def test_linear_regression_ogd_without_normalisation_or_decay() -> None:
    lrn = learner(
        solution_method="Online Gradient Descent",
        normalize_features=False,
        decrease_learning_rate=False,
        average_final_hypothesis=False,
    )
    assert isinstance(lrn.estimator, SGDRegressor)
    assert (lrn.estimator.learning_rate, lrn.estimator.average) == ("constant", False)


def test_ogd_learner_trains_and_predicts_on_small_data() -> None:
    x = np.linspace(0.0, 5.0, 60)
    df = pd.DataFrame({"x": x, "colour": ["red", "blue"] * 30, "y": 2 * x + 1})
    model = train(
        df, "y", learner(solution_method="Online Gradient Descent", random_number_seed=0, number_of_epochs=50)
    )
    predictions = score(model, df)[SCORED_LABELS]
    assert np.abs(predictions - df["y"]).max() < 0.2


@pytest.mark.parametrize(
    "bad",
    [
        {"solution_method": "Normal equations"},
        {"learning_rate": 0},
        {"l2_regularization_weight": -1},
        {"number_of_epochs": 0},
    ],
)
def test_linear_regression_parameters_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LinearRegressionParams.model_validate(bad)


# ---- Train Model ---------------------------------------------------------------------------------


def test_train_on_automobile_excludes_the_label_and_encodes_categoricals(automobile: pd.DataFrame) -> None:
    ctx = RunContext()
    model = train(automobile, "price", ctx=ctx)
    assert model.label_column == "price"
    assert "price" not in model.feature_columns
    assert model.feature_columns == [c for c in automobile.columns if c != "price"]
    assert "normalized-losses" not in model.feature_columns
    assert model.task == "regression" and model.algorithm == "Linear Regression"
    encoder = model.pipeline.named_steps["encode"]
    categorical = encoder.transformers_[0][2]
    assert {"make", "fuel-type", "body-style", "num-of-doors"} <= set(categorical)
    assert "horsepower" not in categorical
    assert model.feature_dtypes["horsepower"].startswith("float")
    assert any("price" in line for line in ctx.logs)


def test_train_with_designer_port_values_is_independent_of_learner(automobile: pd.DataFrame) -> None:
    lrn = learner()
    train(automobile, "price", lrn)
    assert not hasattr(lrn.estimator, "coef_")  # the learner is a template; training clones it


def test_categorical_features_matter_and_unknown_levels_are_allowed() -> None:
    df = pd.DataFrame(
        {
            "make": ["a", "b"] * 10,
            "x": np.arange(20.0),
            "y": [100.0 + i if i % 2 == 0 else 500.0 + i for i in range(20)],
        }
    )
    model = train(df, "y")
    scored = score(model, pd.DataFrame({"make": ["a", "b", "zz"], "x": [4.0, 4.0, 4.0]}))
    a, b, unknown = scored[SCORED_LABELS]
    assert b - a == pytest.approx(400.0, abs=1.0)
    assert np.isfinite(unknown)


def test_rows_without_a_label_are_ignored(line: pd.DataFrame) -> None:
    line.loc[len(line)] = [100.0, "red", np.nan]  # unlabelled row far off the line
    model = train(line, "y")
    predictions = score(model, pd.DataFrame({"x": [10.0, 100.0], "colour": ["red", "red"]}))
    # had the row counted (as 0 or anything else) the fit would be far off; ridge shrinks a hair
    assert predictions[SCORED_LABELS].tolist() == pytest.approx([21.0, 201.0], rel=1e-3)


def test_missing_feature_values_are_refused_naming_the_column(line: pd.DataFrame) -> None:
    line.loc[2, "x"] = np.nan
    with pytest.raises(ComponentError) as info:
        train(line, "y")
    assert info.value.code == "MissingValues"
    assert info.value.column == "x"
    assert "x" in str(info.value) and "Clean Missing Data" in str(info.value)


def test_unknown_label_column_is_refused(line: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        train(line, "price")
    assert info.value.column == "price"
    assert "colour" in str(info.value)


def test_label_without_values_is_refused(line: pd.DataFrame) -> None:
    line["y"] = np.nan
    with pytest.raises(ComponentError) as info:
        train(line, "y")
    assert info.value.code == "TooFewRowsInDataset"


def test_dataset_with_only_the_label_is_refused(line: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        train(line[["y"]], "y")
    assert info.value.code == "TooFewColumnsInDataset"


def test_text_label_is_refused_for_regression(line: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        train(line, "colour")
    assert (info.value.code, info.value.column) == ("InvalidColumnType", "colour")


def test_label_column_parameter_is_required() -> None:
    with pytest.raises(ValidationError):
        TrainModelParams.model_validate({})
    with pytest.raises(ValidationError):
        TrainModelParams.model_validate({"Label column": ""})


# ---- Score Model ---------------------------------------------------------------------------------


def test_score_appends_scored_labels_and_tags_the_dataset(line: pd.DataFrame) -> None:
    line.attrs["source"] = "line"
    model = train(line, "y")
    scored = score(model, line)
    assert list(scored.columns) == ["x", "colour", "y", SCORED_LABELS]
    assert scored[SCORED_LABELS].tolist() == pytest.approx(line["y"].tolist(), abs=1e-2)
    assert scored.attrs["label"] == "y"
    assert scored.attrs["task"] == "regression"
    assert scored.attrs["score_columns"] == [SCORED_LABELS]
    assert scored.attrs["source"] == "line"
    assert list(line.columns) == ["x", "colour", "y"]  # input untouched


def test_score_without_appending(line: pd.DataFrame) -> None:
    model = train(line, "y")
    scored = score(model, line, append=False)
    assert list(scored.columns) == [SCORED_LABELS]
    assert scored.attrs["label"] == "y"
    assert scored.index.equals(line.index)


def test_score_data_without_a_label_column(line: pd.DataFrame) -> None:
    model = train(line, "y")
    scored = score(model, line.drop(columns="y"))
    assert list(scored.columns) == ["x", "colour", SCORED_LABELS]


def test_score_data_missing_a_feature_column(line: pd.DataFrame) -> None:
    model = train(line, "y")
    with pytest.raises(ColumnNotFound) as info:
        score(model, line.drop(columns="colour"))
    assert info.value.column == "colour"


def test_score_data_with_missing_feature_values_is_a_component_error(line: pd.DataFrame) -> None:
    """A user's data problem must be a ComponentError (recorded as the node's failure), not a bare
    scikit-learn ValueError that the executor treats as an infrastructure fault and retries."""
    model = train(line, "y")
    test = line.copy()
    test.loc[1, "x"] = np.nan
    with pytest.raises(ComponentError) as info:
        score(model, test)
    assert (info.value.code, info.value.column) == ("MissingValues", "x")


def test_score_default_appends() -> None:
    assert ScoreModelParams().append_score_columns is True
    assert (
        ScoreModelParams.model_validate({"Append score columns to output": False}).append_score_columns
        is False
    )
