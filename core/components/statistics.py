"""Statistical Functions: Summarize Data and Compute Linear Correlation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from core.components.base import Component, Port, PortType, RunContext
from core.errors import ComponentError

PERCENTILES = {"P0.5": 0.005, "P1": 0.01, "P5": 0.05, "P95": 0.95, "P99": 0.99, "P99.5": 0.995}
SUMMARY_COLUMNS = (
    "Feature",
    "Count",
    "Unique Value Count",
    "Missing Value Count",
    "Min",
    "Max",
    "Mean",
    "Mean Deviation",
    "1st quantile",
    "Median",
    "3rd quantile",
    "Mode",
    "Range",
    "Sample Variance",
    "Sample Standard Deviation",
    "Sample Skewness",
    "Sample Kurtosis",
    *PERCENTILES,
)


def _numeric_values(series: pd.Series) -> pd.Series | None:
    """The column as floats when it is numeric (booleans count as 0/1), else None."""
    if ptypes.is_bool_dtype(series) or (
        ptypes.is_numeric_dtype(series) and not ptypes.is_complex_dtype(series)
    ):
        return series.dropna().astype(float)
    return None


class SummarizeData(Component):
    """One row of descriptive statistics per column of the input.

    Count is the number of rows; the other statistics ignore missing values. Non-numeric
    columns get Count, Unique Value Count and Missing Value Count only (the rest is empty), as in
    the designer; booleans are numeric, True being 1. Variance, standard deviation, skewness and
    kurtosis (excess) are the bias-corrected sample statistics; percentiles interpolate linearly.
    """

    id = "summarize_data"
    name = "Summarize Data"
    category = "Statistical Functions"
    version = "1.0"
    description = "Descriptive statistics (counts, quartiles, moments, percentiles) for every column."
    inputs = (Port("input", "Input", PortType.DATA),)
    outputs = (Port("result_dataset", "Result_dataset", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["input"]
        rows = [_summary(str(name), df[name]) for name in df.columns]
        out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        ctx.log(f"summarized {df.shape[1]} column(s) over {len(df)} row(s)")
        return {"result_dataset": out}


def _summary(name: str, series: pd.Series) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Feature": name,
        "Count": len(series),
        "Unique Value Count": int(series.nunique()),
        "Missing Value Count": int(series.isna().sum()),
    }
    values = _numeric_values(series)
    if values is None or values.empty:
        return row
    quantiles = values.quantile([0.25, 0.5, 0.75, *PERCENTILES.values()]).to_numpy()
    row.update(
        {
            "Min": values.min(),
            "Max": values.max(),
            "Mean": values.mean(),
            "Mean Deviation": (values - values.mean()).abs().mean(),
            "1st quantile": quantiles[0],
            "Median": quantiles[1],
            "3rd quantile": quantiles[2],
            "Mode": values.mode().min(),
            "Range": values.max() - values.min(),
            "Sample Variance": values.var(),
            "Sample Standard Deviation": values.std(),
            "Sample Skewness": values.skew(),
            "Sample Kurtosis": values.kurt(),
            **dict(zip(PERCENTILES, quantiles[3:], strict=True)),
        }
    )
    return row


class ComputeLinearCorrelation(Component):
    """Pearson correlation between every pair of numeric columns.

    The output is the square matrix with a leading "Feature" column naming each row ("Feature
    name" if a column is called "Feature"). Pairs use
    the rows where both values are present; booleans count as 0/1; a constant column correlates
    as empty (undefined). Non-numeric columns are left out and named in the log.
    """

    id = "compute_linear_correlation"
    name = "Compute Linear Correlation"
    category = "Statistical Functions"
    version = "1.0"
    description = "Pearson correlation matrix of the numeric columns."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (Port("results_dataset", "Results dataset", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        numeric = {str(c): df[c].astype(float) for c in df.columns if _numeric_values(df[c]) is not None}
        skipped = [str(c) for c in df.columns if str(c) not in numeric]
        if not numeric:
            raise ComponentError(
                "Compute Linear Correlation needs at least one numeric column; the dataset has none",
                code="TooFewColumnsInDataset",
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            matrix = pd.DataFrame(numeric).corr(method="pearson")
        out = matrix.reset_index(names="Feature" if "Feature" not in numeric else "Feature name")
        if skipped:
            ctx.log(f"ignored {len(skipped)} non-numeric column(s): {', '.join(skipped)}")
        ctx.log(f"correlated {len(numeric)} numeric column(s) over {len(df)} row(s)")
        return {"results_dataset": out}


COMPONENTS = (SummarizeData, ComputeLinearCorrelation)
