"""Summarize Data and Compute Linear Correlation on small hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.components.base import RunContext
from core.components.statistics import SUMMARY_COLUMNS, ComputeLinearCorrelation, SummarizeData
from core.errors import ComponentError


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "price": [1.0, 2.0, 2.0, 4.0, None],
            "make": ["audi", "bmw", None, "audi", "audi"],
            "sold": [True, False, True, True, True],
        }
    )


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    out = SummarizeData().run({"input": df}, None, RunContext())["result_dataset"]
    return out.set_index("Feature")


def test_summary_has_the_designers_columns(df: pd.DataFrame) -> None:
    out = SummarizeData().run({"input": df}, None, RunContext())["result_dataset"]
    assert list(out.columns) == list(SUMMARY_COLUMNS)
    assert SUMMARY_COLUMNS[:4] == ("Feature", "Count", "Unique Value Count", "Missing Value Count")
    assert SUMMARY_COLUMNS[-6:] == ("P0.5", "P1", "P5", "P95", "P99", "P99.5")
    assert out["Feature"].tolist() == ["price", "make", "sold"]
    assert SummarizeData.describe()["outputs"][0]["name"] == "Result_dataset"


def test_numeric_statistics(df: pd.DataFrame) -> None:
    price = summarize(df).loc["price"]
    values = pd.Series([1.0, 2.0, 2.0, 4.0])
    assert (price["Count"], price["Unique Value Count"], price["Missing Value Count"]) == (5, 3, 1)
    assert (price["Min"], price["Max"], price["Range"], price["Mode"]) == (1.0, 4.0, 3.0, 2.0)
    assert price["Mean"] == pytest.approx(2.25)
    assert price["Mean Deviation"] == pytest.approx(0.875)  # mean |x - 2.25|
    assert (price["1st quantile"], price["Median"], price["3rd quantile"]) == (1.75, 2.0, 2.5)
    assert price["Sample Variance"] == pytest.approx(values.var(ddof=1))
    assert price["Sample Standard Deviation"] == pytest.approx(np.sqrt(values.var(ddof=1)))
    assert price["Sample Skewness"] == pytest.approx(values.skew())
    assert price["Sample Kurtosis"] == pytest.approx(values.kurt())
    assert price["P0.5"] == pytest.approx(1.015) and price["P99.5"] == pytest.approx(3.97)
    assert price["P5"] == pytest.approx(1.15) and price["P95"] == pytest.approx(3.7)


def test_non_numeric_columns_only_get_counts(df: pd.DataFrame) -> None:
    make = summarize(df).loc["make"]
    assert (make["Count"], make["Unique Value Count"], make["Missing Value Count"]) == (5, 2, 1)
    assert make[list(SUMMARY_COLUMNS[4:])].isna().all()


def test_booleans_count_as_zero_and_one(df: pd.DataFrame) -> None:
    sold = summarize(df).loc["sold"]
    assert (sold["Min"], sold["Max"], sold["Range"], sold["Mean"]) == (0.0, 1.0, 1.0, 0.8)


def test_correlation_matrix_of_numeric_columns(df: pd.DataFrame) -> None:
    ctx = RunContext()
    data = df.assign(double=df["price"] * 2, negative=-df["price"])
    out = ComputeLinearCorrelation().run({"dataset": data}, None, ctx)["results_dataset"]
    assert list(out.columns) == ["Feature", "price", "sold", "double", "negative"]
    matrix = out.set_index("Feature")
    assert matrix.loc["price", "double"] == pytest.approx(1.0)
    assert matrix.loc["price", "negative"] == pytest.approx(-1.0)
    assert matrix.loc["sold", "sold"] == pytest.approx(1.0)
    expected = np.corrcoef([1.0, 2.0, 2.0, 4.0], [1, 0, 1, 1])[0, 1]
    assert matrix.loc["price", "sold"] == pytest.approx(expected)
    assert ctx.logs[0] == "ignored 1 non-numeric column(s): make"


def test_correlation_of_a_constant_column_is_empty() -> None:
    out = (
        ComputeLinearCorrelation()
        .run({"dataset": pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": [5, 5, 5]})}, None, RunContext())[
            "results_dataset"
        ]
        .set_index("Feature")
    )
    assert np.isnan(out.loc["a", "c"])


def test_correlation_needs_a_numeric_column() -> None:
    with pytest.raises(ComponentError) as caught:
        ComputeLinearCorrelation().run({"dataset": pd.DataFrame({"s": ["a", "b"]})}, None, RunContext())
    assert caught.value.code == "TooFewColumnsInDataset"
    assert ComputeLinearCorrelation.describe()["parameters"]["properties"] == {}
