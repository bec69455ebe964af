"""Filter Based Feature Selection: every scoring method ranks an informative feature first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.base import RunContext
from core.components.feature_selection import FilterBasedFeatureSelection, FilterBasedFeatureSelectionParams
from core.errors import ColumnNotFound, ComponentError

METHODS = [
    "PearsonCorrelation",
    "MutualInformation",
    "KendallCorrelation",
    "SpearmanCorrelation",
    "ChiSquared",
    "FisherScore",
]


def select(
    df: pd.DataFrame, ctx: RunContext | None = None, **params: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = FilterBasedFeatureSelectionParams.model_validate(params)
    out = FilterBasedFeatureSelection().run({"dataset": df}, model, ctx or RunContext())
    return out["filtered_dataset"], out["features"]


@pytest.fixture
def cars() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    label = np.repeat([0, 1], 30)
    return pd.DataFrame(
        {
            "noise": rng.normal(size=60),
            "strong": label * 4.0 + rng.normal(size=60) * 0.5,
            "weak": label + rng.normal(size=60) * 0.8,
            "brand": np.where(rng.random(60) < 0.5, "x", "y"),
            "label": label,
        }
    )


def test_defaults_and_validation() -> None:
    defaults = FilterBasedFeatureSelectionParams.model_validate({"Target column": "y"})
    assert defaults.operate_on_feature_columns_only is True
    assert defaults.number_of_desired_features == 1
    assert defaults.feature_scoring_method == "PearsonCorrelation"
    for bad in (
        {},
        {"Target column": "y", "Number of desired features": 0},
        {"Target column": "y", "Feature scoring method": "Pearson"},
    ):
        with pytest.raises(ValidationError):
            FilterBasedFeatureSelectionParams.model_validate(bad)
    assert FilterBasedFeatureSelection.describe()["parameters"]["required"] == ["target_column"]


def test_pearson_keeps_the_best_feature_and_the_target(cars: pd.DataFrame) -> None:
    ctx = RunContext()
    filtered, features = select(cars, ctx, **{"Target column": "label"})
    assert list(filtered.columns) == ["label", "strong"]
    pd.testing.assert_series_equal(filtered["strong"], cars["strong"])
    assert features["Feature"].tolist()[:2] == ["strong", "weak"]
    assert features.loc[0, "Score"] == pytest.approx(abs(cars["strong"].corr(cars["label"])))
    assert features.set_index("Feature").loc["brand", "Score"] == 0.0  # text features score 0 here
    assert features["Score"].is_monotonic_decreasing
    assert "kept 1 of 4 feature(s)" in ctx.logs[0]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_ranks_the_informative_feature_first(cars: pd.DataFrame, method: str) -> None:
    filtered, features = select(
        cars, **{"Target column": "label", "Feature scoring method": method, "Number of desired features": 2}
    )
    assert features.loc[0, "Feature"] == "strong"
    assert list(filtered.columns)[:2] == ["label", "strong"] and filtered.shape[1] == 3
    assert set(features["Feature"]) == {"noise", "strong", "weak", "brand"}


def test_chi_squared_scores_text_features(cars: pd.DataFrame) -> None:
    data = cars.assign(same=np.where(cars["label"] == 1, "yes", "no"))
    _, features = select(data, **{"Target column": "label", "Feature scoring method": "ChiSquared"})
    scores = features.set_index("Feature")["Score"]
    assert scores["same"] == pytest.approx(60.0)  # a perfect 2x2 association: chi2 = n
    assert scores["brand"] < 10


def test_text_target_uses_class_means(cars: pd.DataFrame) -> None:
    text = cars.assign(label=np.where(cars["label"] == 1, "expensive", "cheap"))
    _, numeric_target = select(cars, **{"Target column": "label"})
    _, text_target = select(text, **{"Target column": "label"})
    assert text_target.loc[0, "Feature"] == "strong"
    assert text_target.loc[0, "Score"] == pytest.approx(numeric_target.loc[0, "Score"])


def test_count_based_counts_non_zero_values() -> None:
    df = pd.DataFrame({"a": [0, 0, 1, 2], "b": [1, 1, 1, None], "t": [1, 2, 3, 4]})
    _, features = select(df, **{"Target column": "t", "Feature scoring method": "CountBased"})
    assert features.to_dict("list") == {"Feature": ["b", "a"], "Score": [3.0, 2.0]}


def test_more_features_than_exist_returns_all(cars: pd.DataFrame) -> None:
    filtered, _ = select(cars, **{"Target column": "label", "Number of desired features": 10})
    assert sorted(filtered.columns) == sorted(cars.columns)


def test_label_score_and_unmarked_columns_are_not_candidates(cars: pd.DataFrame) -> None:
    data = cars.assign(**{"Scored Labels": cars["label"]})
    data.attrs = {"label": "label", "score_columns": ["Scored Labels"], "features": ["noise", "weak"]}
    filtered, features = select(data, **{"Target column": "strong"})
    assert set(features["Feature"]) == {"noise", "weak"}
    assert filtered.attrs["features"] == [filtered.columns[1]] and "label" not in filtered.attrs
    _, everything = select(data, **{"Target column": "strong", "Operate on feature columns only": False})
    assert set(everything["Feature"]) == {"noise", "weak", "brand"}


def test_refusals_name_the_target(cars: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as missing:
        select(cars, **{"Target column": "price"})
    assert missing.value.column == "price"
    with pytest.raises(ComponentError, match="only missing values") as empty:
        select(cars.assign(label=np.nan), **{"Target column": "label"})
    assert empty.value.code == "MissingValues" and empty.value.column == "label"
    with pytest.raises(ComponentError) as alone:
        select(cars[["label"]], **{"Target column": "label"})
    assert alone.value.code == "TooFewColumnsInDataset"
