"""Data Transformation > Manipulation: Join Data, Add Columns, Add Rows, Remove Duplicate Rows,
Edit Metadata.

Also the small helpers other transformation modules share: keeping ``df.attrs`` true to the
columns an output really has, and naming a column that would clash the way the designer does
(``name (2)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import Field

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import ColumnSelection
from core.errors import ComponentError

CATEGORY = "Data Transformation"
RESULTS_OUT = Port("results_dataset", "Results dataset", PortType.DATA)

_NAME_KEYS = ("label", "weight")
_LIST_KEYS = ("features", "categorical", "score_columns")


# ---- helpers shared by the transformation modules -------------------------------------------------


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... whichever is free, as the designer suffixes clashes."""
    used = set(taken)
    if name not in used:
        return name
    n = 2
    while f"{name} ({n})" in used:
        n += 1
    return f"{name} ({n})"


def carry_attrs(
    attrs: Mapping[str, Any], columns: Iterable[str], renames: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``attrs`` for an output holding ``columns``: renamed columns followed, dropped ones forgotten.

    A label or feature list naming a column the output no longer has would mislead Train Model,
    so references are kept only to columns that are really there.
    """
    renames = renames or {}
    present = set(columns)
    out = dict(attrs)
    for key in _NAME_KEYS:
        if key in out:
            name = renames.get(out[key], out[key])
            if name in present:
                out[key] = name
            else:
                del out[key]
    for key in _LIST_KEYS:
        if key in out:
            out[key] = [renames.get(c, c) for c in out[key] if renames.get(c, c) in present]
    return out


def set_categorical(attrs: dict[str, Any], names: Iterable[str], categorical: bool) -> None:
    """Add ``names`` to (or remove them from) ``attrs["categorical"]``, keeping its order."""
    current = list(attrs.get("categorical", []))
    names = list(names)
    if categorical:
        current += [n for n in names if n not in current]
    else:
        current = [c for c in current if c not in names]
    attrs["categorical"] = current


def is_numeric(series: pd.Series) -> bool:
    """Numbers the math components accept: numeric dtypes, booleans excluded."""
    return ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)


def require_numeric(df: pd.DataFrame, columns: list[str], purpose: str) -> None:
    for c in columns:
        if not is_numeric(df[c]):
            raise ComponentError(
                f"Column {c!r} is {df[c].dtype}, but {purpose} needs numeric columns",
                code="InvalidColumnType",
                column=c,
            )


def selected(selection: ColumnSelection, df: pd.DataFrame, parameter: str) -> list[str]:
    """The picked columns; an empty pick is refused naming the parameter."""
    columns = selection.resolve(df)
    if not columns:
        raise ComponentError(f"'{parameter}' selects no column", code="NoColumnsSelected")
    return columns


def _value_kind(series: pd.Series) -> str:
    """The comparable kind of a column's values; a categorical column counts as its categories."""
    dtype = series.dtype.categories.dtype if isinstance(series.dtype, pd.CategoricalDtype) else series.dtype
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_numeric_dtype(dtype):
        return "numeric"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_timedelta64_dtype(dtype):
        return "timespan"
    return "string"


# ---- Join Data --------------------------------------------------------------------------------------

JoinType = Literal["Inner Join", "Left Outer Join", "Full Outer Join", "Left Semi-Join"]
_HOW = {
    "Inner Join": "inner",
    "Left Outer Join": "left",
    "Full Outer Join": "outer",
    "Left Semi-Join": "inner",
}
_LEFT_KEYS = "Comma-separated case-sensitive names of join key columns for L"
_RIGHT_KEYS = "Comma-separated case-sensitive names of join key columns for R"
_LPOS, _RPOS = "\x00left", "\x00right"


class JoinDataParams(Params):
    left_keys: ColumnSelection = Field(alias=_LEFT_KEYS)
    right_keys: ColumnSelection = Field(alias=_RIGHT_KEYS)
    match_case: bool = Field(True, alias="Match case")
    join_type: JoinType = Field("Inner Join", alias="Join type")
    keep_right_key_columns_in_joined_table: bool = Field(True, alias="Keep right key columns in joined table")


class JoinData(Component):
    """Rows with missing keys never match (as in SQL); output rows follow the left dataset's order,
    right-only rows of a full outer join come last. Right columns whose names clash get ``(2)``."""

    id = "join_data"
    name = "Join Data"
    category = CATEGORY
    version = "2.0"
    description = "Join two datasets on key columns: inner, left outer, full outer or left semi-join."
    inputs = (Port("dataset1", "Dataset1", PortType.DATA), Port("dataset2", "Dataset2", PortType.DATA))
    outputs = (RESULTS_OUT,)
    Parameters = JoinDataParams

    def run(self, inputs: Mapping[str, Any], params: JoinDataParams, ctx: RunContext) -> dict[str, Any]:
        left: pd.DataFrame = inputs["dataset1"].reset_index(drop=True)
        right: pd.DataFrame = inputs["dataset2"].reset_index(drop=True)
        lkeys = _in_typed_order(params.left_keys, left, _LEFT_KEYS)
        rkeys = _in_typed_order(params.right_keys, right, _RIGHT_KEYS)
        if len(lkeys) != len(rkeys):
            raise ComponentError(
                f"The join needs as many right key columns as left ones: left {lkeys}, right {rkeys}",
                code="InconsistentSize",
            )
        _check_key_types(left, right, lkeys, rkeys)
        pairs = _matching_rows(left, right, lkeys, rkeys, params)
        if params.join_type == "Left Semi-Join":
            out = left.iloc[np.unique(pairs[_LPOS].to_numpy(dtype=np.int64))].reset_index(drop=True)
            out.attrs = dict(inputs["dataset1"].attrs)
        else:
            out = _assemble(
                left,
                right,
                pairs,
                lkeys,
                rkeys,
                params.keep_right_key_columns_in_joined_table,
                inputs["dataset1"].attrs,
                inputs["dataset2"].attrs,
            )
        ctx.log(f"{params.join_type} on {lkeys} = {rkeys}: {len(left)} x {len(right)} rows -> {len(out)}")
        return {"results_dataset": out}


def _in_typed_order(selection: ColumnSelection, df: pd.DataFrame, parameter: str) -> list[str]:
    """Key columns in the order the user typed their names (that order pairs left with right keys)."""
    chosen = selected(selection, df, parameter)
    typed = [
        str(v)
        for rule in selection.rules
        if rule.action == "include" and rule.by == "name"
        for v in rule.values
    ]
    order = list(dict.fromkeys(n for n in typed if n in chosen))
    return order + [c for c in chosen if c not in order]


def _check_key_types(left: pd.DataFrame, right: pd.DataFrame, lkeys: list[str], rkeys: list[str]) -> None:
    for lk, rk in zip(lkeys, rkeys, strict=True):
        lkind, rkind = _value_kind(left[lk]), _value_kind(right[rk])
        if lkind != rkind:
            raise ComponentError(
                f"Cannot join left key {lk!r} ({lkind}) with right key {rk!r} ({rkind})",
                code="JoinOnIncompatibleColumnTypes",
                column=lk,
            )


def _key_frame(df: pd.DataFrame, keys: list[str], integer: list[bool], match_case: bool) -> pd.DataFrame:
    """Comparable key values under neutral names; rows with a missing key are left out."""
    frame = pd.DataFrame(index=df.index)
    for i, (key, as_int) in enumerate(zip(keys, integer, strict=True)):
        s = df[key]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        kind = _value_kind(df[key])
        if kind == "numeric":
            s = s.astype("float64") if not as_int else s
        elif kind == "string":
            s = s.astype("str")
            s = s if match_case else s.str.lower()
        frame[f"\x00k{i}"] = s
    return frame[frame.notna().all(axis=1)]


def _matching_rows(
    left: pd.DataFrame, right: pd.DataFrame, lkeys: list[str], rkeys: list[str], params: JoinDataParams
) -> pd.DataFrame:
    """Pairs of (left row, right row) positions; a missing side is NaN."""
    integer = [
        ptypes.is_integer_dtype(left[lk]) and ptypes.is_integer_dtype(right[rk])
        for lk, rk in zip(lkeys, rkeys, strict=True)
    ]
    lk = _key_frame(left, lkeys, integer, params.match_case)
    rk = _key_frame(right, rkeys, integer, params.match_case)
    lk[_LPOS], rk[_RPOS] = lk.index.to_numpy(), rk.index.to_numpy()
    pairs = lk.merge(rk, on=[c for c in lk.columns if c != _LPOS], how=_HOW[params.join_type])[[_LPOS, _RPOS]]
    extra = []
    if params.join_type in ("Left Outer Join", "Full Outer Join"):
        extra.append(pd.DataFrame({_LPOS: left.index.difference(lk.index), _RPOS: np.nan}))
    if params.join_type == "Full Outer Join":
        extra.append(pd.DataFrame({_LPOS: np.nan, _RPOS: right.index.difference(rk.index)}))
    pairs = pd.concat(
        [pairs.astype("float64"), *[e.astype("float64") for e in extra if len(e)]], ignore_index=True
    )
    return pairs.sort_values([_LPOS, _RPOS], na_position="last", kind="stable").reset_index(drop=True)


def _assemble(
    left: pd.DataFrame,
    right: pd.DataFrame,
    pairs: pd.DataFrame,
    lkeys: list[str],
    rkeys: list[str],
    keep_right_keys: bool,
    left_attrs: Mapping[str, Any],
    right_attrs: Mapping[str, Any],
) -> pd.DataFrame:
    lpos = pairs[_LPOS].fillna(-1).astype(np.int64)
    rpos = pairs[_RPOS].fillna(-1).astype(np.int64)
    lpart = left.reindex(lpos.to_numpy()).reset_index(drop=True)
    rpart = right.reindex(rpos.to_numpy()).reset_index(drop=True)
    if not keep_right_keys:
        right_only = (lpos < 0).to_numpy()
        if right_only.any():  # keys of right-only rows would otherwise be lost
            for lk, rk in zip(lkeys, rkeys, strict=True):
                keys = lpart[lk]
                keys = keys.astype(object) if isinstance(keys.dtype, pd.CategoricalDtype) else keys
                lpart[lk] = keys.where(~right_only, rpart[rk])
        rpart = rpart.drop(columns=rkeys)
    out, renames = _side_by_side(lpart, rpart)
    out.attrs = _merged_attrs(left_attrs, right_attrs, renames, out.columns)
    return out


def _side_by_side(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Columns of both frames; a right column whose name is taken gets the designer's ``(2)`` suffix."""
    taken = [str(c) for c in left.columns]
    renames: dict[str, str] = {}
    for c in right.columns:
        new = unique_name(str(c), taken)
        taken.append(new)
        renames[str(c)] = new
    out = pd.concat([left, right.rename(columns=renames)], axis=1)
    return out, renames


# ---- Add Columns ------------------------------------------------------------------------------------


class AddColumns(Component):
    """Row i of the left dataset meets row i of the right one, whatever their indices."""

    id = "add_columns"
    name = "Add Columns"
    category = CATEGORY
    version = "2.0"
    description = "Put the columns of two datasets with the same number of rows side by side."
    inputs = (
        Port("left_dataset", "Left dataset", PortType.DATA),
        Port("right_dataset", "Right dataset", PortType.DATA),
    )
    outputs = (Port("combined_dataset", "Combined dataset", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        left: pd.DataFrame = inputs["left_dataset"]
        right: pd.DataFrame = inputs["right_dataset"]
        if len(left) != len(right):
            raise ComponentError(
                f"Add Columns needs datasets with the same number of rows: Left dataset has "
                f"{len(left)}, Right dataset has {len(right)}",
                code="InconsistentSize",
            )
        out, renames = _side_by_side(left.reset_index(drop=True), right.reset_index(drop=True))
        out.attrs = _merged_attrs(left.attrs, right.attrs, renames, out.columns)
        renamed = {k: v for k, v in renames.items() if k != v}
        ctx.log(f"added {right.shape[1]} column(s)" + (f"; renamed {renamed}" if renamed else ""))
        return {"combined_dataset": out}


def _merged_attrs(
    left: Mapping[str, Any], right: Mapping[str, Any], renames: Mapping[str, str], columns: Iterable[str]
) -> dict[str, Any]:
    """Left metadata first; the right dataset's roles and lists follow its columns' new names."""
    merged = carry_attrs(left, columns)
    theirs = carry_attrs(right, columns, renames)
    for key in _LIST_KEYS:
        if key in theirs:
            merged[key] = list(dict.fromkeys([*merged.get(key, []), *theirs[key]]))
    for key in (*_NAME_KEYS, "task"):
        if key in theirs and key not in merged:
            merged[key] = theirs[key]
    return merged


# ---- Add Rows ---------------------------------------------------------------------------------------


class AddRows(Component):
    """Columns are matched by name, so the second dataset's column order does not matter."""

    id = "add_rows"
    name = "Add Rows"
    category = CATEGORY
    version = "2.0"
    description = "Append the rows of the second dataset below the first; both need the same columns."
    inputs = (Port("dataset1", "Dataset1", PortType.DATA), Port("dataset2", "Dataset2", PortType.DATA))
    outputs = (RESULTS_OUT,)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        first: pd.DataFrame = inputs["dataset1"]
        second: pd.DataFrame = inputs["dataset2"]
        _check_same_schema(first, second)
        columns = list(first.columns)
        out = pd.concat([first, second[columns]], ignore_index=True)
        for c in columns:
            was_categorical = any(isinstance(d[c].dtype, pd.CategoricalDtype) for d in (first, second))
            if was_categorical and not isinstance(out[c].dtype, pd.CategoricalDtype):
                out[c] = out[c].astype("category")
        out.attrs = dict(first.attrs)
        ctx.log(f"{len(first)} + {len(second)} rows -> {len(out)}")
        return {"results_dataset": out}


def _check_same_schema(first: pd.DataFrame, second: pd.DataFrame) -> None:
    names1, names2 = [str(c) for c in first.columns], [str(c) for c in second.columns]
    only1 = [c for c in names1 if c not in names2]
    only2 = [c for c in names2 if c not in names1]
    if only1 or only2:
        parts = ([f"only in Dataset1: {', '.join(only1)}"] if only1 else []) + (
            [f"only in Dataset2: {', '.join(only2)}"] if only2 else []
        )
        raise ComponentError(
            f"Add Rows needs the same columns in both datasets; {'; '.join(parts)}",
            code="SchemaDoesNotMatch",
            column=(only1 or only2)[0],
        )
    for c in names1:
        if first[c].isna().all() or second[c].isna().all():
            continue
        kind1, kind2 = _value_kind(first[c]), _value_kind(second[c])
        if kind1 != kind2:
            raise ComponentError(
                f"Column {c!r} is {kind1} in Dataset1 but {kind2} in Dataset2",
                code="NotCompatibleColumnTypes",
                column=c,
            )


# ---- Remove Duplicate Rows --------------------------------------------------------------------------


class RemoveDuplicateRowsParams(Params):
    key_columns: ColumnSelection = Field(alias="Key column selection filter expression")
    retain_first_duplicate_row: bool = Field(True, alias="Retain first duplicate row")


class RemoveDuplicateRows(Component):
    id = "remove_duplicate_rows"
    name = "Remove Duplicate Rows"
    category = CATEGORY
    version = "2.0"
    description = "Keep one row per distinct combination of the key columns (the first or the last)."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (RESULTS_OUT,)
    Parameters = RemoveDuplicateRowsParams

    def run(
        self, inputs: Mapping[str, Any], params: RemoveDuplicateRowsParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        keys = selected(params.key_columns, df, "Key column selection filter expression")
        out = df.drop_duplicates(subset=keys, keep="first" if params.retain_first_duplicate_row else "last")
        out.attrs = dict(df.attrs)
        ctx.log(f"removed {len(df) - len(out)} duplicate row(s) by {keys}")
        return {"results_dataset": out}


# ---- Edit Metadata ----------------------------------------------------------------------------------

DataType = Literal["Unchanged", "String", "Integer", "Double", "Boolean", "DateTime", "TimeSpan"]
Categorical = Literal["Unchanged", "Categorical", "NonCategorical"]
Fields = Literal[
    "Unchanged",
    "Features",
    "Labels",
    "Weights",
    "ClearFeatures",
    "ClearLabels",
    "ClearScores",
    "ClearWeights",
]

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class EditMetadataParams(Params):
    column: ColumnSelection = Field(alias="Column")
    data_type: DataType = Field("Unchanged", alias="Data Type")
    categorical: Categorical = Field("Unchanged", alias="Categorical")
    fields: Fields = Field("Unchanged", alias="Fields")
    new_column_name: str = Field(
        "",
        alias="New Column Name",
        description="Comma-separated new names, one per selected column, in order",
    )
    date_and_time_format: str = Field(
        "",
        alias="Date and time Format",
        description="strftime format such as %Y-%m-%d; empty: inferred per value",
    )
    timespan_format: str = Field(
        "",
        alias="TimeSpan Format",
        description="strftime time format such as %H:%M:%S, read as time since "
        "midnight; empty: pandas durations like '1 days 02:00:00'",
    )


class EditMetadata(Component):
    """Types are converted first, then the categorical flag, the column roles and the names."""

    id = "edit_metadata"
    name = "Edit Metadata"
    category = CATEGORY
    version = "2.0"
    description = "Change column types, mark columns categorical, set label/feature/weight roles, rename."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (RESULTS_OUT,)
    Parameters = EditMetadataParams

    def run(self, inputs: Mapping[str, Any], params: EditMetadataParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        columns = selected(params.column, df, "Column")
        out = df.copy()
        attrs = dict(df.attrs)
        if params.data_type != "Unchanged":
            for c in columns:
                out[c] = _convert(out[c], c, params)
        if params.categorical != "Unchanged":
            for c in columns:
                out[c] = _categorical(out[c], params.categorical == "Categorical")
            set_categorical(attrs, columns, params.categorical == "Categorical")
        _set_fields(attrs, columns, params.fields)
        renames = _renames(columns, params.new_column_name, [str(c) for c in df.columns])
        out = out.rename(columns=renames)
        out.attrs = carry_attrs(attrs, out.columns, renames)
        ctx.log(
            f"edited {len(columns)} column(s): type {params.data_type}, {params.categorical}, "
            f"fields {params.fields}" + (f", renamed {renames}" if renames else "")
        )
        return {"results_dataset": out}


def _convert(series: pd.Series, column: str, params: EditMetadataParams) -> pd.Series:
    was_categorical = isinstance(series.dtype, pd.CategoricalDtype)
    values = series.astype(object) if was_categorical else series
    converters: dict[str, Callable[[pd.Series, EditMetadataParams], pd.Series]] = {
        "String": lambda s, _: s.astype("str"),
        "Integer": _to_integer,
        "Double": _to_double,
        "Boolean": _to_boolean,
        "DateTime": _to_datetime,
        "TimeSpan": _to_timespan,
    }
    try:
        converted = converters[params.data_type](values, params)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ComponentError(
            f"Cannot convert column {column!r} to {params.data_type}: {exc}",
            code="ParameterParsing",
            column=column,
        ) from exc
    failed = values.notna() & converted.isna()
    if failed.any():
        example = values[failed].iloc[0]
        raise ComponentError(
            f"Cannot convert column {column!r} to {params.data_type}: value {example!r} "
            f"(row {failed.to_numpy().nonzero()[0][0] + 1}) does not convert",
            code="ParameterParsing",
            column=column,
        )
    return converted.astype("category") if was_categorical else converted


def _to_double(s: pd.Series, _: EditMetadataParams) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return s.astype("float64")
    return pd.to_numeric(s, errors="coerce").astype("float64")


def _to_integer(s: pd.Series, params: EditMetadataParams) -> pd.Series:
    if ptypes.is_integer_dtype(s):
        return s  # already whole numbers; going through float would round big ones
    numbers = _to_double(s, params)
    whole = numbers.where(numbers.isna() | (numbers == np.floor(numbers)))
    return whole.astype("Int64" if whole.isna().any() else "int64")


def _to_boolean(s: pd.Series, _: EditMetadataParams) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return s
    if is_numeric(s):
        flags = s.map(lambda v: v if pd.isna(v) else bool(v != 0))
    else:
        flags = s.map(
            lambda v: (
                v
                if pd.isna(v)
                else True
                if str(v).strip().lower() in _TRUE
                else False
                if str(v).strip().lower() in _FALSE
                else None
            )
        )
    return flags.astype("boolean" if flags.isna().any() else "bool")


def _to_datetime(s: pd.Series, params: EditMetadataParams) -> pd.Series:
    if ptypes.is_datetime64_any_dtype(s):
        return s
    return pd.to_datetime(s, format=params.date_and_time_format or "mixed", errors="coerce")


def _to_timespan(s: pd.Series, params: EditMetadataParams) -> pd.Series:
    if ptypes.is_timedelta64_dtype(s):
        return s
    if params.timespan_format:
        return pd.to_datetime(s.astype("str"), format=params.timespan_format, errors="coerce") - pd.Timestamp(
            "1900-01-01"
        )
    if is_numeric(s):
        raise TypeError(
            "numbers carry no time unit; give strings such as '2 days 03:00:00' or a TimeSpan Format"
        )
    return pd.to_timedelta(s, errors="coerce")


def _categorical(series: pd.Series, categorical: bool) -> pd.Series:
    if categorical:
        return series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return series
    return series.astype(object).infer_objects()


def _set_fields(attrs: dict[str, Any], columns: list[str], fields: str) -> None:
    """Column roles live in attrs: ``label``, ``weight``, ``features`` and ``score_columns``."""
    if fields in ("Labels", "Weights") and len(columns) != 1:
        code = "MultipleLabelColumns" if fields == "Labels" else "MultipleWeightColumns"
        raise ComponentError(
            f"Fields '{fields}' takes exactly one column, but 'Column' selects {columns}",
            code=code,
            column=columns[0],
        )
    features = list(attrs.get("features", []))
    if fields == "Features":
        attrs["features"] = features + [c for c in columns if c not in features]
        for key in _NAME_KEYS:
            if attrs.get(key) in columns:
                del attrs[key]
    elif fields in ("Labels", "Weights"):
        key = "label" if fields == "Labels" else "weight"
        attrs[key] = columns[0]
        if features:
            attrs["features"] = [c for c in features if c != columns[0]]
    elif fields in ("ClearLabels", "ClearWeights"):
        key = "label" if fields == "ClearLabels" else "weight"
        if attrs.get(key) in columns:
            del attrs[key]
    elif fields in ("ClearFeatures", "ClearScores"):
        key = "features" if fields == "ClearFeatures" else "score_columns"
        if key in attrs:
            attrs[key] = [c for c in attrs[key] if c not in columns]


def _renames(columns: list[str], new_names: str, existing: list[str]) -> dict[str, str]:
    if not new_names.strip():
        return {}
    names = [n.strip() for n in new_names.split(",")]
    if len(names) != len(columns):
        raise ComponentError(
            f"'New Column Name' gives {len(names)} name(s) for {len(columns)} selected column(s) {columns}",
            code="BadNumberOfSelectedColumns",
        )
    if any(not n for n in names):
        raise ComponentError("'New Column Name' has an empty name between commas", code="NullOrEmpty")
    renames = dict(zip(columns, names, strict=True))
    final = [renames.get(c, c) for c in existing]
    clash = next((n for n in final if final.count(n) > 1), None)
    if clash is not None:
        raise ComponentError(
            f"Renaming would give two columns named {clash!r}", code="DuplicatedColumnName", column=clash
        )
    return {old: new for old, new in renames.items() if old != new}


COMPONENTS = (JoinData, AddColumns, AddRows, RemoveDuplicateRows, EditMetadata)
