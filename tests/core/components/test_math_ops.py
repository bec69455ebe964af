"""Apply Math Operation and Clip Values on small frames."""

from __future__ import annotations

import math
from typing import Any, get_args

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import special

from core.components.base import RunContext
from core.components.math_ops import (
    BASIC,
    COMPARE,
    OPERATIONS,
    ROUNDING,
    SPECIAL,
    TRIGONOMETRIC,
    UNSUPPORTED,
    ApplyMathOperation,
    ApplyMathOperationParams,
    ArithmeticOperation,
    BasicFunction,
    ClipValues,
    ClipValuesParams,
    CompareFunction,
    RoundingOperation,
    SpecialFunction,
    TrigonometricFunction,
)
from core.errors import ColumnNotFound, ComponentError


@pytest.fixture
def nums() -> pd.DataFrame:
    df = pd.DataFrame({"a": [1.0, -2.0, np.nan, 4.0], "b": [2, 2, 5, 0], "s": ["w", "x", "y", "z"]})
    df.attrs = {"label": "b", "source": "nums"}
    return df


def math_op(df: pd.DataFrame, **params: Any) -> pd.DataFrame:
    p = ApplyMathOperationParams.model_validate(params)
    return ApplyMathOperation().run({"input": df}, p, RunContext())["result_dataset"]


def values(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v for v in series.tolist()]


# ---- Apply Math Operation ---------------------------------------------------------------------------


def test_math_defaults_match_the_designer() -> None:
    p = ApplyMathOperationParams.model_validate({"Column set": ["a"]})
    assert (
        p.category,
        p.basic_math_function,
        p.comparison_function,
        p.arithmetic_operation,
        p.rounding_operation,
        p.special_function,
        p.trigonometric_function,
    ) == ("Basic", "Abs", "EqualTo", "Add", "Ceiling", "Beta", "Acos")
    assert (p.second_argument_type, p.second_argument, p.output_mode) == ("Constant", 1.0, "Append")


def test_every_listed_function_is_implemented_or_explained() -> None:
    for options, table in [
        (BasicFunction, BASIC),
        (CompareFunction, COMPARE),
        (ArithmeticOperation, OPERATIONS),
        (RoundingOperation, ROUNDING),
        (SpecialFunction, SPECIAL),
        (TrigonometricFunction, TRIGONOMETRIC),
    ]:
        assert set(get_args(options)) == set(table) | (set(UNSUPPORTED) & set(get_args(options)))


@pytest.mark.parametrize(
    "bad",
    [
        {"Category": "Algebra"},
        {"Basic math function": "Cbrt"},
        {"Output mode": "Result Only"},
        {"Second argument type": "Column"},
    ],
)
def test_math_parameter_options_are_checked(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ApplyMathOperationParams.model_validate({"Column set": ["a"], **bad})


def test_abs_appends_a_named_column_and_keeps_missing_values(nums: pd.DataFrame) -> None:
    out = math_op(nums, **{"Column set": ["a"]})
    assert list(out.columns) == ["a", "b", "s", "Abs(a)"]
    assert values(out["Abs(a)"]) == [1.0, 2.0, None, 4.0]
    assert out.attrs == {"label": "b", "source": "nums"}
    assert values(nums["a"]) == [1.0, -2.0, None, 4.0]  # input untouched


def test_add_constant_names_the_constant(nums: pd.DataFrame) -> None:
    out = math_op(nums, **{"Column set": ["a", "b"], "Category": "Operations", "Second argument": 10})
    assert values(out["Add(a_$10)"]) == [11.0, 8.0, None, 14.0]
    assert values(out["Add(b_$10)"]) == [12.0, 12.0, 15.0, 10.0]


def test_operations_with_a_column_argument(nums: pd.DataFrame) -> None:
    out = math_op(
        nums,
        **{
            "Column set": ["a"],
            "Category": "Operations",
            "Arithmetic operation": "Divide",
            "Second argument type": "ColumnSet",
            "Second argument column set": ["b"],
        },
    )
    assert values(out["Divide(a_b)"]) == [0.5, -1.0, None, math.inf]  # x / 0 is infinity, as documented


def test_pairwise_second_columns(nums: pd.DataFrame) -> None:
    df = nums.assign(c=[1.0, 1.0, 1.0, 1.0], d=[2.0, 2.0, 2.0, 2.0])
    out = math_op(
        df,
        **{
            "Column set": ["a", "b"],
            "Category": "Operations",
            "Arithmetic operation": "Subtract",
            "Second argument type": "ColumnSet",
            "Second argument column set": ["c", "d"],
        },
    )
    assert values(out["Subtract(a_c)"]) == [0.0, -3.0, None, 3.0]
    assert values(out["Subtract(b_d)"]) == [0.0, 0.0, 3.0, -2.0]


def test_second_column_count_must_fit(nums: pd.DataFrame) -> None:
    df = nums.assign(c=1.0, d=2.0, e=3.0)
    with pytest.raises(ComponentError) as info:
        math_op(
            df,
            **{
                "Column set": ["a", "b"],
                "Category": "Operations",
                "Second argument type": "ColumnSet",
                "Second argument column set": ["c", "d", "e"],
            },
        )
    assert info.value.code == "BadNumberOfSelectedColumns"
    with pytest.raises(ComponentError) as info:
        math_op(df, **{"Column set": ["a"], "Category": "Operations", "Second argument type": "ColumnSet"})
    assert info.value.code == "NullOrEmpty"


def test_compare_gives_booleans_with_missing_kept(nums: pd.DataFrame) -> None:
    out = math_op(
        nums,
        **{
            "Column set": ["a"],
            "Category": "Compare",
            "Comparison function": "GreaterThan",
            "Second argument": 0,
        },
    )
    assert values(out["GreaterThan(a_$0)"]) == [True, False, None, True]
    out = math_op(
        nums,
        **{
            "Column set": ["a"],
            "Category": "Compare",
            "Comparison function": "PairMax",
            "Second argument type": "ColumnSet",
            "Second argument column set": ["b"],
        },
    )
    assert values(out["PairMax(a_b)"]) == [2.0, 2.0, None, 4.0]


def test_inplace_replaces_values_keeping_the_name(nums: pd.DataFrame) -> None:
    out = math_op(
        nums,
        **{
            "Column set": ["a"],
            "Category": "Basic",
            "Basic math function": "Square",
            "Output mode": "Inplace",
        },
    )
    assert list(out.columns) == ["a", "b", "s"] and values(out["a"]) == [1.0, 4.0, None, 16.0]


def test_result_only_returns_just_the_results(nums: pd.DataFrame) -> None:
    out = math_op(
        nums, **{"Column set": ["a", "b"], "Basic math function": "Exp2", "Output mode": "ResultOnly"}
    )
    assert list(out.columns) == ["Exp2(a_$1)", "Exp2(b_$1)"]
    assert values(out["Exp2(b_$1)"]) == [4.0, 4.0, 32.0, 1.0]
    assert out.attrs == {"source": "nums"}  # the label column is not in the result


def test_append_name_clash_gets_a_suffix(nums: pd.DataFrame) -> None:
    df = nums.assign(**{"Abs(a)": 0})
    out = math_op(df, **{"Column set": ["a"]})
    assert list(out.columns)[-1] == "Abs(a) (2)"


def test_text_columns_are_refused_by_name(nums: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        math_op(nums, **{"Column set": ["a", "s"]})
    assert info.value.code == "InvalidColumnType" and info.value.column == "s"


def test_unknown_column(nums: pd.DataFrame) -> None:
    with pytest.raises(ColumnNotFound):
        math_op(nums, **{"Column set": ["zz"]})


def test_cis_is_explained(nums: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        math_op(nums, **{"Column set": ["a"], "Category": "Trigonometric", "Trigonometric Function": "Cis"})
    assert info.value.code == "NotSupported" and "complex" in str(info.value)


X = np.array([0.25, 0.5, 2.0, 3.0])

with np.errstate(all="ignore"):  # some expected values are NaN (e.g. arccos(2))
    CASES = [
        ("Basic", "Basic math function", "Atan2", 2.0, np.arctan2(X, 2.0)),
        ("Basic", "Basic math function", "Cuberoot", 1, np.cbrt(X)),
        ("Basic", "Basic math function", "DoubleFactorial", 1, [np.nan, np.nan, 2.0, 3.0]),
        ("Basic", "Basic math function", "Eps", 1, np.spacing(X)),
        ("Basic", "Basic math function", "Exp2", 3.0, 3.0 * 2**X),
        ("Basic", "Basic math function", "Factorial", 1, special.gamma(X + 1)),
        ("Basic", "Basic math function", "Hypotenuse", 4.0, np.hypot(X, 4.0)),
        ("Basic", "Basic math function", "Log", 10.0, np.log10(X)),
        ("Basic", "Basic math function", "NthRoot", 3.0, np.cbrt(X)),
        ("Basic", "Basic math function", "Pow", 2.0, X**2),
        ("Basic", "Basic math function", "SqrtPi", 1, np.sqrt(X * np.pi)),
        ("Basic", "Basic math function", "ImaginaryPart", 1, [0.0, 0.0, 0.0, 0.0]),
        ("Rounding", "Rounding operation", "Ceiling", 0, [1.0, 1.0, 2.0, 3.0]),
        ("Rounding", "Rounding operation", "CeilingPower2", 1, [0.25, 0.5, 2.0, 4.0]),
        ("Rounding", "Rounding operation", "Floor", 1, [0.2, 0.5, 2.0, 3.0]),
        ("Rounding", "Rounding operation", "Mod", 2.0, [0.25, 0.5, 0.0, 1.0]),
        ("Rounding", "Rounding operation", "Quotient", 2.0, [0.0, 0.0, 1.0, 1.0]),
        ("Rounding", "Rounding operation", "RoundDigits", 0, [0.0, 1.0, 2.0, 3.0]),
        ("Rounding", "Rounding operation", "RoundUp", 1, [0.3, 0.5, 2.0, 3.0]),
        ("Rounding", "Rounding operation", "ToEven", 1, [0.0, 0.0, 2.0, 4.0]),
        ("Rounding", "Rounding operation", "ToOdd", 1, [1.0, 1.0, 3.0, 3.0]),
        ("Rounding", "Rounding operation", "ToMultiple", 0.5, [0.5, 0.5, 2.0, 3.0]),
        ("Special", "Special function", "Beta", 2.0, special.beta(X, 2.0)),
        ("Special", "Special function", "EllipticIntegralE", 1, special.ellipe(X)),
        ("Special", "Special function", "ErfcScaled", 1, special.erfcx(X)),
        ("Special", "Special function", "ExponentialIntegralEin", 1, special.expi(X)),
        ("Special", "Special function", "GammaRegularizedP", 2.0, special.gammainc(2.0, X)),
        ("Special", "Special function", "Polygamma", 1.0, special.polygamma(1, X)),
        ("Trigonometric", "Trigonometric Function", "AcosDegrees", 1, np.degrees(np.arccos(X))),
        ("Trigonometric", "Trigonometric Function", "Acot", 1, np.arctan(1 / X)),
        ("Trigonometric", "Trigonometric Function", "Sech", 1, 1 / np.cosh(X)),
        ("Trigonometric", "Trigonometric Function", "TanDegrees", 1, np.tan(np.radians(X))),
        ("Trigonometric", "Trigonometric Function", "Sinc", 1, np.sinc(X)),
    ]


@pytest.mark.parametrize("category, field, function, argument, expected", CASES)
def test_function_values(category: str, field: str, function: str, argument: float, expected: Any) -> None:
    df = pd.DataFrame({"x": X})
    out = math_op(
        df,
        **{
            "Column set": ["x"],
            "Category": category,
            field: function,
            "Second argument": argument,
            "Output mode": "Inplace",
        },
    )
    np.testing.assert_allclose(out["x"].to_numpy(dtype=float), np.asarray(expected, dtype=float), rtol=1e-12)


def test_rounding_is_half_away_from_zero_and_handles_negatives() -> None:
    df = pd.DataFrame({"x": [2.5, -2.5, -1.25, -0.7]})
    out = math_op(
        df,
        **{
            "Column set": ["x"],
            "Category": "Rounding",
            "Rounding operation": "RoundDigits",
            "Second argument": 0,
            "Output mode": "Inplace",
        },
    )
    assert out["x"].tolist() == [3.0, -3.0, -1.0, -1.0]
    out = math_op(
        df,
        **{
            "Column set": ["x"],
            "Category": "Rounding",
            "Rounding operation": "Truncate",
            "Second argument": 1,
            "Output mode": "Inplace",
        },
    )
    assert out["x"].tolist() == [2.5, -2.5, -1.2, -0.7]


def test_nth_root_of_negative_numbers() -> None:
    df = pd.DataFrame({"x": [-8.0, -4.0]})
    out = math_op(
        df,
        **{
            "Column set": ["x"],
            "Basic math function": "NthRoot",
            "Second argument": 3,
            "Output mode": "Inplace",
        },
    )
    assert out["x"].iloc[0] == pytest.approx(-2.0)
    out = math_op(
        df,
        **{
            "Column set": ["x"],
            "Basic math function": "NthRoot",
            "Second argument": 2,
            "Output mode": "Inplace",
        },
    )
    assert np.isnan(out["x"]).all()


# ---- Clip Values ------------------------------------------------------------------------------------


@pytest.fixture
def ten() -> pd.DataFrame:
    df = pd.DataFrame({"v": list(range(1, 11)), "w": [float(i) for i in range(10, 0, -1)]})
    df.attrs = {"source": "ten"}
    return df


def clip(df: pd.DataFrame, **params: Any) -> pd.DataFrame:
    p = ClipValuesParams.model_validate(params)
    return ClipValues().run({"input": df}, p, RunContext())["result_dataset"]


def test_clip_defaults_match_the_designer() -> None:
    p = ClipValuesParams.model_validate({"List of columns": ["v"]})
    assert (p.set_of_thresholds, p.upper_threshold, p.lower_threshold) == (
        "ClipPeaks",
        "Constant",
        "Constant",
    )
    assert (p.constant_value_for_upper_threshold, p.constant_value_for_lower_threshold) == (99.0, 1.0)
    assert (p.percentile_value_for_upper_threshold, p.percentile_value_for_lower_threshold) == (99.0, 1.0)
    assert (p.substitute_value_for_peaks, p.substitute_value_for_subpeaks) == ("Threshold", "Threshold")
    assert (p.overwrite_flag, p.add_indicator_columns) == (True, False)


@pytest.mark.parametrize(
    "bad",
    [
        {"Percentile value for upper threshold": 101},
        {"Percentile value for lower threshold": -1},
        {"Set of thresholds": "ClipAll"},
        {"Substitute value for peaks": "Mode"},
    ],
)
def test_clip_parameter_checks(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ClipValuesParams.model_validate({"List of columns": ["v"], **bad})


def test_clip_peaks_at_a_constant_keeps_equal_values(ten: pd.DataFrame) -> None:
    out = clip(ten, **{"List of columns": ["v"], "Constant value for upper threshold": 7})
    assert out["v"].tolist() == [1, 2, 3, 4, 5, 6, 7, 7, 7, 7]
    assert out["v"].dtype == ten["v"].dtype  # whole-number substitutes keep integers
    assert out.attrs == {"source": "ten"}


def test_clip_subpeaks_with_mean_and_indicator(ten: pd.DataFrame) -> None:
    out = clip(
        ten,
        **{
            "List of columns": ["w"],
            "Set of thresholds": "ClipSubPeaks",
            "Constant value for lower threshold": 3,
            "Substitute value for subpeaks": "Mean",
            "Add indicator columns": True,
        },
    )
    assert out["w"].tolist() == [10, 9, 8, 7, 6, 5, 4, 3, 5.5, 5.5]  # mean computed before clipping
    assert out["w_isClipped"].tolist() == [False] * 8 + [True, True]


def test_clip_both_by_percentile_to_missing_without_overwrite(ten: pd.DataFrame) -> None:
    out = clip(
        ten,
        **{
            "List of columns": ["v"],
            "Set of thresholds": "ClipPeaksAndSubpeaks",
            "Upper threshold": "Percentile",
            "Percentile value for upper threshold": 90,
            "Lower threshold": "Percentile",
            "Percentile value for lower threshold": 10,
            "Substitute value for peaks": "Missing",
            "Substitute value for subpeaks": "Median",
            "Overwrite flag": False,
            "Add indicator columns": True,
        },
    )
    # 10th percentile = 1.9, 90th = 9.1 (linear interpolation)
    assert out["v"].tolist() == list(range(1, 11))  # original kept
    assert values(out["v_clipped"]) == [5.5, 2, 3, 4, 5, 6, 7, 8, 9, None]
    assert out["v_isClipped"].tolist() == [True] + [False] * 8 + [True]
    assert list(out.columns) == ["v", "w", "v_clipped", "v_isClipped"]


def test_clip_lower_above_upper_is_refused(ten: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as info:
        clip(
            ten,
            **{
                "List of columns": ["v"],
                "Set of thresholds": "ClipPeaksAndSubpeaks",
                "Constant value for upper threshold": 2,
                "Constant value for lower threshold": 5,
            },
        )
    assert info.value.code == "NotInRangeValue" and info.value.column == "v"


def test_clip_missing_values_stay_missing_and_unflagged() -> None:
    df = pd.DataFrame({"v": [1.0, np.nan, 200.0]})
    out = clip(df, **{"List of columns": ["v"], "Add indicator columns": True})
    assert values(out["v"]) == [1.0, None, 99.0] and out["v_isClipped"].tolist() == [False, False, True]


def test_clip_refuses_text_columns() -> None:
    with pytest.raises(ComponentError) as info:
        clip(pd.DataFrame({"t": ["a"]}), **{"List of columns": ["t"]})
    assert info.value.code == "InvalidColumnType" and info.value.column == "t"


@pytest.mark.parametrize("component", [ApplyMathOperation, ClipValues])
def test_describe_builds(component: Any) -> None:
    entry = component.describe()
    assert entry["inputs"][0]["name"] == "Input" and entry["outputs"][0]["name"] == "Result_dataset"
    assert entry["parameters"]["type"] == "object"
