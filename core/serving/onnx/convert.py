"""skl2onnx conversion of a fitted ``TrainedModel`` pipeline (one-hot ColumnTransformer +
estimator), used only once verified.

One ONNX input per feature column: string levels as ``StringTensorType``, integer or boolean
levels as ``Int64TensorType``, every other (passed-through) numeric column as
``DoubleTensorType``, so the arithmetic stays in float64 as scikit-learn's does; tree models take
``FloatTensorType`` instead, since scikit-learn's trees compare float32 features (and skl2onnx's
tree converters compare float64 features against float32 thresholds, which routes a row down
another branch now and then). A graph ONNX Runtime refuses in float64 is tried in float32.
The converted graph is serialised and opened in ONNX Runtime once; that session verifies it and
then scores with it.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from core.components.models import TrainedModel
from core.serving.onnx.converters import convertible, register_project_converters
from core.serving.onnx.feed import OnnxInput, TensorKind
from core.serving.onnx.model import OnnxModel
from core.serving.onnx.verify import PROBE_ROWS, probe_rows, verify

log = logging.getLogger(__name__)


class Conversion(NamedTuple):
    """A verified ONNX model, or None and the reason the model stays on scikit-learn."""

    onnx: OnnxModel | None
    reason: str  # what was converted, or why not


def convert(model: TrainedModel, sample: pd.DataFrame) -> OnnxModel | None:
    """``model`` as a verified ONNX model, or None (the reason is logged)."""
    result = try_convert(model, sample)
    if result.onnx is None:
        log.info("model %s stays on scikit-learn: %s", model.algorithm, result.reason)
    return result.onnx


def try_convert(model: TrainedModel, sample: pd.DataFrame) -> Conversion:
    """Convert ``model.pipeline`` and check it against scikit-learn on ``sample`` and probe rows."""
    if model.task not in ("regression", "binary", "multiclass"):
        return Conversion(None, f"a {model.task} model is not converted")
    rows = sample.dropna(subset=[c for c in model.feature_columns if c in sample.columns])
    missing = [c for c in model.feature_columns if c not in rows.columns]
    if missing:
        return Conversion(None, f"the sample rows lack feature column(s) {missing[:5]}")
    if rows.empty:
        return Conversion(None, "no complete sample row reaches the model to verify a conversion on")
    classifier = model.task in ("binary", "multiclass")
    classes = np.asarray(model.pipeline.classes_) if classifier else None
    with_proba = classifier and hasattr(model.pipeline, "predict_proba")
    # Trees compare float32 features (scikit-learn casts X so); everything else computes in float64.
    # float32 is also the second try when ONNX Runtime refuses a float64 graph (some converters
    # emit float32 outputs from float64 inputs).
    precisions: list[TensorKind] = ["float"] if _tree_based(model.pipeline) else ["double", "float"]
    failure = ""
    for numeric in precisions:
        try:
            inputs = _inputs(model, numeric)
        except ValueError as exc:
            return Conversion(None, str(exc))
        try:
            onnx_bytes = _to_onnx(model, inputs)
        except Exception as exc:
            return Conversion(None, failure or f"skl2onnx cannot convert it: {short(exc)}")
        try:
            onnx = OnnxModel.open(onnx_bytes, inputs, model.task, classes, with_proba)
            problem = verify(model, onnx, probe_rows(model, rows[model.feature_columns]))
        except Exception as exc:
            failure = failure or f"ONNX Runtime cannot run the conversion: {short(exc)}"
            continue
        if problem:
            return Conversion(None, problem)
        width = "float64" if numeric == "double" else "float32"
        return Conversion(
            onnx,
            f"ONNX Runtime ({width} features), checked equal to scikit-learn on "
            f"{len(rows)} sample row(s) and {PROBE_ROWS} probe row(s)",
        )
    return Conversion(None, failure)


def _tree_based(pipeline: Any) -> bool:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import BaseDecisionTree

    kinds = (
        BaseDecisionTree,
        RandomForestClassifier,
        RandomForestRegressor,
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    return any(isinstance(v, kinds) for v in [pipeline, *pipeline.get_params(deep=True).values()])


def short(exc: BaseException) -> str:
    """An exception as one line of at most 300 characters, for a reason shown to the user."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300] + ("..." if len(text) > 300 else "")


def _inputs(model: TrainedModel, numeric: TensorKind = "double") -> list[OnnxInput]:
    """One typed ONNX input per feature column, in the model's column order."""
    encoder = model.pipeline.named_steps["encode"]
    onehot = encoder.named_transformers_.get("categorical")
    levels: dict[str, np.ndarray] = {}
    refuse_unseen = False
    if onehot is not None and hasattr(onehot, "categories_"):
        levels = dict(zip(onehot.feature_names_in_, onehot.categories_, strict=True))
        refuse_unseen = getattr(onehot, "handle_unknown", "ignore") == "error"
        if getattr(onehot, "drop", None) is not None or getattr(onehot, "infrequent_categories_", None):
            raise ValueError("the one-hot encoder drops or groups levels, which is not converted")
    inputs: list[OnnxInput] = []
    for column in model.feature_columns:
        if not isinstance(column, str):
            raise ValueError(f"feature column {column!r} is not named by a string")
        if column not in levels:
            inputs.append(OnnxInput(column, column, numeric))
            continue
        known = levels[column]
        values = known.tolist()
        if all(type(v) is str for v in values):
            kind: TensorKind = "string"
        elif all(isinstance(v, (bool, int, np.integer)) for v in values) or (
            known.dtype.kind == "f" and np.all(np.mod(known, 1) == 0)
        ):
            kind = "int64"
        else:
            raise ValueError(
                f"categorical column {column!r} has levels that are neither all strings nor "
                "all integers; ONNX's OneHotEncoder holds only those"
            )
        inputs.append(OnnxInput(column, column, kind, frozenset(values) if refuse_unseen else None))
    return inputs


def _to_onnx(model: TrainedModel, inputs: list[OnnxInput]) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    register_project_converters()
    types = {
        "string": StringTensorType,
        "int64": Int64TensorType,
        "double": DoubleTensorType,
        "float": FloatTensorType,
    }
    initial = [(spec.column, types[spec.kind]([None, 1])) for spec in inputs]
    options = {"zipmap": False} if model.task in ("binary", "multiclass") else None
    onx = convert_sklearn(convertible(model.pipeline), initial_types=initial, options=options)
    return onx.SerializeToString()
