"""What a component is: typed ports, a parameter model, and a pure ``run``.

Components never touch storage or HTTP. The executor hands ``run`` its inputs as Python
objects (DataFrames, models, transforms) and stores whatever ``run`` returns, so every
component can be unit-tested on small in-memory data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict

from core.components.visibility import VISIBLE_WHEN

# What a node record holds, in place of an artifact reference, for a plot the node has but has
# not drawn yet: it is drawn from the node's inputs the first time someone asks for it
# (``Runs.node_plot``), so a run does not spend its time on pictures nobody may look at.
PLOT_NOT_DRAWN = "not-drawn"


class PortType(StrEnum):
    """Port types as the designer names them; an edge joins ports of the same type."""

    DATA = "DataFrameDirectory"
    UNTRAINED_MODEL = "UntrainedModelDirectory"
    UNTRAINED_CLUSTER = "UntrainedClusterModelDirectory"
    MODEL = "ModelDirectory"
    CLUSTER_MODEL = "ClusterModelDirectory"
    TRANSFORM = "TransformationDirectory"


@dataclass(frozen=True)
class Port:
    id: str
    name: str
    type: PortType
    optional: bool = False

    def matches(self, ref: str) -> bool:
        """Edges may name a port by id (``results_dataset1``) or designer name."""
        return ref in (self.id, self.name)


class Params(BaseModel):
    """Base of every parameter model.

    Fields are snake_case with the designer's display name as alias; a pipeline document may
    use either. Unknown names are refused, so a typo is reported instead of ignored.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=False
    )


class NoParams(Params):
    pass


class DataAccess(Protocol):
    """The narrow door to storage for the few components that import or export data.

    The executor implements it over the store; unit tests hand in a dictionary-backed fake.
    Paths are ``container/name`` and are confined to the containers the executor allows.
    """

    def read_dataset(self, name: str, version: int | None) -> pd.DataFrame: ...

    def read_blob(self, path: str) -> bytes: ...

    def write_blob(self, path: str, data: bytes) -> str: ...


@dataclass
class RunContext:
    """What a component may report besides its outputs: logs, metrics and plots.

    A plot is either drawn now (``plot``, PNG bytes) or only named (``plot_on_request``, kept
    as ``None``): the executor stores the bytes of the first and records the second as
    :data:`PLOT_NOT_DRAWN`.

    ``features`` carries the app's feature switches (e.g. ``enable_sql``) so components that
    run user code can refuse to run when it is off. ``data`` is set only for components that
    declare ``needs_data_access``.
    """

    features: Mapping[str, bool] = field(default_factory=dict)
    data: DataAccess | None = None
    logs: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, bytes | None] = field(default_factory=dict)

    def log(self, message: str) -> None:
        self.logs.append(message)

    def metric(self, name: str, value: Any) -> None:
        self.metrics[name] = value

    def plot(self, name: str, png: bytes) -> None:
        self.plots[name] = png

    def plot_on_request(self, name: str) -> None:
        """The node has plot ``name``, to be drawn from its inputs when it is first viewed."""
        self.plots[name] = None


class Component:
    """A catalogue entry. Subclasses set the class attributes and implement :meth:`run`."""

    id: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[str]
    description: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    Parameters: ClassVar[type[Params]] = NoParams
    deterministic: ClassVar[bool] = True
    # User code (SQL, Python) runs only where the administrator switched it on: the feature
    # flag in ``ctx.features`` and the app setting that sets it.
    feature: ClassVar[tuple[str, str] | None] = None
    # Split Data, SMOTE and Partition and Sample are bypassed in real-time inference.
    pass_through_in_real_time: ClassVar[bool] = False
    # Import/Export Data: the executor hands these a DataAccess in ctx.data.
    needs_data_access: ClassVar[bool] = False

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def source_outputs(cls, params: Any) -> dict[str, str] | None:
        """For source nodes (datasets, registered models): output references, without running.

        Sources are pinned to immutable references when a run is submitted, so this is a
        lookup, not work.
        """
        return None

    @classmethod
    def input_port(cls, ref: str) -> Port | None:
        return next((p for p in cls.inputs if p.matches(ref)), None)

    @classmethod
    def output_port(cls, ref: str) -> Port | None:
        return next((p for p in cls.outputs if p.matches(ref)), None)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The catalogue entry a client builds its palette and parameter form from."""

        def ports(ps: tuple[Port, ...]) -> list[dict[str, Any]]:
            return [{"id": p.id, "name": p.name, "type": p.type.value, "optional": p.optional} for p in ps]

        return {
            "id": cls.id,
            "name": cls.name,
            "category": cls.category,
            "version": cls.version,
            "description": cls.description,
            "deterministic": cls.deterministic,
            "inputs": ports(cls.inputs),
            "outputs": ports(cls.outputs),
            "parameters": cls.parameter_schema(),
        }

    @classmethod
    def parameter_schema(cls) -> dict[str, Any]:
        """The parameters' JSON schema: designer labels as titles, conditional properties marked
        ``x-visible-when``."""
        schema = cls.Parameters.model_json_schema(by_alias=False)
        for name, field_info in cls.Parameters.model_fields.items():
            if field_info.alias and name in schema.get("properties", {}):
                schema["properties"][name]["title"] = field_info.alias  # the designer's label
        for name, condition in VISIBLE_WHEN.get(cls.id, {}).items():
            schema["properties"][name]["x-visible-when"] = {k: list(v) for k, v in condition.items()}
        return schema
