"""Learners (core/components/learners.py) and the binary/multiclass parts of models.py."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from threadpoolctl import threadpool_limits

from core.components import learners as L
from core.components.base import Component, RunContext
from core.components.models import (
    SCORED_LABELS,
    SCORED_PROBABILITIES,
    DecisionForestClassifier,
    DecisionForestRegressor,
    DecisionProbabilities,
    ElasticNetLogisticRegression,
    Learner,
    PenalisedPoissonRegressor,
    TrainedModel,
    fit,
)
from core.errors import ComponentError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STANDALONE = [c for c in L.COMPONENTS if not c.inputs]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Histogram boosting runs OpenMP threads that crawl on a busy small machine; one is plenty here."""
    with threadpool_limits(1):
        yield


def make(component: type[Component], inputs: dict[str, Any] | None = None, **params: Any) -> Learner:
    out = component().run(inputs or {}, component.Parameters.model_validate(params), RunContext())
    return out["untrained_model"]


def seeded(component: type[Component], **params: Any) -> Learner:
    if "random_number_seed" in component.Parameters.model_fields:
        params.setdefault("Random number seed", 0)
    return make(component, **params)


def regression_data(rows: int = 300) -> pd.DataFrame:
    X, y = make_regression(rows, 4, n_informative=3, noise=5.0, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["shop"] = np.where(np.arange(rows) % 3 == 0, "north", "south")
    df["y"] = y + np.where(df["shop"] == "north", 80.0, 0.0)
    return df


def count_data(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "shop": np.where(np.arange(rows) % 2 == 0, "north", "south"),
        }
    )
    df["y"] = rng.poisson(np.exp(0.8 * df["a"] + np.where(df["shop"] == "north", 1.0, 0.0) + 1.0))
    return df


def classification_data(classes: int, rows: int = 300) -> pd.DataFrame:
    X, y = make_classification(
        rows,
        4,
        n_informative=3,
        n_redundant=0,
        n_classes=classes,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=1,
    )
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["band"] = np.where(df["a"] > 0, "high", "low")
    df["y"] = np.array(["ant", "bee", "cat"])[y]
    return df


def data_for(learner: Learner) -> pd.DataFrame:
    if learner.algorithm == "Poisson Regression":
        return count_data()
    return {
        "regression": regression_data,
        "binary": lambda: classification_data(2),
        "multiclass": lambda: classification_data(3),
    }[learner.task]()


def train_and_score(learner: Learner, df: pd.DataFrame) -> tuple[TrainedModel, pd.DataFrame]:
    model = fit(learner, df.iloc[:200], "y")
    return model, model.score(df.iloc[200:])


# ---- every learner trains, scores and beats a trivial baseline -----------------------------------


@pytest.mark.parametrize("component", STANDALONE, ids=lambda c: c.id)
def test_each_learner_beats_a_trivial_baseline(component: type[Component]) -> None:
    learner = seeded(component)
    assert learner.algorithm == component.name
    df = data_for(learner)
    model, scored = train_and_score(learner, df)
    restored = pickle.loads(pickle.dumps(model))  # models travel as pickled artifacts
    pd.testing.assert_frame_equal(restored.score(df.iloc[200:]), scored)
    test = scored["y"]
    if learner.task == "regression":
        baseline = np.abs(test - df["y"].iloc[:200].mean()).mean()
        assert np.abs(test - scored[SCORED_LABELS]).mean() < 0.7 * baseline
        assert scored.attrs["score_columns"] == [SCORED_LABELS]
        return
    majority = test.value_counts(normalize=True).max()
    assert (scored[SCORED_LABELS] == test).mean() > majority + 0.2
    assert "band" in model.feature_columns
    if learner.task == "binary":
        assert scored.attrs["score_columns"] == [SCORED_LABELS, SCORED_PROBABILITIES]
        # probabilities are of the positive (second) class and agree with the labels
        positive = scored[SCORED_PROBABILITIES] >= 0.5
        assert ((scored[SCORED_LABELS] == "bee") == positive).mean() >= 0.97
    else:
        columns = [f"{SCORED_PROBABILITIES}_{c}" for c in ("ant", "bee", "cat")]
        assert scored.attrs["score_columns"] == [SCORED_LABELS, *columns]
        assert np.allclose(scored[columns].sum(axis=1), 1.0)
        likeliest = scored[columns].idxmax(axis=1).str.rsplit("_", n=1).str[1]
        assert (likeliest == scored[SCORED_LABELS]).mean() >= 0.95


# ---- defaults and parameter mapping --------------------------------------------------------------

SINGLE = {"Create trainer mode": "SingleParameter"}
UNKNOWN_LEVELS = {"Allow unknown levels in categorical features": True}
NO_SEED = {"Random number seed": None}
BOOSTED = {
    **SINGLE,
    "Maximum number of leaves per tree": 20,
    "Minimum number of training instances required to form a leaf": 10,
    "The learning rate": 0.2,
    "Total number of trees constructed": 100,
    "Range for maximum number of leaves per tree": "2; 8; 32; 128",
    "Range for minimum number of training instances required to form a leaf": "1; 10; 50",
    "Range for learning rate": "0.025; 0.05; 0.1; 0.2; 0.4",
    "Range for total number of trees constructed": "20; 100; 500",
    **NO_SEED,
    **UNKNOWN_LEVELS,
}
FOREST = {
    **SINGLE,
    "Resampling method": "Bagging Resampling",
    "Number of decision trees": 8,
    "Maximum depth of the decision trees": 32,
    "Number of random splits per node": 128,
    "Minimum number of samples per leaf node": 1,
    "Range for number of decision trees": "1; 8; 32",
    "Range for the maximum depth of the decision trees": "1; 16; 64",
    "Range for the number of random splits per node": "1; 128; 1024",
    "Range for the minimum number of samples per leaf node": "1; 4; 16",
    "Allow unknown values for categorical features": True,
}
NEURAL = {
    **SINGLE,
    "Hidden layer specification": "Fully-connected case",
    "Hidden layer specification1": "Fully-connected case",
    "The initial learning weights diameter": 0.1,
    "The learning rate": 0.1,
    "Range for learning rate": "0.1; 0.2; 0.4",
    "The momentum": 0.0,
    "The type of normalizer": "Min-Max normalizer",
    "Number of hidden nodes": "100",
    "Number of hidden nodes1": "100",
    "Number of learning iterations": 100,
    "Range for number of learning iterations": "20; 40; 80; 160",
    "Shuffle examples": True,
    **NO_SEED,
    **UNKNOWN_LEVELS,
}
LINEAR_MODEL_RANGES = {
    "Range for optimization tolerance": "0.00001; 0.00000001",
    "Range for L1 regularization weight": "0.0; 0.01; 0.1; 1.0",
    "Range for L2 regularization weight": "0.01; 0.1; 1.0",
    L.RANGE_FOR_MEMORY_SIZE: "5; 20; 50",
}
LOGISTIC = {
    **SINGLE,
    "Optimization Tolerance": 1e-7,
    "L1 Regularization weight": 1.0,
    "L2 Regularizaton weight": 1.0,
    "Memory Size": 20,
    **LINEAR_MODEL_RANGES,
    **NO_SEED,
    **UNKNOWN_LEVELS,
}
POISSON = {
    **SINGLE,
    "Tolerance parameter for optimization convergence the lower the value the slower and more "
    "accurate the fitting": 1e-7,
    "L1 regularization weight": 1.0,
    "L2 regularization weight": 1.0,
    "Memory size for L-BFGS the lower the value the faster and less accurate the training": 20,
    **LINEAR_MODEL_RANGES,
    **NO_SEED,
    **UNKNOWN_LEVELS,
}
SVM = {
    **SINGLE,
    "Number of iterations": 10,
    "Range for number of iterations": "1; 10; 100",
    "The value lambda": 0.001,
    "Range for lambda": "0.00001; 0.0001; 0.001; 0.01; 0.1",
    "Normalize the features": True,
    "Perform a projection to the unit-ball": False,
    **NO_SEED,
    **UNKNOWN_LEVELS,
}
PERCEPTRON = {
    **SINGLE,
    "Initial learning rate": 1.0,
    "Maximum number of iterations": 10,
    "Range for initial learning rate": "0.1; 0.5; 1.0",
    "Range for maximum number of iterations": "1; 10",
    **NO_SEED,
    **UNKNOWN_LEVELS,
}
LINEAR = {
    "Solution method": "Ordinary Least Squares",
    **SINGLE,
    "L2 regularization weight": 0.001,
    "Include intercept term": True,
    "Learning rate": 0.1,
    "Number of epochs over which algorithm iterates through examples": 10,
    "L2 regularization term weight": 0.001,
    "Range for learning rate": "0.025; 0.05; 0.1; 0.2",
    "Range for number of epochs over which algorithm iterates through examples": "1; 10; 100",
    "Range for L2 regularization term weight": "0.001; 0.01; 0.1",
    "Should input instances be normalized": True,
    "Final hypothesis is averaged": True,
    "Decrease learning rate as iterations progress": True,
    **NO_SEED,
    **UNKNOWN_LEVELS,
}


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (L.LinearRegression, LINEAR),
        (L.BoostedDecisionTreeRegression, BOOSTED),
        (L.TwoClassBoostedDecisionTree, BOOSTED),
        (L.MulticlassBoostedDecisionTree, BOOSTED),
        (L.DecisionForestRegression, FOREST),
        (L.TwoClassDecisionForest, FOREST),
        (L.MulticlassDecisionForest, FOREST),
        (L.NeuralNetworkRegression, NEURAL),
        (L.TwoClassNeuralNetwork, NEURAL),
        (L.MulticlassNeuralNetwork, NEURAL),
        (L.TwoClassLogisticRegression, LOGISTIC),
        (L.MulticlassLogisticRegression, LOGISTIC),
        (L.TwoClassSupportVectorMachine, SVM),
        (L.TwoClassAveragedPerceptron, PERCEPTRON),
        (L.PoissonRegression, POISSON),
    ],
    ids=lambda v: getattr(v, "id", ""),
)
def test_defaults_are_the_designers(component: type[Component], expected: dict[str, Any]) -> None:
    assert component.Parameters.model_validate({}).model_dump(by_alias=True) == expected


def test_catalogue_names_ids_and_versions() -> None:
    assert {c.id: (c.name, c.version) for c in L.COMPONENTS} == {
        "linear_regression": ("Linear Regression", "3.0"),
        "boosted_decision_tree_regression": ("Boosted Decision Tree Regression", "2.0"),
        "decision_forest_regression": ("Decision Forest Regression", "3.0"),
        "neural_network_regression": ("Neural Network Regression", "2.0"),
        "poisson_regression": ("Poisson Regression", "2.0"),
        "two_class_logistic_regression": ("Two-Class Logistic Regression", "2.0"),
        "two_class_boosted_decision_tree": ("Two-Class Boosted Decision Tree", "2.0"),
        "two_class_decision_forest": ("Two-Class Decision Forest", "2.0"),
        "two_class_support_vector_machine": ("Two-Class Support Vector Machine", "2.0"),
        "two_class_neural_network": ("Two-Class Neural Network", "2.0"),
        "two_class_averaged_perceptron": ("Two-Class Averaged Perceptron", "2.0"),
        "multiclass_logistic_regression": ("Multiclass Logistic Regression", "2.0"),
        "multiclass_decision_forest": ("Multiclass Decision Forest", "2.0"),
        "multiclass_boosted_decision_tree": ("MultiClass Boosted Decision Tree", "2.0"),
        "multiclass_neural_network": ("Multiclass Neural Network", "2.0"),
        "one_vs_all_multiclass": ("One-vs-All Multiclass", "1.0"),
        "one_vs_one_multiclass": ("One-vs-One Multiclass", "1.0"),
    }
    for component in L.COMPONENTS:
        described = component.describe()
        assert described["outputs"] == [
            {
                "id": "untrained_model",
                "name": "Untrained model",
                "type": "UntrainedModelDirectory",
                "optional": False,
            }
        ]
        assert "properties" in described["parameters"] or not component.Parameters.model_fields


def test_boosted_tree_maps_to_histogram_boosting() -> None:
    regressor = make(L.BoostedDecisionTreeRegression, **{"Random number seed": 7}).estimator
    classifier = make(L.TwoClassBoostedDecisionTree).estimator
    assert isinstance(regressor, HistGradientBoostingRegressor)
    assert isinstance(classifier, HistGradientBoostingClassifier)
    assert (
        regressor.max_leaf_nodes,
        regressor.min_samples_leaf,
        regressor.learning_rate,
        regressor.max_iter,
        regressor.early_stopping,
        regressor.random_state,
    ) == (20, 10, 0.2, 100, False, 7)


def test_decision_forest_maps_resampling_and_caps_random_splits() -> None:
    bagging = make(L.DecisionForestRegression).estimator
    assert isinstance(bagging, DecisionForestRegressor)
    assert (
        bagging.n_estimators,
        bagging.max_depth,
        bagging.max_features,
        bagging.min_samples_leaf,
        bagging.bootstrap,
    ) == (8, 32, 128, 1, True)
    replicate = make(
        L.TwoClassDecisionForest,
        **{"Resampling method": "Replicate Resampling", "Number of random splits per node": 3},
    ).estimator
    assert isinstance(replicate, DecisionForestClassifier) and replicate.bootstrap is False
    model = fit(make(L.DecisionForestRegression), regression_data(), "y")
    forest = model.pipeline.named_steps["model"]
    assert forest.max_features == 128  # the user's value survives training ...
    assert forest.estimators_[0].max_features is None  # ... and meant "all 6 encoded features"
    two_splits = make(L.DecisionForestRegression, **{"Number of random splits per node": 2})
    capped = fit(two_splits, regression_data(), "y")
    assert capped.pipeline.named_steps["model"].estimators_[0].max_features == 2


def test_neural_network_mapping() -> None:
    regression = make(
        L.NeuralNetworkRegression,
        **{
            "Number of hidden nodes": "30, 10",
            "The momentum": 0.5,
            "The type of normalizer": "Gaussian normalizer",
        },
    ).estimator
    assert isinstance(regression, TransformedTargetRegressor)
    mlp = regression.regressor.named_steps["mlp"]
    assert (mlp.hidden_layer_sizes, mlp.learning_rate_init, mlp.momentum, mlp.max_iter, mlp.solver) == (
        (30, 10),
        0.1,
        0.5,
        100,
        "sgd",
    )
    assert type(regression.regressor.named_steps["normalize"]).__name__ == "StandardScaler"
    unnormalised = make(L.TwoClassNeuralNetwork, **{"The type of normalizer": "Do not normalize"}).estimator
    assert unnormalised.named_steps["normalize"] == "passthrough"


def test_neural_network_custom_script_is_refused() -> None:
    with pytest.raises(ComponentError) as info:
        make(L.MulticlassNeuralNetwork, **{"Hidden layer specification": "Custom definition script"})
    assert info.value.code == "NotSupported" and "Hidden layer specification" in str(info.value)
    ranged = {
        "Create trainer mode": "ParameterRange",
        "Hidden layer specification1": "Custom definition script",
    }
    with pytest.raises(ComponentError, match="Hidden layer specification1"):
        make(L.TwoClassNeuralNetwork, **ranged)
    # the single-mode spec does not matter in range mode
    make(
        L.TwoClassNeuralNetwork,
        **{"Create trainer mode": "ParameterRange", "Hidden layer specification": "Custom definition script"},
    )


def test_logistic_regression_maps_l1_and_l2_to_c_and_l1_ratio() -> None:
    X, y = make_classification(200, 4, random_state=0)
    ours = ElasticNetLogisticRegression(l1_weight=0.0, l2_weight=2.0).fit(X, y)
    reference = LogisticRegression(C=0.5, tol=1e-7).fit(X, y)
    assert np.allclose(ours.model_.coef_, reference.coef_, atol=1e-4)
    both = ElasticNetLogisticRegression(l1_weight=3.0, l2_weight=1.0).fit(X, y).model_
    assert (both.C, both.l1_ratio, both.solver) == (0.25, 0.75, "saga")
    free = ElasticNetLogisticRegression(l1_weight=0.0, l2_weight=0.0).fit(X, y).model_
    assert np.inf == free.C
    learner = make(
        L.TwoClassLogisticRegression, **{"L1 Regularization weight": 0.5, "Optimization Tolerance": 1e-5}
    )
    model = learner.estimator.named_steps["logistic"]
    assert (model.l1_weight, model.l2_weight, model.tol) == (0.5, 1.0, 1e-5)


def test_poisson_without_l1_is_sklearns_poisson_regressor() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(X @ [0.5, -0.3, 0.0] + 1))
    ours = PenalisedPoissonRegressor(l1_weight=0.0, l2_weight=2.0).fit(X, y)
    reference = PoissonRegressor(alpha=2.0 / 200, tol=1e-10, max_iter=1000).fit(X, y)
    assert np.allclose(ours.coef_, reference.coef_, atol=1e-4)
    assert ours.intercept_ == pytest.approx(reference.intercept_, abs=1e-4)
    lasso = PenalisedPoissonRegressor(l1_weight=50.0, l2_weight=0.0).fit(X, y)
    assert lasso.coef_[2] == 0.0 and abs(lasso.coef_[0]) < abs(ours.coef_[0])


def test_poisson_refuses_negative_labels() -> None:
    df = count_data()
    df.loc[3, "y"] = -2
    with pytest.raises(ComponentError) as info:
        fit(make(L.PoissonRegression), df, "y")
    assert info.value.code == "LibraryException" and "non-negative" in str(info.value)


def test_svm_and_perceptron_mapping() -> None:
    svm = make(L.TwoClassSupportVectorMachine, **{"Perform a projection to the unit-ball": True}).estimator
    inner = svm.named_steps["svm"]
    assert isinstance(inner, DecisionProbabilities)
    assert (inner.estimator.loss, inner.estimator.alpha, inner.estimator.max_iter) == ("hinge", 0.001, 10)
    assert type(svm.named_steps["project"]).__name__ == "Normalizer"
    perceptron = make(L.TwoClassAveragedPerceptron).estimator.named_steps["perceptron"].estimator
    assert (perceptron.loss, perceptron.eta0, perceptron.max_iter, perceptron.average) == (
        "perceptron",
        1.0,
        10,
        True,
    )


# ---- ParameterRange mode -------------------------------------------------------------------------


def test_parameter_range_mode_builds_the_grid_from_the_designer_ranges() -> None:
    single = make(L.TwoClassBoostedDecisionTree)
    assert single.param_grid == {}
    ranged = make(
        L.TwoClassBoostedDecisionTree,
        **{"Create trainer mode": "ParameterRange", "Range for learning rate": "0.1;0.3"},
    )
    assert ranged.param_grid == {
        "max_leaf_nodes": [2, 8, 32, 128],
        "min_samples_leaf": [1, 10, 50],
        "learning_rate": [0.1, 0.3],
        "max_iter": [20, 100, 500],
    }
    assert ranged.estimator.learning_rate == 0.2  # Train Model uses the single values
    network = make(L.NeuralNetworkRegression, **{"Create trainer mode": "ParameterRange"})
    assert network.param_grid == {
        "regressor__mlp__learning_rate_init": [0.1, 0.2, 0.4],
        "regressor__mlp__max_iter": [20, 40, 80, 160],
    }


@pytest.mark.parametrize("component", STANDALONE, ids=lambda c: c.id)
def test_every_grid_names_real_estimator_parameters(component: type[Component]) -> None:
    params = {"Create trainer mode": "ParameterRange"}
    if component is L.LinearRegression:
        params["Solution method"] = "Online Gradient Descent"
    learner = make(component, **params)
    assert learner.param_grid
    first = {name: values[0] for name, values in learner.param_grid.items()}
    configured = clone(learner.estimator).set_params(**first).get_params()
    assert {name: configured[name] for name in first} == first


def test_linear_regression_ranges_only_for_online_gradient_descent() -> None:
    assert make(L.LinearRegression, **{"Create trainer mode": "ParameterRange"}).param_grid == {}
    ogd = make(
        L.LinearRegression,
        **{"Solution method": "Online Gradient Descent", "Create trainer mode": "ParameterRange"},
    )
    assert ogd.param_grid == {
        "sgdregressor__eta0": [0.025, 0.05, 0.1, 0.2],
        "sgdregressor__max_iter": [1, 10, 100],
        "sgdregressor__alpha": [0.001, 0.01, 0.1],
    }
    raw = make(
        L.LinearRegression,
        **{
            "Solution method": "Online Gradient Descent",
            "Create trainer mode": "ParameterRange",
            "Should input instances be normalized": False,
        },
    )
    assert set(raw.param_grid) == {"eta0", "max_iter", "alpha"}


@pytest.mark.parametrize(
    ("component", "bad"),
    [
        (L.TwoClassBoostedDecisionTree, {"Range for learning rate": "0.1; fast"}),
        (L.TwoClassBoostedDecisionTree, {"Range for learning rate": "0; 0.1"}),
        (L.TwoClassBoostedDecisionTree, {"Range for maximum number of leaves per tree": "1; 8"}),
        (L.TwoClassDecisionForest, {"Range for number of decision trees": "2.5"}),
        (L.TwoClassDecisionForest, {"Range for number of decision trees": " ; "}),
        (L.TwoClassLogisticRegression, {"Range for L1 regularization weight": "-1"}),
        (L.TwoClassNeuralNetwork, {"Number of hidden nodes": "ten"}),
        (L.TwoClassNeuralNetwork, {"The learning rate": 3}),
        (L.TwoClassBoostedDecisionTree, {"Create trainer mode": "Sweep"}),
        (L.TwoClassDecisionForest, {"Resampling method": "Boosting"}),
        (L.TwoClassSupportVectorMachine, {"The value lambda": 0}),
        (L.TwoClassBoostedDecisionTree, {"Random number seed": -1}),
    ],
)
def test_bad_parameters_are_refused(component: type[Component], bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        component.Parameters.model_validate(bad)


# ---- binary and multiclass scoring ---------------------------------------------------------------


def exact_forest() -> Learner:
    """One tree on all rows: on separable data its probabilities are exactly 0 or 1."""
    return make(
        L.TwoClassDecisionForest,
        **{"Resampling method": "Replicate Resampling", "Number of decision trees": 1},
    )


def test_binary_scored_probabilities_are_of_the_second_class_in_sorted_order() -> None:
    df = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 10.0, 11.0, 12.0], "y": ["dog", "dog", "dog", "cat", "cat", "cat"]}
    )
    model = fit(exact_forest(), df, "y")
    assert model.classes == ["cat", "dog"]
    scored = model.score(pd.DataFrame({"x": [0.0, 2.5, 11.5, 20.0]}))
    assert scored[SCORED_LABELS].tolist() == ["dog", "dog", "cat", "cat"]
    assert scored[SCORED_PROBABILITIES].tolist() == [1.0, 1.0, 0.0, 0.0]  # P("dog")
    assert scored.attrs["classes"] == ["cat", "dog"]
    numbers = pd.DataFrame({"x": [1.0, 2.0, 10.0, 11.0], "y": [10, 10, 9, 9]})
    numeric = fit(exact_forest(), numbers, "y")
    assert numeric.classes == [9, 10]  # numbers sort as numbers, not as text
    assert numeric.score(pd.DataFrame({"x": [1.5, 10.5]}))[SCORED_PROBABILITIES].tolist() == [1.0, 0.0]


def test_multiclass_has_one_probability_column_per_class() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 10.0, 11.0, 20.0, 21.0], "y": ["b", "b", "a", "a", "c", "c"]})
    model = fit(
        make(
            L.MulticlassDecisionForest,
            **{"Resampling method": "Replicate Resampling", "Number of decision trees": 1},
        ),
        df,
        "y",
    )
    scored = model.score(pd.DataFrame({"x": [1.5, 10.5, 20.5]}), append=False)
    assert list(scored.columns) == [
        SCORED_LABELS,
        "Scored Probabilities_a",
        "Scored Probabilities_b",
        "Scored Probabilities_c",
    ]
    assert scored.iloc[:, 1:].to_numpy().tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert scored.attrs["task"] == "multiclass"


def test_two_class_learner_refuses_three_classes() -> None:
    with pytest.raises(ComponentError) as info:
        fit(make(L.TwoClassLogisticRegression), classification_data(3), "y")
    assert (info.value.code, info.value.column) == ("InvalidLabel", "y")


def test_unknown_levels_are_refused_only_when_not_allowed() -> None:
    df = classification_data(2)
    new = df.iloc[200:].assign(band="sideways")
    allowed = fit(make(L.TwoClassDecisionForest), df.iloc[:200], "y")
    assert len(allowed.score(new)) == 100
    strict = fit(
        make(L.TwoClassDecisionForest, **{"Allow unknown values for categorical features": False}),
        df.iloc[:200],
        "y",
    )
    assert len(strict.score(df.iloc[200:])) == 100
    with pytest.raises(ComponentError) as info:
        strict.score(new)
    assert (info.value.code, info.value.column) == ("InvalidDataset", "band")
    assert "sideways" in str(info.value)


# ---- One-vs-All and One-vs-One -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "wrapper"),
    [(L.OneVsAllMulticlass, OneVsRestClassifier), (L.OneVsOneMulticlass, OneVsOneClassifier)],
)
def test_one_vs_all_and_one_vs_one_score_three_classes(component: type[Component], wrapper: type) -> None:
    binary = seeded(L.TwoClassLogisticRegression)
    learner = make(component, {"untrained_binary_classification_model": binary})
    assert learner.task == "multiclass"
    assert learner.algorithm == f"{component.name} (Two-Class Logistic Regression)"
    found = learner.estimator if isinstance(learner.estimator, wrapper) else learner.estimator.estimator
    assert isinstance(found, wrapper)
    df = classification_data(3)
    _, scored = train_and_score(learner, df)
    columns = [f"{SCORED_PROBABILITIES}_{c}" for c in ("ant", "bee", "cat")]
    assert scored.attrs["score_columns"] == [SCORED_LABELS, *columns]
    assert np.allclose(scored[columns].sum(axis=1), 1.0)
    assert (scored[SCORED_LABELS] == scored["y"]).mean() > 0.8


def test_one_vs_all_keeps_the_binary_learners_grid_and_refuses_other_tasks() -> None:
    ranged = make(L.TwoClassSupportVectorMachine, **{"Create trainer mode": "ParameterRange"})
    learner = make(L.OneVsAllMulticlass, {"untrained_binary_classification_model": ranged})
    assert learner.param_grid == {f"estimator__{k}": v for k, v in ranged.param_grid.items()}
    one_vs_one = make(L.OneVsOneMulticlass, {"untrained_binary_classification_model": ranged})
    assert set(one_vs_one.param_grid) == {f"estimator__estimator__{k}" for k in ranged.param_grid}
    with pytest.raises(ComponentError) as info:
        make(
            L.OneVsAllMulticlass, {"untrained_binary_classification_model": make(L.MulticlassDecisionForest)}
        )
    assert info.value.code == "InvalidLearner" and "Multiclass Decision Forest" in str(info.value)
