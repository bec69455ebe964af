"""Previews and column profiles (core/tables/profile.py): right numbers, JSON-safe, bounded reads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.tables import profile


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "price": [10.0, 20.0, np.nan, 40.0, 30.0],
            "make": ["audi", "bmw", "audi", None, "audi"],
            "turbo": [True, False, True, True, False],
            "when": pd.to_datetime(["2024-01-02", None, "2024-03-01", "2024-01-01", "2024-02-01"]),
        }
    )


def test_numeric_columns_get_statistics_and_a_histogram() -> None:
    price = profile.profile(frame()).columns[0]
    assert (price.kind, price.missing, price.unique) == ("Numeric", 1, 4)
    assert (price.min, price.max, price.mean, price.median) == (10.0, 40.0, 25.0, 25.0)
    assert abs(price.std - float(np.std([10, 20, 40, 30], ddof=1))) < 1e-12
    assert price.histogram is not None and sum(price.histogram.counts) == 4
    assert price.histogram.edges[0] == 10.0 and price.histogram.edges[-1] == 40.0
    assert len(price.histogram.edges) == len(price.histogram.counts) + 1


def test_other_columns_get_their_most_frequent_values() -> None:
    _, make, turbo, when = profile.profile(frame()).columns
    assert (make.kind, make.missing, make.unique) == ("String", 1, 2)
    assert [(v.value, v.count) for v in make.top_values] == [("audi", 3), ("bmw", 1)]
    assert turbo.kind == "Boolean" and turbo.histogram is None
    assert when.kind == "DateTime" and when.min == "2024-01-01T00:00:00" and when.missing == 1


def test_all_missing_and_empty_columns_do_not_break_the_profile() -> None:
    df = pd.DataFrame({"x": [np.nan, np.nan], "y": [np.inf, -np.inf]})
    x, y = profile.profile(df).columns
    assert x.missing == 2 and x.mean is None and x.histogram is None
    assert y.missing == 0 and y.min is None
    empty = profile.profile(df.head(0))
    assert empty.rows == 0 and [c.unique for c in empty.columns] == [0, 0]


def test_preview_is_json_safe() -> None:
    view = profile.preview(frame(), total=5)
    assert view.columns == ["price", "make", "turbo", "when"]
    assert view.data[2] == [None, "audi", True, "2024-03-01T00:00:00"]
    assert view.data[1][3] is None
    json.dumps(view.model_dump(mode="json"), allow_nan=False)


def test_read_head_reads_only_the_rows_asked_for(tmp_path) -> None:
    path = tmp_path / "t.parquet"
    table = pa.table({"i": list(range(10_000))})
    pq.write_table(table, path, row_group_size=1_000)
    head, total = profile.read_head(str(path), 1_500)
    assert total == 10_000 and head["i"].tolist() == list(range(1_500))
    none, total = profile.read_head(str(path), 0)
    assert total == 10_000 and list(none.columns) == ["i"] and len(none) == 0
