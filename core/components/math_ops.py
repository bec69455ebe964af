"""Apply Math Operation and Clip Values: column-wise arithmetic, comparisons and outlier clipping.

Apply Math Operation names its result columns as the designer does: ``Fn(col)`` for a one-argument
function, ``Fn(col_$2.5)`` when the second argument is a constant and ``Fn(col_other)`` when it
is a column (documented in the designer's Results section). A name already taken gets ``(2)``.

Second-argument conventions: for special functions with a parameter the column holds the variable
and the second argument the parameter (GammaRegularizedP(a=second, x=column), Polygamma(n=second,
x=column)); for rounding functions the second argument is the precision in decimal digits
(Ceiling, Floor, RoundDigits, RoundDown, RoundUp, Truncate) or the divisor/multiple (Mod, Quotient,
Remainder, ToMultiple).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import special

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import ColumnSelection
from core.components.manipulation import carry_attrs, require_numeric, selected, unique_name
from core.errors import ComponentError

Fn = Callable[..., np.ndarray]


def _double_factorial(x: np.ndarray) -> np.ndarray:
    whole = np.isfinite(x) & (x == np.floor(x))
    out = np.full(x.shape, np.nan)
    out[whole] = special.factorial2(x[whole].astype(np.int64))
    return out


def _nth_root(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Real n-th root: a negative value has one only when n is an odd whole number."""
    root = np.power(np.abs(x), 1.0 / n)
    return np.where(x >= 0, root, np.where(np.mod(n, 2) == 1, -root, np.nan))


def _digits(rounder: Fn) -> Fn:
    """``rounder`` applied at ``p`` decimal digits (p may be negative: tens, hundreds...)."""

    def at_precision(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        scale = np.power(10.0, p)
        return rounder(x * scale) / scale

    return at_precision


def _half_away_from_zero(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _away_from_zero(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.ceil(np.abs(x))


def _degrees_in(fn: Fn) -> Fn:
    return lambda x: fn(np.radians(x))


def _degrees_out(fn: Fn) -> Fn:
    return lambda x: np.degrees(fn(x))


def _reciprocal(fn: Fn) -> Fn:
    return lambda x: 1.0 / fn(x)


def _of_reciprocal(fn: Fn) -> Fn:
    return lambda x: fn(1.0 / x)


# name -> (function, takes a second argument)
BASIC: dict[str, tuple[Fn, bool]] = {
    "Abs": (np.abs, False),
    "Atan2": (np.arctan2, True),
    "Conj": (np.conj, False),
    "Cuberoot": (np.cbrt, False),
    "DoubleFactorial": (_double_factorial, False),
    "Eps": (lambda x: np.spacing(np.abs(x)), False),
    "Exp": (np.exp, False),
    "Exp2": (lambda x, a: a * np.exp2(x), True),
    "ExpMinus1": (np.expm1, False),
    "Factorial": (special.factorial, False),
    "Hypotenuse": (np.hypot, True),
    "ImaginaryPart": (np.imag, False),
    "Ln": (np.log, False),
    "LnPlus1": (np.log1p, False),
    "Log": (lambda x, base: np.log(x) / np.log(base), True),
    "Log10": (np.log10, False),
    "Log2": (np.log2, False),
    "NthRoot": (_nth_root, True),
    "Pow": (np.power, True),
    "RealPart": (np.real, False),
    "Sqrt": (np.sqrt, False),
    "SqrtPi": (lambda x: np.sqrt(x * np.pi), False),
    "Square": (np.square, False),
}
COMPARE: dict[str, tuple[Fn, bool]] = {
    "EqualTo": (np.equal, True),
    "GreaterThan": (np.greater, True),
    "GreaterThanOrEqualTo": (np.greater_equal, True),
    "LessThan": (np.less, True),
    "LessThanOrEqualTo": (np.less_equal, True),
    "NotEqualTo": (np.not_equal, True),
    "PairMax": (np.maximum, True),
    "PairMin": (np.minimum, True),
}
OPERATIONS: dict[str, tuple[Fn, bool]] = {
    "Add": (np.add, True),
    "Divide": (np.divide, True),
    "Multiply": (np.multiply, True),
    "Subtract": (np.subtract, True),
}
ROUNDING: dict[str, tuple[Fn, bool]] = {
    "Ceiling": (_digits(np.ceil), True),
    "CeilingPower2": (lambda x: np.exp2(np.ceil(np.log2(x))), False),
    "Floor": (_digits(np.floor), True),
    "Mod": (np.mod, True),
    "Quotient": (lambda x, d: np.trunc(x / d), True),
    "Remainder": (np.fmod, True),
    "RoundDigits": (_digits(_half_away_from_zero), True),
    "RoundDown": (_digits(np.trunc), True),
    "RoundUp": (_digits(_away_from_zero), True),
    "ToEven": (lambda x: 2.0 * np.floor(x / 2.0 + 0.5), False),
    "ToMultiple": (lambda x, m: m * np.floor(x / m + 0.5), True),
    "ToOdd": (lambda x: 2.0 * np.floor(x / 2.0) + 1.0, False),
    "Truncate": (_digits(np.trunc), True),
}
SPECIAL: dict[str, tuple[Fn, bool]] = {
    "Beta": (special.beta, True),
    "BetaLn": (special.betaln, True),
    "EllipticIntegralE": (special.ellipe, False),
    "EllipticIntegralK": (special.ellipk, False),
    "Erf": (special.erf, False),
    "Erfc": (special.erfc, False),
    "ErfcScaled": (special.erfcx, False),
    "ErfInverse": (special.erfinv, False),
    "ExponentialIntegralEin": (special.expi, False),
    "Gamma": (special.gamma, False),
    "GammaLn": (special.gammaln, False),
    "GammaRegularizedP": (lambda x, a: special.gammainc(a, x), True),
    "GammaRegularizedPInverse": (lambda y, a: special.gammaincinv(a, y), True),
    "GammaRegularizedQ": (lambda x, a: special.gammaincc(a, x), True),
    "GammaRegularizedQInverse": (lambda y, a: special.gammainccinv(a, y), True),
    "Polygamma": (lambda x, n: special.polygamma(n, x), True),
}
TRIGONOMETRIC: dict[str, tuple[Fn, bool]] = {
    "Acos": (np.arccos, False),
    "AcosDegrees": (_degrees_out(np.arccos), False),
    "Acosh": (np.arccosh, False),
    "Acot": (_of_reciprocal(np.arctan), False),
    "AcotDegrees": (_degrees_out(_of_reciprocal(np.arctan)), False),
    "Acoth": (_of_reciprocal(np.arctanh), False),
    "Acsc": (_of_reciprocal(np.arcsin), False),
    "AcscDegrees": (_degrees_out(_of_reciprocal(np.arcsin)), False),
    "Acsch": (_of_reciprocal(np.arcsinh), False),
    "Arg": (np.angle, False),
    "Asec": (_of_reciprocal(np.arccos), False),
    "AsecDegrees": (_degrees_out(_of_reciprocal(np.arccos)), False),
    "Asech": (_of_reciprocal(np.arccosh), False),
    "Asin": (np.arcsin, False),
    "AsinDegrees": (_degrees_out(np.arcsin), False),
    "Asinh": (np.arcsinh, False),
    "Atan": (np.arctan, False),
    "AtanDegrees": (_degrees_out(np.arctan), False),
    "Atanh": (np.arctanh, False),
    "Cos": (np.cos, False),
    "CosDegrees": (_degrees_in(np.cos), False),
    "Cosh": (np.cosh, False),
    "Cot": (_reciprocal(np.tan), False),
    "CotDegrees": (_degrees_in(_reciprocal(np.tan)), False),
    "Coth": (_reciprocal(np.tanh), False),
    "Csc": (_reciprocal(np.sin), False),
    "CscDegrees": (_degrees_in(_reciprocal(np.sin)), False),
    "Csch": (_reciprocal(np.sinh), False),
    "DegreesToRadians": (np.radians, False),
    "RadiansToDegrees": (np.degrees, False),
    "Sec": (_reciprocal(np.cos), False),
    "SecDegrees": (_degrees_in(_reciprocal(np.cos)), False),
    "Sech": (_reciprocal(np.cosh), False),
    "Sign": (np.sign, False),
    "Sin": (np.sin, False),
    "Sinc": (np.sinc, False),
    "SinDegrees": (_degrees_in(np.sin), False),
    "Sinh": (np.sinh, False),
    "Tan": (np.tan, False),
    "TanDegrees": (_degrees_in(np.tan), False),
    "Tanh": (np.tanh, False),
}
# Cis (cos x + i sin x) has complex results, which a dataset column cannot hold here.
UNSUPPORTED = {"Cis": "its results are complex numbers, which datasets here cannot hold"}

BasicFunction = Literal[
    "Abs",
    "Atan2",
    "Conj",
    "Cuberoot",
    "DoubleFactorial",
    "Eps",
    "Exp",
    "Exp2",
    "ExpMinus1",
    "Factorial",
    "Hypotenuse",
    "ImaginaryPart",
    "Ln",
    "LnPlus1",
    "Log",
    "Log10",
    "Log2",
    "NthRoot",
    "Pow",
    "RealPart",
    "Sqrt",
    "SqrtPi",
    "Square",
]
CompareFunction = Literal[
    "EqualTo",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "NotEqualTo",
    "PairMax",
    "PairMin",
]
ArithmeticOperation = Literal["Add", "Divide", "Multiply", "Subtract"]
RoundingOperation = Literal[
    "Ceiling",
    "CeilingPower2",
    "Floor",
    "Mod",
    "Quotient",
    "Remainder",
    "RoundDigits",
    "RoundDown",
    "RoundUp",
    "ToEven",
    "ToMultiple",
    "ToOdd",
    "Truncate",
]
SpecialFunction = Literal[
    "Beta",
    "BetaLn",
    "EllipticIntegralE",
    "EllipticIntegralK",
    "Erf",
    "Erfc",
    "ErfcScaled",
    "ErfInverse",
    "ExponentialIntegralEin",
    "Gamma",
    "GammaLn",
    "GammaRegularizedP",
    "GammaRegularizedPInverse",
    "GammaRegularizedQ",
    "GammaRegularizedQInverse",
    "Polygamma",
]
TrigonometricFunction = Literal[
    "Acos",
    "AcosDegrees",
    "Acosh",
    "Acot",
    "AcotDegrees",
    "Acoth",
    "Acsc",
    "AcscDegrees",
    "Acsch",
    "Arg",
    "Asec",
    "AsecDegrees",
    "Asech",
    "Asin",
    "AsinDegrees",
    "Asinh",
    "Atan",
    "AtanDegrees",
    "Atanh",
    "Cis",
    "Cos",
    "CosDegrees",
    "Cosh",
    "Cot",
    "CotDegrees",
    "Coth",
    "Csc",
    "CscDegrees",
    "Csch",
    "DegreesToRadians",
    "RadiansToDegrees",
    "Sec",
    "SecDegrees",
    "Sech",
    "Sign",
    "Sin",
    "Sinc",
    "SinDegrees",
    "Sinh",
    "Tan",
    "TanDegrees",
    "Tanh",
]


class ApplyMathOperationParams(Params):
    column_set: ColumnSelection = Field(alias="Column set")
    category: Literal["Basic", "Compare", "Operations", "Rounding", "Special", "Trigonometric"] = Field(
        "Basic", alias="Category"
    )
    basic_math_function: BasicFunction = Field("Abs", alias="Basic math function")
    comparison_function: CompareFunction = Field("EqualTo", alias="Comparison function")
    arithmetic_operation: ArithmeticOperation = Field("Add", alias="Arithmetic operation")
    rounding_operation: RoundingOperation = Field("Ceiling", alias="Rounding operation")
    special_function: SpecialFunction = Field("Beta", alias="Special function")
    trigonometric_function: TrigonometricFunction = Field("Acos", alias="Trigonometric Function")
    second_argument_type: Literal["Constant", "ColumnSet"] = Field("Constant", alias="Second argument type")
    second_argument: float = Field(
        1.0, alias="Second argument", description="The constant second argument (the precision for rounding)"
    )
    second_argument_column_set: ColumnSelection | None = Field(
        None,
        alias="Second argument column set",
        description="One column for every column of 'Column set', or a single column used for all",
    )
    output_mode: Literal["Append", "Inplace", "ResultOnly"] = Field("Append", alias="Output mode")


_TABLES = {
    "Basic": ("basic_math_function", BASIC),
    "Compare": ("comparison_function", COMPARE),
    "Operations": ("arithmetic_operation", OPERATIONS),
    "Rounding": ("rounding_operation", ROUNDING),
    "Special": ("special_function", SPECIAL),
    "Trigonometric": ("trigonometric_function", TRIGONOMETRIC),
}


class ApplyMathOperation(Component):
    """Missing values stay missing: a comparison with a missing side is missing, not False."""

    id = "apply_math_operation"
    name = "Apply Math Operation"
    category = "Data Transformation"
    version = "1.0"
    description = (
        "Apply a basic, comparison, arithmetic, rounding, special or trigonometric function to columns."
    )
    inputs = (Port("input", "Input", PortType.DATA),)
    outputs = (Port("result_dataset", "Result_dataset", PortType.DATA),)
    Parameters = ApplyMathOperationParams

    def run(
        self, inputs: Mapping[str, Any], params: ApplyMathOperationParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["input"]
        field, table = _TABLES[params.category]
        function: str = getattr(params, field)
        if function in UNSUPPORTED:
            raise ComponentError(f"{function} is not supported: {UNSUPPORTED[function]}", code="NotSupported")
        compute, binary = table[function]
        columns = selected(params.column_set, df, "Column set")
        require_numeric(df, columns, "Apply Math Operation")
        seconds = _second_arguments(df, columns, params) if binary else [None] * len(columns)
        results: dict[str, pd.Series] = {}
        for column, second in zip(columns, seconds, strict=True):
            name, values = _apply(df, column, second, compute, binary, params, function)
            results[column] = values.rename(name)
        out = _output(df, results, params.output_mode)
        ctx.log(f"{function} on {len(columns)} column(s), {params.output_mode}")
        return {"result_dataset": out}


def _second_arguments(
    df: pd.DataFrame, columns: list[str], params: ApplyMathOperationParams
) -> list[str | None]:
    """For each column, the column holding its second argument (None: the constant)."""
    if params.second_argument_type == "Constant":
        return [None] * len(columns)
    if params.second_argument_column_set is None:
        raise ComponentError(
            "Second argument type is ColumnSet, but 'Second argument column set' is empty", code="NullOrEmpty"
        )
    others = selected(params.second_argument_column_set, df, "Second argument column set")
    require_numeric(df, others, "the second argument")
    if len(others) == 1:
        return [others[0]] * len(columns)
    if len(others) != len(columns):
        raise ComponentError(
            f"'Second argument column set' selects {len(others)} columns; it needs one, "
            f"or as many as 'Column set' ({len(columns)})",
            code="BadNumberOfSelectedColumns",
        )
    return list(others)


def _apply(
    df: pd.DataFrame,
    column: str,
    second: str | None,
    compute: Fn,
    binary: bool,
    params: ApplyMathOperationParams,
    function: str,
) -> tuple[str, pd.Series]:
    x = df[column].astype("float64").to_numpy()
    args = [x]
    name = f"{function}({column})"
    missing = np.isnan(x)
    if binary and second is None:
        args.append(np.full(x.shape, params.second_argument))
        name = f"{function}({column}_${params.second_argument:g})"
    elif binary:
        other = df[second].astype("float64").to_numpy()
        args.append(other)
        missing = missing | np.isnan(other)
        name = f"{function}({column}_{second})"
    with np.errstate(all="ignore"):
        result = np.asarray(compute(*args))
    if result.dtype == bool:
        return name, pd.Series(result, index=df.index, dtype="boolean").mask(missing)
    return name, pd.Series(result.astype("float64"), index=df.index).mask(missing)


def _output(df: pd.DataFrame, results: dict[str, pd.Series], mode: str) -> pd.DataFrame:
    if mode == "Inplace":
        out = df.copy()
        for column, values in results.items():
            out[column] = values
        out.attrs = dict(df.attrs)
        return out
    taken = [] if mode == "ResultOnly" else [str(c) for c in df.columns]
    named = {}
    for values in results.values():
        name = unique_name(str(values.name), taken)
        taken.append(name)
        named[name] = values
    new = pd.DataFrame(named, index=df.index)
    out = new if mode == "ResultOnly" else pd.concat([df, new], axis=1)
    out.attrs = carry_attrs(df.attrs, out.columns)
    return out


# ---- Clip Values ------------------------------------------------------------------------------------

ThresholdType = Literal["Constant", "Percentile"]
Substitute = Literal["Threshold", "Mean", "Median", "Missing"]


class ClipValuesParams(Params):
    set_of_thresholds: Literal["ClipPeaks", "ClipSubPeaks", "ClipPeaksAndSubpeaks"] = Field(
        "ClipPeaks", alias="Set of thresholds"
    )
    upper_threshold: ThresholdType = Field("Constant", alias="Upper threshold")
    constant_value_for_upper_threshold: float = Field(99.0, alias="Constant value for upper threshold")
    percentile_value_for_upper_threshold: float = Field(
        99.0, ge=0.0, le=100.0, alias="Percentile value for upper threshold"
    )
    substitute_value_for_peaks: Substitute = Field("Threshold", alias="Substitute value for peaks")
    lower_threshold: ThresholdType = Field("Constant", alias="Lower threshold")
    constant_value_for_lower_threshold: float = Field(1.0, alias="Constant value for lower threshold")
    percentile_value_for_lower_threshold: float = Field(
        1.0, ge=0.0, le=100.0, alias="Percentile value for lower threshold"
    )
    substitute_value_for_subpeaks: Substitute = Field("Threshold", alias="Substitute value for subpeaks")
    list_of_columns: ColumnSelection = Field(alias="List of columns")
    overwrite_flag: bool = Field(True, alias="Overwrite flag")
    add_indicator_columns: bool = Field(False, alias="Add indicator columns")


class ClipValues(Component):
    """Values equal to a threshold are inside the range and kept. Percentiles interpolate linearly
    between data points; Mean and Median are computed before clipping, ignoring missing values.
    Without overwrite the clipped copy is ``<col>_clipped``; indicators are ``<col>_isClipped``."""

    id = "clip_values"
    name = "Clip Values"
    category = "Data Transformation"
    version = "1.0"
    description = "Replace values above and/or below a threshold by the threshold, mean, median or missing."
    inputs = (Port("input", "Input", PortType.DATA),)
    outputs = (Port("result_dataset", "Result_dataset", PortType.DATA),)
    Parameters = ClipValuesParams

    def run(self, inputs: Mapping[str, Any], params: ClipValuesParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["input"]
        columns = selected(params.list_of_columns, df, "List of columns")
        require_numeric(df, columns, "Clip Values")
        out = df.copy()
        clipped_total = 0
        for column in columns:
            values, flags = _clip(df[column], params)
            clipped_total += int(flags.sum())
            target = column if params.overwrite_flag else unique_name(f"{column}_clipped", out.columns)
            out[target] = values
            if params.add_indicator_columns:
                out[unique_name(f"{column}_isClipped", out.columns)] = flags
        out.attrs = dict(df.attrs)
        ctx.log(f"{params.set_of_thresholds}: {clipped_total} value(s) clipped in {len(columns)} column(s)")
        return {"result_dataset": out}


def _clip(series: pd.Series, params: ClipValuesParams) -> tuple[pd.Series, pd.Series]:
    x = series.astype("float64")
    mode = params.set_of_thresholds
    upper = (
        _threshold(
            x,
            params.upper_threshold,
            params.constant_value_for_upper_threshold,
            params.percentile_value_for_upper_threshold,
        )
        if mode != "ClipSubPeaks"
        else None
    )
    lower = (
        _threshold(
            x,
            params.lower_threshold,
            params.constant_value_for_lower_threshold,
            params.percentile_value_for_lower_threshold,
        )
        if mode != "ClipPeaks"
        else None
    )
    if upper is not None and lower is not None and lower > upper:
        raise ComponentError(
            f"Column {series.name!r}: the lower threshold {lower:g} is above the upper threshold {upper:g}",
            code="NotInRangeValue",
            column=str(series.name),
        )
    above = (x > upper) if upper is not None else pd.Series(False, index=x.index)
    below = (x < lower) if lower is not None else pd.Series(False, index=x.index)
    out = x.copy()
    if upper is not None:
        out[above] = _substitute(x, upper, params.substitute_value_for_peaks)
    if lower is not None:
        out[below] = _substitute(x, lower, params.substitute_value_for_subpeaks)
    return _keep_integers(series, out), (above | below)


def _threshold(x: pd.Series, kind: str, constant: float, percentile: float) -> float:
    if kind == "Constant":
        return constant
    present = x.dropna().to_numpy()
    return float(np.percentile(present, percentile)) if len(present) else np.nan


def _substitute(x: pd.Series, threshold: float, how: str) -> float:
    return {"Threshold": threshold, "Mean": x.mean(), "Median": x.median(), "Missing": np.nan}[how]


def _keep_integers(original: pd.Series, clipped: pd.Series) -> pd.Series:
    """An integer column stays integer when every substitute happened to be a whole number."""
    whole = clipped.notna().all() and (clipped == np.floor(clipped)).all()
    if pd.api.types.is_integer_dtype(original) and whole:
        return clipped.astype(original.dtype)
    return clipped


COMPONENTS = (ApplyMathOperation, ClipValues)
