"""Scale and reduce: Normalize Data, Group Data into Bins, Convert to Indicator Values.

Each fits its statistics (means, bin edges, category levels) on the input dataset and also
outputs them as a transformation, so Apply Transformation treats test or scoring data with the
training statistics instead of refitting on the new rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import special

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import ColumnSelection, require_columns
from core.components.manipulation import (
    carry_attrs,
    is_numeric,
    require_numeric,
    selected,
    set_categorical,
    unique_name,
)
from core.errors import ComponentError

CATEGORY = "Data Transformation"
DATASET_IN = Port("dataset", "Dataset", PortType.DATA)


# ---- Normalize Data ---------------------------------------------------------------------------------

Method = Literal["ZScore", "MinMax", "Logistic", "LogNormal", "TanH"]
_FITTED = ("ZScore", "MinMax", "LogNormal")


class NormalizeDataParams(Params):
    transformation_method: Method = Field("ZScore", alias="Transformation method")
    columns_to_transform: ColumnSelection | None = Field(
        None, alias="Columns to transform", description="Empty: every numeric column"
    )
    use_0_for_constant_columns_when_checked: bool = Field(
        True, alias="Use 0 for constant columns when checked"
    )


@dataclass
class NormalizationTransform:
    """Fitted per-column statistics: (mean, population std) for ZScore, (min, max - min) for MinMax,
    (mean, population std) of ln(x) for LogNormal; Logistic and TanH need none."""

    method: str
    columns: list[str]
    centers: dict[str, float]
    scales: dict[str, float]
    zero_for_constant: bool

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """Scale the fitted columns the data has. A column it lacks is skipped, like Clean Missing
        Data's transformation does: by default Normalize Data fits every numeric column, the
        label too, and scoring data has no label. A missing feature is still named, by the
        model that needs it."""
        present = [c for c in self.columns if c in df.columns]
        require_numeric(df, present, f"{self.method} normalization")
        out = df.copy()
        for c in present:
            out[c] = self._scale(out[c].astype("float64").to_numpy(), c)
        out.attrs = dict(df.attrs)
        return out

    def _scale(self, x: np.ndarray, column: str) -> np.ndarray:
        with np.errstate(all="ignore"):
            if self.method == "Logistic":
                return special.expit(x)
            if self.method == "TanH":
                return np.tanh(x)
            center, scale = self.centers[column], self.scales[column]
            if scale == 0:
                return np.where(np.isnan(x), np.nan, 0.0 if self.zero_for_constant else np.nan)
            if self.method == "LogNormal":
                z = (np.log(np.where(x > 0, x, np.nan)) - center) / scale
                below = np.where(np.isnan(x), np.nan, 0.0)  # the CDF is 0 at and below 0
                return np.where(x > 0, 0.5 * special.erfc(-z / np.sqrt(2.0)), below)
            return (x - center) / scale


def fit_normalization(df: pd.DataFrame, params: NormalizeDataParams) -> NormalizationTransform:
    if params.columns_to_transform is None:
        columns = [str(c) for c in df.columns if is_numeric(df[c])]
        if not columns:
            raise ComponentError("The dataset has no numeric column to normalize", code="NoColumnsSelected")
    else:
        columns = selected(params.columns_to_transform, df, "Columns to transform")
    require_numeric(df, columns, "Normalize Data")
    method = params.transformation_method
    centers: dict[str, float] = {}
    scales: dict[str, float] = {}
    for c in columns if method in _FITTED else []:
        centers[c], scales[c] = _statistics(df[c].astype("float64"), method, c)
    return NormalizationTransform(
        method=method,
        columns=columns,
        centers=centers,
        scales=scales,
        zero_for_constant=params.use_0_for_constant_columns_when_checked,
    )


def _statistics(x: pd.Series, method: str, column: str) -> tuple[float, float]:
    x = x.dropna()
    if method == "MinMax":
        return float(x.min()), float(x.max() - x.min())
    if method == "LogNormal":
        if (x <= 0).any():
            raise ComponentError(
                f"LogNormal needs positive values, but column {column!r} holds {x[x <= 0].iloc[0]!r}",
                code="NotInRangeValue",
                column=column,
            )
        x = np.log(x)
    return float(x.mean()), float(x.std(ddof=0))


class NormalizeData(Component):
    id = "normalize_data"
    name = "Normalize Data"
    category = CATEGORY
    version = "2.0"
    description = (
        "Rescale numeric columns (z-score, min-max, logistic, log-normal, tanh); "
        "outputs the fitted transform."
    )
    inputs = (DATASET_IN,)
    outputs = (
        Port("transformed_dataset", "Transformed dataset", PortType.DATA),
        Port("transformation_function", "Transformation function", PortType.TRANSFORM),
    )
    Parameters = NormalizeDataParams

    def run(self, inputs: Mapping[str, Any], params: NormalizeDataParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        transform = fit_normalization(df, params)
        constant = [c for c, s in transform.scales.items() if s == 0]
        ctx.log(
            f"{transform.method} on {len(transform.columns)} column(s)"
            + (
                f"; constant column(s) {constant} set to {'0' if transform.zero_for_constant else 'missing'}"
                if constant
                else ""
            )
        )
        return {"transformed_dataset": transform.apply(df), "transformation_function": transform}


# ---- Group Data into Bins ---------------------------------------------------------------------------

BinningMode = Literal["Quantiles", "Equal Width", "Custom Edges", "Equal Width With Custom Start and Stop"]
OutputMode = Literal["Append", "Inplace", "Result Only"]
_MAX_EDGES = 10_000


class GroupDataIntoBinsParams(Params):
    binning_mode: BinningMode = Field("Quantiles", alias="Binning mode")
    columns_to_bin: ColumnSelection = Field(alias="Columns to bin")
    output_mode: OutputMode = Field("Append", alias="Output mode")
    tag_columns_as_categorical: bool = Field(True, alias="Tag columns as categorical")
    number_of_bins: int = Field(10, ge=1, alias="Number of bins")
    quantile_normalization: Literal["Percent", "PQuantile", "Quantile Index"] = Field(
        "Percent", alias="Quantile normalization"
    )
    first_edge_position: float = Field(0.0, alias="First edge position")
    bin_width: float = Field(0.5, gt=0.0, alias="Bin width")
    last_edge_position: float = Field(1.0, alias="Last edge position")
    comma_separated_list_of_bin_edges: str = Field("", alias="Comma-separated list of bin edges")


@dataclass
class BinningTransform:
    """Bin i (1-based) of a column holds the values in (edges[i-2], edges[i-1]]; bin 1 is open below
    and the last bin open above, so new data outside the training range lands in an end bin.
    ``labels`` is the value written for each bin (its index, or its quantile level)."""

    columns: list[str]
    edges: dict[str, list[float]]
    labels: dict[str, list[float]]
    output_mode: str
    categorical: bool

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        require_columns(df, self.columns)
        require_numeric(df, self.columns, "Group Data into Bins")
        binned = {c: self._bin(df[c], c) for c in self.columns}
        if self.output_mode == "Inplace":
            out = df.copy()
            for c, values in binned.items():
                out[c] = values
            names = list(self.columns)
        else:
            taken = [] if self.output_mode == "Result Only" else [str(c) for c in df.columns]
            named: dict[str, pd.Series] = {}
            for c, values in binned.items():
                name = unique_name(f"{c}_quantized", taken)
                taken.append(name)
                named[name] = values
            new = pd.DataFrame(named, index=df.index)
            out = new if self.output_mode == "Result Only" else pd.concat([df, new], axis=1)
            names = list(named)
        attrs = carry_attrs(df.attrs, out.columns)
        if self.categorical:
            set_categorical(attrs, names, True)
        out.attrs = attrs
        return out

    def _bin(self, series: pd.Series, column: str) -> pd.Series:
        x = series.astype("float64").to_numpy()
        codes = np.searchsorted(np.asarray(self.edges[column], dtype="float64"), x, side="left")
        codes[np.isnan(x)] = -1
        binned = pd.Series(
            pd.Categorical.from_codes(codes, categories=self.labels[column]), index=series.index
        )
        return binned if self.categorical else binned.astype(object).infer_objects()


def fit_binning(df: pd.DataFrame, params: GroupDataIntoBinsParams) -> BinningTransform:
    columns = selected(params.columns_to_bin, df, "Columns to bin")
    require_numeric(df, columns, "Group Data into Bins")
    edges = {c: _edges(df[c].astype("float64").dropna().to_numpy(), params) for c in columns}
    labels = {c: _labels(len(e) + 1, params) for c, e in edges.items()}
    return BinningTransform(
        columns=columns,
        edges=edges,
        labels=labels,
        output_mode=params.output_mode,
        categorical=params.tag_columns_as_categorical,
    )


def _edges(x: np.ndarray, params: GroupDataIntoBinsParams) -> list[float]:
    """Inner bin edges, strictly increasing: k edges make k + 1 bins."""
    mode, n = params.binning_mode, params.number_of_bins
    if mode == "Custom Edges":
        return _custom_edges(params.comma_separated_list_of_bin_edges)
    if mode == "Equal Width With Custom Start and Stop":
        return _stepped_edges(params.first_edge_position, params.bin_width, params.last_edge_position)
    if not len(x) or n == 1:
        return []
    if mode == "Quantiles":
        inner = np.quantile(x, np.arange(1, n) / n)
    else:
        inner = np.linspace(x.min(), x.max(), n + 1)[1:-1]
    return [float(e) for e in np.unique(inner)]


def _custom_edges(text: str) -> list[float]:
    parameter = "Comma-separated list of bin edges"
    if not text.strip():
        raise ComponentError(
            f"'{parameter}' is empty; give ascending numbers such as 1, 3, 5", code="NullOrEmpty"
        )
    try:
        edges = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise ComponentError(
            f"'{parameter}' must be numbers separated by commas, got {text!r}", code="ParameterParsing"
        ) from exc
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ComponentError(
            f"'{parameter}' must be strictly ascending, got {text!r}", code="NotInRangeValue"
        )
    return edges


def _stepped_edges(first: float, width: float, last: float) -> list[float]:
    if last < first:
        raise ComponentError(
            f"'Last edge position' ({last:g}) is below 'First edge position' ({first:g})",
            code="NotInRangeValue",
        )
    count = int(np.floor((last - first) / width + 1e-9)) + 1
    if count > _MAX_EDGES:
        raise ComponentError(
            f"'Bin width' {width:g} makes {count} edges between {first:g} and {last:g}; "
            f"at most {_MAX_EDGES} are allowed",
            code="NotInRangeValue",
        )
    return [float(first + i * width) for i in range(count)]


def _labels(bins: int, params: GroupDataIntoBinsParams) -> list[float]:
    """Quantile bins read as Percent (100·i/bins), PQuantile (i/bins) or Quantile Index (i)."""
    index: list[float] = list(range(1, bins + 1))
    if params.binning_mode != "Quantiles" or params.quantile_normalization == "Quantile Index":
        return index
    scale = 100.0 if params.quantile_normalization == "Percent" else 1.0
    return [scale * i / bins for i in index]


class GroupDataIntoBins(Component):
    id = "group_data_into_bins"
    name = "Group Data into Bins"
    category = CATEGORY
    version = "0.1"
    description = (
        "Bin numeric columns by quantiles, equal width or custom edges; outputs the binning transform."
    )
    inputs = (DATASET_IN,)
    outputs = (
        Port("quantized_dataset", "Quantized dataset", PortType.DATA),
        Port("binning_transformation", "Binning transformation", PortType.TRANSFORM),
    )
    Parameters = GroupDataIntoBinsParams

    def run(
        self, inputs: Mapping[str, Any], params: GroupDataIntoBinsParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        transform = fit_binning(df, params)
        counts = {c: len(e) + 1 for c, e in transform.edges.items()}
        ctx.log(f"{params.binning_mode}: bins per column {counts}")
        return {"quantized_dataset": transform.apply(df), "binning_transformation": transform}


# ---- Convert to Indicator Values --------------------------------------------------------------------


class ConvertToIndicatorValuesParams(Params):
    categorical_columns_to_convert: ColumnSelection = Field(alias="Categorical columns to convert")
    overwrite_categorical_columns: bool = Field(False, alias="Overwrite categorical columns")


@dataclass
class IndicatorTransform:
    """One 0/1 column ``<col>-<value>`` per training value (``<col>-Missing`` if training had missing
    values), placed after the source column or in its place when overwriting. A value unseen in
    training gets all zeros."""

    columns: list[str]
    values: dict[str, list[Any]]
    names: dict[str, list[str]]
    missing_names: dict[str, str | None]
    overwrite: bool

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        require_columns(df, self.columns)
        parts: dict[str, pd.Series] = {}
        for c in (str(c) for c in df.columns):
            if c not in self.columns or not self.overwrite:
                parts[c] = df[c]
            if c in self.columns:
                parts.update(self._indicators(df[c], c))
        out = pd.DataFrame(parts, index=df.index)
        attrs = carry_attrs(df.attrs, out.columns)
        if "features" in df.attrs:
            attrs["features"] = _features_after(df.attrs["features"], self, out.columns)
        out.attrs = attrs
        return out

    def _indicators(self, series: pd.Series, column: str) -> dict[str, pd.Series]:
        values = series.astype(object)
        found = {
            name: (values == value).fillna(False).astype("int64")
            for value, name in zip(self.values[column], self.names[column], strict=True)
        }
        missing_name = self.missing_names[column]
        if missing_name is not None:
            found[missing_name] = series.isna().astype("int64")
        return found


def _features_after(features: list[str], transform: IndicatorTransform, columns: Any) -> list[str]:
    """Indicator columns take the feature role of their source column."""
    present = set(columns)
    out: list[str] = []
    for c in features:
        if c in present:
            out.append(c)
        if c in transform.columns:
            missing = transform.missing_names[c]
            out += transform.names[c] + ([missing] if missing else [])
    return out


def fit_indicators(df: pd.DataFrame, params: ConvertToIndicatorValuesParams) -> IndicatorTransform:
    columns = selected(params.categorical_columns_to_convert, df, "Categorical columns to convert")
    tagged = set(df.attrs.get("categorical", []))
    for c in columns:
        if not isinstance(df[c].dtype, pd.CategoricalDtype) and c not in tagged:
            raise ComponentError(
                f"Column {c!r} is not categorical; mark it categorical with Edit Metadata first",
                code="InvalidColumnCategorySelected",
                column=c,
            )
    overwrite = params.overwrite_categorical_columns
    taken = [str(c) for c in df.columns if not (overwrite and c in columns)]
    values: dict[str, list[Any]] = {}
    names: dict[str, list[str]] = {}
    missing_names: dict[str, str | None] = {}
    for c in columns:
        values[c] = _levels(df[c])
        names[c] = []
        for v in values[c]:
            names[c].append(unique_name(f"{c}-{_show(v)}", taken))
            taken.append(names[c][-1])
        missing = unique_name(f"{c}-Missing", taken) if df[c].isna().any() else None
        missing_names[c] = missing
        if missing:
            taken.append(missing)
    return IndicatorTransform(
        columns=columns, values=values, names=names, missing_names=missing_names, overwrite=overwrite
    )


def _levels(series: pd.Series) -> list[Any]:
    """The values seen, in category order for a categorical column, else sorted."""
    seen = series.dropna().unique()
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(seen)
        ordered = [v for v in series.dtype.categories if v in present]
    else:
        try:
            ordered = sorted(seen)
        except TypeError:
            ordered = sorted(seen, key=str)
    return [v.item() if isinstance(v, np.generic) else v for v in ordered]


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class ConvertToIndicatorValues(Component):
    id = "convert_to_indicator_values"
    name = "Convert to Indicator Values"
    category = CATEGORY
    version = "2.0"
    description = "Turn categorical columns into 0/1 indicator columns, one per value; outputs the transform."
    inputs = (DATASET_IN,)
    outputs = (
        Port("results_dataset", "Results dataset", PortType.DATA),
        Port("indicator_values_transformation", "Indicator values transformation", PortType.TRANSFORM),
    )
    Parameters = ConvertToIndicatorValuesParams

    def run(
        self, inputs: Mapping[str, Any], params: ConvertToIndicatorValuesParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        transform = fit_indicators(df, params)
        made = sum(
            len(n) + (m is not None)
            for n, m in zip(transform.names.values(), transform.missing_names.values(), strict=True)
        )
        ctx.log(f"{made} indicator column(s) from {len(transform.columns)} column(s)")
        return {"results_dataset": transform.apply(df), "indicator_values_transformation": transform}


COMPONENTS = (NormalizeData, GroupDataIntoBins, ConvertToIndicatorValues)
