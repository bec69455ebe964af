"""The designer's column picker: by name, type or index, starting from all or no columns."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pandas.api import types as ptypes
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import ColumnNotFound, ComponentError

ColumnType = Literal["numeric", "integer", "float", "string", "boolean", "datetime", "categorical"]

_TYPE_TESTS = {
    "numeric": lambda s: ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s),
    "integer": lambda s: ptypes.is_integer_dtype(s) and not ptypes.is_bool_dtype(s),
    "float": ptypes.is_float_dtype,
    "string": lambda s: ptypes.is_string_dtype(s) or ptypes.is_object_dtype(s),
    "boolean": ptypes.is_bool_dtype,
    "datetime": ptypes.is_datetime64_any_dtype,
    "categorical": lambda s: isinstance(s.dtype, pd.CategoricalDtype),
}


class ColumnRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["include", "exclude"] = "include"
    by: Literal["name", "type", "index"] = "name"
    values: tuple[str | int, ...] = Field(min_length=1)


class ColumnSelection(BaseModel):
    """A column picker value.

    Shorthands a client may send: ``"price"`` or ``["a", "b"]`` (include by name), or the full
    form ``{"start": "all", "rules": [{"action": "exclude", "by": "name", "values": [...]}]}``.
    Indices start at 1 and may be ranges (``"3-8"``), as in the designer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Literal["all", "none"] = "none"
    rules: tuple[ColumnRule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            return {"start": "none", "rules": [{"action": "include", "by": "name", "values": list(value)}]}
        return value

    @classmethod
    def all(cls) -> ColumnSelection:
        return cls(start="all")

    def resolve(self, df: pd.DataFrame) -> list[str]:
        """The selected column names in dataset order; unknown names or indices raise.

        Excluding a column by a name the data does not have is allowed: there is nothing to
        exclude. That lets a scoring request leave out a column the training pipeline dropped.
        """
        columns = [str(c) for c in df.columns]
        chosen = set(columns) if self.start == "all" else set()
        for rule in self.rules:
            matched = self._match(rule, df, columns)
            chosen = chosen | matched if rule.action == "include" else chosen - matched
        return [c for c in columns if c in chosen]

    @staticmethod
    def _match(rule: ColumnRule, df: pd.DataFrame, columns: list[str]) -> set[str]:
        if rule.by == "name":
            names = [str(v) for v in rule.values]
            missing = [n for n in names if n not in columns]
            if missing and rule.action == "include":
                raise ColumnNotFound(missing, columns)
            return set(names) - set(missing)
        if rule.by == "type":
            unknown = [v for v in rule.values if v not in _TYPE_TESTS]
            if unknown:
                raise ComponentError(
                    f"Unknown column type(s) {unknown}; use one of {sorted(_TYPE_TESTS)}",
                    code="ParameterParsing",
                )
            return {c for c in columns for t in rule.values if _TYPE_TESTS[str(t)](df[c])}
        picked: set[str] = set()
        for value in rule.values:
            for index in _indices(value):
                if not 1 <= index <= len(columns):
                    raise ComponentError(
                        f"Column index {index} is out of range 1-{len(columns)}", code="NotInRangeValue"
                    )
                picked.add(columns[index - 1])
        return picked


def _indices(value: str | int) -> list[int]:
    """``3`` or ``"3"`` or ``"3-8"`` or ``"1,3-5"`` -> 1-based indices."""
    out: list[int] = []
    for part in str(value).split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi:
                    raise ComponentError(
                        f"Column index range {part!r} runs backwards; write it low-high",
                        code="ParameterParsing",
                    )
                out.extend(range(lo, hi + 1))
            else:
                out.append(int(part))
        except ValueError as exc:
            raise ComponentError(
                f"Column index {part!r} is not a number or range like 3-8", code="ParameterParsing"
            ) from exc
    return out


def require_columns(df: pd.DataFrame, names: list[str]) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise ColumnNotFound(missing, [str(c) for c in df.columns])
