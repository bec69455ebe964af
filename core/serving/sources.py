"""The trained model to export and the rows it was trained on: from a run, an asset or an endpoint.

The rows give the MLflow model its input example and the ONNX conversion something to verify
on; for a real-time endpoint they are what the endpoint's Score Model receives from its
training dataset, and the endpoint's captured input schema becomes the model's signature.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.components import PortType, lookup
from core.components.data import Dataset
from core.components.models import TrainedModel
from core.components.training import ScoreModel
from core.errors import Conflict, InvalidRequest, NotFound, Problem
from core.pipelines.document import Pipeline
from core.registry import assets, datasets, runs
from core.serving import deployments
from core.serving.model_export import ExportSource
from core.serving.onnx import score_model_inputs
from core.serving.scoring import compile_pipeline
from core.storage.artifacts import Artifacts
from core.storage.store import Store


class ModelSources:
    def __init__(self, store: Store, artifacts: Artifacts) -> None:
        self.store, self.artifacts = store, artifacts

    def from_run(self, run_id: str, node_id: str) -> ExportSource:
        node = runs.get_node(self.store, run_id, node_id)
        component = lookup(node.component)
        port = next((p for p in component.outputs if p.type == PortType.MODEL), None) if component else None
        if port is None or port.id not in node.outputs:
            raise NotFound(f"Node {node_id!r} of run {run_id!r} has no trained model output")
        model = self._model(node.outputs[port.id], node_id)
        rows = self._training_rows(run_id, node_id)
        return ExportSource(
            model=model,
            rows=rows,
            description=f"run {run_id} node {node_id}",
            details={"run_id": run_id, "node": node_id, "port": port.id},
        )

    def from_asset(self, name: str, version: int | None) -> ExportSource:
        entry = assets.get(self.store, name, version)
        if entry.kind != PortType.MODEL:
            raise InvalidRequest(
                f"Asset {name!r} is a {entry.kind.value}, not a trained model",
                [
                    Problem(
                        code="not_a_model",
                        field="asset",
                        message="Only a trained model (not a clustering model or a transformation) is "
                        "exported",
                    )
                ],
            )
        run_id, _, node_id = entry.source.partition("/")
        node_id = node_id.split("/")[0]
        if not run_id or not node_id:
            raise Conflict(
                f"Asset {name!r} names no training run",
                [
                    Problem(
                        code="no_training_rows",
                        field="asset",
                        message="The rows the model was trained on are unknown",
                    )
                ],
            )
        rows = self._training_rows(run_id, node_id)
        return ExportSource(
            model=self._model(entry.ref, node_id),
            rows=rows,
            description=f"asset {entry.name} version {entry.version}",
            details={"asset": entry.name, "asset_version": entry.version, "run_id": run_id, "node": node_id},
        )

    def from_realtime(self, name: str, node_id: str | None = None) -> ExportSource:
        """The endpoint's scoring path (for MLflow) and the model of its Score Model step (for ONNX).

        The ONNX file is the model alone, so it is refused where the steps before the model
        change feature values (e.g. a replayed normalisation): it would answer differently from
        the endpoint on the same request. The MLflow model carries those steps and does not.
        """
        deployed = deployments.get(self.store, name)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(deployed.pipeline_ref))
        compiled = compile_pipeline(pipeline, self.store, self.artifacts)
        scorers = [
            s
            for s in compiled.steps
            if isinstance(s.component, ScoreModel)
            and "trained_model" in s.inputs
            and isinstance(compiled.static.get(s.inputs["trained_model"]), TrainedModel)
        ]
        if node_id is not None and node_id not in {s.node_id for s in scorers}:
            raise NotFound(
                f"Endpoint {name!r} has no Score Model node {node_id!r}; it has "
                f"{[s.node_id for s in scorers]}"
            )
        if not scorers:
            raise Conflict(
                "The endpoint scores with no trained model",
                [
                    Problem(
                        code="not_a_model",
                        field="realtime",
                        message=f"Endpoint {name!r} has no Score Model step",
                    )
                ],
            )
        step = next(s for s in scorers if s.node_id == node_id) if node_id else scorers[0]
        model: TrainedModel = compiled.static[step.inputs["trained_model"]]
        sample = self._schema_rows(pipeline, compiled.input_node)
        sample = sample.drop(columns=[c for c in compiled.drop_columns if c in sample.columns])
        program = {
            "entry": (compiled.input_node, compiled.input_port),
            "exit": (compiled.output_node, compiled.output_port),
            "steps": [(s.node_id, s.component, s.params, s.inputs) for s in compiled.steps],
            "static": dict(compiled.static),
        }
        return ExportSource(
            model=model,
            rows=sample,
            schema=deployed.schema_,
            program=program,
            score=compiled.score,
            onnx_refusal=self._onnx_refusal(compiled, scorers, step, sample, node_id),
            description=f"real-time endpoint {name} deployment {deployed.deployment}",
            details={
                "realtime_endpoint": name,
                "deployment": deployed.deployment,
                "model_node": step.node_id,
            },
        )

    @staticmethod
    def _onnx_refusal(
        compiled: Any, scorers: list[Any], step: Any, sample: pd.DataFrame, node_id: str | None
    ) -> str | None:
        if len(scorers) > 1 and node_id is None:
            return f"the endpoint scores with {[s.node_id for s in scorers]}; pass ?node=<one of them>"
        seen = score_model_inputs(compiled, sample, {step.node_id}).get(step.node_id)
        if seen is None or seen.empty:
            return "no training row reaches the model"
        changed = _changed_features(step_model(compiled, step), sample, seen)
        if changed:
            return (
                f"steps before {step.node_id} change column(s) {changed[:5]}, so the model alone "
                "answers differently from the endpoint; export the endpoint as an MLflow model, or "
                "the model from its training run"
            )
        return None

    # ---- helpers --------------------------------------------------------------------------
    def _model(self, ref: str, node_id: str) -> TrainedModel:
        model = self.artifacts.get(ref, PortType.MODEL)
        if not isinstance(model, TrainedModel):
            raise InvalidRequest(
                "Not a trained model",
                [
                    Problem(
                        code="not_a_model", node=node_id, message=f"The output is a {type(model).__name__}"
                    )
                ],
            )
        return model

    def _training_rows(self, run_id: str, node_id: str) -> pd.DataFrame:
        """What the training node read on its dataset port in that run."""
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        component = lookup(pipeline.node(node_id).component)
        assert component is not None
        data_ports = {p.id for p in component.inputs if p.type == PortType.DATA}
        for edge in pipeline.edges:
            port = component.input_port(edge.target.port)
            if edge.target.node != node_id or port is None or port.id not in data_ports:
                continue
            source = runs.get_node(self.store, run_id, edge.source.node)
            out = lookup(source.component)
            out_port = out.output_port(edge.source.port) if out else None
            if out_port is not None and out_port.id in source.outputs:
                return self._table(source.outputs[out_port.id])
        raise Conflict(
            "The training rows are not available",
            [
                Problem(
                    code="no_training_rows",
                    node=node_id,
                    message=f"Run {run_id} kept no dataset input of {node_id}",
                )
            ],
        )

    def _table(self, ref: str) -> pd.DataFrame:
        if ref.startswith("datasets/"):
            return datasets.read_frame(self.store, ref)
        return self.artifacts.get(ref, PortType.DATA)

    def _schema_rows(self, pipeline: Pipeline, input_node: str) -> pd.DataFrame:
        feeding = [e.source.node for e in pipeline.edges if e.target.node == input_node]
        node = next(
            (pipeline.node(n) for n in feeding if lookup(pipeline.node(n).component) is Dataset), None
        )
        if node is None:
            raise Conflict(
                "No training dataset",
                [
                    Problem(
                        code="no_training_rows", node=input_node, message="No dataset feeds Web Service Input"
                    )
                ],
            )
        entry = datasets.get(self.store, node.parameters["name"], node.parameters["version"])
        return datasets.read_frame(self.store, entry)


def step_model(compiled: Any, step: Any) -> TrainedModel:
    return compiled.static[step.inputs["trained_model"]]


def _changed_features(model: TrainedModel, raw: pd.DataFrame, seen: pd.DataFrame) -> list[str]:
    changed: list[str] = []
    for column in model.feature_columns:
        if column not in raw.columns or column not in seen.columns:
            changed.append(column)
            continue
        try:
            before = raw.loc[seen.index, column]
        except KeyError:
            return list(model.feature_columns)  # rows were re-indexed: cannot tell, so refuse
        try:
            pd.testing.assert_series_equal(
                before.reset_index(drop=True),
                seen[column].reset_index(drop=True),
                check_dtype=False,
                check_names=False,
            )
        except AssertionError:
            changed.append(column)
    return changed


def describe(source: ExportSource) -> dict[str, Any]:
    return {"description": source.description, **source.details}
