"""Partition and Sample (all four modes) and SMOTE on small hand-made frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.base import RunContext
from core.components.sampling import (
    PartitionAndSample,
    PartitionAndSampleParams,
    Smote,
    SmoteParams,
)
from core.errors import ColumnNotFound, ComponentError


def partition(df: pd.DataFrame, ctx: RunContext | None = None, **params: Any) -> pd.DataFrame:
    model = PartitionAndSampleParams.model_validate(params)
    return PartitionAndSample().run({"dataset": df}, model, ctx or RunContext())["odataset"]


def smote(df: pd.DataFrame, ctx: RunContext | None = None, **params: Any) -> pd.DataFrame:
    return Smote().run({"samples": df}, SmoteParams.model_validate(params), ctx or RunContext())["table"]


@pytest.fixture
def rows() -> pd.DataFrame:
    df = pd.DataFrame({"id": np.arange(100), "group": ["a"] * 80 + ["b"] * 20})
    df.attrs["label"] = "group"
    return df


def test_defaults_are_the_designers() -> None:
    defaults = PartitionAndSampleParams()
    assert defaults.partition_or_sample_mode == "Sampling"
    assert (defaults.rate_of_sampling, defaults.random_seed_for_sampling) == (0.01, 0)
    assert (defaults.number_of_folds, defaults.use_replacement_in_the_partitioning) == (5, False)
    assert defaults.randomized_split and not defaults.stratified_split
    assert (defaults.fold_to_pick, defaults.pick_complement_of_the_selected_fold) == (1, False)
    assert defaults.number_of_rows_to_select == 10
    smote_defaults = SmoteParams.model_validate({"Label column": "y"})
    assert (
        smote_defaults.smote_percentage,
        smote_defaults.number_of_nearest_neighbors,
        smote_defaults.random_seed,
    ) == (100, 1, 0)
    assert PartitionAndSample.pass_through_in_real_time and Smote.pass_through_in_real_time
    for component in (PartitionAndSample, Smote):
        assert component.describe()["parameters"]["properties"]


@pytest.mark.parametrize(
    "params",
    [
        {"Partition or sample mode": "Shuffle"},
        {"Rate of sampling": 1.5},
        {"Random seed": -1},
        {"Specify how many folds do you want to split evenly into": 0},
        {"Number of rows to select": -1},
        {"Specify which fold to be sampled from": 0},
        {"Unknown": 1},
    ],
)
def test_partition_parameters_are_validated(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PartitionAndSampleParams.model_validate(params)


@pytest.mark.parametrize(
    "params",
    [
        {"SMOTE percentage": 150},
        {"SMOTE percentage": -100},
        {"Number of nearest neighbors": 0},
        {},
    ],
)
def test_smote_parameters_are_validated(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SmoteParams.model_validate({"Label column": "y", **params} if params else {})


# ---- Sampling and Head ---------------------------------------------------------------------------


def test_sampling_takes_the_rate_in_original_order_and_is_seeded(rows: pd.DataFrame) -> None:
    ctx = RunContext()
    out = partition(rows, ctx, **{"Rate of sampling": 0.1, "Random seed for sampling": 3})
    assert len(out) == 10
    assert out["id"].is_monotonic_increasing
    assert out.attrs == {"label": "group"}
    again = partition(rows, **{"Rate of sampling": 0.1, "Random seed for sampling": 3})
    other = partition(rows, **{"Rate of sampling": 0.1, "Random seed for sampling": 4})
    pd.testing.assert_frame_equal(out, again)
    assert out["id"].tolist() != other["id"].tolist()
    assert ctx.logs == ["Sampling: 100 row(s) in, 10 row(s) out"]


def test_stratified_sampling_keeps_each_groups_share(rows: pd.DataFrame) -> None:
    out = partition(
        rows,
        **{
            "Rate of sampling": 0.25,
            "Stratified split for sampling": True,
            "Stratification key column for sampling": "group",
        },
    )
    assert out["group"].value_counts().to_dict() == {"a": 20, "b": 5}


def test_stratified_sampling_needs_a_known_key(rows: pd.DataFrame) -> None:
    with pytest.raises(ComponentError, match="Stratification key column for sampling") as caught:
        partition(rows, **{"Stratified split for sampling": True})
    assert caught.value.code == "NullOrEmpty"
    with pytest.raises(ColumnNotFound) as missing:
        partition(
            rows, **{"Stratified split for sampling": True, "Stratification key column for sampling": "x"}
        )
    assert missing.value.column == "x"


def test_head_returns_the_first_rows(rows: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(partition(rows, **{"Partition or sample mode": "Head"}), rows.head(10))
    assert len(partition(rows, **{"Partition or sample mode": "Head", "Number of rows to select": 0})) == 0


# ---- Assign to Folds and Pick Fold ---------------------------------------------------------------


def folds(df: pd.DataFrame, **params: Any) -> pd.DataFrame:
    return partition(df, **{"Partition or sample mode": "Assign to Folds", **params})


def test_assign_to_folds_adds_a_zero_based_fold_column(rows: pd.DataFrame) -> None:
    out = folds(rows)
    assert list(out.columns) == ["id", "group", "Fold"]
    assert out.attrs == {"label": "group", "fold_column": "Fold"}
    assert out["Fold"].value_counts().sort_index().to_dict() == {0: 20, 1: 20, 2: 20, 3: 20, 4: 20}
    assert out["id"].tolist() == list(range(100))  # rows stay in place
    assert "Fold" not in rows.columns


def test_assign_to_folds_in_order_and_randomized(rows: pd.DataFrame) -> None:
    ordered = folds(
        rows, **{"Randomized Split": False, "Specify how many folds do you want to split evenly into": 3}
    )
    assert ordered["Fold"].tolist()[:6] == [0, 1, 2, 0, 1, 2]
    first, second = folds(rows, **{"Random seed": 1}), folds(rows, **{"Random seed": 2})
    assert first["Fold"].tolist() != second["Fold"].tolist()
    pd.testing.assert_frame_equal(first, folds(rows, **{"Random seed": 1}))


def test_stratified_folds_share_each_group(rows: pd.DataFrame) -> None:
    out = folds(rows, **{"Stratified split": True, "Stratification key column": "group"})
    assert (out.groupby("Fold")["group"].value_counts().unstack() == [16, 4]).all().all()


def test_custom_proportions(rows: pd.DataFrame) -> None:
    out = folds(
        rows,
        **{
            "Specify the partitioner method": "Partition with customized proportions",
            "Proportion list of customized folds separated by comma": "0.2, 0.3, 0.5",
        },
    )
    assert out["Fold"].value_counts().sort_index().to_dict() == {0: 20, 1: 30, 2: 50}
    scaled = folds(
        rows,
        **{
            "Specify the partitioner method": "Partition with customized proportions",
            "Proportion list of customized folds separated by comma": "1,1,2",
        },
    )
    assert scaled["Fold"].value_counts().sort_index().to_dict() == {0: 25, 1: 25, 2: 50}


@pytest.mark.parametrize(
    "proportions, code",
    [(None, "NullOrEmpty"), ("0.5,x", "ParameterParsing"), ("0.5,-0.5", "NotInRangeValue")],
)
def test_bad_proportions_name_the_parameter(rows: pd.DataFrame, proportions: str | None, code: str) -> None:
    with pytest.raises(ComponentError, match="Proportion list of customized folds") as caught:
        folds(
            rows,
            **{
                "Specify the partitioner method": "Partition with customized proportions",
                "Proportion list of customized folds separated by comma": proportions,
            },
        )
    assert caught.value.code == code


def test_folds_with_replacement_draw_each_fold_independently(rows: pd.DataFrame) -> None:
    out = folds(rows, **{"Use replacement in the partitioning": True})
    assert len(out) == 100
    assert out["Fold"].value_counts().sort_index().to_dict() == {0: 20, 1: 20, 2: 20, 3: 20, 4: 20}
    assert out["id"].duplicated().any()


def test_more_folds_than_rows_is_refused() -> None:
    with pytest.raises(ComponentError) as caught:
        folds(pd.DataFrame({"x": [1, 2]}), **{"Specify how many folds do you want to split evenly into": 3})
    assert caught.value.code == "TooFewRowsInDataset"


def test_pick_fold_and_its_complement(rows: pd.DataFrame) -> None:
    assigned = folds(rows, **{"Randomized Split": False})
    pick_second = {"Partition or sample mode": "Pick Fold", "Specify which fold to be sampled from": 2}
    picked = partition(assigned, **pick_second)
    assert picked["id"].tolist() == list(range(1, 100, 5))
    assert "Fold" not in picked.columns and "fold_column" not in picked.attrs
    assert picked.attrs["label"] == "group"
    rest = partition(assigned, **pick_second, **{"Pick complement of the selected fold": True})
    assert len(rest) == 80 and not set(rest["id"]) & set(picked["id"])


def test_pick_fold_needs_folds_in_range(rows: pd.DataFrame) -> None:
    with pytest.raises(ComponentError, match="Assign to Folds") as caught:
        partition(rows, **{"Partition or sample mode": "Pick Fold"})
    assert caught.value.code == "InvalidDataset"
    with pytest.raises(ComponentError, match="Specify which fold to be sampled from") as out_of_range:
        partition(
            folds(rows),
            **{"Partition or sample mode": "Pick Fold", "Specify which fold to be sampled from": 6},
        )
    assert out_of_range.value.code == "NotInRangeValue"


# ---- SMOTE ---------------------------------------------------------------------------------------


@pytest.fixture
def unbalanced() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0],
            "n": [0, 10, 20, 5, 5, 5, 5, 5, 5, 5],
            "color": ["red", "green", "blue", "red", "red", "red", "red", "red", "red", "red"],
            "y": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        }
    )
    df.attrs["label"] = "y"
    return df


def test_smote_adds_interpolated_minority_rows(unbalanced: pd.DataFrame) -> None:
    ctx = RunContext()
    out = smote(
        unbalanced, ctx, **{"Label column": "y", "SMOTE percentage": 200, "Number of nearest neighbors": 2}
    )
    pd.testing.assert_frame_equal(out.iloc[:10], unbalanced, check_dtype=True)
    synthetic = out.iloc[10:]
    assert len(synthetic) == 6 and (synthetic["y"] == 1).all()
    assert synthetic["x"].between(0.0, 2.0).all()  # on segments between minority rows
    assert synthetic["n"].dtype == np.int64 and synthetic["n"].between(0, 20).all()
    assert set(synthetic["color"]) <= {"red", "green", "blue"}
    for _, row in synthetic.iterrows():  # a copied colour comes from a minority row
        assert row["color"] in set(unbalanced.loc[unbalanced["y"] == 1, "color"])
    assert out.attrs == {"label": "y"}
    assert "added 6 synthetic row(s)" in ctx.logs[0]


def test_smote_nearest_neighbour_and_seed(unbalanced: pd.DataFrame) -> None:
    out = smote(unbalanced, **{"Label column": "y", "Random seed": 5})
    synthetic = out.iloc[10:].reset_index(drop=True)
    # one neighbour each: 0 -> 1, 1 -> 0 or 2 (a tie), 2 -> 1; the new x lies between them
    assert 0.0 <= synthetic.loc[0, "x"] <= 1.0 and 1.0 <= synthetic.loc[2, "x"] <= 2.0
    pd.testing.assert_frame_equal(out, smote(unbalanced, **{"Label column": "y", "Random seed": 5}))
    assert not out.equals(smote(unbalanced, **{"Label column": "y", "Random seed": 6}))


def test_smote_zero_percent_keeps_the_data(unbalanced: pd.DataFrame) -> None:
    unchanged = smote(unbalanced, **{"Label column": "y", "SMOTE percentage": 0})
    pd.testing.assert_frame_equal(unchanged, unbalanced)


def test_smote_refusals_name_the_column(unbalanced: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound) as missing:
        smote(unbalanced, **{"Label column": "label"})
    assert missing.value.column == "label"
    with pytest.raises(ComponentError, match="needs at least 2") as one_class:
        smote(unbalanced.assign(y=1), **{"Label column": "y"})
    assert one_class.value.code == "InvalidLabel" and one_class.value.column == "y"
    with pytest.raises(ComponentError, match="at least 2 to interpolate") as one_row:
        smote(unbalanced.iloc[2:], **{"Label column": "y"})
    assert one_row.value.code == "TooFewRowsInDataset"
