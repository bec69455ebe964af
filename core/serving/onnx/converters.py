"""The project's own estimators, made convertible by skl2onnx.

Some are converted through the scikit-learn estimator they delegate to
(``ElasticNetLogisticRegression`` -> its fitted ``LogisticRegression``; the decision forests ->
``RandomForest*``, whose prediction code they inherit unchanged), others through a small
converter registered with skl2onnx (``TransformedTargetRegressor`` with a ``StandardScaler`` on
the label, and ``DecisionProbabilities`` around a binary linear classifier). The rest, e.g.
``PenalisedPoissonRegressor`` or One-vs-One, stay on scikit-learn.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import numpy as np


def convertible(pipeline: Any) -> Any:
    """A copy of ``pipeline`` whose project estimators that only delegate to a scikit-learn one
    are replaced by it, so skl2onnx's own converter applies."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression

    from core.components.models import (
        DecisionForestClassifier,
        DecisionForestRegressor,
        ElasticNetLogisticRegression,
    )

    def swap(estimator: Any) -> Any:
        if isinstance(estimator, ElasticNetLogisticRegression):
            model = estimator.model_
            if not isinstance(model, LogisticRegression):
                raise TypeError("the elastic-net model holds no fitted LogisticRegression")
            return model
        for ours, theirs in (
            (DecisionForestRegressor, RandomForestRegressor),
            (DecisionForestClassifier, RandomForestClassifier),
        ):
            if type(estimator) is ours:
                twin = theirs.__new__(theirs)
                twin.__dict__.update(estimator.__dict__)
                return twin
        return None

    return _replace_nested(pipeline, swap)


def _replace_nested(estimator: Any, swap: Callable[[Any], Any]) -> Any:
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    swapped = swap(estimator)
    if swapped is not None:
        return swapped
    if isinstance(estimator, Pipeline):  # skl2onnx cannot read "passthrough" (identity) steps
        copied = copy.copy(estimator)
        copied.steps = [
            (name, _replace_nested(step, swap))
            for name, step in estimator.steps
            if step is not None and not (isinstance(step, str) and step == "passthrough")
        ]
        return copied
    if isinstance(estimator, OneVsRestClassifier) and hasattr(estimator, "estimators_"):
        copied = copy.copy(estimator)
        copied.estimators_ = [_replace_nested(e, swap) for e in estimator.estimators_]
        return copied
    return estimator


_registered = False
_register_lock = threading.Lock()


def register_project_converters() -> None:
    """skl2onnx converters for the estimators the learners wrap that skl2onnx does not know."""
    global _registered
    with _register_lock:
        if _registered:
            return
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
        from sklearn.compose import TransformedTargetRegressor

        from core.components.models import DecisionProbabilities

        update_registered_converter(
            TransformedTargetRegressor,
            "ProjectTransformedTargetRegressor",
            calculate_linear_regressor_output_shapes,
            _convert_target_scaled,
        )
        update_registered_converter(
            DecisionProbabilities,
            "ProjectDecisionProbabilities",
            calculate_linear_classifier_output_shapes,
            _convert_decision_probabilities,
            options={
                "zipmap": [True, False, "columns"],
                "nocl": [True, False],
                "output_class_labels": [False, True],
            },
        )
        _registered = True


def _convert_target_scaled(scope: Any, operator: Any, container: Any) -> None:
    """TransformedTargetRegressor whose label transformer is a StandardScaler: the regressor's
    prediction times the label's scale plus its mean."""
    from skl2onnx.algebra.onnx_operator import OnnxSubEstimator
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxMul
    from skl2onnx.common.data_types import guess_numpy_type
    from sklearn.preprocessing import StandardScaler

    model = operator.raw_operator
    scaler = model.transformer_
    if model.func is not None or model.inverse_func is not None or type(scaler) is not StandardScaler:
        raise NotImplementedError("only a StandardScaler label transformer is converted")
    dtype = guess_numpy_type(operator.inputs[0].type)
    opv = container.target_opset
    scale = np.asarray(scaler.scale_ if scaler.scale_ is not None else [1.0], dtype=dtype).reshape(1, -1)
    mean = np.asarray(scaler.mean_ if scaler.mean_ is not None else [0.0], dtype=dtype).reshape(1, -1)
    predicted = OnnxSubEstimator(model.regressor_, operator.inputs[0], op_version=opv)
    result = OnnxAdd(
        OnnxMul(predicted, scale, op_version=opv), mean, op_version=opv, output_names=operator.outputs[:1]
    )
    result.add_to(scope, container)


def _convert_decision_probabilities(scope: Any, operator: Any, container: Any) -> None:
    """DecisionProbabilities around a two-class linear classifier: decision d = X·w + b, label
    classes_[d > 0], probabilities [1 - sigmoid(d), sigmoid(d)] (as ``predict_proba`` computes)."""
    from onnx import TensorProto
    from skl2onnx.algebra.onnx_ops import (
        OnnxAdd,
        OnnxCast,
        OnnxConcat,
        OnnxGather,
        OnnxGreater,
        OnnxMatMul,
        OnnxReshape,
        OnnxSigmoid,
        OnnxSub,
    )
    from skl2onnx.common.data_types import guess_numpy_type
    from sklearn.linear_model import LogisticRegression, Perceptron, RidgeClassifier, SGDClassifier
    from sklearn.svm import LinearSVC

    model = operator.raw_operator
    inner = model.estimator_
    linear = isinstance(inner, (SGDClassifier, Perceptron, LinearSVC, RidgeClassifier, LogisticRegression))
    classes = np.asarray(model.classes_)
    coef = np.asarray(inner.coef_) if linear else None
    if coef is None or coef.shape[0] != 1 or len(classes) != 2:
        raise NotImplementedError(
            "only a two-class linear classifier inside DecisionProbabilities is converted"
        )
    dtype = guess_numpy_type(operator.inputs[0].type)
    opv = container.target_opset
    weights = np.asarray(coef, dtype=dtype).T  # (features, 1)
    bias = np.asarray(inner.intercept_, dtype=dtype).reshape(1, 1)
    decision = OnnxAdd(OnnxMatMul(operator.inputs[0], weights, op_version=opv), bias, op_version=opv)
    positive = OnnxSigmoid(decision, op_version=opv)
    proba = OnnxConcat(
        OnnxSub(np.array([[1.0]], dtype=dtype), positive, op_version=opv),
        positive,
        axis=1,
        op_version=opv,
        output_names=operator.outputs[1:2],
    )
    index = OnnxReshape(
        OnnxCast(
            OnnxGreater(decision, np.array([[0.0]], dtype=dtype), op_version=opv),
            to=TensorProto.INT64,
            op_version=opv,
        ),
        np.array([-1], dtype=np.int64),
        op_version=opv,
    )
    if classes.dtype.kind in "iub":
        table = classes.astype(np.int64)
    elif all(isinstance(c, str) for c in classes.tolist()):
        table = np.array(classes.tolist(), dtype=np.str_)
    else:
        raise NotImplementedError("class labels must be integers or strings")
    label = OnnxGather(table, index, axis=0, op_version=opv, output_names=operator.outputs[:1])
    proba.add_to(scope, container)
    label.add_to(scope, container)
