"""Select Columns in Dataset, Clean Missing Data and Split Data on small hand-made frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.base import RunContext
from core.components.transformation import (
    CleaningTransform,
    CleanMissingData,
    CleanMissingDataParams,
    SelectColumnsInDataset,
    SelectColumnsParams,
    SplitData,
    SplitDataParams,
)
from core.errors import ColumnNotFound, ComponentError


def select(df: pd.DataFrame, value: Any) -> pd.DataFrame:
    params = SelectColumnsParams.model_validate({"Select Columns": value})
    return SelectColumnsInDataset().run({"dataset": df}, params, RunContext())["results_dataset"]


def clean(df: pd.DataFrame, **params: Any) -> tuple[pd.DataFrame, CleaningTransform]:
    out = CleanMissingData().run({"dataset": df}, CleanMissingDataParams.model_validate(params), RunContext())
    return out["cleaned_dataset"], out["cleaning_transformation"]


def split(df: pd.DataFrame, **params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = SplitData().run({"dataset": df}, SplitDataParams.model_validate(params), RunContext())
    return out["results_dataset1"], out["results_dataset2"]


@pytest.fixture
def cars() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "make": ["audi", None, "bmw", "audi", "audi"],
            "doors": [2.0, 4.0, np.nan, 4.0, np.nan],
            "hp": [100.0, np.nan, 150.0, 200.0, 170.0],
            "year": [2001, 2002, 2003, 2004, 2005],
        }
    )
    df.attrs["source"] = "hand-made"
    return df


# ---- Select Columns in Dataset -------------------------------------------------------------------


def test_select_keeps_dataset_order_and_values(cars: pd.DataFrame) -> None:
    out = select(cars, ["year", "make"])
    assert list(out.columns) == ["make", "year"]
    pd.testing.assert_frame_equal(out, cars[["make", "year"]])
    assert out.attrs == {"source": "hand-made"}


def test_select_with_rules(cars: pd.DataFrame) -> None:
    out = select(cars, {"start": "all", "rules": [{"action": "exclude", "by": "name", "values": ["doors"]}]})
    assert list(out.columns) == ["make", "hp", "year"]


def test_select_refuses_an_empty_selection(cars: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        select(cars, {"start": "none", "rules": [{"action": "exclude", "by": "name", "values": ["hp"]}]})
    assert info.value.code == "TooFewColumnsInDataset"


def test_select_unknown_column(cars: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        select(cars, ["price"])
    assert info.value.column == "price"


def test_select_parameter_is_required() -> None:
    with pytest.raises(ValidationError):
        SelectColumnsParams.model_validate({})


# ---- Clean Missing Data --------------------------------------------------------------------------


def test_clean_defaults_match_the_designer() -> None:
    p = CleanMissingDataParams()
    assert (p.minimum_missing_value_ratio, p.maximum_missing_value_ratio) == (0.0, 1.0)
    assert p.cleaning_mode == "Custom substitution value"
    assert p.replacement_value == "0"
    assert p.cols_with_all_missing_values == "Remove"
    assert p.generate_missing_value_indicator_column is False


def test_custom_substitution_numeric(cars: pd.DataFrame) -> None:
    out, _ = clean(cars, **{"Columns to be cleaned": ["doors", "hp"], "Replacement value": "-1"})
    assert out["doors"].tolist() == [2.0, 4.0, -1.0, 4.0, -1.0]
    assert out["hp"].tolist() == [100.0, -1.0, 150.0, 200.0, 170.0]
    assert out["make"].isna().sum() == 1  # not selected: passes through
    assert out.attrs == {"source": "hand-made"}


def test_custom_substitution_default_is_zero(cars: pd.DataFrame) -> None:
    out, _ = clean(cars, **{"Columns to be cleaned": ["doors"]})
    assert out["doors"].tolist() == [2.0, 4.0, 0.0, 4.0, 0.0]


def test_custom_substitution_string(cars: pd.DataFrame) -> None:
    out, t = clean(cars, **{"Columns to be cleaned": ["make"], "Replacement value": "unknown"})
    assert out["make"].tolist() == ["audi", "unknown", "bmw", "audi", "audi"]
    assert t.fill_values == {"make": "unknown"}


def test_non_numeric_replacement_for_a_numeric_column_is_refused(cars: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        clean(cars, **{"Columns to be cleaned": ["make", "hp"], "Replacement value": "n/a"})
    assert info.value.code == "ParameterParsing"
    assert info.value.column == "hp"
    assert "'hp'" in str(info.value)


def test_replace_with_mean(cars: pd.DataFrame) -> None:
    out, t = clean(cars, **{"Columns to be cleaned": ["hp", "doors"], "Cleaning mode": "Replace with mean"})
    assert out["hp"].tolist() == [100.0, 155.0, 150.0, 200.0, 170.0]
    assert out["doors"].tolist() == pytest.approx([2.0, 4.0, 10 / 3, 4.0, 10 / 3])
    assert t.fill_values == pytest.approx({"hp": 155.0, "doors": 10 / 3})


def test_replace_with_median() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, np.nan, 30.0]})
    out, _ = clean(df, **{"Cleaning mode": "Replace with median"})
    assert out["x"].tolist() == [1.0, 2.0, 2.0, 30.0]


def test_replace_with_mode_numeric_and_string(cars: pd.DataFrame) -> None:
    out, t = clean(cars, **{"Columns to be cleaned": ["make", "doors"], "Cleaning mode": "Replace with mode"})
    assert out["make"].tolist() == ["audi", "audi", "bmw", "audi", "audi"]
    assert out["doors"].tolist() == [2.0, 4.0, 4.0, 4.0, 4.0]
    assert t.fill_values == {"make": "audi", "doors": 4.0}
    assert type(t.fill_values["doors"]) is float  # a plain Python value, not numpy


def test_mean_on_a_string_column_is_refused_naming_it(cars: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        clean(cars, **{"Cleaning mode": "Replace with mean"})
    assert info.value.code == "InvalidColumnType"
    assert info.value.column == "make"
    assert "'make'" in str(info.value)


def test_median_on_a_string_column_is_refused(cars: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        clean(cars, **{"Columns to be cleaned": ["make"], "Cleaning mode": "Replace with median"})
    assert info.value.column == "make"


def test_remove_entire_row(cars: pd.DataFrame) -> None:
    out, _ = clean(cars, **{"Cleaning mode": "Remove entire row"})
    assert out["year"].tolist() == [2001, 2004]
    assert list(out.columns) == list(cars.columns)


def test_remove_entire_row_only_looks_at_selected_columns(cars: pd.DataFrame) -> None:
    out, _ = clean(cars, **{"Columns to be cleaned": ["hp"], "Cleaning mode": "Remove entire row"})
    assert out["year"].tolist() == [2001, 2003, 2004, 2005]


def test_remove_entire_column(cars: pd.DataFrame) -> None:
    out, t = clean(cars, **{"Cleaning mode": "Remove entire column"})
    assert list(out.columns) == ["year"]
    assert t.drop_columns == ["make", "doors", "hp"]
    assert len(out) == 5


def test_maximum_missing_ratio_filters_columns(cars: pd.DataFrame) -> None:
    # missing ratios: make 0.2, doors 0.4, hp 0.2, year 0.0
    out, t = clean(cars, **{"Cleaning mode": "Remove entire column", "Maximum missing value ratio": 0.3})
    assert t.columns == ["make", "hp"]
    assert list(out.columns) == ["doors", "year"]


def test_minimum_missing_ratio_filters_columns(cars: pd.DataFrame) -> None:
    out, t = clean(cars, **{"Cleaning mode": "Remove entire column", "Minimum missing value ratio": 0.3})
    assert t.columns == ["doors"]
    assert list(out.columns) == ["make", "hp", "year"]


def test_ratio_bounds_are_inclusive(cars: pd.DataFrame) -> None:
    _, t = clean(
        cars,
        **{
            "Cleaning mode": "Remove entire column",
            "Minimum missing value ratio": 0.4,
            "Maximum missing value ratio": 0.4,
        },
    )
    assert t.columns == ["doors"]


def test_minimum_above_maximum_is_refused(cars: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        clean(cars, **{"Minimum missing value ratio": 0.6, "Maximum missing value ratio": 0.5})
    assert info.value.code == "NotInRangeValue"


@pytest.mark.parametrize(
    "bad",
    [
        {"Minimum missing value ratio": -0.1},
        {"Maximum missing value ratio": 1.5},
        {"Cleaning mode": "Replace using MICE!"},
    ],
)
def test_clean_parameters_out_of_range(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CleanMissingDataParams.model_validate(bad)


def test_indicator_columns(cars: pd.DataFrame) -> None:
    out, _ = clean(
        cars, **{"Cleaning mode": "Replace with mode", "Generate missing value indicator column": True}
    )
    assert list(out.columns) == [
        "make",
        "doors",
        "hp",
        "year",
        "make_isMissing",
        "doors_isMissing",
        "hp_isMissing",
    ]
    assert out["doors_isMissing"].tolist() == [False, False, True, False, True]
    assert out["make_isMissing"].tolist() == cars["make"].isna().tolist()
    assert "year_isMissing" not in out  # no missing values: not cleaned


def test_all_missing_column_removed_or_propagated_for_mean() -> None:
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "empty": [np.nan, np.nan, np.nan]})
    out, _ = clean(df, **{"Cleaning mode": "Replace with mean"})
    assert list(out.columns) == ["x"]
    out, _ = clean(df, **{"Cleaning mode": "Replace with mean", "Cols with all missing values": "Propagate"})
    assert list(out.columns) == ["x", "empty"]
    assert out["x"].tolist() == [1.0, 2.0, 3.0]


def test_custom_substitution_leaves_no_missing_value_in_an_all_missing_column() -> None:
    """Custom substitution needs no statistics, so an all-missing column can be filled (or, with
    the default 'Remove', dropped); it must not come out still full of missing values."""
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "empty": [np.nan, np.nan, np.nan]})
    out, _ = clean(df, **{"Replacement value": "7"})
    assert out["x"].tolist() == [1.0, 7.0, 3.0]
    assert not out.isna().any().any(), out


def test_no_missing_values_is_a_no_op(cars: pd.DataFrame) -> None:
    full = cars.dropna()
    out, t = clean(full, **{"Cleaning mode": "Replace with mean"})  # strings without NAs are fine
    pd.testing.assert_frame_equal(out, full)
    assert t.columns == [] and t.fill_values == {}


def test_cleaning_transformation_reapplies_the_fitted_values_to_new_data(cars: pd.DataFrame) -> None:
    _, t = clean(cars, **{"Columns to be cleaned": ["hp"], "Cleaning mode": "Replace with mean"})
    new = pd.DataFrame(
        {
            "make": ["vw", "vw", "vw"],
            "doors": [np.nan, 2.0, 2.0],
            "hp": [np.nan, 1000.0, 1000.0],
            "year": [1, 2, 3],
        }
    )
    out = t.apply(new)
    assert out["hp"].tolist() == [155.0, 1000.0, 1000.0]  # the training mean, not refitted (1000)
    assert np.isnan(out["doors"].iloc[0])  # not a cleaned column
    assert new["hp"].isna().sum() == 1  # input untouched


def test_cleaning_transformation_replays_removals_and_indicators(cars: pd.DataFrame) -> None:
    _, t = clean(
        cars,
        **{
            "Columns to be cleaned": ["doors", "hp"],
            "Cleaning mode": "Remove entire row",
            "Generate missing value indicator column": True,
        },
    )
    new = pd.DataFrame(
        {"make": [None, "a", "b"], "doors": [1.0, np.nan, 2.0], "hp": [1.0, 2.0, 3.0], "year": [1, 2, 3]}
    )
    out = t.apply(new)
    assert out["year"].tolist() == [1, 3]
    assert out["doors_isMissing"].tolist() == [False, False]
    _, t = clean(cars, **{"Cleaning mode": "Remove entire column"})
    assert list(t.apply(new).columns) == ["year"]


# ---- Split Data ----------------------------------------------------------------------------------


@pytest.fixture
def rows() -> pd.DataFrame:
    df = pd.DataFrame({"n": range(20), "cls": ["a"] * 12 + ["b"] * 8}, index=range(100, 120))
    df.attrs["source"] = "rows"
    return df


def test_split_defaults_match_the_designer() -> None:
    p = SplitDataParams()
    assert (p.splitting_mode, p.fraction, p.randomized_split, p.random_seed, p.stratified_split) == (
        "Split Rows",
        0.5,
        True,
        0,
        False,
    )


def test_split_fraction_partitions_the_rows(rows: pd.DataFrame) -> None:
    first, second = split(rows, **{"Fraction of rows in the first output dataset": 0.7})
    assert (len(first), len(second)) == (14, 6)
    assert sorted(first["n"].tolist() + second["n"].tolist()) == list(range(20))
    assert first.index.is_monotonic_increasing and second.index.is_monotonic_increasing
    assert set(first.index).isdisjoint(second.index)
    assert first.attrs == second.attrs == {"source": "rows"}


@pytest.mark.parametrize("fraction, sizes", [(0.0, (0, 20)), (1.0, (20, 0))])
def test_split_edge_fractions(rows: pd.DataFrame, fraction: float, sizes: tuple[int, int]) -> None:
    first, second = split(rows, fraction=fraction)
    assert (len(first), len(second)) == sizes


def test_split_same_seed_same_split(rows: pd.DataFrame) -> None:
    a, _ = split(rows, fraction=0.5, random_seed=42)
    b, _ = split(rows, fraction=0.5, random_seed=42)
    assert a["n"].tolist() == b["n"].tolist()


def test_split_different_seed_different_split(rows: pd.DataFrame) -> None:
    a, _ = split(rows, fraction=0.5, random_seed=1)
    b, _ = split(rows, fraction=0.5, random_seed=2)
    assert a["n"].tolist() != b["n"].tolist()
    assert a["n"].tolist() != list(range(10))  # randomized by default


def test_split_not_randomized_keeps_the_head_rows(rows: pd.DataFrame) -> None:
    first, second = split(
        rows,
        **{"Fraction of rows in the first output dataset": 0.25, "Randomized split": False, "Random seed": 9},
    )
    assert first["n"].tolist() == [0, 1, 2, 3, 4]
    assert second["n"].tolist() == list(range(5, 20))


def test_split_stratified_keeps_class_proportions(rows: pd.DataFrame) -> None:
    first, second = split(rows, fraction=0.5, stratified_split=True, stratification_key_column="cls")
    assert first["cls"].value_counts().to_dict() == {"a": 6, "b": 4}
    assert second["cls"].value_counts().to_dict() == {"a": 6, "b": 4}
    first, _ = split(rows, fraction=0.75, stratified_split=True, stratification_key_column="cls")
    assert first["cls"].value_counts().to_dict() == {"a": 9, "b": 6}


def test_split_stratified_on_a_missing_column(rows: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        split(rows, stratified_split=True, stratification_key_column="label")
    assert info.value.column == "label"


def test_split_stratified_without_a_key_column(rows: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        split(rows, stratified_split=True)
    assert info.value.code == "NullOrEmpty"


@pytest.mark.parametrize(
    "bad",
    [{"fraction": 1.1}, {"fraction": -0.5}, {"random_seed": -1}, {"splitting_mode": "Recommender Split"}],
)
def test_split_parameters_out_of_range(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SplitDataParams.model_validate(bad)
