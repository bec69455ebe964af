"""The converted model at scoring time: an ONNX Runtime session, and the ``TrainedModel`` that
scores small batches through it.

``AcceleratedModel`` scores fewer than ``SMALL_BATCH`` rows with ONNX Runtime and larger batches
with scikit-learn; rows the feed refuses go to scikit-learn too. Nothing here is stored: the
ONNX bytes and sessions live in the worker's memory only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES, TrainedModel
from core.serving.onnx.feed import OnnxInput, Refused, build_feed

SMALL_BATCH = 64  # fewer rows than this are scored with ONNX Runtime


def open_session(onnx_bytes: bytes) -> Any:
    """An ONNX Runtime session on one thread: the worker scores many small requests at once."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """A verified ONNX conversion of a ``TrainedModel``'s pipeline.

    :meth:`open` makes the session at once and takes the graph's input names from it (the
    conversion's way); a model made directly opens its session on first use.
    """

    def __init__(
        self,
        onnx_bytes: bytes,
        inputs: list[OnnxInput],
        task: str,
        classes: np.ndarray | None,
        with_proba: bool,
        session: Any = None,
    ) -> None:
        self.onnx_bytes = onnx_bytes
        self.inputs = inputs
        self.task = task
        self.classes = classes  # the sklearn pipeline's classes_, so labels keep their dtype
        self.with_proba = with_proba
        self._class_index = {} if classes is None else {c: i for i, c in enumerate(classes.tolist())}
        self._columns = [i.column for i in inputs]
        self._session = session
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        onnx_bytes: bytes,
        inputs: list[OnnxInput],
        task: str,
        classes: np.ndarray | None,
        with_proba: bool,
    ) -> OnnxModel:
        """The model with its session, ``inputs`` named as the graph's inputs (in order)."""
        session = open_session(onnx_bytes)
        names = [i.name for i in session.get_inputs()]
        if len(names) != len(inputs):
            raise ValueError(f"the ONNX graph has {len(names)} inputs for {len(inputs)} feature columns")
        named = [replace(spec, name=name) for spec, name in zip(inputs, names, strict=True)]
        return cls(onnx_bytes, named, task, classes, with_proba, session=session)

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = open_session(self.onnx_bytes)
        return self._session

    # ---- the hot path ------------------------------------------------------------------------
    def feed(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """The input feed for ``df``'s rows, or ``Refused`` for rows scikit-learn should take."""
        return build_feed(self.inputs, self._columns, df)

    def run(self, feed: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        outputs = self.session.run(None, feed)
        if self.classes is None:
            return np.asarray(outputs[0], dtype=np.float64).reshape(-1), None
        index = self._class_index
        labels = self.classes.take([index[v] for v in outputs[0].reshape(-1).tolist()])
        proba = np.asarray(outputs[1], dtype=np.float64) if self.with_proba else None
        return labels, proba

    def predictions(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Labels and (for classifiers with probabilities) class probabilities, as the model's."""
        try:
            return self.run(self.feed(features))
        except Refused as exc:
            raise ValueError(f"These rows need scikit-learn: {exc}") from exc

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.predictions(features)[0]

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        proba = self.predictions(features)[1]
        if proba is None:
            raise AttributeError("This model gives no class probabilities")
        return proba


@dataclass
class AcceleratedModel(TrainedModel):
    """A ``TrainedModel`` scoring small batches with ONNX Runtime, larger ones with scikit-learn."""

    onnx: OnnxModel | None = field(default=None, repr=False, compare=False)
    small_batch: int = SMALL_BATCH

    @classmethod
    def wrap(cls, model: TrainedModel, onnx: OnnxModel, small_batch: int = SMALL_BATCH) -> AcceleratedModel:
        return cls(
            **{f.name: getattr(model, f.name) for f in fields(TrainedModel)},
            onnx=onnx,
            small_batch=small_batch,
        )

    def _fast(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None] | None:
        if self.onnx is None or not 0 < len(df) < self.small_batch:
            return None
        try:
            feed = self.onnx.feed(df)
        except Refused:
            return None  # scikit-learn scores these rows, or raises its usual error
        return self.onnx.run(feed)

    def predictions(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        fast = self._fast(df)
        return fast if fast is not None else super().predictions(df)

    def score(self, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
        """``TrainedModel.score``'s table, built with less pandas work on the ONNX path."""
        fast = self._fast(df)
        if fast is None:
            return super().score(df, append)
        labels, proba = fast
        columns: dict[str, np.ndarray] = {SCORED_LABELS: labels}
        if proba is not None and self.task == "binary":
            columns[SCORED_PROBABILITIES] = proba[:, 1]
        elif proba is not None:
            for i, cls in enumerate(self.classes):
                columns[f"{SCORED_PROBABILITIES}_{cls}"] = proba[:, i]
        if append:  # as pd.concat([df, scores], axis=1): the score columns after df's
            out = df.copy(deep=False)
            for name, values in columns.items():
                out.insert(len(out.columns), name, values, allow_duplicates=True)
        else:
            out = pd.DataFrame(index=df.index)
            for name, values in columns.items():
                out[name] = values
        out.attrs = {
            **df.attrs,
            "label": self.label_column,
            "task": self.task,
            "score_columns": list(columns),
        }
        if self.classes:
            out.attrs["classes"] = list(self.classes)
        return out
