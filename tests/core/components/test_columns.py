"""The designer's column picker (core/components/columns.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.columns import ColumnSelection, require_columns
from core.errors import ColumnNotFound, ComponentError


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],  # integer
            "make": ["audi", "bmw", "audi"],  # string
            "price": [1.5, np.nan, 3.0],  # float
            "turbo": [True, False, True],  # boolean
            "sold": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "body": pd.Categorical(["sedan", "wagon", "sedan"]),
        }
    )


def pick(df: pd.DataFrame, value: Any) -> list[str]:
    return ColumnSelection.model_validate(value).resolve(df)


def rules(start: str, *rs: tuple[str, str, list[Any]]) -> dict[str, Any]:
    return {"start": start, "rules": [{"action": a, "by": b, "values": v} for a, b, v in rs]}


# ---- by name --------------------------------------------------------------------------------------


def test_shorthand_name_and_list(df: pd.DataFrame) -> None:
    assert pick(df, "price") == ["price"]
    assert pick(df, ["price", "make"]) == ["make", "price"]  # dataset order, not request order


def test_start_all_and_start_none(df: pd.DataFrame) -> None:
    assert pick(df, {"start": "all"}) == list(df.columns)
    assert ColumnSelection.all().resolve(df) == list(df.columns)
    assert pick(df, {"start": "none"}) == []
    assert pick(df, {}) == []  # "none" is the default start


def test_exclude_by_name_from_all(df: pd.DataFrame) -> None:
    assert pick(df, rules("all", ("exclude", "name", ["price", "id"]))) == ["make", "turbo", "sold", "body"]


def test_unknown_name_names_the_column_and_lists_available(df: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        pick(df, ["price", "colour"])
    err = info.value
    assert err.code == "ColumnNotFound"
    assert err.column == "colour"
    assert "'colour'" in str(err)
    for c in df.columns:
        assert c in str(err)


def test_excluding_a_name_the_data_lacks_is_a_no_op(df: pd.DataFrame) -> None:
    """A scoring request may omit a column the pipeline excludes anyway."""
    assert pick(df, rules("all", ("exclude", "name", ["normalized-losses"]))) == pick(df, rules("all"))


def test_names_are_case_sensitive(df: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound):
        pick(df, ["Price"])


# ---- by type --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("numeric", ["id", "price"]),  # booleans are not numeric
        ("integer", ["id"]),
        ("float", ["price"]),
        ("string", ["make", "body"]),  # a categorical of strings is still a string column
        ("boolean", ["turbo"]),
        ("datetime", ["sold"]),
        ("categorical", ["body"]),
    ],
)
def test_include_by_type(df: pd.DataFrame, kind: str, expected: list[str]) -> None:
    assert pick(df, rules("none", ("include", "type", [kind]))) == expected


def test_several_types_in_one_rule(df: pd.DataFrame) -> None:
    assert pick(df, rules("none", ("include", "type", ["integer", "boolean"]))) == ["id", "turbo"]


def test_unknown_type_is_refused(df: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        pick(df, rules("none", ("include", "type", ["text"])))
    assert info.value.code == "ParameterParsing"
    assert "text" in str(info.value)


# ---- by index -------------------------------------------------------------------------------------


def test_indices_start_at_one_and_take_ranges(df: pd.DataFrame) -> None:
    assert pick(df, rules("none", ("include", "index", [1]))) == ["id"]
    assert pick(df, rules("none", ("include", "index", ["2"]))) == ["make"]
    assert pick(df, rules("none", ("include", "index", ["2-4"]))) == ["make", "price", "turbo"]
    assert pick(df, rules("none", ("include", "index", ["1,3-4", 6]))) == ["id", "price", "turbo", "body"]


@pytest.mark.parametrize("index", [0, 7, "5-7"])
def test_index_out_of_range(df: pd.DataFrame, index: Any) -> None:
    with pytest.raises(ComponentError) as info:
        pick(df, rules("none", ("include", "index", [index])))
    assert info.value.code == "NotInRangeValue"
    assert "1-6" in str(info.value)


@pytest.mark.parametrize("index", ["x", "3-", "-2", "2-a", "1;2"])
def test_index_that_is_not_a_number_or_closed_range(df: pd.DataFrame, index: str) -> None:
    with pytest.raises(ComponentError) as info:
        pick(df, rules("none", ("include", "index", [index])))
    assert info.value.code == "ParameterParsing"


def test_reversed_index_range_is_refused(df: pd.DataFrame) -> None:
    """'4-2' is not a range the designer accepts; it must not silently select nothing."""
    with pytest.raises(ComponentError) as info:
        pick(df, rules("all", ("exclude", "index", ["4-2"])))
    assert info.value.code == "ParameterParsing"


# ---- rule order -----------------------------------------------------------------------------------


def test_rules_apply_in_order(df: pd.DataFrame) -> None:
    include_then_exclude = rules("none", ("include", "type", ["numeric"]), ("exclude", "name", ["id"]))
    exclude_then_include = rules("none", ("exclude", "name", ["id"]), ("include", "type", ["numeric"]))
    assert pick(df, include_then_exclude) == ["price"]
    assert pick(df, exclude_then_include) == ["id", "price"]


def test_mixed_rules_from_all(df: pd.DataFrame) -> None:
    value = rules(
        "all",
        ("exclude", "type", ["string", "datetime"]),
        ("exclude", "index", ["1"]),
        ("include", "name", ["make"]),
    )
    assert pick(df, value) == ["make", "price", "turbo"]


# ---- the value itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"start": "some"},
        {"rules": [{"action": "keep", "by": "name", "values": ["a"]}]},
        {"rules": [{"action": "include", "by": "regex", "values": ["a"]}]},
        {"rules": [{"action": "include", "by": "name", "values": []}]},
        {"start": "all", "columns": ["a"]},
    ],
)
def test_malformed_selection_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ColumnSelection.model_validate(bad)


def test_require_columns(df: pd.DataFrame) -> None:
    require_columns(df, ["id", "price"])
    with pytest.raises(ColumnNotFound) as info:
        require_columns(df, ["id", "label", "other"])
    assert info.value.column == "label"
    assert "'other'" in str(info.value)
