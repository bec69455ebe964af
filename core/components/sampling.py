"""Sampling components: Partition and Sample, and SMOTE.

Both are bypassed by real-time inference (``pass_through_in_real_time``): they reshape training
data, not the rows a web service scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import Field
from sklearn.neighbors import NearestNeighbors

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import require_columns
from core.errors import ComponentError

UINT32_MAX = 2**32 - 1
FOLD_COLUMN = "Fold"
PROPORTIONS = "Proportion list of customized folds separated by comma"
FOLD_TO_PICK = "Specify which fold to be sampled from"

SampleMode = Literal["Assign to Folds", "Pick Fold", "Sampling", "Head"]
PartitionerMethod = Literal["Partition evenly", "Partition with customized proportions"]


class PartitionAndSampleParams(Params):
    partition_or_sample_mode: SampleMode = Field("Sampling", alias="Partition or sample mode")
    use_replacement_in_the_partitioning: bool = Field(False, alias="Use replacement in the partitioning")
    randomized_split: bool = Field(True, alias="Randomized Split")
    random_seed: int = Field(0, ge=0, le=UINT32_MAX, alias="Random seed")
    partitioner_method: PartitionerMethod = Field("Partition evenly", alias="Specify the partitioner method")
    number_of_folds: int = Field(5, ge=1, alias="Specify how many folds do you want to split evenly into")
    stratified_split: bool = Field(False, alias="Stratified split")
    stratification_key_column: str | None = Field(None, alias="Stratification key column")
    proportions: str | None = Field(None, alias=PROPORTIONS)
    stratified_split_for_customized_fold_assignment: bool = Field(
        False, alias="Stratified split for customized fold assignment"
    )
    stratification_key_column_for_customized_fold_assignment: str | None = Field(
        None, alias="Stratification key column for customized fold assignment"
    )
    fold_to_pick: int = Field(1, ge=1, alias=FOLD_TO_PICK)
    pick_complement_of_the_selected_fold: bool = Field(False, alias="Pick complement of the selected fold")
    rate_of_sampling: float = Field(0.01, ge=0.0, le=1.0, alias="Rate of sampling")
    random_seed_for_sampling: int = Field(0, ge=0, le=UINT32_MAX, alias="Random seed for sampling")
    stratified_split_for_sampling: bool = Field(False, alias="Stratified split for sampling")
    stratification_key_column_for_sampling: str | None = Field(
        None, alias="Stratification key column for sampling"
    )
    number_of_rows_to_select: int = Field(10, ge=0, alias="Number of rows to select")


class PartitionAndSample(Component):
    """Sample rows, keep the first rows, or partition rows into folds and pick one.

    "Assign to Folds" adds a zero-based ``Fold`` column and names it in ``attrs["fold_column"]``;
    Cross Validate Model uses those folds and Pick Fold selects from them. Pick Fold drops the
    column, so a picked fold trains like any dataset. With replacement, each fold is drawn
    independently with replacement (rows may repeat, in one fold or several); those draws are
    always random.
    """

    id = "partition_and_sample"
    name = "Partition and Sample"
    category = "Data Transformation"
    version = "2.0"
    description = "Sample a fraction of rows, take the first N, or assign rows to folds and pick a fold."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (Port("odataset", "oDataset", PortType.DATA),)
    Parameters = PartitionAndSampleParams
    pass_through_in_real_time = True

    def run(
        self, inputs: Mapping[str, Any], params: PartitionAndSampleParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        mode = params.partition_or_sample_mode
        if mode == "Sampling":
            out = _sample(df, params)
        elif mode == "Head":
            out = df.head(params.number_of_rows_to_select)
        elif mode == "Assign to Folds":
            out = _assign_to_folds(df, params)
        else:
            out = _pick_fold(df, params)
        out.attrs = {**df.attrs, **out.attrs}
        if mode == "Pick Fold":
            out.attrs.pop("fold_column", None)
        ctx.log(f"{mode}: {len(df)} row(s) in, {len(out)} row(s) out")
        return {"odataset": out}


def _stratum_positions(
    df: pd.DataFrame, stratified: bool, key: str | None, parameter: str
) -> list[np.ndarray]:
    """Row positions per stratum (one stratum when not stratified), in a stable order."""
    if not stratified:
        return [np.arange(len(df))]
    if not key:
        raise ComponentError(f"Stratified split needs '{parameter}'", code="NullOrEmpty")
    require_columns(df, [key])
    groups = df.groupby(key, sort=False, dropna=False).indices
    return [np.asarray(groups[k]) for k in sorted(groups, key=str)]


def _sample(df: pd.DataFrame, params: PartitionAndSampleParams) -> pd.DataFrame:
    rng = np.random.default_rng(params.random_seed_for_sampling)
    strata = _stratum_positions(
        df,
        params.stratified_split_for_sampling,
        params.stratification_key_column_for_sampling,
        "Stratification key column for sampling",
    )
    kept = [rng.choice(p, size=round(len(p) * params.rate_of_sampling), replace=False) for p in strata]
    return df.iloc[np.sort(np.concatenate(kept))]


def _assign_to_folds(df: pd.DataFrame, params: PartitionAndSampleParams) -> pd.DataFrame:
    shares = _fold_shares(params)
    custom = params.partitioner_method == "Partition with customized proportions"
    if custom:
        strata = _stratum_positions(
            df,
            params.stratified_split_for_customized_fold_assignment,
            params.stratification_key_column_for_customized_fold_assignment,
            "Stratification key column for customized fold assignment",
        )
    else:
        strata = _stratum_positions(
            df, params.stratified_split, params.stratification_key_column, "Stratification key column"
        )
    if len(df) < len(shares) and not params.use_replacement_in_the_partitioning:
        raise ComponentError(f"{len(df)} row(s) cannot fill {len(shares)} folds", code="TooFewRowsInDataset")
    rng = np.random.default_rng(params.random_seed)
    if params.use_replacement_in_the_partitioning:
        rows, folds = _draw_folds_with_replacement(strata, shares, rng)
        out = df.iloc[rows].reset_index(drop=True)
    else:
        folds, dealt = np.empty(len(df), dtype=np.int64), 0
        for positions in strata:
            if params.randomized_split:
                positions = rng.permutation(positions)
            folds[positions] = _deal(len(positions), shares, dealt, custom)
            dealt += len(positions)
        out = df
    out = out.assign(**{FOLD_COLUMN: folds})
    out.attrs = {**df.attrs, "fold_column": FOLD_COLUMN}
    return out


def _fold_shares(params: PartitionAndSampleParams) -> np.ndarray:
    if params.partitioner_method == "Partition evenly":
        return np.full(params.number_of_folds, 1.0 / params.number_of_folds)
    text = (params.proportions or "").strip()
    if not text:
        raise ComponentError(
            f"'{PROPORTIONS}' is empty; give fold proportions like 0.2,0.3,0.5", code="NullOrEmpty"
        )
    try:
        shares = np.array([float(part) for part in text.split(",")])
    except ValueError:
        raise ComponentError(
            f"'{PROPORTIONS}' must be numbers separated by commas, like 0.2,0.3,0.5; got {text!r}",
            code="ParameterParsing",
        ) from None
    if not np.all(np.isfinite(shares)) or np.any(shares <= 0):
        raise ComponentError(
            f"'{PROPORTIONS}' must hold positive numbers; got {text!r}", code="NotInRangeValue"
        )
    return shares / shares.sum()


def _deal(count: int, shares: np.ndarray, dealt: int, by_proportion: bool) -> np.ndarray:
    """Fold numbers for ``count`` rows in order: round-robin (even) or consecutive blocks."""
    if not by_proportion:
        return (dealt + np.arange(count)) % len(shares)
    return np.repeat(np.arange(len(shares)), _sizes(count, shares))


def _sizes(count: int, shares: np.ndarray) -> np.ndarray:
    """Split ``count`` by ``shares`` into whole numbers (largest remainders get the spare rows)."""
    exact = shares * count
    sizes = np.floor(exact).astype(int)
    spare = count - sizes.sum()
    sizes[np.argsort(-(exact - sizes), kind="stable")[:spare]] += 1
    return sizes


def _draw_folds_with_replacement(
    strata: list[np.ndarray], shares: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    rows, folds = [], []
    for fold, share in enumerate(shares):
        for positions in strata:
            size = round(len(positions) * share)
            rows.append(rng.choice(positions, size=size, replace=True))
            folds.append(np.full(size, fold))
    return np.concatenate(rows), np.concatenate(folds)


def _pick_fold(df: pd.DataFrame, params: PartitionAndSampleParams) -> pd.DataFrame:
    column = df.attrs.get("fold_column") or FOLD_COLUMN
    if column not in df.columns:
        raise ComponentError(
            "Pick Fold needs a dataset partitioned by Partition and Sample's 'Assign to "
            f"Folds' mode: there is no fold column {column!r}",
            code="InvalidDataset",
        )
    folds = sorted(df[column].dropna().unique())
    if params.fold_to_pick > len(folds):
        raise ComponentError(
            f"'{FOLD_TO_PICK}' is {params.fold_to_pick}, but the dataset has {len(folds)} fold(s)",
            code="NotInRangeValue",
        )
    chosen = df[column] == folds[params.fold_to_pick - 1]
    picked = df[~chosen if params.pick_complement_of_the_selected_fold else chosen]
    return picked.drop(columns=[column])


class SmoteParams(Params):
    label_column: str = Field(alias="Label column", min_length=1)
    smote_percentage: int = Field(100, ge=0, multiple_of=100, alias="SMOTE percentage")
    number_of_nearest_neighbors: int = Field(1, ge=1, alias="Number of nearest neighbors")
    random_seed: int = Field(0, ge=0, le=UINT32_MAX, alias="Random seed")


class Smote(Component):
    """Add synthetic rows of the least frequent label, to balance a classification dataset.

    Each minority row gets ``SMOTE percentage / 100`` synthetic rows, each on the line between it
    and one of its nearest minority neighbours (distances over the numeric columns; a missing
    value counts as its column's mean for the distance and stays missing in the new row). Other
    columns, and integer columns after rounding, follow their types: non-numeric values are
    copied from the row being oversampled. Synthetic rows come after the original ones.
    """

    id = "smote"
    name = "SMOTE"
    category = "Data Transformation"
    version = "2.0"
    description = "Increase the number of minority-class rows with synthetic examples (SMOTE)."
    inputs = (Port("samples", "Samples", PortType.DATA),)
    outputs = (Port("table", "Table", PortType.DATA),)
    Parameters = SmoteParams
    pass_through_in_real_time = True

    def run(self, inputs: Mapping[str, Any], params: SmoteParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["samples"]
        label = params.label_column
        require_columns(df, [label])
        minority = _minority_class(df[label], label)
        members = np.flatnonzero((df[label] == minority).to_numpy())
        if len(members) < 2:
            raise ComponentError(
                f"Minority class {minority!r} of {label!r} has {len(members)} row; SMOTE "
                "needs at least 2 to interpolate between",
                code="TooFewRowsInDataset",
                column=label,
            )
        per_row = params.smote_percentage // 100
        neighbours = min(params.number_of_nearest_neighbors, len(members) - 1)
        rng = np.random.default_rng(params.random_seed)
        synthetic = _synthesize(df, label, members, per_row, neighbours, rng)
        out = pd.concat([df, synthetic], ignore_index=True)
        out.attrs = dict(df.attrs)
        ctx.log(
            f"minority class {minority!r} of {label!r}: {len(members)} row(s); added {len(synthetic)} "
            f"synthetic row(s) from {neighbours} nearest neighbour(s)"
        )
        return {"table": out}


def _minority_class(labels: pd.Series, column: str) -> Any:
    counts = labels.value_counts(dropna=True)
    if len(counts) < 2:
        raise ComponentError(
            f"Label column {column!r} has {len(counts)} class(es); SMOTE needs at least 2",
            code="InvalidLabel",
            column=column,
        )
    rarest = counts[counts == counts.min()].index
    return min(rarest, key=str)


def _synthesize(
    df: pd.DataFrame, label: str, members: np.ndarray, per_row: int, neighbours: int, rng: np.random.Generator
) -> pd.DataFrame:
    numeric = [c for c in df.columns if c != label and _is_number(df[c])]
    base = np.repeat(np.arange(len(members)), per_row)
    synthetic = df.iloc[members[base]].reset_index(drop=True)
    if not numeric or not len(base):
        return synthetic
    values = df.iloc[members][numeric].to_numpy(dtype=float)
    nearest = _nearest_others(values, neighbours)
    partner = nearest[base, rng.integers(0, neighbours, size=len(base))]
    gap = rng.random(len(base))[:, None]
    blended = values[base] + gap * (values[partner] - values[base])
    for i, column in enumerate(numeric):
        column_values = blended[:, i]
        if ptypes.is_integer_dtype(df[column]):
            column_values = np.round(column_values)
        synthetic[column] = pd.Series(column_values).astype(df[column].dtype)
    return synthetic


def _nearest_others(values: np.ndarray, neighbours: int) -> np.ndarray:
    """Per row, the positions of its ``neighbours`` nearest other rows."""
    means = pd.DataFrame(values).mean().fillna(0.0).to_numpy()
    filled = np.where(np.isnan(values), means, values)
    found = NearestNeighbors(n_neighbors=neighbours + 1).fit(filled).kneighbors(filled, return_distance=False)
    others = found != np.arange(len(values))[:, None]
    order = np.argsort(~others, axis=1, kind="stable")[:, :neighbours]
    return np.take_along_axis(found, order, axis=1)


def _is_number(series: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)


COMPONENTS = (PartitionAndSample, Smote)
