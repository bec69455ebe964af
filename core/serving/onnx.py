"""ONNX Runtime scoring of trained models, for single rows and small batches.

A fitted ``TrainedModel`` pipeline (one-hot ColumnTransformer + estimator) is converted with
skl2onnx, one ONNX input per feature column: string levels as ``StringTensorType``, integer or
boolean levels as ``Int64TensorType``, every other (passed-through) numeric column as
``DoubleTensorType``, so the arithmetic stays in float64 as scikit-learn's does; tree models take
``FloatTensorType`` instead, since scikit-learn's trees compare float32 features (and skl2onnx's
tree converters compare float64 features against float32 thresholds, which routes a row down
another branch now and then). A graph ONNX Runtime refuses in float64 is tried in float32.

A conversion is used only after its predictions were checked equal to scikit-learn's on the
deployment's sample rows and on probe rows mixed from them (other known levels, an unseen level
where the model ignores unknown levels), both as one batch and row by row: labels equal, numbers
within ``RTOL``/``ATOL`` (the absolute tolerance scaled by the size of the predictions).

``AcceleratedModel`` is a ``TrainedModel`` that scores fewer than ``SMALL_BATCH`` rows with ONNX
Runtime and larger batches with scikit-learn. Whatever the fast path does not handle the same way
(a missing column or value, a level the model refuses, a value of an unexpected type) goes to
scikit-learn, which scores it or raises its usual error. Nothing here is stored: the ONNX bytes
and sessions live in the worker's memory only.

Some of the project's own estimators are converted through the scikit-learn estimator they
delegate to (``ElasticNetLogisticRegression`` -> its fitted ``LogisticRegression``; the decision
forests -> ``RandomForest*``, whose prediction code they inherit unchanged) or through a small
converter (``TransformedTargetRegressor`` with a ``StandardScaler`` on the label, and
``DecisionProbabilities`` around a binary linear classifier). The rest, e.g.
``PenalisedPoissonRegressor`` or One-vs-One, stay on scikit-learn.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from core.components.base import RunContext
from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES, TrainedModel
from core.components.training import ScoreModel
from core.serving.scoring import CompiledPipeline

log = logging.getLogger(__name__)

SMALL_BATCH = 64  # fewer rows than this are scored with ONNX Runtime
RTOL = 1e-5
ATOL = 1e-6  # times max(1, the largest absolute prediction)
PROBE_ROWS = 32
ONNX = "onnx"  # the acceleration value of a step that scores with ONNX Runtime
_UNSEEN = "\u2063unseen level\u2063"

Kind = Literal["string", "int64", "double", "float"]


@dataclass(frozen=True)
class _Input:
    column: str
    name: str  # the ONNX graph's input name (skl2onnx renames e.g. "fuel-type" to "fuel_type")
    kind: Kind
    levels: frozenset[Any] | None = None  # known levels, when the model refuses unseen ones


class _Refused(Exception):
    """These rows take the scikit-learn path (which scores them or raises the proper error)."""


_NUMERIC_KINDS = {"double": np.float64, "float": np.float32}


def _as_input(values: Any, spec: _Input) -> np.ndarray:
    """One column as the ONNX input takes it; ``_Refused`` for anything scikit-learn would treat
    otherwise or refuse (missing values, unexpected types, levels a strict model never saw)."""
    if spec.kind in _NUMERIC_KINDS:
        if not isinstance(values, np.ndarray) or values.dtype.kind not in "iuf":
            raise _Refused(spec.column)  # extension arrays (nullable, Arrow), booleans, objects
        array = values.astype(_NUMERIC_KINDS[spec.kind], copy=False)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise _Refused(spec.column)  # missing or infinite (also after narrowing to float32)
        return array
    if spec.kind == "string":
        array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if array.dtype != object or not all(type(v) is str for v in array.tolist()):
            raise _Refused(spec.column)  # missing values, numbers, ...
    else:  # integer (or boolean) levels
        if not isinstance(values, np.ndarray) or values.dtype.kind not in "iubf":
            raise _Refused(spec.column)
        if values.dtype.kind == "f" and not np.all(np.mod(values, 1) == 0):  # NaN fails this too
            raise _Refused(spec.column)
        array = values.astype(np.int64)
    if spec.levels is not None and not spec.levels.issuperset(values.tolist()):
        raise _Refused(spec.column)
    return array


class OnnxModel:
    """A verified ONNX conversion of a ``TrainedModel``'s pipeline; the session is made on first use."""

    def __init__(
        self, onnx_bytes: bytes, inputs: list[_Input], task: str, classes: np.ndarray | None, with_proba: bool
    ) -> None:
        self.onnx_bytes = onnx_bytes
        self.inputs = inputs
        self.task = task
        self.classes = classes  # the sklearn pipeline's classes_, so labels keep their dtype
        self.with_proba = with_proba
        self._class_index = {} if classes is None else {c: i for i, c in enumerate(classes.tolist())}
        self._columns = [i.column for i in inputs]
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import onnxruntime as ort

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = 1
                    options.inter_op_num_threads = 1
                    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                    self._session = ort.InferenceSession(
                        self.onnx_bytes, options, providers=["CPUExecutionProvider"]
                    )
        return self._session

    # ---- the hot path ------------------------------------------------------------------------
    def feed(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """The input feed for ``df``'s rows, or ``_Refused`` for rows scikit-learn should take."""
        names = df.columns.tolist()
        if names == self._columns:
            index: list[int] | range = range(len(names))
        else:
            position = {name: i for i, name in enumerate(names)}
            if len(position) != len(names):
                raise _Refused("duplicate column names")
            try:
                index = [position[c] for c in self._columns]
            except KeyError as exc:
                raise _Refused("a feature column is missing") from exc
        column_array = getattr(df, "_get_column_array", None)  # pandas' own accessor: no Series per column
        feed: dict[str, np.ndarray] = {}
        for spec, j in zip(self.inputs, index, strict=True):
            values = column_array(j) if column_array is not None else df.iloc[:, j].to_numpy()
            feed[spec.name] = _as_input(values, spec).reshape(-1, 1)
        return feed

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
        except _Refused as exc:
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
        except _Refused:
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


# ---- conversion ------------------------------------------------------------------------------
class Conversion(NamedTuple):
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
    precisions: list[Kind] = ["float"] if _tree_based(model.pipeline) else ["double", "float"]
    failure = ""
    for numeric in precisions:
        try:
            inputs = _inputs(model, numeric)
        except ValueError as exc:
            return Conversion(None, str(exc))
        try:
            onnx_bytes = _to_onnx(model, inputs)
        except Exception as exc:
            return Conversion(None, failure or f"skl2onnx cannot convert it: {_short(exc)}")
        try:
            draft = OnnxModel(onnx_bytes, inputs, model.task, classes, with_proba)
            onnx = OnnxModel(onnx_bytes, _named(inputs, draft.session), model.task, classes, with_proba)
            onnx._session = draft.session
            problem = verify(model, onnx, probe_rows(model, rows[model.feature_columns]))
        except Exception as exc:
            failure = failure or f"ONNX Runtime cannot run the conversion: {_short(exc)}"
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


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300] + ("..." if len(text) > 300 else "")


def _inputs(model: TrainedModel, numeric: Kind = "double") -> list[_Input]:
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
    inputs: list[_Input] = []
    for column in model.feature_columns:
        if not isinstance(column, str):
            raise ValueError(f"feature column {column!r} is not named by a string")
        if column not in levels:
            inputs.append(_Input(column, column, numeric))
            continue
        known = levels[column]
        values = known.tolist()
        if all(type(v) is str for v in values):
            kind: Kind = "string"
        elif all(isinstance(v, (bool, int, np.integer)) for v in values) or (
            known.dtype.kind == "f" and np.all(np.mod(known, 1) == 0)
        ):
            kind = "int64"
        else:
            raise ValueError(
                f"categorical column {column!r} has levels that are neither all strings nor "
                "all integers; ONNX's OneHotEncoder holds only those"
            )
        inputs.append(_Input(column, column, kind, frozenset(values) if refuse_unseen else None))
    return inputs


def _named(inputs: list[_Input], session: Any) -> list[_Input]:
    names = [i.name for i in session.get_inputs()]
    if len(names) != len(inputs):
        raise ValueError(f"the ONNX graph has {len(names)} inputs for {len(inputs)} feature columns")
    return [replace(spec, name=name) for spec, name in zip(inputs, names, strict=True)]


def _to_onnx(model: TrainedModel, inputs: list[_Input]) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    _register_project_converters()
    types = {
        "string": StringTensorType,
        "int64": Int64TensorType,
        "double": DoubleTensorType,
        "float": FloatTensorType,
    }
    initial = [(spec.column, types[spec.kind]([None, 1])) for spec in inputs]
    options = {"zipmap": False} if model.task in ("binary", "multiclass") else None
    onx = convert_sklearn(_convertible(model.pipeline), initial_types=initial, options=options)
    return onx.SerializeToString()


# ---- verification ----------------------------------------------------------------------------
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
        except _Refused as exc:
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


# ---- plugging into a compiled pipeline -------------------------------------------------------
def accelerate(
    compiled: CompiledPipeline, sample: pd.DataFrame, only: set[str] | None = None
) -> tuple[CompiledPipeline, dict[str, str]]:
    """``compiled`` with each Score Model step whose model converts and verifies scoring through an
    ``AcceleratedModel``, and per Score Model step ``ONNX`` or the reason it stays on scikit-learn.

    ``sample`` is what the pipeline's input receives; the rows each Score Model step sees are found
    by scoring it. ``only`` restricts acceleration to these steps (the rest stay on scikit-learn).
    """
    candidates = {s.node_id for s in compiled.steps if isinstance(s.component, ScoreModel)}
    if not candidates:
        return compiled, {}
    decisions: dict[str, str] = {}
    try:
        seen = _score_model_inputs(compiled, sample, candidates)
    except Exception as exc:
        return compiled, {
            node: f"scikit-learn: the sample rows do not score ({_short(exc)})" for node in candidates
        }
    static = dict(compiled.static)
    steps = list(compiled.steps)
    done: dict[int, Conversion] = {}
    for position, step in enumerate(steps):
        if step.node_id not in candidates:
            continue
        if only is not None and step.node_id not in only:
            decisions[step.node_id] = "scikit-learn: not verified at deployment"
            continue
        ref = step.inputs.get("trained_model")
        model = static.get(ref) if ref is not None else None
        if type(model) is not TrainedModel:
            decisions[step.node_id] = (
                "scikit-learn: the model is computed from the request"
                if model is None
                else f"scikit-learn: a {type(model).__name__} is not converted"
            )
            continue
        rows = seen.get(step.node_id)
        if rows is None or len(rows) == 0:
            decisions[step.node_id] = "scikit-learn: no sample row reaches this step"
            continue
        if id(model) not in done:
            try:
                done[id(model)] = try_convert(model, rows)
            except Exception as exc:
                done[id(model)] = Conversion(None, f"the conversion failed: {_short(exc)}")
        result = done[id(model)]
        if result.onnx is None:
            decisions[step.node_id] = f"scikit-learn: {result.reason}"
            log.info("Score Model %s stays on scikit-learn: %s", step.node_id, result.reason)
            continue
        key = (step.node_id, "trained_model (onnx)")
        static[key] = AcceleratedModel.wrap(model, result.onnx)
        steps[position] = replace(step, inputs={**step.inputs, "trained_model": key})
        decisions[step.node_id] = ONNX
    if not any(v == ONNX for v in decisions.values()):
        return compiled, decisions
    return replace(compiled, steps=steps, static=static), decisions


def _score_model_inputs(
    compiled: CompiledPipeline, sample: pd.DataFrame, nodes: set[str]
) -> dict[str, pd.DataFrame]:
    """Run ``compiled`` on ``sample`` (as ``CompiledPipeline.score`` does), keeping what each of
    ``nodes`` receives on its dataset port."""
    values: dict[tuple[str, str], Any] = dict(compiled.static)
    values[(compiled.input_node, compiled.input_port)] = sample
    ctx = RunContext()
    seen: dict[str, pd.DataFrame] = {}
    for step in compiled.steps:
        inputs = {port: values[ref] for port, ref in step.inputs.items()}
        if step.node_id in nodes and isinstance(inputs.get("dataset"), pd.DataFrame):
            seen[step.node_id] = inputs["dataset"]
        for port_id, value in step.component.run(inputs, step.params, ctx).items():
            values[(step.node_id, port_id)] = value
    return seen


# ---- the project's estimators ------------------------------------------------------------------
def _convertible(pipeline: Any) -> Any:
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
            assert isinstance(model, LogisticRegression)
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


def _replace_nested(estimator: Any, swap: Any) -> Any:
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


def _register_project_converters() -> None:
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
