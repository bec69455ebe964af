"""K-Means Clustering, Train Clustering Model and Assign Data to Clusters.

Clusters are numbered from 0; results carry ``Assignments`` and one
``DistancesToClusterCenter no.<k>`` column per cluster (see :class:`TrainedClusterModel`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import Field
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import ColumnSelection
from core.components.learners import UINT32_MAX, TrainerMode, range_of, sweep
from core.components.models import (
    Learner,
    TrainedClusterModel,
    evenly_spaced_init,
    first_rows_init,
    fit_clusters,
)
from core.errors import ComponentError

Initialization = Literal["Random", "K-Means++", "Default", "Evenly", "Use label column", "K-Means++ Fast"]
AssignLabelMode = Literal["Ignore label column", "Fill missing values", "Overwrite from closest to center"]
APPEND_ALIAS = "Check for Append or Uncheck for Result Only"


if TYPE_CHECKING:  # range_of builds an Annotated str with a validator, which mypy cannot follow
    CentroidRange = str
else:
    CentroidRange = range_of(int, ge=2)


class KMeansClusteringParams(Params):
    create_trainer_mode: TrainerMode = Field("SingleParameter", alias="Create trainer mode")
    number_of_centroids: int = Field(2, ge=2, alias="Number of Centroids")
    range_for_number_of_centroids: CentroidRange = Field("2; 3; 4; 5", alias="Range for Number of Centroids")
    metric: Literal["Euclidean", "Cosine"] = Field("Euclidean", alias="Metric")
    normalize: bool = Field(True, alias="Should input instances be normalized")
    initialization: Initialization = Field("K-Means++", alias="Initialization")
    initialization_for_sweep: Initialization = Field("K-Means++", alias="Initialization for sweep")
    iterations: int = Field(100, ge=1, alias="Iterations")
    random_number_seed: int | None = Field(None, ge=0, le=UINT32_MAX, alias="Random number seed")
    random_number_seed_for_sweep: int | None = Field(
        None, ge=0, le=UINT32_MAX, alias="Random number seed for sweep"
    )
    assign_label_mode: AssignLabelMode = Field("Ignore label column", alias="Assign Label Mode")


def _init(initialization: str) -> Any:
    """sklearn's ``init`` for a designer initialisation. sklearn's k-means++ is already the greedy
    (fast) variant, so "K-Means++ Fast" is the same."""
    match initialization:
        case "Random":
            return "random"
        case "Default":
            return first_rows_init
        case "Evenly":
            return evenly_spaced_init
    return "k-means++"


class KMeansClustering(Component):
    """K-means (sklearn's KMeans, Lloyd iterations): centroids -> n_clusters, iterations ->
    max_iter. Normalising standardises each column first; the Cosine metric scales every row to
    unit length, so Euclidean distance between rows follows their angle. Initialisations: Random
    picks random rows; Default takes the first rows; Evenly spaces the centres along the data's
    bounding-box diagonal. "Use label column" and the label-assigning modes need a label the
    column set does not carry here, so they are refused. The range of centroids is kept on the
    learner; like the designer's Train Clustering Model, training uses the single value."""

    id = "k_means_clustering"
    name = "K-Means Clustering"
    category = "Machine Learning Algorithms/Clustering"
    version = "3.0"
    description = "Group rows into k clusters around centroids."
    outputs = (Port("untrained_model", "Untrained model", PortType.UNTRAINED_CLUSTER),)
    Parameters = KMeansClusteringParams

    def run(
        self, inputs: Mapping[str, Any], params: KMeansClusteringParams, ctx: RunContext
    ) -> dict[str, Any]:
        single = params.create_trainer_mode == "SingleParameter"
        initialization, seed = (
            (params.initialization, params.random_number_seed)
            if single
            else (params.initialization_for_sweep, params.random_number_seed_for_sweep)
        )
        if initialization == "Use label column":
            name = "Initialization" if single else "Initialization for sweep"
            raise ComponentError(
                f"{name} 'Use label column' is not supported; choose another initialization",
                code="NotSupported",
            )
        if params.assign_label_mode != "Ignore label column":
            raise ComponentError(
                f"Assign Label Mode {params.assign_label_mode!r} is not supported; use 'Ignore label column'",
                code="NotSupported",
            )
        init = _init(initialization)
        kmeans = KMeans(
            n_clusters=params.number_of_centroids,
            init=init,
            n_init=1 if callable(init) else "auto",
            max_iter=params.iterations,
            random_state=seed,
        )
        estimator = Pipeline(
            [
                ("normalize", StandardScaler() if params.normalize else "passthrough"),
                ("cosine", Normalizer() if params.metric == "Cosine" else "passthrough"),
                ("kmeans", kmeans),
            ]
        )
        grid = sweep(
            params.create_trainer_mode, {"kmeans__n_clusters": (params.range_for_number_of_centroids, int)}
        )
        return {
            "untrained_model": Learner(
                estimator=estimator, task="clustering", algorithm=self.name, param_grid=grid
            )
        }


class TrainClusteringModelParams(Params):
    column_set: ColumnSelection = Field(alias="Column Set")
    append: bool = Field(True, alias=APPEND_ALIAS)


class TrainClusteringModel(Component):
    id = "train_clustering_model"
    name = "Train Clustering Model"
    category = "Model Training"
    version = "2.0"
    description = "Fit a clustering model on the chosen columns and assign every row to a cluster."
    inputs = (
        Port("untrained_model", "Untrained model", PortType.UNTRAINED_CLUSTER),
        Port("dataset", "Dataset", PortType.DATA),
    )
    outputs = (
        Port("trained_model", "Trained model", PortType.CLUSTER_MODEL),
        Port("results_dataset", "Results dataset", PortType.DATA),
    )
    Parameters = TrainClusteringModelParams

    def run(
        self, inputs: Mapping[str, Any], params: TrainClusteringModelParams, ctx: RunContext
    ) -> dict[str, Any]:
        learner: Learner = inputs["untrained_model"]
        df: pd.DataFrame = inputs["dataset"]
        model = fit_clusters(learner, df, params.column_set.resolve(df))
        results = model.assign(df, append=params.append)
        sizes = results["Assignments"].value_counts().sort_index()
        ctx.log(
            f"{learner.algorithm}: {model.n_clusters} clusters over {len(df)} rows and "
            f"{len(model.feature_columns)} columns; sizes {sizes.tolist()}"
        )
        return {"trained_model": model, "results_dataset": results}


class AssignDataToClustersParams(Params):
    append: bool = Field(True, alias=APPEND_ALIAS)


class AssignDataToClusters(Component):
    id = "assign_data_to_clusters"
    name = "Assign Data to Clusters"
    category = "Model Scoring & Evaluation"
    version = "2.0"
    description = "Assign rows to the nearest cluster of a trained clustering model."
    inputs = (
        Port("trained_model", "Trained model", PortType.CLUSTER_MODEL),
        Port("dataset", "Dataset", PortType.DATA),
    )
    outputs = (Port("results_dataset", "Results dataset", PortType.DATA),)
    Parameters = AssignDataToClustersParams

    def run(
        self, inputs: Mapping[str, Any], params: AssignDataToClustersParams, ctx: RunContext
    ) -> dict[str, Any]:
        model: TrainedClusterModel = inputs["trained_model"]
        results = model.assign(inputs["dataset"], append=params.append)
        ctx.log(f"assigned {len(results)} rows to {model.n_clusters} clusters")
        return {"results_dataset": results}


COMPONENTS = (KMeansClustering, TrainClusteringModel, AssignDataToClusters)
