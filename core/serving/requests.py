"""Real-time requests: the rows of a designer or MLflow request body, checked against the
endpoint's input schema and turned into the DataFrame scoring expects (and results back into rows).

Every problem is named by column and row number; values are never echoed back, since a request
may carry personal data.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from core.errors import InvalidRequest, Problem
from core.serving.deployments import ColumnSpec, ColumnType

MAX_REPORTED = 50
RequestStyle = Literal["designer", "mlflow"]


def request_rows(
    body: Any, input_name: str, schema: list[ColumnSpec]
) -> tuple[list[dict[str, Any]], RequestStyle]:
    """The rows of a designer or MLflow request body, or a 400 naming what is wrong with it."""

    def refuse(code: str, message: str, field: str = "body") -> InvalidRequest:
        return InvalidRequest(message, [Problem(code=code, field=field, message=message)])

    if not isinstance(body, dict) or not body:
        raise refuse(
            "empty_request",
            f'Send a JSON object: {{"Inputs": {{"{input_name}": [rows]}}}} or an MLflow '
            "dataframe_split / dataframe_records / instances body",
        )
    if "Inputs" in body:
        inputs = body["Inputs"]
        if not isinstance(inputs, dict) or input_name not in inputs:
            raise refuse("missing_input", f"Inputs must hold {input_name!r}", "Inputs")
        rows = inputs[input_name]
        style: RequestStyle = "designer"
    elif "dataframe_records" in body:
        rows, style = body["dataframe_records"], "mlflow"
    elif "dataframe_split" in body:
        split = body["dataframe_split"]
        if (
            not isinstance(split, dict)
            or not isinstance(split.get("columns"), list)
            or not isinstance(split.get("data"), list)
        ):
            raise refuse(
                "invalid_dataframe_split",
                "dataframe_split needs 'columns' and 'data' lists",
                "dataframe_split",
            )
        if any(not isinstance(r, list) or len(r) != len(split["columns"]) for r in split["data"]):
            raise refuse(
                "invalid_dataframe_split",
                "every row of 'data' needs one value per column",
                "dataframe_split.data",
            )
        rows, style = [dict(zip(split["columns"], r, strict=True)) for r in split["data"]], "mlflow"
    elif "instances" in body:
        instances = body["instances"]
        names = [c.name for c in schema]
        if isinstance(instances, list) and instances and all(isinstance(r, list) for r in instances):
            if any(len(r) != len(names) for r in instances):
                raise refuse(
                    "invalid_instances",
                    f"list instances need {len(names)} values in schema order",
                    "instances",
                )
            instances = [dict(zip(names, r, strict=True)) for r in instances]
        rows, style = instances, "mlflow"
    else:
        raise refuse(
            "unknown_request_shape",
            f'Use {{"Inputs": {{"{input_name}": [...]}}}} or MLflow\'s dataframe_split, '
            "dataframe_records or instances",
        )
    if not isinstance(rows, list) or not rows:
        raise refuse("no_rows", "The request holds no rows")
    if not all(isinstance(r, dict) for r in rows):
        raise refuse("invalid_rows", "Each row must be an object of column: value")
    return rows, style


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _fits(value: Any, kind: ColumnType) -> bool:
    """Whether ``value`` is a ``kind`` value the scoring frame can hold (None is a missing value)."""
    if value is None:
        return True
    if kind == "string":
        return type(value) is str or isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        if isinstance(value, int):
            return INT64_MIN <= value <= INT64_MAX  # an int64 column holds nothing wider
        # 2**63 itself is a float but no int64: the upper bound is exclusive
        return isinstance(value, float) and value.is_integer() and INT64_MIN <= value < 2.0**63
    if kind == "number":
        if isinstance(value, int):
            return abs(value) <= _FLOAT_MAX_INT
        return isinstance(value, float) and not math.isinf(value)
    return False


_FLOAT_MAX_INT = int(np.finfo(np.float64).max)

Columns = dict[str, list[Any]]


def check_rows(rows: list[dict[str, Any]], schema: list[ColumnSpec]) -> Columns:
    """The request's values column by column, in schema order, checked against the schema.

    Every problem is named by column and row number; values are never echoed back, since a
    request may carry personal data. Extra columns are ignored; integers widen to floats in
    number columns and integral floats narrow to integers in integer columns. A missing value
    (null) where the deployed pipeline cannot take one (``nullable`` false: a column the model
    needs that no step cleans) is a problem like a wrong type.
    """
    problems: list[Problem] = []
    columns: Columns = {}
    single = len(rows) == 1
    present = rows[0].keys() if single else set().union(*(r.keys() for r in rows))
    for spec in schema:  # in schema order, so a long list still reads column by column
        name = spec.name
        if name not in present:
            if spec.required:
                problems.append(
                    Problem(
                        code="missing_column",
                        column=name,
                        message=f"Required column {name!r} ({spec.type}) is missing",
                    )
                )
            continue
        given = [rows[0][name]] if single else [r.get(name) for r in rows]
        kind = spec.type
        values = _coerced(given, kind)
        if values is None:
            bad = [i for i, r in enumerate(rows) if not _fits(r.get(name), kind)]
            problems.append(
                Problem(
                    code="wrong_type",
                    column=name,
                    message=f"Column {name!r} takes {kind} values; rows {_rows(bad)} do not",
                )
            )
            continue
        if not spec.nullable and None in values:
            empty = [i for i, v in enumerate(values) if v is None]
            problems.append(
                Problem(
                    code="missing_value",
                    column=name,
                    message=(
                        f"Column {name!r} needs a value (the pipeline does not clean missing values in it); "
                        f"rows {_rows(empty)} have none"
                    ),
                )
            )
            continue
        columns[name] = values
    if problems:
        extra = len(problems) - MAX_REPORTED
        message = f"The request has {len(problems)} problem(s)" + (
            f"; the first {MAX_REPORTED} are listed" if extra > 0 else ""
        )
        raise InvalidRequest(message, problems[:MAX_REPORTED])
    return columns


def _coerced(values: list[Any], kind: ColumnType) -> list[Any] | None:
    """``values`` as the column holds them (integral floats as ints, ints as floats, NaN as None),
    or None if one does not fit ``kind``. The common case, every value already of the column's
    own type, costs one pass."""
    if kind == "string":
        return (
            values
            if all(type(v) is str or v is None for v in values)
            else (values if all(_fits(v, kind) for v in values) else None)
        )
    if kind == "integer":
        if all((type(v) is int and INT64_MIN <= v <= INT64_MAX) or v is None for v in values):
            return values
        if not all(_fits(v, kind) for v in values):
            return None
        return [v if v is None or type(v) is int else int(v) for v in values]
    if kind == "number":
        if all((type(v) is float and v == v) or v is None for v in values):
            return values
        if not all(_fits(v, kind) for v in values):
            return None
        return [None if v is None or v != v else float(v) for v in values]  # NaN is pandas' missing value
    return values if all(_fits(v, kind) for v in values) else None


def _rows(indices: list[int]) -> str:
    return ", ".join(str(i) for i in indices[:5]) + (" ..." if len(indices) > 5 else "")


def to_frame(rows: list[dict[str, Any]], schema: list[ColumnSpec]) -> pd.DataFrame:
    """Check rows against the schema and build the DataFrame scoring expects."""
    return frame(check_rows(rows, schema), schema)


def frame(columns: Columns, schema: list[ColumnSpec]) -> pd.DataFrame:
    """The scoring DataFrame of checked columns (see :func:`check_rows`), in schema order."""
    return pd.DataFrame(
        {spec.name: _column(columns[spec.name], spec) for spec in schema if spec.name in columns}
    )


def _column(values: list[Any], spec: ColumnSpec) -> Any:
    if spec.type == "integer":
        if any(v is None for v in values):
            return np.array([np.nan if v is None else v for v in values], dtype="float64")
        return np.array(values, dtype="int64")
    if spec.type == "number":
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if spec.type == "boolean":
        return pd.array(values, dtype="boolean")
    return pd.array(values, dtype=spec.dtype if spec.dtype in ("str", "string", "object") else "str")


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: missing values become null, numpy scalars Python numbers (full precision)."""
    from core.serving.compiled import frame_columns
    from core.serving.compiled import records as rows_of

    return rows_of(frame_columns(df), len(df))
