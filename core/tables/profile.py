"""Look at a table without downloading it: the first rows, and a profile of every column.

This is what the designer's "Visualize" shows for a dataset or a node output: per column its
type, missing and unique counts, min / max / mean for numbers and a small histogram, the most
frequent values otherwise. The work is bounded: a Parquet file is read only up to
:data:`PROFILE_ROWS` rows (whole row groups from the start), and the answer says how many rows
it describes, so a large dataset costs the same as a medium one.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api import types as ptypes
from pydantic import BaseModel

PROFILE_ROWS = 200_000
PREVIEW_MAX_ROWS = 1_000
HISTOGRAM_BINS = 10
TOP_VALUES = 5

ColumnKind = Literal["Numeric", "Boolean", "DateTime", "Categorical", "String"]


class Histogram(BaseModel):
    edges: list[float]
    counts: list[int]


class ValueCount(BaseModel):
    value: str
    count: int


class ColumnProfile(BaseModel):
    name: str
    kind: ColumnKind
    dtype: str
    missing: int
    unique: int
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    median: float | None = None
    std: float | None = None
    histogram: Histogram | None = None
    top_values: list[ValueCount] = []


class TableProfile(BaseModel):
    rows: int
    profiled_rows: int
    columns: list[ColumnProfile]


class Preview(BaseModel):
    rows: int
    columns: list[str]
    dtypes: list[str]
    data: list[list[Any]]


def read_head(path: str, rows: int) -> tuple[pd.DataFrame, int]:
    """The first ``rows`` rows of a Parquet file and its total row count, reading no more."""
    file = pq.ParquetFile(path)
    total = file.metadata.num_rows
    if rows <= 0 or total == 0:
        return file.schema_arrow.empty_table().to_pandas(), total
    batches: list[pa.RecordBatch] = []
    taken = 0
    for batch in file.iter_batches(batch_size=min(rows, 65_536)):
        batches.append(batch.slice(0, rows - taken))
        taken += batches[-1].num_rows
        if taken >= rows:
            break
    table = pa.Table.from_batches(batches, schema=file.schema_arrow)
    return table.to_pandas(), total


def preview(df: pd.DataFrame, total: int) -> Preview:
    """Rows as JSON-safe lists: NaN and NaT become null, timestamps ISO text."""
    data = [[_json_value(v) for v in row] for row in df.itertuples(index=False, name=None)]
    return Preview(
        rows=total, columns=[str(c) for c in df.columns], dtypes=[str(t) for t in df.dtypes], data=data
    )


def profile(df: pd.DataFrame, total: int | None = None) -> TableProfile:
    return TableProfile(
        rows=len(df) if total is None else total,
        profiled_rows=len(df),
        columns=[profile_column(str(name), df[name]) for name in df.columns],
    )


def profile_column(name: str, series: pd.Series) -> ColumnProfile:
    kind = column_kind(series)
    base = ColumnProfile(
        name=name,
        kind=kind,
        dtype=str(series.dtype),
        missing=int(series.isna().sum()),
        unique=int(series.nunique(dropna=True)),
    )
    present = series.dropna()
    if kind == "Numeric":
        values = present.astype("float64")
        values = values[np.isfinite(values)]
        if len(values):
            base.min, base.max = float(values.min()), float(values.max())
            base.mean, base.median = float(values.mean()), float(values.median())
            base.std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
            base.histogram = Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts])
        return base
    if kind == "DateTime" and len(present):
        base.min, base.max = present.min().isoformat(), present.max().isoformat()
    counts = present.astype(str).value_counts().head(TOP_VALUES)
    base.top_values = [ValueCount(value=str(v), count=int(c)) for v, c in counts.items()]
    return base


def column_kind(series: pd.Series) -> ColumnKind:
    """The designer's column kinds: what a column picker's "by type" rules also speak of."""
    if ptypes.is_bool_dtype(series):
        return "Boolean"
    if ptypes.is_numeric_dtype(series):
        return "Numeric"
    if ptypes.is_datetime64_any_dtype(series):
        return "DateTime"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "Categorical"
    return "String"


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _json_value(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (str, int, bool)):
        return value
    return None if pd.isna(value) else str(value)
