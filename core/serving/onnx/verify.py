"""Checking a conversion: ONNX Runtime's predictions equal scikit-learn's on rows.

A conversion is used only after its predictions were checked equal to scikit-learn's on the
deployment's sample rows and on probe rows mixed from them (other known levels, an unseen level
where the model ignores unknown levels), both as one batch and row by row: labels equal, numbers
within ``RTOL``/``ATOL`` (the absolute tolerance scaled by the size of the predictions).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.components.models import TrainedModel
from core.serving.onnx.feed import Refused
from core.serving.onnx.model import OnnxModel

RTOL = 1e-5
ATOL = 1e-6  # times max(1, the largest absolute prediction)
PROBE_ROWS = 32
_UNSEEN = "\u2063unseen level\u2063"


def probe_rows(model: TrainedModel, rows: pd.DataFrame, n: int = PROBE_ROWS, seed: int = 0) -> pd.DataFrame:
    """``rows`` and ``n`` rows mixed from them: each column's value from a random row, categorical
    columns often another known level, and (if the model ignores unknown levels) an unseen one."""
    rng = np.random.default_rng(seed)
    encoder = model.pipeline.named_steps["encode"]
    onehot = encoder.named_transformers_.get("categorical")
    levels = {}
    ignore_unseen = False
    if onehot is not None and hasattr(onehot, "categories_"):
        levels = dict(zip(onehot.feature_names_in_, onehot.categories_, strict=True))
        ignore_unseen = getattr(onehot, "handle_unknown", "ignore") == "ignore"
    columns: dict[str, list[Any]] = {}
    for column in rows.columns:
        own = rows[column].tolist()
        picked = [own[i] for i in rng.integers(0, len(own), n)]
        if column in levels:
            known = levels[column].tolist()
            for i in range(n):
                if rng.random() < 0.5:
                    picked[i] = known[rng.integers(0, len(known))]
            if ignore_unseen and n:
                picked[-1] = _unseen(known)
        columns[column] = own + picked
    mixed = {}
    for column, values in columns.items():
        try:
            mixed[column] = pd.array(values, dtype=rows[column].dtype)
        except (TypeError, ValueError):
            mixed[column] = pd.array(values)
    return pd.DataFrame(mixed, columns=rows.columns)


def _unseen(known: list[Any]) -> Any:
    if all(type(v) is str for v in known):
        return _UNSEEN
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in known):
        return max(known) + 1
    return known[0]  # e.g. booleans: no unseen value of the same type


def verify(model: TrainedModel, onnx: OnnxModel, rows: pd.DataFrame) -> str | None:
    """None if ONNX gives scikit-learn's predictions on ``rows`` (together and one by one), else why not."""
    want_labels, want_proba = TrainedModel.predictions(model, rows)
    batches = [(rows, slice(None))] + [(rows.iloc[[i]], slice(i, i + 1)) for i in range(len(rows))]
    for batch, where in batches:
        try:
            labels, proba = onnx.run(onnx.feed(batch))
        except Refused as exc:
            return f"the ONNX input cannot be built for column {exc}"
        what = "the whole sample" if where == slice(None) else f"sample row {where.start}"
        problem = _compare(
            model.task, want_labels[where], labels, None if want_proba is None else want_proba[where], proba
        )
        if problem:
            return f"ONNX predictions differ from scikit-learn's on {what}: {problem}"
    return None


def _compare(
    task: str, want: np.ndarray, got: np.ndarray, want_proba: np.ndarray | None, got_proba: np.ndarray | None
) -> str | None:
    if task == "regression":
        want, got = np.asarray(want, dtype=np.float64), np.asarray(got, dtype=np.float64)
        if want.shape != got.shape:
            return f"shape {got.shape} instead of {want.shape}"
        atol = ATOL * max(1.0, float(np.abs(want).max(initial=0.0)))
        if not np.allclose(got, want, rtol=RTOL, atol=atol):
            return f"largest difference {float(np.abs(got - want).max()):.3g}"
        return None
    if want.shape != got.shape or not all(a == b for a, b in zip(want.tolist(), got.tolist(), strict=True)):
        return "labels differ"
    if (want_proba is None) != (got_proba is None):
        return "probabilities missing"
    if want_proba is not None and got_proba is not None:
        if want_proba.shape != got_proba.shape:
            return f"probabilities of shape {got_proba.shape} instead of {want_proba.shape}"
        if not np.allclose(got_proba, want_proba, rtol=RTOL, atol=ATOL):
            return f"probabilities differ by up to {float(np.abs(got_proba - want_proba).max()):.3g}"
    return None
