"""Source components: a registered dataset, a registered model or transformation.

They do no work when a run executes: submission pins each to an immutable reference (a dataset
version, an artifact), and :meth:`Component.source_outputs` hands that reference on.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from core.components.base import Component, Params, Port, PortType


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

    @classmethod
    def source_outputs(cls, params: DatasetParams) -> dict[str, str]:
        if params.version is None:
            raise RuntimeError("dataset versions are pinned at submit time")
        return {"dataset": f"datasets/{params.name}/{params.version}/data.parquet"}


ARTIFACT_REF = r"^artifacts/[0-9a-f]{64}$"


class AssetParams(Params):
    """Either a registered asset (name, optional version) or an artifact reference."""

    asset: str | None = Field(None, min_length=1, description="A registered asset name")
    version: int | None = Field(None, ge=1, description="Empty: the latest version at submit time")
    ref: str | None = Field(None, pattern=ARTIFACT_REF, description="An artifact this service stored")
    source_asset: str | None = Field(
        None,
        max_length=120,
        description=("Where 'ref' came from: 'name:version' of the registered asset it was pinned from"),
    )

    @model_validator(mode="after")
    def _one_source(self) -> AssetParams:
        if (self.asset is None) == (self.ref is None):
            raise ValueError("set either 'asset' (a registered name) or 'ref' (an artifact), not both")
        if self.source_asset is not None and self.ref is None:
            raise ValueError("'source_asset' records where a 'ref' came from; it goes with 'ref'")
        return self


class _Asset(Component):
    category = "Assets"
    Parameters = AssetParams

    @classmethod
    def source_outputs(cls, params: AssetParams) -> dict[str, str]:
        if params.ref is None:
            raise RuntimeError("assets are pinned to artifact references at submit time")
        return {cls.outputs[0].id: params.ref}


class TrainedModelAsset(_Asset):
    """An ``MD-`` node: a trained model taken from a run or the asset registry."""

    id = "trained_model_asset"
    name = "Trained Model"
    description = "A trained model (an MD- node): from a training run or a registered model."
    outputs = (Port("trained_model", "Trained model", PortType.MODEL),)


class ClusterModelAsset(_Asset):
    id = "cluster_model_asset"
    name = "Trained Clustering Model"
    description = "A trained clustering model (an MD- node)."
    outputs = (Port("trained_model", "Trained model", PortType.CLUSTER_MODEL),)


class TransformationAsset(_Asset):
    """A ``TD-`` node: a fitted transformation, applied with Apply Transformation."""

    id = "transformation_asset"
    name = "Transformation"
    description = "A fitted transformation (a TD- node): from a training run or registered."
    outputs = (Port("transformation", "Transformation", PortType.TRANSFORM),)


SOURCES: tuple[type[Component], ...] = (Dataset, TrainedModelAsset, ClusterModelAsset, TransformationAsset)
COMPONENTS = SOURCES
