"""ONNX Runtime scoring of trained models, for single rows and small batches.

A fitted ``TrainedModel`` is converted with skl2onnx (:mod:`.convert`, with the project's own
estimators made convertible in :mod:`.converters`) and used only once its predictions were
checked equal to scikit-learn's (:mod:`.verify`). At scoring time request values become ONNX
inputs (:mod:`.feed`) and :class:`AcceleratedModel` (:mod:`.model`) scores small batches through
ONNX Runtime, anything else through scikit-learn; :func:`accelerate` (:mod:`.accelerate`) plugs
such models into a compiled real-time pipeline.
"""

from __future__ import annotations

from core.serving.onnx.accelerate import ONNX, accelerate, score_model_inputs
from core.serving.onnx.convert import Conversion, convert, try_convert
from core.serving.onnx.feed import OnnxInput, TensorKind
from core.serving.onnx.model import SMALL_BATCH, AcceleratedModel, OnnxModel
from core.serving.onnx.verify import ATOL, PROBE_ROWS, RTOL, probe_rows, verify

__all__ = [
    "ATOL",
    "ONNX",
    "PROBE_ROWS",
    "RTOL",
    "SMALL_BATCH",
    "AcceleratedModel",
    "Conversion",
    "OnnxInput",
    "OnnxModel",
    "TensorKind",
    "accelerate",
    "convert",
    "probe_rows",
    "score_model_inputs",
    "try_convert",
    "verify",
]
