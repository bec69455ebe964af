"""Compare runs: parameters side by side with differences marked, Evaluate Model metrics in one
table, and two-class curves of every run in one plot.

The most asked-for view of pipeline run UIs. Parameters are compared after validation, so a
value left at its default equals the same value written out; a node missing from a run shows
as absent (``None``) and counts as a difference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from core.components import lookup
from core.errors import InvalidRequest, Problem
from core.pipelines.document import Pipeline, canonical_parameter

MIN_RUNS, MAX_RUNS = 2, 5
EVALUATE = "evaluate_model"
CURVE_PLOTS = ("roc_curve", "precision_recall_curve")


class ComparedRun(BaseModel):
    run_id: str
    experiment: str
    pipeline_name: str
    status: str
    created_at: str
    label: str


class ParameterRow(BaseModel):
    node: str
    component: str | None
    parameter: str
    label: str
    values: list[Any]
    differs: bool


class MetricRow(BaseModel):
    node: str
    metric: str
    values: list[float | None]
    differs: bool


class Comparison(BaseModel):
    runs: list[ComparedRun]
    parameters: list[ParameterRow]
    metrics: list[MetricRow]
    plots: dict[str, str] = {}


def check_run_ids(run_ids: Sequence[str]) -> list[str]:
    """Two to five distinct run ids, in the order given."""
    unique = list(dict.fromkeys(r for r in run_ids if r))
    if not MIN_RUNS <= len(unique) <= MAX_RUNS:
        raise InvalidRequest(
            "Pick two to five runs to compare",
            [
                Problem(
                    code="invalid_query",
                    field="runs",
                    message=f"runs is a comma-separated list of {MIN_RUNS} to {MAX_RUNS} distinct run ids; "
                    f"got {len(unique)}",
                )
            ],
        )
    return unique


def compare_parameters(docs: Sequence[Pipeline], assignments: Sequence[dict[str, Any]]) -> list[ParameterRow]:
    """One row per (node, parameter) that any run has, then one per pipeline parameter."""
    per_run = [_effective_parameters(doc) for doc in docs]
    rows: list[ParameterRow] = []
    for node_id in _ordered(key for values in per_run for key in values):
        components = {values[node_id][0] for values in per_run if node_id in values}
        component = next(iter(components)) if len(components) == 1 else None
        names = _ordered(name for values in per_run if node_id in values for name in values[node_id][1])
        for name in names:
            row = [values[node_id][1].get(name) if node_id in values else None for values in per_run]
            rows.append(
                ParameterRow(
                    node=node_id,
                    component=component,
                    parameter=name,
                    label=_label(component, name),
                    values=row,
                    differs=_differs(row),
                )
            )
    for name in _ordered(key for given in assignments for key in given):
        row = [given.get(name) for given in assignments]
        rows.append(
            ParameterRow(
                node="pipeline", component=None, parameter=name, label=name, values=row, differs=_differs(row)
            )
        )
    return rows


def compare_metrics(node_metrics: Sequence[dict[str, dict[str, Any]]]) -> list[MetricRow]:
    """``node_metrics[i]`` maps each Evaluate Model node of run ``i`` to its metrics."""
    rows = []
    for node_id in _ordered(key for found in node_metrics for key in found):
        for metric in _ordered(m for found in node_metrics for m in found.get(node_id, {})):
            row = [_number(found.get(node_id, {}).get(metric)) for found in node_metrics]
            rows.append(MetricRow(node=node_id, metric=metric, values=row, differs=_differs(row)))
    return rows


def evaluate_nodes(doc: Pipeline) -> list[str]:
    return [n.id for n in doc.nodes if (c := lookup(n.component)) is not None and c.id == EVALUATE]


def scored_source(doc: Pipeline, evaluate_node: str) -> tuple[str, str] | None:
    """The (node, output port) feeding an Evaluate Model node's first (left) input."""
    component = lookup(doc.node(evaluate_node).component)
    first = component.inputs[0] if component else None
    for edge in doc.edges:
        if edge.target.node == evaluate_node and first is not None and first.matches(edge.target.port):
            source = lookup(doc.node(edge.source.node).component)
            port = source.output_port(edge.source.port) if source else None
            return (edge.source.node, port.id) if port else None
    return None


def _effective_parameters(doc: Pipeline) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for node in doc.nodes:
        component = lookup(node.component)
        if component is None:
            continue
        values = {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}
        # A run only ever holds a valid document; keep what was written if not.
        with contextlib.suppress(ValueError):
            values = component.Parameters.model_validate(values).model_dump(mode="json")
        found[node.id] = (component.id, values)
    return found


def _label(component_id: str | None, name: str) -> str:
    component = lookup(component_id) if component_id else None
    field = component.Parameters.model_fields.get(name) if component else None
    return field.alias if field and field.alias else name


def _differs(values: list[Any]) -> bool:
    return any(v != values[0] for v in values[1:])


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ordered(keys: Any) -> list[str]:
    return list(dict.fromkeys(keys))
