"""Cross Validate Model (core/components/cross_validation.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LinearRegression, LogisticRegression

from core.components import lookup
from core.components.base import RunContext
from core.components.cross_validation import (
    CrossValidateModel,
    CrossValidateModelParams,
    assign_folds,
    given_folds,
)
from core.components.evaluation import evaluate
from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES, Learner, fit
from core.errors import ComponentError
from core.storage.artifacts import dataframe_to_parquet, parquet_to_dataframe

BINARY_NAMES = [
    "AUC",
    "Accuracy",
    "Precision",
    "Recall",
    "F1_Score",
    "Average_Log_Loss",
    "True Negative",
    "False Positive",
    "False Negative",
    "True Positive",
]
REGRESSION_NAMES = [
    "Mean_Absolute_Error",
    "Root_Mean_Squared_Error",
    "Relative_Absolute_Error",
    "Relative_Squared_Error",
    "Coefficient_of_Determination",
]
MULTICLASS_NAMES = [
    "Overall_Accuracy",
    "Average_Accuracy",
    "Micro_Precision",
    "Macro_Precision",
    "Micro_Recall",
    "Macro_Recall",
]


class TwoFeatureLogistic(LogisticRegression):
    """Fails if it is trained on anything but the two features ``a`` and ``b``."""

    def fit(self, X, y, sample_weight=None):
        assert X.shape[1] == 2, f"trained on {X.shape[1]} columns"
        return super().fit(X, y, sample_weight)


def binary_data(rows: int = 203, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    df["y"] = np.where(df["a"] - df["b"] + rng.normal(scale=0.7, size=rows) > 0.8, "bad", "good")
    return df


def logistic(task: str = "binary") -> Learner:
    return Learner(LogisticRegression(max_iter=1000), task, f"{task} Logistic Regression")


def params(label: str = "y", **more: object) -> CrossValidateModelParams:
    return CrossValidateModelParams.model_validate({"Label column": label, **more})


def cross_validate(
    df: pd.DataFrame, learner: Learner | None = None, ctx: RunContext | None = None, **more: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = CrossValidateModel().run(
        {"untrained_model": learner or logistic(), "dataset": df}, params(**more), ctx or RunContext()
    )
    return out["scored_results"], out["evaluation_results_by_fold"]


@pytest.fixture(scope="module")
def binary_run() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, RunContext]:
    df = binary_data()
    ctx = RunContext()
    scored, table = cross_validate(df, ctx=ctx)
    return df, scored, table, ctx


def test_ten_folds_every_row_scored_once_in_input_order(binary_run) -> None:
    df, scored, table, _ = binary_run
    assert len(scored) == len(df)
    assert scored[["a", "b", "y"]].equals(df[["a", "b", "y"]])
    assert sorted(scored["Fold Number"].unique().tolist()) == list(range(10))
    assert scored[SCORED_LABELS].notna().all() and scored[SCORED_PROBABILITIES].notna().all()
    assert list(scored.columns) == ["a", "b", "y", SCORED_LABELS, SCORED_PROBABILITIES, "Fold Number"]
    assert table["Fold Number"].tolist() == [str(i) for i in range(10)] + ["Mean", "Standard Deviation"]


def test_fold_sizes_are_balanced_and_stratified(binary_run) -> None:
    _df, scored, table, _ = binary_run
    sizes = scored["Fold Number"].value_counts()
    assert sizes.max() - sizes.min() <= 1 and sizes.sum() == 203
    assert table["Number of examples in fold"].iloc[:10].tolist() == sizes.sort_index().tolist()
    per_class = pd.crosstab(scored["Fold Number"], scored["y"])
    assert (per_class.max() - per_class.min()).max() <= 1


def test_each_row_is_scored_by_the_model_trained_on_the_other_folds(binary_run) -> None:
    df, scored, _, _ = binary_run
    fold3 = scored["Fold Number"] == 3
    model = fit(logistic(), df[~fold3.to_numpy()], "y")
    expected = model.score(df[fold3.to_numpy()], append=False)
    np.testing.assert_allclose(scored.loc[fold3, SCORED_PROBABILITIES], expected[SCORED_PROBABILITIES])


def test_table_has_model_and_metric_columns_with_mean_and_standard_deviation(binary_run) -> None:
    _, scored, table, ctx = binary_run
    assert list(table.columns) == ["Fold Number", "Number of examples in fold", "Model", *BINARY_NAMES]
    assert (table["Model"] == "binary Logistic Regression").all()
    folds = table.iloc[:10]
    part = scored[scored["Fold Number"] == 0]
    part.attrs = dict(scored.attrs)
    assert folds.iloc[0][BINARY_NAMES].to_dict() == pytest.approx(evaluate(part))
    assert table.iloc[10][BINARY_NAMES].to_numpy(dtype=float) == pytest.approx(
        folds[BINARY_NAMES].mean().to_numpy()
    )
    assert table.iloc[11][BINARY_NAMES].to_numpy(dtype=float) == pytest.approx(
        folds[BINARY_NAMES].std(ddof=1).to_numpy()
    )
    assert ctx.metrics == pytest.approx(folds[BINARY_NAMES].mean().to_dict())
    assert folds["AUC"].min() > 0.7


def test_plots_from_pooled_scores_and_attrs(binary_run) -> None:
    _, scored, _, ctx = binary_run
    assert set(ctx.plots) == {"roc_curve", "precision_recall_curve", "lift_curve", "confusion_matrix"}
    assert scored.attrs["label"] == "y" and scored.attrs["task"] == "binary"
    assert scored.attrs["classes"] == ["bad", "good"]
    assert "10 folds (stratified by 'y')" in ctx.logs[0]


def test_outputs_survive_parquet(binary_run) -> None:
    _, scored, table, _ = binary_run
    for df in (scored, table):
        back = parquet_to_dataframe(dataframe_to_parquet(df))
        pd.testing.assert_frame_equal(back, df.reset_index(drop=True), check_dtype=False)
    assert parquet_to_dataframe(dataframe_to_parquet(scored)).attrs["classes"] == ["bad", "good"]


def test_the_seed_decides_the_folds() -> None:
    df = binary_data(60)
    scored, _ = cross_validate(df, **{"Random seed": 5})
    assert scored["Fold Number"].tolist() == assign_folds(df["y"], 60, 10, seed=5).tolist()
    assert assign_folds(df["y"], 60, 10, seed=5).tolist() == assign_folds(df["y"], 60, 10, seed=5).tolist()
    assert assign_folds(df["y"], 60, 10, seed=5).tolist() != assign_folds(df["y"], 60, 10, seed=0).tolist()


def test_assign_folds_deals_each_class_round_robin() -> None:
    labels = pd.Series(["x"] * 7 + ["y"] * 13)
    folds = assign_folds(labels, 20, 4, seed=1)
    assert np.bincount(folds).tolist() == [5, 5, 5, 5]
    assert sorted(np.bincount(folds[:7], minlength=4).tolist()) == [1, 2, 2, 2]
    assert np.bincount(assign_folds(None, 23, 10, seed=0)).tolist() == [3, 3, 3] + [2] * 7


def test_a_fold_column_from_partition_and_sample_is_honoured_and_not_a_feature() -> None:
    df = binary_data(80)
    df["Fold"] = np.resize([1, 2, 3, 4], 80)
    learner = Learner(TwoFeatureLogistic(), "binary", "Two-Class Logistic Regression")
    ctx = RunContext()
    scored, table = cross_validate(df, learner, ctx)
    assert scored["Fold Number"].tolist() == (df["Fold"] - 1).tolist()
    assert scored["Fold"].tolist() == df["Fold"].tolist()
    assert table["Fold Number"].tolist() == ["0", "1", "2", "3", "Mean", "Standard Deviation"]
    assert table["Number of examples in fold"].iloc[:4].tolist() == [20, 20, 20, 20]
    assert "4 folds (from column 'Fold')" in ctx.logs[0]


def test_zero_based_fold_values_are_kept() -> None:
    df = pd.DataFrame({"Fold": [2, 0, 1, 0]})
    assert given_folds(df)[1].tolist() == [2, 0, 1, 0]


def test_the_fold_column_named_in_attrs_comes_first() -> None:
    df = pd.DataFrame({"Fold": [0, 1, 0], "part": [3, 1, 2]})  # "Fold" is an ordinary feature here
    df.attrs["fold_column"] = "part"
    column, folds = given_folds(df)
    assert (column, folds.tolist()) == ("part", [2, 0, 1])


def test_a_fold_column_named_in_attrs_must_exist() -> None:
    df = binary_data(30)
    df.attrs["fold_column"] = "Folds"
    with pytest.raises(ComponentError) as info:
        given_folds(df)
    assert (info.value.code, info.value.column) == ("ColumnNotFound", "Folds")


def test_a_single_fold_is_refused() -> None:
    df = binary_data(30)
    df["Fold"] = 1
    with pytest.raises(ComponentError) as info:
        cross_validate(df)
    assert (info.value.code, info.value.column) == ("NotInRangeValue", "Fold")


def test_regression_uses_random_folds_and_regression_metrics_and_skips_unlabelled_rows() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=57), "colour": rng.choice(["red", "blue"], 57)})
    df["price"] = 4 * df["x"] + (df["colour"] == "red") + rng.normal(scale=0.3, size=57)
    df.loc[[3, 7], "price"] = np.nan
    ctx = RunContext()
    scored, table = cross_validate(
        df, Learner(LinearRegression(), "regression", "Linear Regression"), ctx, label="price"
    )
    assert len(scored) == 55
    assert list(table.columns) == ["Fold Number", "Number of examples in fold", "Model", *REGRESSION_NAMES]
    assert table["Number of examples in fold"].iloc[:10].tolist() == [6] * 5 + [5] * 5
    assert table.iloc[10]["Coefficient_of_Determination"] > 0.9
    assert set(ctx.plots) == {"residual_histogram", "predicted_vs_actual"}
    assert ctx.logs[0] == "10 folds (random) over 55 rows; 2 row(s) without a label left out"


def test_multiclass_metrics_per_fold() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=90)})
    df["kind"] = pd.cut(df["x"], [-9, -0.4, 0.4, 9], labels=["low", "mid", "high"]).astype(str)
    scored, table = cross_validate(df, logistic("multiclass"), label="kind")
    assert list(table.columns) == ["Fold Number", "Number of examples in fold", "Model", *MULTICLASS_NAMES]
    assert {f"{SCORED_PROBABILITIES}_{c}" for c in ("high", "low", "mid")} <= set(scored.columns)
    assert table.iloc[10]["Overall_Accuracy"] > 0.8


def test_too_few_rows_missing_label_column_and_clustering_learners_are_refused() -> None:
    with pytest.raises(ComponentError) as info:
        cross_validate(binary_data(9))
    assert (info.value.code, info.value.column) == ("TooFewRowsInDataset", "y")
    with pytest.raises(ComponentError) as info:
        cross_validate(binary_data(20), label="income")
    assert (info.value.code, info.value.column) == ("ColumnNotFound", "income")
    with pytest.raises(ComponentError) as info:
        cross_validate(binary_data(20), Learner(LogisticRegression(), "clustering", "K-Means"))
    assert info.value.code == "InvalidLearner"


def test_parameters_defaults_and_validation() -> None:
    p = CrossValidateModelParams.model_validate({"Label column": "income"})
    assert (p.label_column, p.random_seed) == ("income", 0)
    assert CrossValidateModelParams.model_validate({"label_column": "y", "random_seed": 7}).random_seed == 7
    for bad in (
        {},
        {"Label column": ""},
        {"Label column": "y", "Random seed": -1},
        {"Label column": "y", "Random seed": 2**32},
        {"Label column": "y", "Folds": 5},
    ):
        with pytest.raises(ValidationError):
            CrossValidateModelParams.model_validate(bad)


def test_describe_and_catalogue() -> None:
    entry = CrossValidateModel.describe()
    assert [p["type"] for p in entry["inputs"]] == ["UntrainedModelDirectory", "DataFrameDirectory"]
    assert [p["name"] for p in entry["outputs"]] == ["Scored results", "Evaluation results by fold"]
    assert entry["parameters"]["required"] == ["label_column"]
    assert lookup("Cross Validate Model") is CrossValidateModel
