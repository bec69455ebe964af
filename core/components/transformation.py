"""Data Transformation components: Select Columns in Dataset, Clean Missing Data, Split Data."""

from __future__ import annotations

import operator
import re
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


CleaningMode = Literal[
    "Custom substitution value",
    "Replace with mean",
    "Replace with median",
    "Replace with mode",
    "Remove entire row",
    "Remove entire column",
]


class CleanMissingDataParams(Params):
    columns_to_be_cleaned: ColumnSelection = Field(
        default_factory=ColumnSelection.all, alias="Columns to be cleaned"
    )
    minimum_missing_value_ratio: float = Field(0.0, ge=0.0, le=1.0, alias="Minimum missing value ratio")
    maximum_missing_value_ratio: float = Field(1.0, ge=0.0, le=1.0, alias="Maximum missing value ratio")
    cleaning_mode: CleaningMode = Field("Custom substitution value", alias="Cleaning mode")
    replacement_value: str = Field("0", alias="Replacement value")
    cols_with_all_missing_values: Literal["Remove", "Propagate"] = Field(
        "Remove", alias="Cols with all missing values"
    )
    generate_missing_value_indicator_column: bool = Field(
        False, alias="Generate missing value indicator column"
    )


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
            # "Cols with all missing values" applies to the statistic modes only: there is no
            # mean of nothing, but a custom value can always be written.
            if series.isna().all() and mode != "Custom substitution value":
                if params.cols_with_all_missing_values == "Remove":
                    drop.append(c)
                continue
            fill[c] = _fill_value(series, mode, params.replacement_value)
    return CleaningTransform(
        columns=columns,
        mode=mode,
        fill_values=fill,
        drop_columns=drop,
        indicator=params.generate_missing_value_indicator_column,
    )


def _fill_value(series: pd.Series, mode: str, replacement: str) -> Any:
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if mode in ("Replace with mean", "Replace with median") and not numeric:
        raise ComponentError(
            f"Column {series.name!r} is not numeric, so '{mode}' does not apply",
            code="InvalidColumnType",
            column=str(series.name),
        )
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
            raise ComponentError(
                f"Replacement value {replacement!r} is not a number, but column {series.name!r} is numeric",
                code="ParameterParsing",
                column=str(series.name),
            ) from exc
    return replacement


class CleanMissingData(Component):
    id = "clean_missing_data"
    name = "Clean Missing Data"
    category = "Data Transformation"
    version = "0.1"
    description = "Remove or replace missing values; also outputs the cleaning as a transformation."
    inputs = (DATASET_IN,)
    outputs = (
        Port("cleaned_dataset", "Cleaned dataset", PortType.DATA),
        Port("cleaning_transformation", "Cleaning transformation", PortType.TRANSFORM),
    )
    Parameters = CleanMissingDataParams

    def run(
        self, inputs: Mapping[str, Any], params: CleanMissingDataParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        transform = fit_cleaning(df, params)
        cleaned = transform.apply(df)
        ctx.log(
            f"{params.cleaning_mode}: {len(transform.columns)} column(s) with missing values, "
            f"{len(df) - len(cleaned)} row(s) removed, {len(transform.drop_columns)} column(s) removed"
        )
        return {"cleaned_dataset": cleaned, "cleaning_transformation": transform}


class SplitDataParams(Params):
    splitting_mode: Literal["Split Rows", "Regular Expression", "Relative Expression"] = Field(
        "Split Rows", alias="Splitting mode"
    )
    fraction: float = Field(0.5, ge=0.0, le=1.0, alias="Fraction of rows in the first output dataset")
    randomized_split: bool = Field(True, alias="Randomized split")
    random_seed: int = Field(0, ge=0, le=2**32 - 1, alias="Random seed")
    stratified_split: bool = Field(False, alias="Stratified split")
    stratification_key_column: str | None = Field(None, alias="Stratification key column")
    regular_expression: str = Field(
        '\\"column name" ^start',
        alias="Regular expression",
        description='A column as \\"name" or (\\index) (0-based), a space, then a Python regular expression '
        "searched in its values",
    )
    relational_expression: str = Field(
        '\\"column name" > 3',
        alias="Relational expression",
        description='A column as \\"name" or (\\index), then comparisons < > <= >= == != joined by & and | '
        '(& binds first, no parentheses), e.g. \\"Year" > 2010 & <= 2020; a later comparison '
        "without a column uses the previous one",
    )


class SplitData(Component):
    """Split Rows divides by fraction; the expression modes send the rows whose value matches (or
    satisfies the comparison) to the first output. A missing value never matches."""

    id = "split_data"
    name = "Split Data"
    category = "Data Transformation"
    version = "2.0"
    description = "Split rows into two datasets by fraction, regular expression or relational expression."
    inputs = (DATASET_IN,)
    outputs = (
        Port("results_dataset1", "Results dataset1", PortType.DATA),
        Port("results_dataset2", "Results dataset2", PortType.DATA),
    )
    Parameters = SplitDataParams
    pass_through_in_real_time = True

    def run(self, inputs: Mapping[str, Any], params: SplitDataParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        if params.splitting_mode == "Regular Expression":
            mask = _regex_mask(df, params.regular_expression)
        elif params.splitting_mode == "Relative Expression":
            mask = _relation_mask(df, params.relational_expression)
        else:
            mask = _rows_mask(df, params)
        out1, out2 = df.iloc[np.flatnonzero(mask)], df.iloc[np.flatnonzero(~mask)]
        out1.attrs, out2.attrs = dict(df.attrs), dict(df.attrs)
        ctx.log(f"{params.splitting_mode}: split {len(df)} rows into {len(out1)} and {len(out2)}")
        return {"results_dataset1": out1, "results_dataset2": out2}


def _rows_mask(df: pd.DataFrame, params: SplitDataParams) -> np.ndarray:
    if params.stratified_split:
        key = params.stratification_key_column
        if not key:
            raise ComponentError("Stratified split needs a stratification key column", code="NullOrEmpty")
        require_columns(df, [key])
        first = np.concatenate(
            [
                _first_part(idx, params)
                for _, idx in sorted(
                    df.groupby(key, sort=True, dropna=False).indices.items(), key=lambda kv: str(kv[0])
                )
            ]
        )
        first.sort()
    else:
        first = _first_part(np.arange(len(df)), params)
    mask = np.zeros(len(df), dtype=bool)
    mask[first] = True
    return mask


def _first_part(positions: np.ndarray, params: SplitDataParams) -> np.ndarray:
    count = round(len(positions) * params.fraction)
    if params.randomized_split:
        positions = np.random.default_rng(params.random_seed).permutation(positions)
    return np.sort(positions[:count])


# -- the expression modes: a small hand-written parser (user text is never evaluated as code) --

_REGEX_PARAM, _RELATION_PARAM = "Regular expression", "Relational expression"
_INDEX_REF = re.compile(r"\(\\(\d+)\)")
_OPERATOR = re.compile(r"<=|>=|==|!=|<|>")
_COMPARE = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class _Clause:
    column: str
    op: str
    value: str
    position: int


def _syntax_error(parameter: str, text: str, position: int, problem: str) -> ComponentError:
    return ComponentError(
        f"Cannot parse '{parameter}' at position {position + 1}: {problem} (in {text!r})",
        code="ParameterParsing",
    )


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _column_at(df: pd.DataFrame, text: str, pos: int, parameter: str) -> tuple[str, int] | None:
    """A column reference ``\\"name"`` or ``(\\0)`` at ``pos``: (column, end position), else None."""
    if text.startswith('\\"', pos):
        end = text.find('"', pos + 2)
        if end < 0:
            raise _syntax_error(parameter, text, pos, 'the column name has no closing " (write \\"name")')
        name = text[pos + 2 : end]
        require_columns(df, [name])
        return name, end + 1
    match = _INDEX_REF.match(text, pos)
    if match is None:
        return None
    index = int(match.group(1))
    if index >= df.shape[1]:
        raise ComponentError(
            f"'{parameter}' refers to column index {index}, but the dataset has columns 0-{df.shape[1] - 1}",
            code="NotInRangeValue",
        )
    return str(df.columns[index]), match.end()


def _regex_mask(df: pd.DataFrame, text: str) -> np.ndarray:
    start = _skip_spaces(text, 0)
    found = _column_at(df, text, start, _REGEX_PARAM)
    if found is None:
        raise _syntax_error(_REGEX_PARAM, text, start, 'expected a column as \\"column name" or (\\index)')
    column, end = found
    pattern_at = _skip_spaces(text, end)
    pattern = text[pattern_at:].rstrip()
    if not pattern:
        raise _syntax_error(_REGEX_PARAM, text, pattern_at, "expected a regular expression after the column")
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise _syntax_error(
            _REGEX_PARAM, text, pattern_at + (exc.pos or 0), f"invalid regular expression: {exc.msg}"
        ) from exc
    return np.array([pd.notna(v) and regex.search(str(v)) is not None for v in df[column]], dtype=bool)


def _relation_mask(df: pd.DataFrame, text: str) -> np.ndarray:
    """OR of AND-groups of clauses, ``&`` binding tighter than ``|`` as in most languages."""
    groups: list[list[_Clause]] = [[]]
    column: str | None = None
    pos = 0
    while True:
        clause, pos = _clause_at(df, text, pos, column)
        column = clause.column
        groups[-1].append(clause)
        pos = _skip_spaces(text, pos)
        if pos == len(text):
            break
        if text[pos] not in "&|":
            raise _syntax_error(_RELATION_PARAM, text, pos, "expected & or | between comparisons")
        if text[pos] == "|":
            groups.append([])
        pos += 1
    mask = np.zeros(len(df), dtype=bool)
    for group in groups:
        mask |= np.logical_and.reduce([_satisfied(df, clause, text) for clause in group])
    return mask


def _clause_at(df: pd.DataFrame, text: str, pos: int, column: str | None) -> tuple[_Clause, int]:
    pos = _skip_spaces(text, pos)
    found = _column_at(df, text, pos, _RELATION_PARAM)
    if found is not None:
        column, pos = found
        pos = _skip_spaces(text, pos)
    elif column is None:
        raise _syntax_error(_RELATION_PARAM, text, pos, 'expected a column as \\"column name" or (\\index)')
    op = _OPERATOR.match(text, pos)
    if op is None:
        raise _syntax_error(_RELATION_PARAM, text, pos, "expected one of < > <= >= == !=")
    value_at = _skip_spaces(text, op.end())
    value, end = _value_at(text, value_at)
    return _Clause(column=column, op=op.group(), value=value, position=value_at), end


def _value_at(text: str, pos: int) -> tuple[str, int]:
    """A constant: quoted ("a & b" or 'x'), or bare up to the next & or |."""
    if pos < len(text) and text[pos] in "\"'":
        end = text.find(text[pos], pos + 1)
        if end < 0:
            raise _syntax_error(_RELATION_PARAM, text, pos, "the quoted value has no closing quote")
        return text[pos + 1 : end], end + 1
    end = pos
    while end < len(text) and text[end] not in "&|":
        end += 1
    value = text[pos:end].strip()
    if not value:
        raise _syntax_error(_RELATION_PARAM, text, pos, "expected a value to compare with")
    return value, end


def _satisfied(df: pd.DataFrame, clause: _Clause, text: str) -> np.ndarray:
    series = df[clause.column]
    constant = _constant(series, clause, text)
    compare = _COMPARE[clause.op]
    if isinstance(constant, str):
        values = series.astype(object)
        hits = [pd.notna(v) and compare(str(v), constant) for v in values]
        return np.array(hits, dtype=bool)
    try:
        hits = compare(series, constant)
    except TypeError as exc:
        raise ComponentError(
            f"'{_RELATION_PARAM}': cannot compare column {clause.column!r} with {clause.value!r}: {exc}",
            code="InvalidColumnType",
            column=clause.column,
        ) from exc
    return (hits.fillna(False) & series.notna()).to_numpy(dtype=bool)


def _constant(series: pd.Series, clause: _Clause, text: str) -> Any:
    """The clause's value read as the column's type: number, date, duration, boolean or text."""
    kinds: list[tuple[Any, Any, str]] = [
        (lambda s: pd.api.types.is_bool_dtype(s), _boolean, "true or false"),
        (lambda s: pd.api.types.is_numeric_dtype(s), float, "a number"),
        (lambda s: pd.api.types.is_datetime64_any_dtype(s), pd.Timestamp, "a date"),
        (lambda s: pd.api.types.is_timedelta64_dtype(s), pd.Timedelta, "a duration"),
    ]
    for test, read, expected in kinds:
        if test(series):
            try:
                return read(clause.value)
            except ValueError as exc:
                problem = f"column {clause.column!r} needs {expected}, got {clause.value!r}"
                raise _syntax_error(_RELATION_PARAM, text, clause.position, problem) from exc
    if clause.op not in ("==", "!="):
        raise ComponentError(
            f"'{_RELATION_PARAM}': column {clause.column!r} holds text, which only == "
            f"and != compare (position {clause.position + 1})",
            code="InvalidColumnType",
            column=clause.column,
        )
    return clause.value


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise ValueError(value)
    return lowered == "true"


COMPONENTS = (SelectColumnsInDataset, CleanMissingData, SplitData)
