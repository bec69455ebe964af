"""Run one node: load its inputs, run its component, store its outputs, record the result.

Used by the durable activity (and by anything else that runs nodes). A component's refusal
(:class:`ComponentError`, a parameter error) is the user's problem and is recorded as the
node's failure; anything else is an infrastructure fault and is raised, so the orchestrator's
retry policy can try again.
"""
from __future__ import annotations

import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from core import runs
from core.artifacts import Artifacts
from core.components import RunContext, lookup
from core.components.data import Dataset
from core.datasets import blob_name
from core.errors import ComponentError
from core.graph import parse_parameters
from core.planner import NodePlan
from core.runs import NodeRecord, Status
from core.store import Store


class NodeRequest(BaseModel):
    """The activity input: the node and references to its inputs, never the data itself."""

    run_id: str
    node: NodePlan
    inputs: dict[str, str] = {}


class NodeResult(BaseModel):
    node_id: str
    status: Status
    outputs: dict[str, str] = {}
    error: str | None = None


def run_node(store: Store, artifacts: Artifacts, request: NodeRequest,
             features: Mapping[str, bool] | None = None) -> NodeResult:
    node = request.node
    component = lookup(node.component)
    if component is None:  # validated at submit; only a catalogue change gets here
        raise RuntimeError(f"component {node.component!r} is no longer in the catalogue")
    record = runs.get_node(store, request.run_id, node.id)
    record.status, record.started_at, record.attempts = Status.RUNNING, datetime.now(UTC), record.attempts + 1
    runs.update_node(store, record, "status", "started_at", "attempts")

    ctx = RunContext(features=dict(features or {}))
    try:
        params = parse_parameters(component, node.parameters)
        if component is Dataset:
            outputs = {"dataset": f"datasets/{blob_name(params.name, params.version)}"}
        else:
            values = {port.id: artifacts.get(request.inputs[port.id], port.type)
                      for port in component.inputs if port.id in request.inputs}
            produced = component().run(values, params, ctx)
            outputs = {port.id: artifacts.put(port.type, produced[port.id]) for port in component.outputs}
            record.plots = {name: artifacts.put_bytes(png, "plot", "image/png")
                            for name, png in ctx.plots.items()}
    except (ComponentError, ValidationError) as exc:
        return _fail(store, record, ctx, exc)

    record.status, record.ended_at, record.outputs = Status.FINISHED, datetime.now(UTC), outputs
    record.metrics, record.logs = _plain(ctx.metrics), ctx.logs
    record.error = record.error_code = None
    runs.update_node(store, record, "status", "ended_at", "outputs", "metrics", "logs", "plots",
                     "error", "error_code")
    return NodeResult(node_id=node.id, status=Status.FINISHED, outputs=outputs)


def _fail(store: Store, record: NodeRecord, ctx: RunContext, exc: Exception) -> NodeResult:
    code = exc.code if isinstance(exc, ComponentError) else "ParameterParsing"
    message = str(exc)
    record.status, record.ended_at = Status.FAILED, datetime.now(UTC)
    record.error, record.error_code = message, code
    record.logs = ctx.logs + ["".join(traceback.format_exception_only(exc)).strip()]
    runs.update_node(store, record, "status", "ended_at", "error", "error_code", "logs")
    return NodeResult(node_id=record.node_id, status=Status.FAILED, error=message)


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as JSON-friendly scalars (numpy numbers become floats)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        out[key] = float(value) if hasattr(value, "__float__") and not isinstance(value, (bool, int)) else value
    return out
