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

from core.components import PortType, lookup, plots
from core.components.evaluation import binary_target
from core.errors import ComponentError, InvalidRequest, NotFound, Problem
from core.pipelines.document import Pipeline, canonical_parameter
from core.registry import runs
from core.registry.runs import NodeRecord, RunRecord
from core.storage.artifacts import Artifacts
from core.storage.store import Store

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
    plots: list[str] = []  # the overlaid two-class curves there are (by name)


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
    first = component.inputs[0].id if component and component.inputs else None
    return scored_sources(doc, evaluate_node).get(first) if first else None


def scored_sources(doc: Pipeline, evaluate_node: str) -> dict[str, tuple[str, str]]:
    """The (node, output port) feeding each connected input of an Evaluate Model node, by the
    input's port id. Edges whose ports the catalogue no longer knows are left out."""
    ids = {n.id for n in doc.nodes}
    component = lookup(doc.node(evaluate_node).component) if evaluate_node in ids else None
    found: dict[str, tuple[str, str]] = {}
    for edge in doc.edges:
        if component is None or edge.target.node != evaluate_node or edge.source.node not in ids:
            continue
        target = component.input_port(edge.target.port)
        source = lookup(doc.node(edge.source.node).component)
        port = source.output_port(edge.source.port) if source else None
        if target is not None and port is not None:
            found[target.id] = (edge.source.node, port.id)
    return found


def _effective_parameters(doc: Pipeline) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for node in doc.nodes:
        component = lookup(node.component)
        if component is None:
            continue
        values = {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}
        with contextlib.suppress(ValueError):  # a run only ever holds a valid document; else as written
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


class RunComparison:
    """The comparison use cases behind ``Service.compare``: read the runs, line them up."""

    def __init__(self, store: Store, artifacts: Artifacts) -> None:
        self.store, self.artifacts = store, artifacts

    def compare_runs(self, run_ids: list[str]) -> Comparison:
        loaded = [self._run_for_comparison(r) for r in check_run_ids(run_ids)]
        node_metrics = [
            {n.node_id: n.metrics for n in nodes if n.node_id in evaluate_nodes(doc)}
            for _, doc, nodes in loaded
        ]
        curves = any(self._binary_curve(run, doc, nodes) for run, doc, nodes in loaded)
        return Comparison(
            runs=[
                ComparedRun(
                    run_id=run.run_id,
                    experiment=run.experiment,
                    pipeline_name=run.pipeline_name,
                    status=run.status.value,
                    created_at=run.created_at.isoformat(),
                    label=_run_label(run),
                )
                for run, _, _ in loaded
            ],
            parameters=compare_parameters(
                [doc for _, doc, _ in loaded], [run.parameter_assignments for run, _, _ in loaded]
            ),
            metrics=compare_metrics(node_metrics),
            plots=list(CURVE_PLOTS) if curves else [],
        )

    def compare_plot(self, run_ids: list[str], name: str) -> bytes:
        """One plot with the two-class curve of each run's first two-class Evaluate Model."""
        draw = {"roc_curve": plots.roc_curve, "precision_recall_curve": plots.precision_recall_curve}.get(
            name
        )
        if draw is None:
            raise NotFound(f"No comparison plot {name!r}; plots: {list(CURVE_PLOTS)}")
        series = []
        for run, doc, nodes in (self._run_for_comparison(r) for r in check_run_ids(run_ids)):
            curve = self._binary_curve(run, doc, nodes)
            if curve is not None:
                series.append((_run_label(run), *curve))
        if not series:
            raise NotFound("None of these runs has a two-class Evaluate Model result")
        return draw(series)

    def _run_for_comparison(self, run_id: str) -> tuple[RunRecord, Pipeline, list[NodeRecord]]:
        run = runs.get_run(self.store, run_id)
        doc = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        return run, doc, runs.get_nodes(self.store, run_id)

    def _binary_curve(self, run: RunRecord, doc: Pipeline, nodes: list[NodeRecord]) -> tuple[Any, Any] | None:
        """(actual is positive, P(positive)) of the first two-class Evaluate Model, if any."""
        records = {n.node_id: n for n in nodes}
        for node_id in evaluate_nodes(doc):
            source = scored_source(doc, node_id)
            record = records.get(source[0]) if source else None
            if source is None or record is None or source[1] not in record.outputs:
                continue
            scored = self.artifacts.get(record.outputs[source[1]], PortType.DATA)
            if scored.attrs.get("task") != "binary":
                continue
            try:
                positive, probability, _ = binary_target(scored)
            except ComponentError:
                continue
            if 0 < positive.sum() < len(positive):
                return positive, probability
        return None


def _run_label(run: RunRecord) -> str:
    return f"{run.pipeline_name} ({run.run_id[:8]})"
