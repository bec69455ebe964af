"""Turn a finished training run into a batch or real-time inference pipeline.

The designer's rules: each trained model becomes an ``MD-`` node holding the model the run
produced; each fitted transformation becomes a ``TD-`` node feeding Apply Transformation in
place of the node that fitted it; training-only nodes go (learners, Train Model, Tune Model
Hyperparameters, Evaluate Model, Cross Validate Model...); Split Data, SMOTE and Partition and
Sample pass their input straight through. A batch pipeline takes its dataset as a pipeline
parameter; a real-time one gains Web Service Input (which drops the label, so callers need not
send it) and Web Service Output. The conversion refuses, with reasons, what it cannot carry.
"""

from __future__ import annotations

from typing import Literal

from core.components import Component, PortType, lookup
from core.components.data import Dataset
from core.errors import InvalidRequest, Problem
from core.pipelines.document import Binding, Edge, Node, Pipeline, PipelineParameter, PortRef, reachable
from core.registry.runs import NodeRecord, RunRecord, RunStatus

InferenceKind = Literal["batch", "realtime"]
MODEL_TYPES = {PortType.MODEL: "trained_model_asset", PortType.CLUSTER_MODEL: "cluster_model_asset"}
UNTRAINED = {PortType.UNTRAINED_MODEL, PortType.UNTRAINED_CLUSTER}
SCORERS = {"score_model", "assign_data_to_clusters"}
# Training-time analysis and side effects with no place in scoring.
DROPPED = {
    "evaluate_model",
    "cross_validate_model",
    "permutation_feature_importance",
    "export_data",
    "summarize_data",
    "compute_linear_correlation",
}
# Fitted on the training data without a transformation output to replay the fit: carrying
# them would refit on every scoring request, silently giving other results.
NOT_CARRIED = {
    "filter_based_feature_selection": "it selects features by fitting on its input; "
    "replace it with Select Columns in Dataset naming the chosen features"
}


def convert(run: RunRecord, pipeline: Pipeline, nodes: list[NodeRecord], kind: InferenceKind) -> Pipeline:
    """The inference pipeline for ``run``; :class:`InvalidRequest` says why it cannot be made."""
    if run.status != RunStatus.FINISHED:
        raise _refuse("run_not_completed", f"The run is {run.status.value}; only a finished run converts")
    if pipeline.kind != "training":
        raise _refuse("not_a_training_run", f"The run's pipeline is a {pipeline.kind} pipeline")
    records = {n.node_id: n for n in nodes}
    graph = _Graph(pipeline)
    if not any(p.type in MODEL_TYPES for n in graph.nodes.values() for p in graph.component(n.id).outputs):
        raise _refuse(
            "no_trained_model",
            "Cannot create an inference pipeline: there is no trained model in this pipeline",
        )
    scorers = [
        n
        for n in graph.nodes
        if graph.component(n).id in SCORERS
        and any(graph.source(n, p.id) for p in graph.component(n).inputs if p.type in MODEL_TYPES)
    ]
    if not scorers:
        raise _refuse(
            "no_scoring",
            "No Score Model (or Assign Data to Clusters) uses a trained model, "
            "so there is nothing to score with",
        )
    problems = [
        Problem(
            code="cannot_carry",
            node=n,
            message=f"{graph.component(n).name} cannot be carried into an inference pipeline: {reason}",
        )
        for n in graph.ancestors(scorers)
        for cid, reason in NOT_CARRIED.items()
        if graph.component(n).id == cid
    ]
    if problems:
        raise InvalidRequest("The training pipeline cannot be converted", problems)

    label = graph.replace_trainers(records)
    graph.replace_fitted_transforms(records)
    graph.bypass_pass_through()
    graph.keep_only_scoring_paths(scorers)
    doc = graph.to_pipeline(pipeline, run, kind)
    doc = _add_batch_inputs(doc) if kind == "batch" else _add_web_service(doc, label)
    problems = doc.validate()
    if problems:
        raise InvalidRequest("The converted pipeline would not be valid", problems)
    return doc


def _refuse(code: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, [Problem(code=code, message=message)])


class _Graph:
    """A mutable copy of the pipeline's nodes and edges for the rewrite steps."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.nodes: dict[str, Node] = {n.id: n.model_copy(deep=True) for n in pipeline.nodes}
        self.edges: list[Edge] = [e.model_copy(deep=True) for e in pipeline.edges]

    def component(self, node_id: str) -> type[Component]:
        component = lookup(self.nodes[node_id].component)
        assert component is not None
        return component

    def port_id(self, node_id: str, ref: str, output: bool) -> str:
        c = self.component(node_id)
        port = c.output_port(ref) if output else c.input_port(ref)
        assert port is not None
        return port.id

    def source(self, node_id: str, port_id: str) -> PortRef | None:
        return next(
            (
                e.source
                for e in self.edges
                if e.target.node == node_id and self.port_id(node_id, e.target.port, False) == port_id
            ),
            None,
        )

    def ancestors(self, start: list[str]) -> set[str]:
        return reachable(
            start, lambda node_id: [e.source.node for e in self.edges if e.target.node == node_id]
        )

    def _output_ref(self, records: dict[str, NodeRecord], node_id: str, port_id: str) -> str:
        ref = records[node_id].outputs.get(port_id) if node_id in records else None
        if not ref:
            raise _refuse("missing_output", f"Node {node_id!r} has no recorded output {port_id!r}")
        return ref

    def _add(self, node: Node) -> None:
        self.nodes[node.id] = node

    def _remove(self, node_id: str) -> None:
        del self.nodes[node_id]
        self.edges = [e for e in self.edges if node_id not in (e.source.node, e.target.node)]

    def replace_trainers(self, records: dict[str, NodeRecord]) -> str | None:
        """Every node that turns an untrained model into a trained one becomes an MD- node."""
        label = None
        for node_id in list(self.nodes):
            component = self.component(node_id)
            model_ports = [p for p in component.outputs if p.type in MODEL_TYPES]
            if not model_ports or not any(p.type in UNTRAINED for p in component.inputs):
                continue
            label = label or self._label_of(node_id)
            port = model_ports[0]
            md = Node(
                id=f"MD-{node_id}"[:80],
                component=MODEL_TYPES[port.type],
                parameters={"ref": self._output_ref(records, node_id, port.id)},
            )
            self._add(md)
            for e in self.edges:
                if e.source.node == node_id and self.port_id(node_id, e.source.port, True) == port.id:
                    e.source = PortRef(node=md.id, port="trained_model")
            self._remove(node_id)
        return label

    def _label_of(self, node_id: str) -> str | None:
        params = self.nodes[node_id].parameters
        return params.get("label_column") or params.get("Label column")

    def replace_fitted_transforms(self, records: dict[str, NodeRecord]) -> None:
        """A node with a transformation output becomes TD-<id> + Apply Transformation <id>."""
        for node_id in list(self.nodes):
            component = self.component(node_id)
            transform = next((p for p in component.outputs if p.type == PortType.TRANSFORM), None)
            data_in = [p for p in component.inputs if p.type == PortType.DATA]
            data_out = [p for p in component.outputs if p.type == PortType.DATA]
            if transform is None or len(data_in) != 1 or len(data_out) != 1:
                continue
            td = Node(
                id=f"TD-{node_id}"[:80],
                component="transformation_asset",
                parameters={"ref": self._output_ref(records, node_id, transform.id)},
            )
            self._add(td)
            source = self.source(node_id, data_in[0].id)
            for e in self.edges:
                if e.source.node == node_id:
                    out = self.port_id(node_id, e.source.port, True)
                    e.source = (
                        PortRef(node=node_id, port="transformed_dataset")
                        if out == data_out[0].id
                        else PortRef(node=td.id, port="transformation")
                    )
            self.edges = [e for e in self.edges if e.target.node != node_id]
            self.nodes[node_id] = Node(
                id=node_id,
                component="apply_transformation",
                comment=f"was {component.name}, replayed with its fitted transformation",
            )
            self.edges.append(
                Edge(
                    source=PortRef(node=td.id, port="transformation"),
                    target=PortRef(node=node_id, port="transformation"),
                )
            )
            if source is not None:
                self.edges.append(Edge(source=source, target=PortRef(node=node_id, port="dataset")))

    def bypass_pass_through(self) -> None:
        """Split Data, SMOTE, Partition and Sample: consumers read the node's own input."""
        for node_id in list(self.nodes):
            component = self.component(node_id)
            if not component.pass_through_in_real_time:
                continue
            data_in = next(p for p in component.inputs if p.type == PortType.DATA)
            source = self.source(node_id, data_in.id)
            for e in self.edges:
                if e.source.node == node_id and source is not None:
                    e.source = source.model_copy()
            self._remove(node_id)

    def keep_only_scoring_paths(self, scorers: list[str]) -> None:
        ancestors = self.ancestors(scorers)

        def forward(node_id: str) -> list[str]:  # data-only readers, e.g. Select Columns on the scores
            return [
                e.target.node
                for e in self.edges
                if e.source.node == node_id
                and e.target.node not in ancestors
                and self._carries_forward(e.target.node)
            ]

        keep = ancestors | reachable(scorers, forward)
        for node_id in list(self.nodes):
            component = self.component(node_id)
            dropped = component.id in DROPPED or (
                not component.inputs and all(p.type in UNTRAINED for p in component.outputs)
            )
            if node_id not in keep or dropped:
                self._remove(node_id)

    def _carries_forward(self, node_id: str) -> bool:
        component = self.component(node_id)
        return component.id not in DROPPED and all(p.type == PortType.DATA for p in component.inputs)

    def to_pipeline(self, original: Pipeline, run: RunRecord, kind: InferenceKind) -> Pipeline:
        terminal = [
            PortRef(node=n, port=p.id)
            for n in self.nodes
            for p in self.component(n).outputs
            if p.type == PortType.DATA
            and not any(
                e.source.node == n and self.port_id(n, e.source.port, True) == p.id for e in self.edges
            )
            and self.component(n).id not in ("dataset",)
        ]
        # Pipeline parameters still bound to kept nodes stay (real-time: global parameters).
        carried = [
            p
            for p in original.parameters
            if all(
                b.node in self.nodes and self.nodes[b.node].component == original.node(b.node).component
                for b in p.bindings
            )
        ]
        return Pipeline(
            name=f"{original.name} - {'batch' if kind == 'batch' else 'real-time'} inference"[:200],
            description=f"Inference pipeline from training run {run.run_id}",
            kind="batch_inference" if kind == "batch" else "realtime_inference",
            source_run=run.run_id,
            nodes=list(self.nodes.values()),
            edges=self.edges,
            outputs=terminal,
            parameters=[p.model_copy(deep=True) for p in carried],
        )


def _dataset_nodes(doc: Pipeline) -> list[Node]:
    return [n for n in doc.nodes if lookup(n.component) is Dataset]


def _add_batch_inputs(doc: Pipeline) -> Pipeline:
    """Each dataset becomes a pipeline parameter: ``input_data`` when there is one."""
    datasets = _dataset_nodes(doc)
    for node in datasets:
        name = "input_data" if len(datasets) == 1 else f"{node.id}_data".replace("-", "_")
        doc.parameters.append(
            PipelineParameter(
                name=name,
                default=node.parameters.get("name"),
                bindings=[Binding(node=node.id, parameter="name")],
                description="The dataset to score (a registered dataset name)",
            )
        )
    return doc


def _add_web_service(doc: Pipeline, label: str | None) -> Pipeline:
    for index, node in enumerate(_dataset_nodes(doc)):
        wsi = Node(
            id=f"WebServiceInput{index}",
            component="web_service_input",
            parameters={"name": f"WebServiceInput{index}", "drop_columns": [label] if label else []},
        )
        for e in doc.edges:
            if e.source.node == node.id:
                e.source = PortRef(node=wsi.id, port="data")
        doc.nodes.append(wsi)
        doc.edges.append(
            Edge(source=PortRef(node=node.id, port="dataset"), target=PortRef(node=wsi.id, port="dataset"))
        )
    outputs = []
    for index, ref in enumerate(doc.outputs):
        wso = Node(
            id=f"WebServiceOutput{index}",
            component="web_service_output",
            parameters={"name": f"WebServiceOutput{index}"},
        )
        doc.nodes.append(wso)
        doc.edges.append(Edge(source=ref, target=PortRef(node=wso.id, port="dataset")))
        outputs.append(PortRef(node=wso.id, port="data"))
    doc.outputs = outputs
    return doc
