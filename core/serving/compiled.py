"""A real-time inference pipeline compiled into one row-oriented scoring function.

The DataFrame path (``CompiledPipeline.score``) builds a pandas frame per request and replays
every step on it; for one row that costs far more than the model. Here each replayed step of a
deployed pipeline becomes an operation on plain Python values held column by column (a
``Table``: column name -> list of values, plus which input rows are still there), so one row
costs a few dictionary operations per step and one ONNX Runtime call, and a batch of rows is
handled a column at a time (the model, and any arithmetic numpy does, over the whole column).

How a step compiles depends on the columns and dtypes it receives, which depend on the request
(optional columns left out, an integer column with a null is a float column in pandas). So a
program is compiled per *signature* (the present columns and their effective types), from the
DataFrame path itself: the training rows are run through the DataFrame path, and each step is
compiled from the frames it actually received and produced. A program is used only after it gave
exactly the DataFrame path's answers (same columns, values, kept and dropped rows) on those rows,
in chunks and row by row. Missing values are ``None`` throughout (pandas' NaN and NA alike).

Anything a program does not handle the same way (a missing value reaching the model, a level a
strict model refuses, a type ONNX would not take) raises :class:`Fallback`, and that request takes
the DataFrame path, which scores it or raises its usual error. A step with no compiled form
(Execute Python Script, Join Data, a model ONNX cannot run...) makes the whole
pipeline stay on the DataFrame path, and the endpoint says which step and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from core.components.base import PortType, RunContext
from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES
from core.errors import ComponentError
from core.serving.deployments import ColumnSpec
from core.serving.requests import Columns, frame
from core.serving.scoring import CompiledPipeline, _Step

if TYPE_CHECKING:
    from core.components.manipulation import EditMetadataParams
    from core.components.math_ops import ApplyMathOperationParams
    from core.components.training import ScoreModelParams

CHUNK_ROWS = 32  # verification chunks: below the DataFrame path's ONNX batch limit, so both use ONNX
SINGLE_ROWS = 3  # first rows of each signature verified one by one too

Ref = tuple[str, str]


class Fallback(Exception):
    """This request takes the DataFrame path (which scores it or raises the proper error)."""


class NotCompilable(Exception):
    """The pipeline (for this signature) has a step with no compiled form; the message says why."""


@dataclass(frozen=True)
class Drop:
    """An input row a step removed, so it has no prediction."""

    row: int
    node: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "node": self.node, "reason": self.reason}


@dataclass
class Table:
    columns: Columns  # name -> values, in column order
    rows: list[int]  # the input row number of each value
    drops: list[Drop] = field(default_factory=list)


Op = Callable[[Table], Table]


@dataclass
class Program:
    """The compiled steps of one signature, in order."""

    signature: tuple[tuple[str, str], ...]
    ops: list[tuple[str, Op]]

    def run(self, columns: Columns, n: int) -> Table:
        table = Table(self.entry(columns), list(range(n)))
        for _, op in self.ops:
            table = op(table)
        return table

    def entry(self, columns: Columns) -> Columns:
        """Integer columns holding a null are float columns in the frame: make them so here too."""
        out: Columns = {}
        for name, kind in self.signature:
            values = columns[name]
            if kind == "number!":
                values = [None if v is None else float(v) for v in values]
            out[name] = values
        return out


# ---- signatures -------------------------------------------------------------------------------
Signature = tuple[tuple[str, str], ...]


def signature(columns: Columns, schema: Sequence[ColumnSpec] | Sequence[tuple[str, str]]) -> Signature:
    """The present columns in schema order with their effective type ("number!": an integer
    column with a null, which pandas holds as float64). ``schema`` may be given as (name, type)
    pairs, read once per deployment."""
    sig = []
    for spec in schema:
        name, kind = (spec.name, spec.type) if isinstance(spec, ColumnSpec) else spec
        values = columns.get(name)
        if values is None:
            continue
        sig.append((name, "number!" if kind == "integer" and None in values else kind))
    return tuple(sig)


def signature_schema(sig: tuple[tuple[str, str], ...], schema: list[ColumnSpec]) -> list[ColumnSpec]:
    specs = {s.name: s for s in schema}
    return [
        specs[name].model_copy(update={"type": "number"}) if kind == "number!" else specs[name]
        for name, kind in sig
    ]


def sample_columns(
    sample: pd.DataFrame, schema: list[ColumnSpec], sig: tuple[tuple[str, str], ...]
) -> Columns:
    """The sample's rows that fit ``sig`` (no null in its integer columns), as request values."""
    frame_ = sample[[name for name, _ in sig]]
    columns = {name: [plain(v) for v in frame_[name].tolist()] for name, _ in sig}
    keep = [
        i
        for i in range(len(frame_))
        if all(columns[name][i] is not None for name, kind in sig if kind == "integer")
    ]
    out: Columns = {}
    for name, kind in sig:
        values = [columns[name][i] for i in keep]
        if kind == "integer":
            values = [int(v) for v in values]
        elif kind in ("number", "number!"):
            values = [None if v is None else float(v) for v in values]
        out[name] = values
    return out


# ---- plain values out of a frame -----------------------------------------------------------------
def plain(value: Any) -> Any:
    """A JSON-ready Python value: missing (None, NaN, NA, NaT) and infinite numbers become None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return value.isoformat()
    return value


def frame_columns(df: pd.DataFrame) -> Columns:
    return {str(c): [plain(v) for v in df.iloc[:, i].tolist()] for i, c in enumerate(df.columns)}


def table_columns(table: Table) -> Columns:
    """The program's output made JSON-ready as :func:`frame_columns` makes a frame."""
    out: Columns = {}
    for name, values in table.columns.items():
        kinds = set(map(type, values))
        if not kinds <= _PLAIN or (
            float in kinds and not all(math.isfinite(v) for v in values if type(v) is float)
        ):
            values = [plain(v) for v in values]
        out[name] = values
    return out


_PLAIN = {str, int, bool, float, type(None)}


def records(columns: Columns, n: int) -> list[dict[str, Any]]:
    names = list(columns)
    if not names:
        return [{} for _ in range(n)]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


# ---- the DataFrame path, traced ----------------------------------------------------------------------
@dataclass
class StepTrace:
    step: _Step
    inputs: dict[str, Any]
    outputs: dict[str, Any]


def trace(
    compiled: CompiledPipeline, rows: pd.DataFrame, overrides: dict[str, Any] | None = None
) -> tuple[pd.DataFrame, list[Drop], list[StepTrace]]:
    """``compiled.score(rows)`` with what each step saw, and the input rows steps removed."""
    values: dict[Ref, Any] = dict(compiled.static)
    values[(compiled.input_node, compiled.input_port)] = rows
    ctx = RunContext()
    traces: list[StepTrace] = []
    drops: list[Drop] = []
    for step in compiled.steps:
        inputs = {port: values[ref] for port, ref in step.inputs.items()}
        params = (overrides or {}).get(step.node_id, step.params)
        outputs = step.component.run(inputs, params, ctx)
        drops += _removed(step, inputs, outputs, compiled.static)
        for port_id, value in outputs.items():
            values[(step.node_id, port_id)] = value
        traces.append(StepTrace(step, inputs, outputs))
    return values[(compiled.output_node, compiled.output_port)], drops, traces


def _removed(
    step: _Step, inputs: dict[str, Any], outputs: dict[str, Any], static: dict[Ref, Any]
) -> list[Drop]:
    """Rows of the step's data input missing from its data output (the index keeps row numbers)."""
    frames_in = [v for v in inputs.values() if isinstance(v, pd.DataFrame)]
    frames_out = [v for v in outputs.values() if isinstance(v, pd.DataFrame)]
    if len(frames_in) != 1 or len(frames_out) != 1 or len(frames_out[0]) >= len(frames_in[0]):
        return []
    before = frames_in[0].index.tolist()
    if not all(type(i) is int for i in before):
        return []  # the index no longer numbers the request's rows
    kept = set(frames_out[0].index.tolist())
    reason = f"removed by {step_label(step, inputs)}"
    return [Drop(i, step.node_id, reason) for i in before if i not in kept]


_TRANSFORM_LABELS = {
    "CleaningTransform": "Clean Missing Data",
    "NormalizationTransform": "Normalize Data",
    "BinningTransform": "Group Data into Bins",
    "IndicatorTransform": "Convert to Indicator Values",
}


def step_label(step: _Step, inputs: dict[str, Any]) -> str:
    if step.component.id == "apply_transformation":
        name = type(inputs.get("transformation")).__name__
        mode = getattr(inputs.get("transformation"), "mode", None)
        label = _TRANSFORM_LABELS.get(name, name)
        return f"{label} ({mode})" if name == "CleaningTransform" and mode else label
    return step.component.name


# ---- compiling ---------------------------------------------------------------------------------------
def compile_program(
    compiled: CompiledPipeline,
    schema: list[ColumnSpec],
    sig: tuple[tuple[str, str], ...],
    sample: pd.DataFrame,
) -> Program:
    """The verified program for ``sig``; :class:`NotCompilable` says why there is none."""
    columns = sample_columns(sample, schema, sig)
    n = len(next(iter(columns.values()), []))
    if n == 0:
        raise NotCompilable("no training row has these columns to compile and verify on")
    frame_ = frame(columns, signature_schema(sig, schema))
    try:
        _, _, traces = trace(compiled, frame_)
    except ComponentError as exc:
        raise NotCompilable(f"the training rows do not score ({exc})") from exc
    dynamic: set[Ref] = {(compiled.input_node, compiled.input_port)}
    ops: list[tuple[str, Op]] = []
    current: Ref = (compiled.input_node, compiled.input_port)
    for t in traces:
        data_ports = [p for p, ref in t.step.inputs.items() if ref in dynamic]
        if not data_ports:
            continue  # does not depend on the request (cannot happen for steps after the input)
        if len(data_ports) != 1 or t.step.inputs[data_ports[0]] != current:
            raise NotCompilable(
                f"{t.step.node_id} ({t.step.component.name}): only a chain of steps is compiled"
            )
        outs = [p.id for p in t.step.component.outputs if p.type == PortType.DATA]
        if len(outs) != 1:
            raise NotCompilable(f"{t.step.node_id} ({t.step.component.name}) has several outputs")
        op = _compile_step(t, data_ports[0], outs[0])
        ops.append((t.step.node_id, op))
        current = (t.step.node_id, outs[0])
        dynamic.add(current)
    if current != (compiled.output_node, compiled.output_port):
        raise NotCompilable("the output is not at the end of the chain of steps")
    program = Program(sig, ops)
    problem = verify(program, compiled, columns, signature_schema(sig, schema))
    if problem:
        raise NotCompilable(problem)
    return program


def _compile_step(t: StepTrace, data_port: str, out_port: str) -> Op:
    component = t.step.component
    before, after = t.inputs[data_port], t.outputs[out_port]
    if not isinstance(before, pd.DataFrame) or not isinstance(after, pd.DataFrame):
        raise NotCompilable(f"{t.step.node_id} ({component.name}) does not pass a table on")
    if before.columns.has_duplicates or after.columns.has_duplicates:
        raise NotCompilable(f"{t.step.node_id} ({component.name}): duplicate column names")
    compiler = _COMPILERS.get(component.id)
    if compiler is None:
        raise NotCompilable(f"{t.step.node_id} ({component.name}) has no compiled form")
    return compiler(t, before, after)


def _names(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns]


def _identity(t: StepTrace, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    if _names(before) != _names(after):
        raise NotCompilable(f"{t.step.node_id}: the output's columns differ from the input's")
    return lambda table: table


def _select(t: StepTrace, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    names = _names(after)
    if not set(names) <= set(_names(before)):
        raise NotCompilable(f"{t.step.node_id}: the selection adds columns")

    def select(table: Table) -> Table:
        cols = table.columns
        return Table({n: cols[n] for n in names}, table.rows, table.drops)

    return select


def _edit_metadata(t: StepTrace, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    # _COMPILERS picks each function by component id, so the step's parameters are its own.
    if cast("EditMetadataParams", t.step.params).data_type != "Unchanged":
        raise NotCompilable(f"{t.step.node_id} (Edit Metadata): type conversions are not compiled")
    old, new = _names(before), _names(after)
    if len(old) != len(new):
        raise NotCompilable(f"{t.step.node_id} (Edit Metadata) changes the number of columns")
    pairs = list(zip(old, new, strict=True))

    def edit(table: Table) -> Table:
        cols = table.columns
        return Table({n: cols[o] for o, n in pairs}, table.rows, table.drops)

    return edit


def _apply_transformation(t: StepTrace, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    transform = t.inputs.get("transformation")
    compiler = _TRANSFORMS.get(type(transform).__name__)
    if compiler is None:
        raise NotCompilable(
            f"{t.step.node_id} (Apply Transformation): a {type(transform).__name__} has no compiled form"
        )
    return compiler(t, transform, before, after)


def _cleaning(t: StepTrace, transform: Any, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    names = _names(before)
    present = [c for c in transform.columns if c in names]
    expected = list(names)
    indicators = []
    if transform.indicator:
        for c in present:
            if f"{c}_isMissing" not in expected:
                expected.append(f"{c}_isMissing")
            indicators.append((c, f"{c}_isMissing"))
    removing = transform.mode == "Remove entire row"
    fills: list[tuple[str, Any]] = []
    if not removing:
        for c, value in transform.fill_values.items():
            if c not in names:
                continue
            dtype = str(before[c].dtype)
            if str(after[c].dtype) != dtype:
                raise NotCompilable(f"{t.step.node_id} (Clean Missing Data): filling {c!r} changes its type")
            if dtype == "float64":
                fills.append((c, float(value)))
            elif dtype == "int64":
                continue  # an int64 column holds no missing value
            elif dtype in ("str", "string", "object") and isinstance(value, str):
                fills.append((c, value))
            else:
                raise NotCompilable(
                    f"{t.step.node_id} (Clean Missing Data): filling a {dtype} column is not compiled"
                )
    expected = [c for c in expected if c not in set(transform.drop_columns)]
    if expected != _names(after):
        raise NotCompilable(f"{t.step.node_id} (Clean Missing Data): unexpected output columns")
    drop_columns = set(transform.drop_columns)
    node, reason = t.step.node_id, f"removed by {step_label(t.step, t.inputs)}"

    def clean(table: Table) -> Table:
        cols = dict(table.columns)
        rows, drops = table.rows, table.drops
        for c, flag in indicators:
            cols[flag] = [v is None for v in cols[c]]
        if removing and present:
            checked = [cols[c] for c in present]
            keep = [i for i in range(len(rows)) if all(values[i] is not None for values in checked)]
            if len(keep) < len(rows):
                gone = set(range(len(rows))) - set(keep)
                drops = drops + [Drop(rows[i], node, reason) for i in sorted(gone)]
                rows = [rows[i] for i in keep]
                cols = {n: [values[i] for i in keep] for n, values in cols.items()}
        for c, value in fills:
            values = cols[c]
            if None in values:
                cols[c] = [value if v is None else v for v in values]
        if drop_columns:
            cols = {n: v for n, v in cols.items() if n not in drop_columns}
        return Table(cols, rows, drops)

    return clean


_NUMERIC = {"float64", "int64", "float32", "int32"}


def _normalization(t: StepTrace, transform: Any, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    names = _names(before)
    present = [c for c in transform.columns if c in names]
    if any(str(before[c].dtype) not in _NUMERIC for c in present) or _names(after) != names:
        raise NotCompilable(f"{t.step.node_id} (Normalize Data): a column is not a plain numeric one")
    linear = transform.method in ("ZScore", "MinMax")
    scaled = [(c, transform.centers.get(c), transform.scales.get(c)) for c in present]
    constant = 0.0 if transform.zero_for_constant else None

    def linear_scale(values: list[Any], center: float, scale: float) -> list[Any]:
        if scale == 0:
            return [None if v is None else constant for v in values]
        return [None if v is None else (float(v) - center) / scale for v in values]

    def normalize(table: Table) -> Table:
        cols = dict(table.columns)
        for c, center, scale in scaled:
            if linear:
                cols[c] = linear_scale(cols[c], center, scale)
            else:  # the transform's own numpy code, over the whole column
                x = np.array([np.nan if v is None else v for v in cols[c]], dtype="float64")
                cols[c] = [plain(v) for v in transform._scale(x, c).tolist()]
        return Table(cols, table.rows, table.drops)

    return normalize


def _indicators(t: StepTrace, transform: Any, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    """Convert to Indicator Values: a 0/1 column per training level (compared as pandas compares
    objects: ``==``), and one for missing values if training had any."""
    names = _names(before)
    if any(c not in names for c in transform.columns):
        raise NotCompilable(f"{t.step.node_id} (Convert to Indicator Values): a column is missing")
    plan: list[tuple[str, bool, list[tuple[str, Any]], str | None]] = []
    expected: dict[str, None] = {}
    for c in names:
        keep = c not in transform.columns or not transform.overwrite
        converted = c in transform.columns
        levels = list(zip(transform.names[c], transform.values[c], strict=True)) if converted else []
        missing = transform.missing_names[c] if c in transform.columns else None
        plan.append((c, keep, levels, missing))
        if keep:
            expected[c] = None
        expected.update({name: None for name, _ in levels})
        if missing is not None:
            expected[missing] = None
    if list(expected) != _names(after):
        raise NotCompilable(f"{t.step.node_id} (Convert to Indicator Values): unexpected output columns")

    def indicate(table: Table) -> Table:
        cols = table.columns
        out: Columns = {}
        for c, keep, levels, missing in plan:
            values = cols[c]
            if keep:
                out[c] = values
            for name, level in levels:
                out[name] = [1 if v is not None and bool(v == level) else 0 for v in values]
            if missing is not None:
                out[missing] = [1 if v is None else 0 for v in values]
        return Table(out, table.rows, table.drops)

    return indicate


def _apply_math(t: StepTrace, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    """Apply Math Operation: the component's own numpy function over each whole column, missing
    values masked as it masks them."""
    from core.components.manipulation import selected
    from core.components.math_ops import _TABLES, UNSUPPORTED, _second_arguments

    params = cast("ApplyMathOperationParams", t.step.params)
    field_name, functions = _TABLES[params.category]
    function = getattr(params, field_name)
    if function in UNSUPPORTED:
        raise NotCompilable(f"{t.step.node_id} (Apply Math Operation): {function} is not supported")
    compute, binary = functions[function]
    try:
        columns = selected(params.column_set, before, "Column set")
        seconds = _second_arguments(before, columns, params) if binary else [None] * len(columns)
    except ComponentError as exc:
        raise NotCompilable(f"{t.step.node_id} (Apply Math Operation): {exc}") from exc
    old, new = _names(before), _names(after)
    mode = params.output_mode
    if mode == "Inplace":
        targets = list(columns)
        if new != old:
            raise NotCompilable(f"{t.step.node_id} (Apply Math Operation): unexpected output columns")
    else:
        targets = new[len(old) :] if mode == "Append" else new
        if len(targets) != len(columns) or (mode == "Append" and new[: len(old)] != old):
            raise NotCompilable(f"{t.step.node_id} (Apply Math Operation): unexpected output columns")
    constant = params.second_argument

    def floats(values: list[Any]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype="float64")

    def math_op(table: Table) -> Table:
        cols = table.columns
        results: Columns = {}
        for column, second, target in zip(columns, seconds, targets, strict=True):
            x = floats(cols[column])
            args = [x]
            missing = np.isnan(x)
            if binary and second is None:
                args.append(np.full(x.shape, constant))
            elif binary and second is not None:
                other = floats(cols[second])
                args.append(other)
                missing = missing | np.isnan(other)
            with np.errstate(all="ignore"):
                result = np.asarray(compute(*args))
            if result.dtype != bool:
                result = result.astype("float64")
            pairs = zip(result.tolist(), missing.tolist(), strict=True)
            results[target] = [None if m else plain(v) for v, m in pairs]
        out = results if mode == "ResultOnly" else {**cols, **results}
        return Table(out, table.rows, table.drops)

    return math_op


def _score_model(t: StepTrace, before: pd.DataFrame, after: pd.DataFrame) -> Op:
    model = t.inputs.get("trained_model")
    onnx = getattr(model, "onnx", None)
    if model is None or onnx is None:
        raise NotCompilable(f"{t.step.node_id} (Score Model): the model is not scored with ONNX Runtime")
    dtypes = {}
    for spec in onnx.inputs:
        if spec.column not in before.columns:
            raise NotCompilable(f"{t.step.node_id} (Score Model): feature column {spec.column!r} is missing")
        dtype = before[spec.column].dtype
        if spec.kind == "string":
            if str(dtype) not in ("str", "string", "object"):
                raise NotCompilable(f"{t.step.node_id}: column {spec.column!r} is not a string column")
        elif not isinstance(dtype, np.dtype) or dtype.kind not in ("iuf" if spec.kind != "int64" else "iubf"):
            raise NotCompilable(
                f"{t.step.node_id}: column {spec.column!r} ({dtype}) does not feed ONNX directly"
            )
        dtypes[spec.column] = dtype
    append = cast("ScoreModelParams", t.step.params).append_score_columns
    score_names = [c for c in _names(after) if c not in set(_names(before))] if append else _names(after)
    if append and _names(after) != _names(before) + score_names:
        raise NotCompilable(f"{t.step.node_id} (Score Model): unexpected output columns")
    task = model.task
    classes = list(model.classes)
    numeric = {"double": np.float64, "float": np.float32}

    plans = []  # (input name, column, kind, numpy dtype of the column, ONNX dtype, known levels)
    for spec in onnx.inputs:
        dtype = dtypes[spec.column]
        target = numeric.get(spec.kind)
        # Python numbers convert to float64 exactly as the column's int64/float64 values cast to it;
        # any other target goes through the column's own dtype first, as the DataFrame path does.
        direct = target is np.float64
        plans.append((spec.name, spec.column, spec.kind, dtype, target, direct, spec.levels))

    def feed(cols: Columns) -> dict[str, np.ndarray]:
        out = {}
        for name, column, kind, dtype, target, direct, levels in plans:
            values = cols[column]
            if None in values:
                raise Fallback(column)  # the model refuses missing values by name
            if kind == "string":
                if not all(type(v) is str for v in values):
                    raise Fallback(column)
                array = np.array(values, dtype=object)
            elif target is not None:
                if not all(map(math.isfinite, values)):
                    raise Fallback(column)
                array = (
                    np.array(values, dtype=target)
                    if direct
                    else np.array(values, dtype=dtype).astype(target, copy=False)
                )
                if not direct and not np.isfinite(array).all():
                    raise Fallback(column)  # e.g. beyond float32's range
            else:
                if not all(float(v).is_integer() for v in values):
                    raise Fallback(column)
                array = np.array(values, dtype=dtype).astype(np.int64)
            if levels is not None and not levels.issuperset(values):
                raise Fallback(column)  # scikit-learn names the unseen level
            out[name] = array.reshape(-1, 1)
        return out

    def score(table: Table) -> Table:
        if not table.rows:
            raise Fallback("no rows")
        labels, proba = onnx.run(feed(table.columns))
        scores: Columns = {SCORED_LABELS: labels.tolist()}
        if proba is not None and task == "binary":
            scores[SCORED_PROBABILITIES] = proba[:, 1].tolist()
        elif proba is not None:
            for i, cls in enumerate(classes):
                scores[f"{SCORED_PROBABILITIES}_{cls}"] = proba[:, i].tolist()
        if list(scores) != score_names:
            raise Fallback("score columns")
        cols = {**table.columns, **scores} if append else scores
        return Table(cols, table.rows, table.drops)

    return score


_COMPILERS: dict[str, Callable[[StepTrace, pd.DataFrame, pd.DataFrame], Op]] = {
    "select_columns_in_dataset": _select,
    "web_service_output": _identity,
    "edit_metadata": _edit_metadata,
    "apply_transformation": _apply_transformation,
    "score_model": _score_model,
    "apply_math_operation": _apply_math,
}
_TRANSFORMS: dict[str, Callable[[StepTrace, Any, pd.DataFrame, pd.DataFrame], Op]] = {
    "CleaningTransform": _cleaning,
    "NormalizationTransform": _normalization,
    "IndicatorTransform": _indicators,
}
COMPILED_COMPONENTS = tuple(_COMPILERS)


# ---- verification ---------------------------------------------------------------------------------
def verify(
    program: Program, compiled: CompiledPipeline, columns: Columns, schema: list[ColumnSpec]
) -> str | None:
    """None if ``program`` answers as the DataFrame path on ``columns`` (in chunks of
    ``CHUNK_ROWS`` and the first rows one by one), else what differed."""
    n = len(next(iter(columns.values()), []))
    slices = [range(i, min(i + CHUNK_ROWS, n)) for i in range(0, n, CHUNK_ROWS)]
    slices += [range(i, i + 1) for i in range(min(SINGLE_ROWS, n))]
    compared = 0
    for rows in slices:
        part = {name: [values[i] for i in rows] for name, values in columns.items()}
        problem = _compare(program, compiled, part, schema, len(rows))
        if problem is None:
            compared += 1
        elif problem != "fallback":
            return (
                f"the compiled path differs from the DataFrame path on training rows {rows.start}-"
                f"{rows.stop - 1}: {problem}"
            )
    if not compared:
        return "every training row took the DataFrame path, so nothing verifies the compiled one"
    return None


def _compare(
    program: Program, compiled: CompiledPipeline, part: Columns, schema: list[ColumnSpec], n: int
) -> str | None:
    try:
        out, drops, _ = trace(compiled, frame(part, schema))
    except ComponentError:
        out = None
    try:
        table = program.run(part, n)
    except Fallback:
        return "fallback"
    except Exception as exc:
        return f"it failed ({type(exc).__name__})"
    if out is None:
        return "the DataFrame path refused rows the compiled path scored"
    want = frame_columns(out)
    got = table_columns(table)
    if list(want) != list(got):
        return f"columns {list(got)[:8]} instead of {list(want)[:8]}"
    for name in want:
        if want[name] != got[name]:
            return f"values of column {name!r} differ"
    if out.index.tolist() != table.rows:
        return "other rows were kept"
    if [(d.row, d.node) for d in drops] != [(d.row, d.node) for d in table.drops]:
        return "other rows were dropped"
    return None
