"""Request values as ONNX Runtime inputs: one typed tensor per feature column.

Whatever scikit-learn would treat otherwise (a missing column or value, a value of an unexpected
type, a level a strict model never saw) raises :class:`Refused`, so those rows take the
scikit-learn path, which scores them or raises its usual error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

TensorKind = Literal["string", "int64", "double", "float"]

_NUMERIC_KINDS = {"double": np.float64, "float": np.float32}


@dataclass(frozen=True)
class OnnxInput:
    """How one feature column enters the ONNX graph."""

    column: str
    name: str  # the ONNX graph's input name (skl2onnx renames e.g. "fuel-type" to "fuel_type")
    kind: TensorKind
    levels: frozenset[Any] | None = None  # known levels, when the model refuses unseen ones


class Refused(Exception):
    """These rows take the scikit-learn path (which scores them or raises the proper error)."""


def as_input(values: Any, spec: OnnxInput) -> np.ndarray:
    """One column as the ONNX input takes it; ``Refused`` for anything scikit-learn would treat
    otherwise or refuse (missing values, unexpected types, levels a strict model never saw)."""
    if spec.kind in _NUMERIC_KINDS:
        if not isinstance(values, np.ndarray) or values.dtype.kind not in "iuf":
            raise Refused(spec.column)  # extension arrays (nullable, Arrow), booleans, objects
        array = values.astype(_NUMERIC_KINDS[spec.kind], copy=False)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise Refused(spec.column)  # missing or infinite (also after narrowing to float32)
        return array
    if spec.kind == "string":
        array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if array.dtype != object or not all(type(v) is str for v in array.tolist()):
            raise Refused(spec.column)  # missing values, numbers, ...
    else:  # integer (or boolean) levels
        if not isinstance(values, np.ndarray) or values.dtype.kind not in "iubf":
            raise Refused(spec.column)
        if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):  # NaN fails this too
            raise Refused(spec.column)
        array = values.astype(np.int64)
    if spec.levels is not None and not spec.levels.issuperset(values.tolist()):
        raise Refused(spec.column)
    return array


def build_feed(inputs: list[OnnxInput], wanted: list[str], df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The input feed for ``df``'s rows, or ``Refused``. ``wanted`` is the inputs' columns (the
    caller keeps the list, this runs per request); ``df`` may hold them in any order."""
    names = df.columns.tolist()
    if names == wanted:
        index: list[int] | range = range(len(names))
    else:
        position = {name: i for i, name in enumerate(names)}
        if len(position) != len(names):
            raise Refused("duplicate column names")
        try:
            index = [position[c] for c in wanted]
        except KeyError as exc:
            raise Refused("a feature column is missing") from exc
    column_array = getattr(df, "_get_column_array", None)  # pandas' own accessor: no Series per column
    feed: dict[str, np.ndarray] = {}
    for spec, j in zip(inputs, index, strict=True):
        values = column_array(j) if column_array is not None else df.iloc[:, j].to_numpy()
        feed[spec.name] = as_input(values, spec).reshape(-1, 1)
    return feed
