"""Pipeline documents before they run: the catalogue, validation, pinning, and drafts.

Validation and pinning live here because every other use case needs them: a submit, a publish
and a real-time deployment all check a document the same way and pin its sources the same way.
Each draft use case answers a :class:`Drafted` (the draft, its document and its problems), so a
caller never reads back what it just saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from core import names
from core.components import CATALOGUE, Component, PortType, lookup
from core.components.data import Dataset
from core.errors import Conflict, InvalidRequest, NotFound, Problem
from core.pipelines import drafts, inference, run_settings
from core.pipelines.document import (
    Binding,
    Pipeline,
    PipelineParameter,
    canonical_parameter,
    pipeline_parameter_conflicts,
)
from core.registry import assets, datasets, endpoints, runs
from core.storage.artifacts import Artifacts
from core.storage.store import Store

ASSET_COMPONENTS = {
    "trained_model_asset": PortType.MODEL,
    "cluster_model_asset": PortType.CLUSTER_MODEL,
    "transformation_asset": PortType.TRANSFORM,
}
Found = dict[tuple[Any, Any], datasets.DatasetVersion]


class PipelineInputRequest(BaseModel):
    name: str = Field(pattern=names.PARAMETER)
    node: str
    parameter: str
    default: Any = None
    description: names.Description = ""


@dataclass
class Drafted:
    """A draft as saved, with its document and its problems: all a draft answer shows."""

    draft: drafts.Draft
    pipeline: Pipeline
    problems: list[Problem]

    def pair(self) -> tuple[drafts.Draft, list[Problem]]:
        return self.draft, self.problems


class Pipelines:
    def __init__(
        self, store: Store, artifacts: Artifacts, features: dict[str, bool], samples_dir: Path | None
    ) -> None:
        self.store, self.artifacts = store, artifacts
        self.features, self.samples_dir = features, samples_dir

    # ---- the catalogue -----------------------------------------------------------------------
    def components(self) -> list[dict[str, Any]]:
        """The catalogue, each entry saying whether this deployment runs it."""
        return [
            {**c.describe(), "run_settings": run_settings.describe(c.id), "enabled": self._enabled(c)}
            for c in CATALOGUE.values()
        ]

    def _enabled(self, component: type[Component]) -> bool:
        return component.feature is None or bool(self.features.get(component.feature[0]))

    # ---- validation --------------------------------------------------------------------------
    def validate(
        self, pipeline: Pipeline, assignments: dict[str, Any] | None = None, found: Found | None = None
    ) -> list[Problem]:
        """Every problem: document rules, parameter assignments, and datasets that do not exist.

        ``found`` collects the dataset versions looked up, so a submit pins them without reading
        them again."""
        assignments = assignments or {}
        problems = pipeline.assignment_problems(assignments)
        resolved = pipeline.with_assignments(assignments)
        problems += resolved.validate()
        problems += self._disabled_problems(resolved)
        problems += self._dataset_problems(resolved, found)
        return problems

    def _disabled_problems(self, pipeline: Pipeline) -> list[Problem]:
        """Nodes whose component is switched off here: they would only fail at run time."""
        problems = []
        for node in pipeline.nodes:
            component = lookup(node.component)
            if component is not None and not self._enabled(component):
                feature = component.feature or ("", "")
                problems.append(
                    Problem(
                        code="component_disabled",
                        node=node.id,
                        field="component",
                        message=f"{component.name} is turned off on this service: it runs user code. An "
                        f"administrator can turn it on with the app setting {feature[1]}=true",
                    )
                )
        return problems

    def _dataset_problems(self, pipeline: Pipeline, found: Found | None = None) -> list[Problem]:
        problems = []
        for node in pipeline.nodes:
            if node.component in ASSET_COMPONENTS and node.parameters.get("asset"):
                problems += self.asset_problems(node.id, node.component, node.parameters)
        for node in pipeline.nodes:
            if lookup(node.component) is not Dataset:
                continue
            name, version = dataset_params(node.parameters)
            if not isinstance(name, str) or not name:
                continue  # already reported as a parameter problem
            try:
                entry = datasets.get(self.store, name, version)
                if found is not None and isinstance(version, int | None):
                    found[(name, version)] = entry
            except NotFound as exc:
                if name in datasets.SAMPLES and version in (None, 1) and self.samples_dir:
                    continue
                problems.append(
                    Problem(code="unknown_dataset", node=node.id, parameter="name", message=exc.message)
                )
        return problems

    def asset_problems(self, node_id: str, component_id: str, params: dict[str, Any]) -> list[Problem]:
        try:
            found = assets.get(self.store, params["asset"], params.get("version"))
        except NotFound as exc:
            return [Problem(code="unknown_asset", node=node_id, parameter="asset", message=exc.message)]
        if ASSET_COMPONENTS[component_id] != found.kind:
            return [
                Problem(
                    code="asset_kind_mismatch",
                    node=node_id,
                    parameter="asset",
                    message=f"Asset {found.name!r} is a {found.kind.value}, but this node takes "
                    f"a {ASSET_COMPONENTS[component_id].value}",
                )
            ]
        return []

    # ---- pinning: sources become immutable references ----------------------------------------
    def pin(self, pipeline: Pipeline, known: Found | None = None) -> Pipeline:
        """Dataset versions and asset artifacts in place of names (a run and a deployment keep
        exactly what they were given)."""
        doc = self.pin_assets(pipeline)
        for node in doc.nodes:
            if lookup(node.component) is Dataset:
                name, version = dataset_params(node.parameters)
                found = (known or {}).get((name, version)) or datasets.resolve(
                    self.store, name, version, self.samples_dir
                )
                node.parameters = {"name": found.name, "version": found.version}
        return doc

    def pin_assets(self, pipeline: Pipeline) -> Pipeline:
        doc = pipeline.model_copy(deep=True)
        for node in doc.nodes:
            if node.component in ASSET_COMPONENTS and node.parameters.get("asset"):
                found = assets.get(self.store, node.parameters["asset"], node.parameters.get("version"))
                node.parameters = {"ref": found.ref, "source_asset": f"{found.name}:{found.version}"}
        return doc

    # ---- drafts ------------------------------------------------------------------------------
    def create_draft(self, pipeline: Pipeline) -> Drafted:
        return Drafted(drafts.create(self.store, self.artifacts, pipeline), pipeline, self.validate(pipeline))

    def update_draft(self, draft_id: str, pipeline: Pipeline, etag: str | None) -> Drafted:
        draft = drafts.update(self.store, self.artifacts, draft_id, pipeline, etag)
        return Drafted(draft, pipeline, self.validate(pipeline))

    def get_draft(self, draft_id: str) -> tuple[drafts.Draft, Pipeline]:
        return drafts.load(self.store, self.artifacts, draft_id)

    def open_draft(self, draft_id: str) -> Drafted:
        """A draft with its document and what is wrong with it now (datasets may have gone)."""
        draft, pipeline = self.get_draft(draft_id)
        return Drafted(draft, pipeline, self.validate(pipeline))

    def list_drafts(self) -> list[drafts.Draft]:
        return drafts.list_drafts(self.store)

    def delete_draft(self, draft_id: str) -> None:
        drafts.delete(self.store, draft_id)

    def use_asset(
        self, draft_id: str, node_id: str, name: str, version: int | None, etag: str | None
    ) -> Drafted:
        """Point an MD-/TD- node of a draft at a registered asset (the designer's model update)."""
        draft, pipeline = self.get_draft(draft_id)
        node = next((n for n in pipeline.nodes if n.id == node_id), None)
        if node is None or node.component not in ASSET_COMPONENTS:
            raise InvalidRequest(
                "Not an asset node",
                [
                    Problem(
                        code="not_an_asset_node",
                        node=node_id,
                        message=f"Draft {draft_id!r} has no MD-/TD- node {node_id!r}",
                    )
                ],
            )
        params = {"asset": name, **({"version": version} if version else {})}
        problems = self.asset_problems(node_id, node.component, params)
        if problems:
            raise InvalidRequest("The asset does not fit this node", problems)
        node.parameters = params
        return self.update_draft(draft_id, pipeline, etag or draft.etag)

    def add_pipeline_parameter(
        self, draft_id: str, request: PipelineInputRequest, etag: str | None
    ) -> Drafted:
        """The designer's "set as pipeline parameter": bind a node parameter to a new named input.

        The default is the node's current value unless one is given. A name already in use, or
        a node parameter another pipeline parameter already sets, is refused: two inputs
        setting one value would make a run's value depend on their order (a document may
        still bind one parameter to several node parameters).
        """
        draft, pipeline = self.get_draft(draft_id)
        node = next((n for n in pipeline.nodes if n.id == request.node), None)
        component = lookup(node.component) if node else None
        key = canonical_parameter(component, request.parameter) if component else None
        if node is None or component is None or key is None:
            raise InvalidRequest(
                "No such node parameter",
                [
                    Problem(
                        code="unknown_parameter",
                        node=request.node,
                        parameter=request.parameter,
                        message=f"Draft {draft_id!r} has no node {request.node!r} "
                        f"with parameter {request.parameter!r}",
                    )
                ],
            )
        current = {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}.get(key)
        binding = Binding(node=node.id, parameter=key)
        problems = pipeline_parameter_conflicts(pipeline, request.name, node.id, key)
        if problems:
            raise Conflict(f"Pipeline parameter {request.name!r} cannot be added", problems)
        default = request.default if request.default is not None else current
        pipeline.parameters.append(
            PipelineParameter(
                name=request.name, default=default, description=request.description, bindings=[binding]
            )
        )
        return self.update_draft(draft_id, pipeline, etag or draft.etag)

    # ---- drafts made from what ran or was published -----------------------------------------
    def create_inference_pipeline(self, run_id: str, kind: inference.InferenceKind) -> Drafted:
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        converted = inference.convert(run, pipeline, runs.get_nodes(self.store, run_id), kind)
        return self.create_draft(converted)

    def clone_run(self, run_id: str) -> Drafted:
        """A new draft holding exactly what the run ran (dataset versions stay pinned)."""
        run = runs.get_run(self.store, run_id)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(run.pipeline_ref))
        pipeline.name = f"{run.pipeline_name} (clone of run {run_id[:8]})"[:200]
        return self.create_draft(pipeline)

    def clone_endpoint_version(self, name: str, version: int) -> Drafted:
        """A new draft holding a published version (to replace its MD- node and publish again).

        Model nodes pinned from a registered asset name that asset again, so the draft shows
        where they came from and takes a newer version when the asset is changed.
        """
        entry = endpoints.get_version(self.store, name, version)
        pipeline = Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref))
        for node in pipeline.nodes:
            label = node.parameters.get("source_asset") if node.component in ASSET_COMPONENTS else None
            if label:
                asset, _, number = str(label).rpartition(":")
                node.parameters = {"asset": asset, "version": int(number)}
        pipeline.name = f"{entry.pipeline_name} (clone of {name} v{version})"[:200]
        return self.create_draft(pipeline)


def dataset_params(parameters: dict[str, Any]) -> tuple[Any, Any]:
    """A dataset node's (name, version), whatever spelling of the parameter names it uses."""
    component = CATALOGUE["dataset"]
    values = {canonical_parameter(component, k) or k: v for k, v in parameters.items()}
    return values.get("name"), values.get("version")


def locate_assignment_problems(
    pipeline: Pipeline, assignments: dict[str, Any], problems: list[Problem]
) -> list[Problem]:
    """Name the assignment behind a bad node parameter, so the caller knows which value to fix."""
    bound = {
        (b.node, b.parameter): p.name
        for p in pipeline.parameters
        for b in p.bindings
        if p.name in assignments
    }
    for problem in problems:
        name = bound.get((problem.node or "", problem.parameter or ""))
        if name and problem.field is None:
            problem.field = f"ParameterAssignments.{name}"
    return problems
