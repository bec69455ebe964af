"""Data Transformation components: Select Columns in Dataset, Clean Missing Data, Split Data."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import ColumnSelection, require_columns
from core.errors import ComponentError

DATASET_IN = Port("dataset", "Dataset", PortType.DATA)
RESULTS_OUT = Port("results_dataset", "Results dataset", PortType.DATA)


class SelectColumnsParams(Params):
    select_columns: ColumnSelection = Field(alias="Select Columns")


class SelectColumnsInDataset(Component):
    id = "select_columns_in_dataset"
    name = "Select Columns in Dataset"
    category = "Data Transformation"
    version = "2.0"
    description = "Keep the chosen columns, in dataset order."
    inputs = (DATASET_IN,)
    outputs = (RESULTS_OUT,)
    Parameters = SelectColumnsParams

    def run(self, inputs: Mapping[str, Any], params: SelectColumnsParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        columns = params.select_columns.resolve(df)
        if not columns:
            raise ComponentError("The column selection matches no column", code="TooFewColumnsInDataset")
        out = df[columns]
        out.attrs = dict(df.attrs)
        ctx.log(f"kept {len(columns)} of {df.shape[1]} columns")
        return {"results_dataset": out}


CleaningMode = Literal["Custom substitution value", "Replace with mean", "Replace with median",
                       "Replace with mode", "Remove entire row", "Remove entire column"]


class CleanMissingDataParams(Params):
    columns_to_be_cleaned: ColumnSelection = Field(default_factory=ColumnSelection.all,
                                                   alias="Columns to be cleaned")
    minimum_missing_value_ratio: float = Field(0.0, ge=0.0, le=1.0, alias="Minimum missing value ratio")
    maximum_missing_value_ratio: float = Field(1.0, ge=0.0, le=1.0, alias="Maximum missing value ratio")
    cleaning_mode: CleaningMode = Field("Custom substitution value", alias="Cleaning mode")
    replacement_value: str = Field("0", alias="Replacement value")
    cols_with_all_missing_values: Literal["Remove", "Propagate"] = Field(
        "Remove", alias="Cols with all missing values")
    generate_missing_value_indicator_column: bool = Field(
        False, alias="Generate missing value indicator column")


@dataclass
class CleaningTransform:
    """A fitted Clean Missing Data step, replayable on new data (Apply Transformation, TD- nodes)."""

    columns: list[str]
    mode: str
    fill_values: dict[str, Any]
    drop_columns: list[str]
    indicator: bool

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        present = [c for c in self.columns if c in df.columns]
        out = df.copy()
        if self.indicator:
            for c in present:
                out[f"{c}_isMissing"] = out[c].isna()
        if self.mode == "Remove entire row":
            out = out.dropna(subset=present)
        elif self.fill_values:
            out = out.fillna({c: v for c, v in self.fill_values.items() if c in out.columns})
        out = out.drop(columns=[c for c in self.drop_columns if c in out.columns])
        out.attrs = dict(df.attrs)
        return out


def fit_cleaning(df: pd.DataFrame, params: CleanMissingDataParams) -> CleaningTransform:
    selected = params.columns_to_be_cleaned.resolve(df)
    lo, hi = params.minimum_missing_value_ratio, params.maximum_missing_value_ratio
    if lo > hi:
        raise ComponentError("Minimum missing value ratio is above the maximum", code="NotInRangeValue")
    ratios = df[selected].isna().mean() if len(df) else pd.Series(0.0, index=selected)
    columns = [c for c in selected if lo <= ratios[c] <= hi and ratios[c] > 0]
    mode = params.cleaning_mode
    fill: dict[str, Any] = {}
    drop: list[str] = []
    if mode == "Remove entire column":
        drop = columns
    elif mode != "Remove entire row":
        for c in columns:
            series = df[c]
            if series.isna().all():
                if params.cols_with_all_missing_values == "Remove" and mode != "Custom substitution value":
                    drop.append(c)
                continue
            fill[c] = _fill_value(series, mode, params.replacement_value)
    return CleaningTransform(columns=columns, mode=mode, fill_values=fill, drop_columns=drop,
                             indicator=params.generate_missing_value_indicator_column)


def _fill_value(series: pd.Series, mode: str, replacement: str) -> Any:
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if mode in ("Replace with mean", "Replace with median") and not numeric:
        raise ComponentError(f"Column {series.name!r} is not numeric, so '{mode}' does not apply",
                             code="InvalidColumnType", column=str(series.name))
    if mode == "Replace with mean":
        return float(series.mean())
    if mode == "Replace with median":
        return float(series.median())
    if mode == "Replace with mode":
        value = series.mode(dropna=True).iloc[0]
        return value.item() if isinstance(value, np.generic) else value
    if numeric:
        try:
            return float(replacement)
        except ValueError as exc:
            raise ComponentError(f"Replacement value {replacement!r} is not a number, but column "
                                 f"{series.name!r} is numeric", code="ParameterParsing",
                                 column=str(series.name)) from exc
    return replacement


class CleanMissingData(Component):
    id = "clean_missing_data"
    name = "Clean Missing Data"
    category = "Data Transformation"
    version = "0.1"
    description = "Remove or replace missing values; also outputs the cleaning as a transformation."
    inputs = (DATASET_IN,)
    outputs = (Port("cleaned_dataset", "Cleaned dataset", PortType.DATA),
               Port("cleaning_transformation", "Cleaning transformation", PortType.TRANSFORM))
    Parameters = CleanMissingDataParams

    def run(self, inputs: Mapping[str, Any], params: CleanMissingDataParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        transform = fit_cleaning(df, params)
        cleaned = transform.apply(df)
        ctx.log(f"{params.cleaning_mode}: {len(transform.columns)} column(s) with missing values, "
                f"{len(df) - len(cleaned)} row(s) removed, {len(transform.drop_columns)} column(s) removed")
        return {"cleaned_dataset": cleaned, "cleaning_transformation": transform}


class SplitDataParams(Params):
    splitting_mode: Literal["Split Rows"] = Field("Split Rows", alias="Splitting mode")
    fraction: float = Field(0.5, ge=0.0, le=1.0, alias="Fraction of rows in the first output dataset")
    randomized_split: bool = Field(True, alias="Randomized split")
    random_seed: int = Field(0, ge=0, le=2**32 - 1, alias="Random seed")
    stratified_split: bool = Field(False, alias="Stratified split")
    stratification_key_column: str | None = Field(None, alias="Stratification key column")


class SplitData(Component):
    id = "split_data"
    name = "Split Data"
    category = "Data Transformation"
    version = "2.0"
    description = "Split rows into two datasets by fraction, optionally shuffled and stratified."
    inputs = (DATASET_IN,)
    outputs = (Port("results_dataset1", "Results dataset1", PortType.DATA),
               Port("results_dataset2", "Results dataset2", PortType.DATA))
    Parameters = SplitDataParams
    pass_through_in_real_time = True

    def run(self, inputs: Mapping[str, Any], params: SplitDataParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        if params.stratified_split:
            key = params.stratification_key_column
            if not key:
                raise ComponentError("Stratified split needs a stratification key column",
                                     code="NullOrEmpty")
            require_columns(df, [key])
            first = np.concatenate([_first_part(idx, params) for _, idx in
                                    sorted(df.groupby(key, sort=True, dropna=False).indices.items(),
                                           key=lambda kv: str(kv[0]))])
            first.sort()
        else:
            first = _first_part(np.arange(len(df)), params)
        mask = np.zeros(len(df), dtype=bool)
        mask[first] = True
        out1, out2 = df.iloc[np.flatnonzero(mask)], df.iloc[np.flatnonzero(~mask)]
        out1.attrs, out2.attrs = dict(df.attrs), dict(df.attrs)
        ctx.log(f"split {len(df)} rows into {len(out1)} and {len(out2)}")
        return {"results_dataset1": out1, "results_dataset2": out2}


def _first_part(positions: np.ndarray, params: SplitDataParams) -> np.ndarray:
    count = int(round(len(positions) * params.fraction))
    if params.randomized_split:
        positions = np.random.default_rng(params.random_seed).permutation(positions)
    return np.sort(positions[:count])

COMPONENTS = (SelectColumnsInDataset, CleanMissingData, SplitData)
