"""Apply Transformation: transforms fitted on training data replayed on new data, unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.components import lookup
from core.components.apply_transformation import ApplyTransformation
from core.components.base import PortType, RunContext
from core.components.scaling import (
    ConvertToIndicatorValues,
    ConvertToIndicatorValuesParams,
    GroupDataIntoBins,
    GroupDataIntoBinsParams,
    NormalizeData,
    NormalizeDataParams,
)
from core.components.transformation import CleanMissingData, CleanMissingDataParams
from core.errors import ComponentError


def apply(transform: Any, df: pd.DataFrame) -> pd.DataFrame:
    ctx = RunContext()
    out = ApplyTransformation().run({"transformation": transform, "dataset": df}, None, ctx)
    assert ctx.logs
    return out["transformed_dataset"]


@pytest.fixture
def train() -> pd.DataFrame:
    df = pd.DataFrame({"x": [0.0, 10.0, 20.0, np.nan], "c": pd.Categorical(["a", "b", "a", "b"])})
    df.attrs = {"source": "train"}
    return df


@pytest.fixture
def fresh() -> pd.DataFrame:
    df = pd.DataFrame({"x": [100.0, np.nan], "c": pd.Categorical(["b", "new"])})
    df.attrs = {"source": "test"}
    return df


def test_ports_match_the_designer() -> None:
    assert lookup("Apply Transformation") is ApplyTransformation
    assert [(p.id, p.name, p.type) for p in ApplyTransformation.inputs] == [
        ("transformation", "Transformation", PortType.TRANSFORM),
        ("dataset", "Dataset", PortType.DATA),
    ]
    assert [(p.id, p.name) for p in ApplyTransformation.outputs] == [
        ("transformed_dataset", "Transformed dataset")
    ]
    assert ApplyTransformation.describe()["category"] == "Model Scoring & Evaluation"


def normalization(train: pd.DataFrame) -> Any:
    out = NormalizeData().run({"dataset": train}, NormalizeDataParams(), RunContext())
    return out["transformation_function"]


def test_normalization_uses_the_training_mean_and_std(train: pd.DataFrame, fresh: pd.DataFrame) -> None:
    fitted = normalization(train)
    out = apply(fitted, fresh)
    std = np.std([0.0, 10.0, 20.0])
    assert out["x"].iloc[0] == pytest.approx((100.0 - 10.0) / std) and np.isnan(out["x"].iloc[1])
    assert out.attrs == {"source": "test"}


def test_binning_and_indicators_chain(train: pd.DataFrame, fresh: pd.DataFrame) -> None:
    params = GroupDataIntoBinsParams.model_validate({"Columns to bin": ["x"], "Number of bins": 2})
    binning = GroupDataIntoBins().run({"dataset": train}, params, RunContext())["binning_transformation"]
    assert apply(binning, fresh)["x_quantized"].tolist()[0] == 100.0  # above the training range: top bin
    choice = ConvertToIndicatorValuesParams.model_validate({"Categorical columns to convert": ["c"]})
    indicator = ConvertToIndicatorValues().run({"dataset": train}, choice, RunContext())[
        "indicator_values_transformation"
    ]
    out = apply(indicator, fresh)
    assert out["c-a"].tolist() == [0, 0] and out["c-b"].tolist() == [1, 0]


def test_cleaning_transformation_from_clean_missing_data(train: pd.DataFrame, fresh: pd.DataFrame) -> None:
    params = CleanMissingDataParams.model_validate(
        {"Columns to be cleaned": ["x"], "Cleaning mode": "Replace with mean"}
    )
    cleaning = CleanMissingData().run({"dataset": train}, params, RunContext())["cleaning_transformation"]
    assert apply(cleaning, fresh)["x"].tolist() == [100.0, 10.0]  # the training mean


def test_missing_columns_are_named(train: pd.DataFrame) -> None:
    choice = ConvertToIndicatorValuesParams.model_validate({"Categorical columns to convert": ["c"]})
    fitted = ConvertToIndicatorValues().run({"dataset": train}, choice, RunContext())[
        "indicator_values_transformation"
    ]
    with pytest.raises(ComponentError) as info:
        apply(fitted, pd.DataFrame({"y": [1.0]}))
    assert info.value.code == "ColumnNotFound" and info.value.column == "c"


@dataclass
class _Careless:
    """A transform that indexes columns without checking them first."""

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        return df[["needed"]]


def test_a_key_error_from_a_transform_is_reported_as_a_missing_column() -> None:
    with pytest.raises(ComponentError) as info:
        apply(_Careless(), pd.DataFrame({"other": [1]}))
    assert info.value.code == "ColumnNotFound" and "needed" in str(info.value) and "other" in str(info.value)


def test_something_else_on_the_port_is_refused() -> None:
    with pytest.raises(ComponentError) as info:
        apply({"not": "a transform"}, pd.DataFrame({"x": [1]}))
    assert info.value.code == "InvalidTransformationDirectory"
