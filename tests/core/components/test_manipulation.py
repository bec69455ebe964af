"""Join Data, Add Columns, Add Rows, Remove Duplicate Rows and Edit Metadata on small frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.base import Component, Params, RunContext
from core.components.manipulation import (
    AddColumns,
    AddRows,
    EditMetadata,
    EditMetadataParams,
    JoinData,
    JoinDataParams,
    RemoveDuplicateRows,
    RemoveDuplicateRowsParams,
    carry_attrs,
    unique_name,
)
from core.errors import ColumnNotFound, ComponentError


def run(component: type[Component], inputs: dict[str, Any], **params: Any) -> dict[str, Any]:
    parameters: Params = component.Parameters.model_validate(params)
    return component().run(inputs, parameters, RunContext())


@pytest.fixture
def cars() -> pd.DataFrame:
    df = pd.DataFrame(
        {"id": [1, 2, 3, 4], "make": ["audi", "BMW", "vw", None], "price": [10.0, 20.0, 30.0, 40.0]},
        index=[7, 8, 9, 10],
    )
    df.attrs = {"label": "price", "source": "cars"}
    return df


@pytest.fixture
def makers() -> pd.DataFrame:
    return pd.DataFrame(
        {"make": ["bmw", "audi", "audi", "fiat", None], "country": ["DE", "DE", "DE2", "IT", "?"]}
    )


def join(left: pd.DataFrame, right: pd.DataFrame, lkeys: Any, rkeys: Any, **params: Any) -> pd.DataFrame:
    params = {
        "Comma-separated case-sensitive names of join key columns for L": lkeys,
        "Comma-separated case-sensitive names of join key columns for R": rkeys,
        **params,
    }
    return run(JoinData, {"dataset1": left, "dataset2": right}, **params)["results_dataset"]


# ---- helpers --------------------------------------------------------------------------------------


def test_unique_name_suffixes_like_the_designer() -> None:
    assert unique_name("a", ["b"]) == "a"
    assert unique_name("a", ["a"]) == "a (2)"
    assert unique_name("a", ["a", "a (2)"]) == "a (3)"


def test_carry_attrs_follows_renames_and_forgets_dropped_columns() -> None:
    attrs = {"label": "y", "features": ["a", "b"], "categorical": ["b"], "task": "binary"}
    assert carry_attrs(attrs, ["a2", "y"], {"a": "a2"}) == {
        "label": "y",
        "features": ["a2"],
        "categorical": [],
        "task": "binary",
    }
    assert "label" not in carry_attrs(attrs, ["a"])


# ---- Join Data --------------------------------------------------------------------------------------


def test_join_defaults_match_the_designer() -> None:
    p = JoinDataParams.model_validate(
        {
            "Comma-separated case-sensitive names of join key columns for L": "a",
            "Comma-separated case-sensitive names of join key columns for R": "b",
        }
    )
    assert (p.match_case, p.join_type, p.keep_right_key_columns_in_joined_table) == (True, "Inner Join", True)


def test_join_keys_are_required_and_options_checked() -> None:
    with pytest.raises(ValidationError):
        JoinDataParams.model_validate({})
    with pytest.raises(ValidationError):
        JoinDataParams.model_validate(
            {
                "Comma-separated case-sensitive names of join key columns for L": "a",
                "Comma-separated case-sensitive names of join key columns for R": "b",
                "Join type": "Right Outer Join",
            }
        )


def test_inner_join_matches_case_sensitively_and_keeps_right_keys(
    cars: pd.DataFrame, makers: pd.DataFrame
) -> None:
    out = join(cars, makers, "make", "make")
    assert list(out.columns) == ["id", "make", "price", "make (2)", "country"]
    assert out["id"].tolist() == [1, 1]  # "BMW" != "bmw"; missing keys never match
    assert out["country"].tolist() == ["DE", "DE2"]  # one row per match, right order kept
    assert out.index.tolist() == [0, 1]
    assert out.attrs == {"label": "price", "source": "cars"}


def test_inner_join_ignoring_case(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    out = join(cars, makers, "make", "make", **{"Match case": False})
    assert out["id"].tolist() == [1, 1, 2]
    assert out["make"].tolist() == ["audi", "audi", "BMW"]  # original values, not lower-cased
    assert out["make (2)"].tolist() == ["audi", "audi", "bmw"]


def test_left_outer_join_keeps_every_left_row_in_order(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    out = join(
        cars,
        makers,
        "make",
        "make",
        **{"Join type": "Left Outer Join", "Keep right key columns in joined table": False},
    )
    assert list(out.columns) == ["id", "make", "price", "country"]
    assert out["id"].tolist() == [1, 1, 2, 3, 4]
    assert out["country"].fillna("-").tolist() == ["DE", "DE2", "-", "-", "-"]


def test_full_outer_join_adds_right_only_rows_last(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    out = join(
        cars,
        makers,
        "make",
        "make",
        **{"Join type": "Full Outer Join", "Keep right key columns in joined table": False},
    )
    assert out["id"].fillna(-1).tolist() == [1, 1, 2, 3, 4, -1, -1, -1]
    # with the right key dropped, right-only rows keep their key in the left key column
    assert out["make"].fillna("-").tolist() == ["audi", "audi", "BMW", "vw", "-", "bmw", "fiat", "-"]
    assert out["country"].tolist()[-3:] == ["DE", "IT", "?"]


def test_left_semi_join_keeps_matching_left_rows_once(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    out = join(cars, makers, "make", "make", **{"Join type": "Left Semi-Join", "Match case": False})
    assert list(out.columns) == list(cars.columns)
    assert out["id"].tolist() == [1, 2]
    assert out.attrs["label"] == "price"


def test_join_on_several_keys_pairs_them_in_typed_order() -> None:
    left = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"], "v": [1, 2, 3]})
    right = pd.DataFrame({"k2": ["x", "y"], "k1": [1.0, 1.0], "w": ["first", "second"]})
    out = join(left, right, ["a", "b"], ["k1", "k2"])  # int key meets float key: same kind
    assert out[["v", "w"]].values.tolist() == [[1, "first"], [2, "second"]]


def test_join_key_counts_must_agree(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        join(cars, makers, ["make", "id"], ["make"])
    assert info.value.code == "InconsistentSize"


def test_join_on_incompatible_types_names_the_column(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        join(cars, makers, "id", "make")
    assert info.value.code == "JoinOnIncompatibleColumnTypes"
    assert info.value.column == "id" and "'make'" in str(info.value)


def test_join_unknown_key(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        join(cars, makers, "make", "maker")
    assert info.value.column == "maker"


def test_join_categorical_key_with_string_key(cars: pd.DataFrame, makers: pd.DataFrame) -> None:
    left = cars.assign(make=cars["make"].astype("category"))
    out = join(left, makers, "make", "make")
    assert out["country"].tolist() == ["DE", "DE2"]


# ---- Add Columns ------------------------------------------------------------------------------------


def test_add_columns_side_by_side_with_suffixed_duplicates(cars: pd.DataFrame) -> None:
    right = pd.DataFrame({"price": [1, 2, 3, 4], "color": list("rgbk")})
    right.attrs = {"categorical": ["color"]}
    out = run(AddColumns, {"left_dataset": cars, "right_dataset": right})["combined_dataset"]
    assert list(out.columns) == ["id", "make", "price", "price (2)", "color"]
    assert out["price (2)"].tolist() == [1, 2, 3, 4]  # row by row, whatever the indices
    assert out.index.tolist() == [0, 1, 2, 3]
    assert out.attrs == {"label": "price", "source": "cars", "categorical": ["color"]}


def test_add_columns_needs_equal_row_counts(cars: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        run(AddColumns, {"left_dataset": cars, "right_dataset": cars.head(2)})
    assert info.value.code == "InconsistentSize" and "4" in str(info.value) and "2" in str(info.value)


# ---- Add Rows ---------------------------------------------------------------------------------------


def test_add_rows_matches_columns_by_name(cars: pd.DataFrame) -> None:
    more = pd.DataFrame({"price": [50.0], "make": ["kia"], "id": [5]})
    out = run(AddRows, {"dataset1": cars, "dataset2": more})["results_dataset"]
    assert list(out.columns) == ["id", "make", "price"]
    assert out["id"].tolist() == [1, 2, 3, 4, 5] and out["make"].iloc[-1] == "kia"
    assert out.index.tolist() == list(range(5))
    assert out.attrs["label"] == "price"


def test_add_rows_mismatched_schema_names_the_columns(cars: pd.DataFrame) -> None:
    other = pd.DataFrame({"id": [5], "maker": ["kia"], "price": [1.0], "extra": [0]})
    with pytest.raises(ComponentError) as info:
        run(AddRows, {"dataset1": cars, "dataset2": other})
    message = str(info.value)
    assert info.value.code == "SchemaDoesNotMatch" and info.value.column == "make"
    assert "only in Dataset1: make" in message and "only in Dataset2: maker, extra" in message


def test_add_rows_incompatible_types(cars: pd.DataFrame) -> None:
    other = cars.assign(price=["cheap"] * 4)
    with pytest.raises(ComponentError) as info:
        run(AddRows, {"dataset1": cars, "dataset2": other})
    assert info.value.code == "NotCompatibleColumnTypes" and info.value.column == "price"


def test_add_rows_keeps_categorical_columns_categorical() -> None:
    a = pd.DataFrame({"c": pd.Series(["x", "y"], dtype="category")})
    b = pd.DataFrame({"c": pd.Series(["z"], dtype="category")})
    out = run(AddRows, {"dataset1": a, "dataset2": b})["results_dataset"]
    assert isinstance(out["c"].dtype, pd.CategoricalDtype) and out["c"].tolist() == ["x", "y", "z"]


# ---- Remove Duplicate Rows --------------------------------------------------------------------------


@pytest.fixture
def dupes() -> pd.DataFrame:
    df = pd.DataFrame({"k": ["a", "b", "a", "b", "c"], "j": [1, 1, 1, 2, 1], "v": [1, 2, 3, 4, 5]})
    df.attrs["source"] = "dupes"
    return df


def test_remove_duplicates_defaults() -> None:
    p = RemoveDuplicateRowsParams.model_validate({"Key column selection filter expression": ["k"]})
    assert p.retain_first_duplicate_row is True
    with pytest.raises(ValidationError):
        RemoveDuplicateRowsParams.model_validate({})


def test_remove_duplicates_keeps_first_or_last(dupes: pd.DataFrame) -> None:
    key = {"Key column selection filter expression": ["k"]}
    out = run(RemoveDuplicateRows, {"dataset": dupes}, **key)["results_dataset"]
    assert out["v"].tolist() == [1, 2, 5] and out.attrs == {"source": "dupes"}
    out = run(RemoveDuplicateRows, {"dataset": dupes}, **key, **{"Retain first duplicate row": False})
    assert out["results_dataset"]["v"].tolist() == [3, 4, 5]


def test_remove_duplicates_on_several_keys(dupes: pd.DataFrame) -> None:
    out = run(
        RemoveDuplicateRows, {"dataset": dupes}, **{"Key column selection filter expression": ["k", "j"]}
    )
    assert out["results_dataset"]["v"].tolist() == [1, 2, 4, 5]


def test_remove_duplicates_empty_selection(dupes: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        run(
            RemoveDuplicateRows,
            {"dataset": dupes},
            **{
                "Key column selection filter expression": {
                    "start": "all",
                    "rules": [{"action": "exclude", "by": "name", "values": ["k", "j", "v"]}],
                }
            },
        )
    assert info.value.code == "NoColumnsSelected"


# ---- Edit Metadata ----------------------------------------------------------------------------------


@pytest.fixture
def raw() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "n": ["1", "2", None],
            "x": ["1.5", "2", "3e2"],
            "flag": ["yes", "No", "TRUE"],
            "when": ["2020-01-02", "2021-03-04", None],
            "d": ["01:30:00", "00:00:10", "2 days"],
            "y": [0, 1, 1],
        }
    )
    df.attrs = {"features": ["n", "x", "y"], "source": "raw"}
    return df


def edit(df: pd.DataFrame, column: Any, **params: Any) -> pd.DataFrame:
    return run(EditMetadata, {"dataset": df}, Column=column, **params)["results_dataset"]


def test_edit_metadata_defaults() -> None:
    p = EditMetadataParams.model_validate({"Column": ["a"]})
    assert (p.data_type, p.categorical, p.fields, p.new_column_name) == (
        "Unchanged",
        "Unchanged",
        "Unchanged",
        "",
    )
    with pytest.raises(ValidationError):
        EditMetadataParams.model_validate({"Column": ["a"], "Data Type": "Float"})


def test_edit_metadata_type_conversions(raw: pd.DataFrame) -> None:
    out = edit(raw, ["n"], **{"Data Type": "Integer"})
    assert str(out["n"].dtype) == "Int64" and out["n"].tolist()[:2] == [1, 2] and out["n"].isna().iloc[2]
    out = edit(raw, ["x"], **{"Data Type": "Double"})
    assert out["x"].dtype == np.float64 and out["x"].tolist() == [1.5, 2.0, 300.0]
    out = edit(raw, ["flag"], **{"Data Type": "Boolean"})
    assert out["flag"].dtype == bool and out["flag"].tolist() == [True, False, True]
    out = edit(raw, ["y"], **{"Data Type": "Boolean"})
    assert out["y"].tolist() == [False, True, True]
    out = edit(raw, ["when"], **{"Data Type": "DateTime"})
    assert pd.api.types.is_datetime64_any_dtype(out["when"])
    assert out["when"].iloc[1] == pd.Timestamp("2021-03-04")
    out = edit(raw, ["d"], **{"Data Type": "TimeSpan"})
    assert out["d"].tolist() == [pd.Timedelta(minutes=90), pd.Timedelta(seconds=10), pd.Timedelta(days=2)]
    out = edit(raw, ["y"], **{"Data Type": "String"})
    assert out["y"].tolist() == ["0", "1", "1"] and pd.api.types.is_string_dtype(out["y"])
    assert raw["y"].tolist() == [0, 1, 1]  # input untouched
    assert out.attrs["source"] == "raw"


def test_edit_metadata_formats() -> None:
    df = pd.DataFrame({"when": ["02/01/2020", "31/12/2021"], "d": ["01:02:03", "10:00:00"]})
    out = edit(df, ["when"], **{"Data Type": "DateTime", "Date and time Format": "%d/%m/%Y"})
    assert out["when"].tolist() == [pd.Timestamp("2020-01-02"), pd.Timestamp("2021-12-31")]
    out = edit(df, ["d"], **{"Data Type": "TimeSpan", "TimeSpan Format": "%H:%M:%S"})
    assert out["d"].tolist() == [pd.Timedelta(hours=1, minutes=2, seconds=3), pd.Timedelta(hours=10)]


@pytest.mark.parametrize(
    "column, data_type, example",
    [
        ("x", "Integer", "'1.5'"),
        ("flag", "Double", "'yes'"),
        ("n", "Boolean", "'2'"),
        ("flag", "DateTime", "'yes'"),
        ("flag", "TimeSpan", "'yes'"),
    ],
)
def test_edit_metadata_failed_conversion_names_column_and_value(
    raw: pd.DataFrame, column: str, data_type: str, example: str
) -> None:
    with pytest.raises(ComponentError) as info:
        edit(raw, [column], **{"Data Type": data_type})
    assert info.value.code == "ParameterParsing" and info.value.column == column
    assert f"'{column}'" in str(info.value) and example in str(info.value)


def test_edit_metadata_numbers_to_timespan_are_refused(raw: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        edit(raw, ["y"], **{"Data Type": "TimeSpan"})
    assert info.value.column == "y" and "unit" in str(info.value)


def test_edit_metadata_categorical_flag(raw: pd.DataFrame) -> None:
    out = edit(raw, ["flag", "y"], Categorical="Categorical")
    assert all(isinstance(out[c].dtype, pd.CategoricalDtype) for c in ("flag", "y"))
    assert out.attrs["categorical"] == ["flag", "y"]
    back = edit(out, ["y"], Categorical="NonCategorical")
    assert back["y"].dtype == np.int64 and back["y"].tolist() == [0, 1, 1]
    assert back.attrs["categorical"] == ["flag"]


def test_edit_metadata_type_change_keeps_a_categorical_column_categorical(raw: pd.DataFrame) -> None:
    cat = edit(raw, ["x"], Categorical="Categorical")
    out = edit(cat, ["x"], **{"Data Type": "Double"})
    assert isinstance(out["x"].dtype, pd.CategoricalDtype) and sorted(out["x"].tolist()) == [1.5, 2.0, 300.0]


def test_edit_metadata_fields(raw: pd.DataFrame) -> None:
    out = edit(raw, ["y"], Fields="Labels")
    assert out.attrs["label"] == "y" and out.attrs["features"] == ["n", "x"]
    out = edit(out, ["d"], Fields="Weights")
    assert out.attrs["weight"] == "d"
    out = edit(out, ["flag"], Fields="Features")
    assert out.attrs["features"] == ["n", "x", "flag"]
    out = edit(out, ["n", "x"], Fields="ClearFeatures")
    assert out.attrs["features"] == ["flag"]
    out = edit(out, ["y"], Fields="ClearLabels")
    assert "label" not in out.attrs
    out = edit(out, ["d"], Fields="ClearWeights")
    assert "weight" not in out.attrs
    scored = raw.copy()
    scored.attrs = {"score_columns": ["x", "y"]}
    assert edit(scored, ["x"], Fields="ClearScores").attrs["score_columns"] == ["y"]


def test_edit_metadata_one_label_only(raw: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        edit(raw, ["x", "y"], Fields="Labels")
    assert info.value.code == "MultipleLabelColumns"


def test_edit_metadata_renames_in_selection_order_and_follows_attrs(raw: pd.DataFrame) -> None:
    labelled = edit(raw, ["y"], Fields="Labels")
    out = edit(labelled, ["x", "y"], **{"New Column Name": " size , target"})
    assert list(out.columns) == ["n", "size", "flag", "when", "d", "target"]
    assert out.attrs["label"] == "target" and out.attrs["features"] == ["n", "size"]


def test_edit_metadata_rename_count_must_match(raw: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        edit(raw, ["x", "y"], **{"New Column Name": "only_one"})
    assert info.value.code == "BadNumberOfSelectedColumns"
    assert "1 name(s) for 2" in str(info.value)


def test_edit_metadata_rename_clash(raw: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        edit(raw, ["x"], **{"New Column Name": "n"})
    assert info.value.code == "DuplicatedColumnName" and info.value.column == "n"


def test_edit_metadata_missing_column(raw: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as info:
        edit(raw, ["nope"])
    assert info.value.column == "nope"


@pytest.mark.parametrize("component", [JoinData, AddColumns, AddRows, RemoveDuplicateRows, EditMetadata])
def test_describe_builds(component: type[Component]) -> None:
    entry = component.describe()
    assert entry["category"] == "Data Transformation" and entry["version"] == "2.0"
    assert entry["parameters"]["type"] == "object"
