"""K-Means Clustering, Train Clustering Model and Assign Data to Clusters (clustering.py, models.py)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from core.components.base import RunContext
from core.components.clustering import (
    AssignDataToClusters,
    AssignDataToClustersParams,
    KMeansClustering,
    KMeansClusteringParams,
    TrainClusteringModel,
    TrainClusteringModelParams,
)
from core.components.learners import LinearRegression, LinearRegressionParams
from core.components.models import ASSIGNMENTS, Learner, TrainedClusterModel, fit
from core.errors import ColumnNotFound, ComponentError

CENTRES = [[0.0, 0.0], [10.0, 10.0], [0.0, 10.0]]
APPEND = "Check for Append or Uncheck for Result Only"
DISTANCES = [f"DistancesToClusterCenter no.{k}" for k in range(3)]


def kmeans(**params: Any) -> Learner:
    params = {"Number of Centroids": 3, "Random number seed": 0, **params}
    out = KMeansClustering().run({}, KMeansClusteringParams.model_validate(params), RunContext())
    return out["untrained_model"]


def train(
    learner: Learner,
    df: pd.DataFrame,
    columns: Any = ("p", "q"),
    append: bool = True,
    ctx: RunContext | None = None,
) -> tuple[TrainedClusterModel, pd.DataFrame]:
    params = TrainClusteringModelParams.model_validate({"Column Set": list(columns), APPEND: append})
    out = TrainClusteringModel().run({"untrained_model": learner, "dataset": df}, params, ctx or RunContext())
    return out["trained_model"], out["results_dataset"]


def assign(model: TrainedClusterModel, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
    params = AssignDataToClustersParams.model_validate({APPEND: append})
    out = AssignDataToClusters().run({"trained_model": model, "dataset": df}, params, RunContext())
    return out["results_dataset"]


@pytest.fixture
def blobs() -> tuple[pd.DataFrame, np.ndarray]:
    X, truth = make_blobs(150, centers=CENTRES, cluster_std=1.0, random_state=0)
    df = pd.DataFrame(X, columns=["p", "q"])
    df["name"] = [f"row{i}" for i in range(len(df))]
    df.attrs["source"] = "blobs"
    return df, truth


def one_cluster_per_blob(assignments: pd.Series, truth: np.ndarray) -> bool:
    table = pd.crosstab(assignments.to_numpy(), truth)
    return table.shape == (3, 3) and (table.to_numpy() > 0).sum() == 3


def test_k_means_defaults_are_the_designers() -> None:
    dumped = KMeansClusteringParams().model_dump(by_alias=True)
    assert dumped == {
        "Create trainer mode": "SingleParameter",
        "Number of Centroids": 2,
        "Range for Number of Centroids": "2; 3; 4; 5",
        "Metric": "Euclidean",
        "Should input instances be normalized": True,
        "Initialization": "K-Means++",
        "Initialization for sweep": "K-Means++",
        "Iterations": 100,
        "Random number seed": None,
        "Random number seed for sweep": None,
        "Assign Label Mode": "Ignore label column",
    }
    learner = KMeansClustering().run({}, KMeansClusteringParams(), RunContext())["untrained_model"]
    assert (learner.task, learner.algorithm, learner.param_grid) == ("clustering", "K-Means Clustering", {})
    model = learner.estimator.named_steps["kmeans"]
    assert isinstance(model, KMeans)
    assert (model.n_clusters, model.init, model.max_iter) == (2, "k-means++", 100)
    assert type(learner.estimator.named_steps["normalize"]).__name__ == "StandardScaler"
    assert learner.estimator.named_steps["cosine"] == "passthrough"


def test_parameters_and_describe() -> None:
    for bad in (
        {"Number of Centroids": 1},
        {"Metric": "Manhattan"},
        {"Iterations": 0},
        {"Range for Number of Centroids": "1; 2"},
        {"Initialization": "Smart"},
    ):
        with pytest.raises(ValidationError):
            KMeansClusteringParams.model_validate(bad)
    with pytest.raises(ValidationError):
        TrainClusteringModelParams.model_validate({})  # the column set is required
    assert AssignDataToClustersParams().append is True
    assert TrainClusteringModelParams.model_validate({"Column Set": "p"}).append is True
    for component in (KMeansClustering, TrainClusteringModel, AssignDataToClusters):
        assert component.describe()["id"] == component.id
    assert KMeansClustering.describe()["outputs"][0]["type"] == "UntrainedClusterModelDirectory"
    assert [p["type"] for p in TrainClusteringModel.describe()["outputs"]] == [
        "ClusterModelDirectory",
        "DataFrameDirectory",
    ]


def test_range_mode_keeps_a_grid_of_centroids() -> None:
    learner = kmeans(
        **{
            "Create trainer mode": "ParameterRange",
            "Range for Number of Centroids": "2; 4",
            "Initialization for sweep": "Evenly",
            "Random number seed for sweep": 5,
        }
    )
    assert learner.param_grid == {"kmeans__n_clusters": [2, 4]}
    model = learner.estimator.named_steps["kmeans"]
    assert (model.n_clusters, model.init.__name__, model.random_state) == (3, "evenly_spaced_init", 5)


def test_train_clustering_model_finds_the_blobs(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, truth = blobs
    ctx = RunContext()
    model, results = train(kmeans(), df, ctx=ctx)
    assert model.n_clusters == 3 and model.feature_columns == ["p", "q"]
    assert list(results.columns) == ["p", "q", "name", ASSIGNMENTS, *DISTANCES]
    assert one_cluster_per_blob(results[ASSIGNMENTS], truth)
    distances = results[DISTANCES].to_numpy()
    assert (results[ASSIGNMENTS].to_numpy() == distances.argmin(axis=1)).all()
    assert (distances >= 0).all()
    assert results.attrs == {
        "source": "blobs",
        "task": "clustering",
        "score_columns": [ASSIGNMENTS, *DISTANCES],
    }
    assert "3 clusters over 150 rows" in ctx.logs[0]
    assert list(df.columns) == ["p", "q", "name"]  # input untouched


def test_result_only_keeps_the_index(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, _ = blobs
    df.index = df.index + 100
    _, results = train(kmeans(), df, append=False)
    assert list(results.columns) == [ASSIGNMENTS, *DISTANCES]
    assert results.index.equals(df.index)


def test_assign_data_to_clusters_agrees_with_training(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, _ = blobs
    model, results = train(kmeans(), df)
    again = assign(model, df)
    pd.testing.assert_frame_equal(again, results)
    cluster_of = {
        tuple(c): results.loc[np.linalg.norm(df[["p", "q"]] - c, axis=1).argmin(), ASSIGNMENTS]
        for c in CENTRES
    }
    new = pd.DataFrame({"q": [0.3, 9.6, 10.2], "p": [0.2, 10.1, -0.4], "extra": ["a", "b", "c"]})
    assigned = assign(model, new, append=False)
    assert assigned[ASSIGNMENTS].tolist() == [
        cluster_of[(0.0, 0.0)],
        cluster_of[(10.0, 10.0)],
        cluster_of[(0.0, 10.0)],
    ]
    nearest = assigned[DISTANCES].to_numpy().min(axis=1)
    assert (nearest < assigned[DISTANCES].to_numpy().max(axis=1)).all()


@pytest.mark.parametrize("initialization", ["Random", "Default", "Evenly", "K-Means++ Fast"])
def test_every_supported_initialization_separates_the_blobs(
    initialization: str, blobs: tuple[pd.DataFrame, np.ndarray]
) -> None:
    df, truth = blobs
    firsts = [int(np.flatnonzero(truth == k)[0]) for k in range(3)]
    order = firsts + [i for i in range(len(df)) if i not in firsts]  # "Default" starts from the first rows
    _, results = train(kmeans(Initialization=initialization), df.iloc[order])
    assert one_cluster_per_blob(results[ASSIGNMENTS], truth[order])


def test_default_initialization_starts_from_the_first_rows(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, _ = blobs
    learner = kmeans(
        Initialization="Default", Iterations=1, **{"Should input instances be normalized": False}
    )
    model, results = train(learner, df.head(3))
    centres = model.pipeline.named_steps["model"].named_steps["kmeans"].cluster_centers_
    assert np.allclose(centres, df[["p", "q"]].head(3).to_numpy())
    restored = pickle.loads(pickle.dumps(model))  # the initialiser is pickled by reference
    pd.testing.assert_frame_equal(assign(restored, df.head(3)), results)


def test_cosine_metric_clusters_by_direction() -> None:
    rng = np.random.default_rng(0)
    angles = np.concatenate([rng.normal(0.2, 0.05, 40), rng.normal(1.3, 0.05, 40)])
    lengths = rng.uniform(1, 50, 80)  # magnitudes vary wildly within each direction
    df = pd.DataFrame({"p": lengths * np.cos(angles), "q": lengths * np.sin(angles)})
    _, results = train(
        kmeans(
            **{"Number of Centroids": 2, "Metric": "Cosine", "Should input instances be normalized": False}
        ),
        df,
    )
    assignments = results[ASSIGNMENTS].to_numpy()
    assert len(set(assignments[:40])) == 1 and len(set(assignments[40:])) == 1
    assert assignments[0] != assignments[40]


def test_categorical_columns_are_encoded(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, truth = blobs
    df["side"] = np.where(truth == 1, "east", "west")
    model, results = train(kmeans(), df, columns=["p", "q", "side"])
    assert model.feature_columns == ["p", "q", "side"]
    assert one_cluster_per_blob(results[ASSIGNMENTS], truth)


def test_unsupported_k_means_options_are_refused() -> None:
    with pytest.raises(ComponentError, match="Initialization 'Use label column'") as info:
        kmeans(Initialization="Use label column")
    assert info.value.code == "NotSupported"
    with pytest.raises(ComponentError, match="Assign Label Mode"):
        kmeans(**{"Assign Label Mode": "Fill missing values"})


def test_training_refuses_bad_data(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, _ = blobs
    with pytest.raises(ColumnNotFound) as missing_column:
        train(kmeans(), df, columns=["p", "height"])
    assert missing_column.value.column == "height"
    holes = df.copy()
    holes.loc[4, "q"] = np.nan
    with pytest.raises(ComponentError) as missing_value:
        train(kmeans(), holes)
    assert (missing_value.value.code, missing_value.value.column) == ("MissingValues", "q")
    with pytest.raises(ComponentError) as few:
        train(kmeans(), df.head(2))
    assert few.value.code == "TooFewRowsInDataset"
    empty = TrainClusteringModelParams.model_validate({"Column Set": {"start": "none"}})
    with pytest.raises(ComponentError) as no_columns:
        TrainClusteringModel().run({"untrained_model": kmeans(), "dataset": df}, empty, RunContext())
    assert no_columns.value.code == "TooFewColumnsInDataset"


def test_assign_refuses_data_without_the_model_columns(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, _ = blobs
    model, _ = train(kmeans(), df)
    with pytest.raises(ColumnNotFound) as info:
        assign(model, df.drop(columns="q"))
    assert info.value.column == "q"


def test_supervised_and_clustering_learners_do_not_mix(blobs: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, _ = blobs
    regression = LinearRegression().run({}, LinearRegressionParams(), RunContext())["untrained_model"]
    with pytest.raises(ComponentError) as info:
        train(regression, df)
    assert info.value.code == "InvalidLearner"
    with pytest.raises(ComponentError) as other_way:
        fit(kmeans(), df.drop(columns="name"), "p")
    assert other_way.value.code == "InvalidLearner"
