"""Normalize Data, Group Data into Bins and Convert to Indicator Values, and their transforms."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats

from core.components.base import RunContext
from core.components.scaling import (
    BinningTransform,
    ConvertToIndicatorValues,
    ConvertToIndicatorValuesParams,
    GroupDataIntoBins,
    GroupDataIntoBinsParams,
    IndicatorTransform,
    NormalizationTransform,
    NormalizeData,
    NormalizeDataParams,
)
from core.errors import ColumnNotFound, ComponentError


@pytest.fixture
def train() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 4.0],
            "b": [10, 10, 10, 10],
            "c": [1.0, np.e, np.e**2, np.nan],
            "t": ["x", "y", "x", "z"],
            "flag": [True, False, True, True],
        }
    )
    df.attrs = {"label": "flag", "source": "train"}
    return df


def normalize(df: pd.DataFrame, **params: Any) -> tuple[pd.DataFrame, NormalizationTransform]:
    out = NormalizeData().run({"dataset": df}, NormalizeDataParams.model_validate(params), RunContext())
    return out["transformed_dataset"], out["transformation_function"]


# ---- Normalize Data ---------------------------------------------------------------------------------


def test_normalize_defaults_match_the_designer() -> None:
    p = NormalizeDataParams()
    assert (p.transformation_method, p.columns_to_transform, p.use_0_for_constant_columns_when_checked) == (
        "ZScore",
        None,
        True,
    )
    with pytest.raises(ValidationError):
        NormalizeDataParams.model_validate({"Transformation method": "Tanh"})


def test_zscore_uses_the_population_std_on_all_numeric_columns_by_default(train: pd.DataFrame) -> None:
    out, t = normalize(train)
    assert t.columns == ["a", "b", "c"]  # text and boolean columns are left alone
    std = np.std([1.0, 2.0, 3.0, 4.0])  # ddof=0
    np.testing.assert_allclose(out["a"], (np.array([1, 2, 3, 4]) - 2.5) / std)
    assert out["b"].tolist() == [0.0] * 4  # constant column -> 0
    assert np.isnan(out["c"].iloc[3])
    assert out["t"].tolist() == train["t"].tolist() and out.attrs == train.attrs
    assert train["a"].tolist() == [1.0, 2.0, 3.0, 4.0]  # input untouched


def test_constant_columns_become_missing_when_unchecked(train: pd.DataFrame) -> None:
    out, _ = normalize(
        train, **{"Columns to transform": ["b"], "Use 0 for constant columns when checked": False}
    )
    assert out["b"].isna().all()


def test_minmax(train: pd.DataFrame) -> None:
    out, t = normalize(train, **{"Transformation method": "MinMax", "Columns to transform": ["a"]})
    assert out["a"].tolist() == [0.0, 1 / 3, 2 / 3, 1.0]
    assert (t.centers, t.scales) == ({"a": 1.0}, {"a": 3.0})


def test_logistic_and_tanh(train: pd.DataFrame) -> None:
    out, _ = normalize(train, **{"Transformation method": "Logistic", "Columns to transform": ["a"]})
    np.testing.assert_allclose(out["a"], 1 / (1 + np.exp(-np.array([1.0, 2, 3, 4]))))
    out, _ = normalize(train, **{"Transformation method": "TanH", "Columns to transform": ["a"]})
    np.testing.assert_allclose(out["a"], np.tanh([1.0, 2, 3, 4]))


def test_lognormal_is_the_fitted_lognormal_cdf(train: pd.DataFrame) -> None:
    out, t = normalize(train, **{"Transformation method": "LogNormal", "Columns to transform": ["c"]})
    mu, sigma = 1.0, np.std([0.0, 1.0, 2.0])  # of ln(c), missing ignored
    assert t.centers["c"] == pytest.approx(mu) and t.scales["c"] == pytest.approx(sigma)
    expected = stats.lognorm.cdf([1.0, np.e, np.e**2], s=sigma, scale=np.exp(mu))
    np.testing.assert_allclose(out["c"].iloc[:3], expected)
    assert out["c"].iloc[1] == pytest.approx(0.5)


def test_lognormal_needs_positive_values(train: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        normalize(train.assign(c=[1.0, 0.0, 2.0, 3.0]), **{"Transformation method": "LogNormal"})
    assert info.value.code == "NotInRangeValue" and info.value.column == "c" and "0.0" in str(info.value)


def test_normalize_refuses_text_columns(train: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        normalize(train, **{"Columns to transform": ["a", "t"]})
    assert info.value.code == "InvalidColumnType" and info.value.column == "t"


def test_normalize_with_no_numeric_column() -> None:
    with pytest.raises(ComponentError) as info:
        normalize(pd.DataFrame({"t": ["a", "b"]}))
    assert info.value.code == "NoColumnsSelected"


def test_normalization_transform_reapplies_training_statistics(train: pd.DataFrame) -> None:
    _, t = normalize(train, **{"Columns to transform": ["a", "b"]})
    new = pd.DataFrame({"a": [2.5, 100.0], "b": [3, 3], "other": ["p", "q"]})
    out = pickle.loads(pickle.dumps(t)).apply(new)
    std = np.std([1.0, 2.0, 3.0, 4.0])
    assert out["a"].tolist() == pytest.approx([0.0, (100.0 - 2.5) / std])  # not refitted on the new rows
    assert out["b"].tolist() == [0.0, 0.0]  # constant in training -> 0
    assert out["other"].tolist() == ["p", "q"]


def test_normalization_transform_skips_columns_the_data_lacks(train: pd.DataFrame) -> None:
    """Scoring data has no label, though Normalize Data fitted every numeric column."""
    _, t = normalize(train, **{"Columns to transform": ["a", "b"]})
    out = t.apply(pd.DataFrame({"a": [t.centers["a"]]}))
    assert list(out.columns) == ["a"] and out["a"].tolist() == [0.0]


# ---- Group Data into Bins ---------------------------------------------------------------------------


@pytest.fixture
def spread() -> pd.DataFrame:
    df = pd.DataFrame({"x": [float(i) for i in range(1, 11)] + [np.nan], "k": ["k"] * 11})
    df.attrs = {"source": "spread", "label": "k"}
    return df


def bins(df: pd.DataFrame, **params: Any) -> tuple[pd.DataFrame, BinningTransform]:
    params = {"Columns to bin": ["x"], **params}
    p = GroupDataIntoBinsParams.model_validate(params)
    out = GroupDataIntoBins().run({"dataset": df}, p, RunContext())
    return out["quantized_dataset"], out["binning_transformation"]


def test_binning_defaults_match_the_designer() -> None:
    p = GroupDataIntoBinsParams.model_validate({"Columns to bin": ["x"]})
    assert (
        p.binning_mode,
        p.output_mode,
        p.tag_columns_as_categorical,
        p.number_of_bins,
        p.quantile_normalization,
    ) == ("Quantiles", "Append", True, 10, "Percent")
    assert (p.first_edge_position, p.bin_width, p.last_edge_position) == (0.0, 0.5, 1.0)
    for bad in (
        {"Number of bins": 0},
        {"Output mode": "ResultOnly"},
        {"Binning mode": "Entropy MDL"},
        {"Bin width": 0},
    ):
        with pytest.raises(ValidationError):
            GroupDataIntoBinsParams.model_validate({"Columns to bin": ["x"], **bad})


def test_quantiles_append_a_categorical_column(spread: pd.DataFrame) -> None:
    out, t = bins(spread, **{"Number of bins": 4, "Quantile normalization": "Quantile Index"})
    assert list(out.columns) == ["x", "k", "x_quantized"]
    assert isinstance(out["x_quantized"].dtype, pd.CategoricalDtype)
    assert out["x_quantized"].tolist()[:10] == [1, 1, 1, 2, 2, 3, 3, 4, 4, 4]
    assert pd.isna(out["x_quantized"].iloc[10])
    assert t.edges["x"] == pytest.approx([3.25, 5.5, 7.75])
    assert out.attrs == {"source": "spread", "label": "k", "categorical": ["x_quantized"]}


def test_quantile_normalizations(spread: pd.DataFrame) -> None:
    out, _ = bins(spread, **{"Number of bins": 4, "Tag columns as categorical": False})
    assert out["x_quantized"].tolist()[:4] == [25.0, 25.0, 25.0, 50.0]  # Percent
    out, _ = bins(
        spread,
        **{"Number of bins": 4, "Quantile normalization": "PQuantile", "Tag columns as categorical": False},
    )
    assert out["x_quantized"].tolist()[-2] == 1.0 and out["x_quantized"].dtype == np.float64


def test_equal_width_inplace(spread: pd.DataFrame) -> None:
    out, t = bins(
        spread,
        **{
            "Binning mode": "Equal Width",
            "Number of bins": 3,
            "Output mode": "Inplace",
            "Tag columns as categorical": False,
        },
    )
    assert t.edges["x"] == pytest.approx([4.0, 7.0])
    assert out["x"].tolist()[:10] == [1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert list(out.columns) == ["x", "k"] and "categorical" not in out.attrs


def test_custom_edges_result_only(spread: pd.DataFrame) -> None:
    out, _ = bins(
        spread,
        **{
            "Binning mode": "Custom Edges",
            "Comma-separated list of bin edges": "0, 5",
            "Output mode": "Result Only",
            "Tag columns as categorical": False,
        },
    )
    assert list(out.columns) == ["x_quantized"]
    assert out["x_quantized"].tolist()[:10] == [2, 2, 2, 2, 2, 3, 3, 3, 3, 3]  # 5 is in the lower bin
    assert out.attrs == {"source": "spread"}  # the label column is not in the result


def test_equal_width_with_custom_start_and_stop(spread: pd.DataFrame) -> None:
    out, t = bins(
        spread,
        **{
            "Binning mode": "Equal Width With Custom Start and Stop",
            "First edge position": 2,
            "Bin width": 3,
            "Last edge position": 8,
            "Tag columns as categorical": False,
        },
    )
    assert t.edges["x"] == [2.0, 5.0, 8.0]
    assert out["x_quantized"].tolist()[:10] == [1, 1, 2, 2, 2, 3, 3, 3, 4, 4]


@pytest.mark.parametrize(
    "edges, code", [("", "NullOrEmpty"), ("1, x", "ParameterParsing"), ("3, 1", "NotInRangeValue")]
)
def test_custom_edges_are_checked(spread: pd.DataFrame, edges: str, code: str) -> None:
    with pytest.raises(ComponentError) as info:
        bins(spread, **{"Binning mode": "Custom Edges", "Comma-separated list of bin edges": edges})
    assert info.value.code == code and "Comma-separated list of bin edges" in str(info.value)


def test_binning_refuses_text_columns(spread: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        bins(spread, **{"Columns to bin": ["x", "k"]})
    assert info.value.code == "InvalidColumnType" and info.value.column == "k"


def test_binning_transform_reuses_training_edges(spread: pd.DataFrame) -> None:
    _, t = bins(spread, **{"Number of bins": 4, "Quantile normalization": "Quantile Index"})
    new = pd.DataFrame({"x": [-100.0, 3.0, 6.0, 1000.0], "k": ["n"] * 4})
    out = pickle.loads(pickle.dumps(t)).apply(new)
    assert out["x_quantized"].tolist() == [1, 1, 3, 4]  # training edges 3.25, 5.5, 7.75
    assert list(out["x_quantized"].dtype.categories) == [1, 2, 3, 4]
    with pytest.raises(ColumnNotFound) as info:
        t.apply(pd.DataFrame({"k": ["n"]}))
    assert info.value.column == "x"


# ---- Convert to Indicator Values --------------------------------------------------------------------


@pytest.fixture
def servers() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "score": pd.Categorical(["Low", "High", None, "Low"], categories=["Low", "Medium", "High"]),
            "mpg": [25, 26, 25, 30],
            "label": [0, 1, 0, 1],
        }
    )
    df.attrs = {"label": "label", "features": ["id", "score", "mpg"], "categorical": ["mpg"]}
    return df


def indicators(df: pd.DataFrame, **params: Any) -> tuple[pd.DataFrame, IndicatorTransform]:
    p = ConvertToIndicatorValuesParams.model_validate(params)
    out = ConvertToIndicatorValues().run({"dataset": df}, p, RunContext())
    return out["results_dataset"], out["indicator_values_transformation"]


def test_indicator_defaults() -> None:
    p = ConvertToIndicatorValuesParams.model_validate({"Categorical columns to convert": ["a"]})
    assert p.overwrite_categorical_columns is False
    with pytest.raises(ValidationError):
        ConvertToIndicatorValuesParams.model_validate({})


def test_indicators_follow_their_source_column(servers: pd.DataFrame) -> None:
    out, _ = indicators(servers, **{"Categorical columns to convert": ["score"]})
    assert list(out.columns) == ["id", "score", "score-Low", "score-High", "score-Missing", "mpg", "label"]
    assert out["score-Low"].tolist() == [1, 0, 0, 1] and out["score-High"].tolist() == [0, 1, 0, 0]
    assert out["score-Missing"].tolist() == [0, 0, 1, 0] and out["score-Low"].dtype == np.int64
    assert out.attrs["features"] == ["id", "score", "score-Low", "score-High", "score-Missing", "mpg"]


def test_overwrite_replaces_the_source_column(servers: pd.DataFrame) -> None:
    out, _ = indicators(
        servers, **{"Categorical columns to convert": ["mpg"], "Overwrite categorical columns": True}
    )
    assert list(out.columns) == ["id", "score", "mpg-25", "mpg-26", "mpg-30", "label"]
    assert out["mpg-25"].tolist() == [1, 0, 1, 0]
    assert out.attrs["categorical"] == [] and out.attrs["label"] == "label"
    assert out.attrs["features"] == ["id", "score", "mpg-25", "mpg-26", "mpg-30"]


def test_only_categorical_columns_convert(servers: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        indicators(servers, **{"Categorical columns to convert": ["score", "id"]})
    assert info.value.code == "InvalidColumnCategorySelected" and info.value.column == "id"
    assert "Edit Metadata" in str(info.value)


def test_indicator_names_avoid_existing_columns(servers: pd.DataFrame) -> None:
    df = servers.assign(**{"score-Low": 9})
    out, _ = indicators(df, **{"Categorical columns to convert": ["score"]})
    assert "score-Low (2)" in out.columns and out["score-Low"].tolist() == [9] * 4


def test_indicator_transform_gives_zeros_for_unseen_values(servers: pd.DataFrame) -> None:
    _, t = indicators(
        servers, **{"Categorical columns to convert": ["score", "mpg"], "Overwrite categorical columns": True}
    )
    new = pd.DataFrame({"id": [9, 8], "score": ["Medium", "High"], "mpg": [99, 30], "label": [0, 0]})
    out = pickle.loads(pickle.dumps(t)).apply(new)
    assert list(out.columns) == [
        "id",
        "score-Low",
        "score-High",
        "score-Missing",
        "mpg-25",
        "mpg-26",
        "mpg-30",
        "label",
    ]
    assert out.loc[0, ["score-Low", "score-High", "score-Missing"]].tolist() == [0, 0, 0]  # unseen "Medium"
    assert out.loc[1, ["score-High", "mpg-30"]].tolist() == [1, 1]
    assert out.loc[0, ["mpg-25", "mpg-26", "mpg-30"]].tolist() == [0, 0, 0]  # unseen 99
    with pytest.raises(ColumnNotFound) as info:
        t.apply(new.drop(columns=["mpg"]))
    assert info.value.column == "mpg"


@pytest.mark.parametrize("component", [NormalizeData, GroupDataIntoBins, ConvertToIndicatorValues])
def test_describe_builds(component: Any) -> None:
    entry = component.describe()
    assert entry["outputs"][1]["type"] == "TransformationDirectory"
    assert entry["parameters"]["type"] == "object"
