"""Plugging verified ONNX models into a compiled real-time pipeline.

Each Score Model step whose model converts and verifies on the rows the deployment's sample
brings it scores through an ``AcceleratedModel``; every other step stays on scikit-learn, with
the reason recorded.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pandas as pd

from core.components.base import RunContext
from core.components.models import TrainedModel
from core.components.training import ScoreModel
from core.serving.onnx.convert import Conversion, short, try_convert
from core.serving.onnx.model import AcceleratedModel
from core.serving.scoring import CompiledPipeline

log = logging.getLogger(__name__)

ONNX = "onnx"  # the acceleration value of a step that scores with ONNX Runtime


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
        seen = score_model_inputs(compiled, sample, candidates)
    except Exception as exc:
        return compiled, {
            node: f"scikit-learn: the sample rows do not score ({short(exc)})" for node in candidates
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
                done[id(model)] = Conversion(None, f"the conversion failed: {short(exc)}")
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


def score_model_inputs(
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
