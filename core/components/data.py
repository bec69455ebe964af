"""Data input components. A registered dataset is resolved by the executor, not by ``run``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from core.components.base import Component, Params, Port, PortType, RunContext


class DatasetParams(Params):
    name: str = Field(min_length=1, description="A registered dataset or a built-in sample")
    version: int | None = Field(None, ge=1, description="Empty: the latest version at submit time")


class Dataset(Component):
    """A registered dataset on the canvas. Its version is pinned when a run is submitted."""

    id = "dataset"
    name = "Dataset"
    category = "Datasets"
    description = "A registered dataset (or built-in sample), pinned to a version at submit time."
    outputs = (Port("dataset", "Dataset", PortType.DATA),)
    Parameters = DatasetParams

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        raise RuntimeError("dataset nodes are resolved by the executor")  # never called
COMPONENTS = (Dataset,)
