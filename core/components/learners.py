"""Learners: components with no inputs whose output is an untrained model.

Every learner has the designer's "Create trainer mode". In SingleParameter mode the estimator
uses the single values. In ParameterRange mode the "Range for ..." fields (values separated by
``;``) become :attr:`Learner.param_grid` for Tune Model Hyperparameters; the estimator still
carries the single values, which is what Train Model uses if handed a ranged learner.

The designer runs LightGBM, TLC and nimbusml learners; these are scikit-learn stand-ins. Each
class docstring says how the designer's parameters map, and which have no counterpart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import Ridge, SGDClassifier, SGDRegressor
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, Normalizer, QuantileTransformer, StandardScaler

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.models import (
    DecisionForestClassifier,
    DecisionForestRegressor,
    DecisionProbabilities,
    ElasticNetLogisticRegression,
    Learner,
    PenalisedPoissonRegressor,
    Task,
)
from core.errors import ComponentError

UNTRAINED_OUT = Port("untrained_model", "Untrained model", PortType.UNTRAINED_MODEL)
UINT32_MAX = 2**32 - 1
REGRESSION = "Machine Learning Algorithms/Regression"
CLASSIFICATION = "Machine Learning Algorithms/Classification"

TrainerMode = Literal["SingleParameter", "ParameterRange"]
RANGE_FOR_MEMORY_SIZE = (
    "Range for memory size for L-BFGS the lower the value the faster and less accurate the training"
)


# ---- "Range for ..." parameters ------------------------------------------------------------------


def parse_range(text: str, kind: type[int] | type[float]) -> list[Any]:
    """``"0.025; 0.05; 0.1"`` -> ``[0.025, 0.05, 0.1]`` (``,`` also separates)."""
    parts = [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    if not parts:
        raise ValueError("a range needs at least one value, e.g. '1; 10; 100'")
    values = [kind(p) for p in parts]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("range values must be finite numbers")
    return values


def range_check(
    kind: type[int] | type[float], ge: float | None = None, gt: float | None = None, le: float | None = None
) -> Callable[[str], str]:
    """A validator: every value of a range string parses as ``kind`` within the bounds."""

    def check(text: str) -> str:
        for v in parse_range(text, kind):
            if (ge is not None and v < ge) or (gt is not None and v <= gt) or (le is not None and v > le):
                limits = ((">=", ge), (">", gt), ("<=", le))
                bounds = ", ".join(f"{op} {b}" for op, b in limits if b is not None)
                raise ValueError(f"range value {v} must be {bounds}")
        return text

    return check


def range_of(
    kind: type[int] | type[float], ge: float | None = None, gt: float | None = None, le: float | None = None
) -> Any:
    """A range string type built at run time; a module-level alias spelled
    ``Annotated[str, AfterValidator(range_check(...))]`` is the form a type checker reads."""
    return Annotated[str, AfterValidator(range_check(kind, ge=ge, gt=gt, le=le))]


CountRange = Annotated[str, AfterValidator(range_check(int, ge=1))]
LeafCountRange = Annotated[str, AfterValidator(range_check(int, ge=2))]
FractionRange = Annotated[str, AfterValidator(range_check(float, gt=0.0, le=1.0))]
PositiveRange = Annotated[str, AfterValidator(range_check(float, gt=0.0))]
WeightRange = Annotated[str, AfterValidator(range_check(float, ge=0.0))]
NeuralRateRange = Annotated[str, AfterValidator(range_check(float, gt=0.0, le=2.0))]


def _hidden_layers(text: str) -> str:
    sizes = [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    if not sizes or not all(s.isdigit() and int(s) > 0 for s in sizes):
        raise ValueError("hidden nodes are positive whole numbers, e.g. '100' (or '100, 50' for two layers)")
    return text


HiddenNodes = Annotated[str, AfterValidator(_hidden_layers)]


Grid = dict[str, list[Any]]


class TrainerParams(Params):
    create_trainer_mode: TrainerMode = Field("SingleParameter", alias="Create trainer mode")


class SeededParams(Params):
    """The two fields that close most learners' parameter forms, declared once.

    A learner's parameters list this class first among their bases, before the class holding the
    learner's own fields (``class XParams(SeededParams, _XFields)``): pydantic orders fields from
    the farthest base to the class itself, so the seed and the unknown-levels switch stay last on
    the form, where the designer shows them.
    """

    random_number_seed: int | None = Field(None, ge=0, le=UINT32_MAX, alias="Random number seed")
    allow_unknown_levels: bool = Field(True, alias="Allow unknown levels in categorical features")


def sweep(mode: TrainerMode, ranges: Mapping[str, tuple[str, type[int] | type[float]]]) -> Grid:
    """The parameter grid of a learner: empty unless it is in ParameterRange mode."""
    if mode != "ParameterRange":
        return {}
    return {name: parse_range(text, kind) for name, (text, kind) in ranges.items()}


def prefixed(grid: Grid, prefix: str) -> Grid:
    return {f"{prefix}{name}": values for name, values in grid.items()}


class LearnerComponent(Component):
    """A learner: :meth:`build` makes the estimator and its sweep grid from the parameters, and the
    one :meth:`run` hands them on as the untrained model, named after the component."""

    outputs = (UNTRAINED_OUT,)
    task: ClassVar[Task]

    def build(self, params: Any) -> tuple[Any, Grid]:
        """The untrained estimator and (in ParameterRange mode) the grid Tune Model sweeps."""
        raise NotImplementedError

    def allows_unknown_levels(self, params: Any) -> bool:
        return bool(params.allow_unknown_levels)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        estimator, grid = self.build(params)
        return {
            "untrained_model": Learner(
                estimator=estimator,
                task=self.task,
                algorithm=self.name,
                param_grid=grid,
                allow_unknown_levels=self.allows_unknown_levels(params),
            )
        }


# ---- Linear Regression ---------------------------------------------------------------------------


class _LinearRegressionFields(Params):
    solution_method: Literal["Ordinary Least Squares", "Online Gradient Descent"] = Field(
        "Ordinary Least Squares", alias="Solution method"
    )
    create_trainer_mode: TrainerMode = Field("SingleParameter", alias="Create trainer mode")
    l2_regularization_weight: float = Field(0.001, ge=0.0, alias="L2 regularization weight")
    include_intercept_term: bool = Field(True, alias="Include intercept term")
    learning_rate: float = Field(0.1, gt=0.0, alias="Learning rate")
    number_of_epochs: int = Field(
        10, ge=1, alias="Number of epochs over which algorithm iterates through examples"
    )
    l2_regularization_term_weight: float = Field(0.001, ge=0.0, alias="L2 regularization term weight")
    range_for_learning_rate: PositiveRange = Field("0.025; 0.05; 0.1; 0.2", alias="Range for learning rate")
    range_for_number_of_epochs: CountRange = Field(
        "1; 10; 100", alias="Range for number of epochs over which algorithm iterates through examples"
    )
    range_for_l2_regularization_term_weight: WeightRange = Field(
        "0.001; 0.01; 0.1", alias="Range for L2 regularization term weight"
    )
    normalize_features: bool = Field(True, alias="Should input instances be normalized")
    average_final_hypothesis: bool = Field(True, alias="Final hypothesis is averaged")
    decrease_learning_rate: bool = Field(True, alias="Decrease learning rate as iterations progress")


class LinearRegressionParams(SeededParams, _LinearRegressionFields):
    pass


class LinearRegression(LearnerComponent):
    """Ordinary Least Squares is ``Ridge`` (the L2 weight is its alpha); Online Gradient Descent is
    ``SGDRegressor`` (optionally after a StandardScaler). "Create trainer mode" applies to Online
    Gradient Descent only, as in the designer; it sweeps eta0, max_iter and alpha."""

    id = "linear_regression"
    name = "Linear Regression"
    category = REGRESSION
    version = "3.0"
    description = "Ordinary least squares (ridge-regularised) or online gradient descent."
    Parameters = LinearRegressionParams
    task = "regression"

    def build(self, params: LinearRegressionParams) -> tuple[Any, Grid]:
        if params.solution_method == "Ordinary Least Squares":
            ridge = Ridge(alpha=params.l2_regularization_weight, fit_intercept=params.include_intercept_term)
            return ridge, {}
        sgd = SGDRegressor(
            alpha=params.l2_regularization_term_weight,
            eta0=params.learning_rate,
            max_iter=params.number_of_epochs,
            average=params.average_final_hypothesis,
            learning_rate="invscaling" if params.decrease_learning_rate else "constant",
            random_state=params.random_number_seed,
            tol=None,
        )
        grid = sweep(
            params.create_trainer_mode,
            {
                "eta0": (params.range_for_learning_rate, float),
                "max_iter": (params.range_for_number_of_epochs, int),
                "alpha": (params.range_for_l2_regularization_term_weight, float),
            },
        )
        if params.normalize_features:
            return make_pipeline(StandardScaler(), sgd), prefixed(grid, "sgdregressor__")
        return sgd, grid


# ---- Boosted decision trees ----------------------------------------------------------------------


class _BoostedDecisionTreeFields(TrainerParams):
    maximum_number_of_leaves_per_tree: int = Field(20, ge=2, alias="Maximum number of leaves per tree")
    minimum_number_of_training_instances_required_to_form_a_leaf: int = Field(
        10, ge=1, alias="Minimum number of training instances required to form a leaf"
    )
    the_learning_rate: float = Field(0.2, gt=0.0, le=1.0, alias="The learning rate")
    total_number_of_trees_constructed: int = Field(100, ge=1, alias="Total number of trees constructed")
    range_for_maximum_number_of_leaves_per_tree: LeafCountRange = Field(
        "2; 8; 32; 128", alias="Range for maximum number of leaves per tree"
    )
    range_for_minimum_number_of_training_instances_required_to_form_a_leaf: CountRange = Field(
        "1; 10; 50", alias="Range for minimum number of training instances required to form a leaf"
    )
    range_for_learning_rate: FractionRange = Field(
        "0.025; 0.05; 0.1; 0.2; 0.4", alias="Range for learning rate"
    )
    range_for_total_number_of_trees_constructed: CountRange = Field(
        "20; 100; 500", alias="Range for total number of trees constructed"
    )


class BoostedDecisionTreeParams(SeededParams, _BoostedDecisionTreeFields):
    pass


class _BoostedDecisionTree(LearnerComponent):
    """The designer uses LightGBM; this is scikit-learn's histogram gradient boosting, which is
    the same algorithm family without a native dependency. Leaves -> max_leaf_nodes, instances per
    leaf -> min_samples_leaf, learning rate -> learning_rate, trees -> max_iter (boosting rounds;
    early stopping is off so the number of trees is the one asked for)."""

    version = "2.0"
    Parameters = BoostedDecisionTreeParams

    def build(self, params: BoostedDecisionTreeParams) -> tuple[Any, Grid]:
        kind = HistGradientBoostingRegressor if self.task == "regression" else HistGradientBoostingClassifier
        estimator = kind(
            max_leaf_nodes=params.maximum_number_of_leaves_per_tree,
            min_samples_leaf=params.minimum_number_of_training_instances_required_to_form_a_leaf,
            learning_rate=params.the_learning_rate,
            max_iter=params.total_number_of_trees_constructed,
            early_stopping=False,
            random_state=params.random_number_seed,
        )
        grid = sweep(
            params.create_trainer_mode,
            {
                "max_leaf_nodes": (params.range_for_maximum_number_of_leaves_per_tree, int),
                "min_samples_leaf": (
                    params.range_for_minimum_number_of_training_instances_required_to_form_a_leaf,
                    int,
                ),
                "learning_rate": (params.range_for_learning_rate, float),
                "max_iter": (params.range_for_total_number_of_trees_constructed, int),
            },
        )
        return estimator, grid


class BoostedDecisionTreeRegression(_BoostedDecisionTree):
    id = "boosted_decision_tree_regression"
    name = "Boosted Decision Tree Regression"
    category = REGRESSION
    description = "Gradient-boosted regression trees."
    task = "regression"


class TwoClassBoostedDecisionTree(_BoostedDecisionTree):
    id = "two_class_boosted_decision_tree"
    name = "Two-Class Boosted Decision Tree"
    category = CLASSIFICATION
    description = "Gradient-boosted classification trees for two classes."
    task = "binary"


class MulticlassBoostedDecisionTree(_BoostedDecisionTree):
    id = "multiclass_boosted_decision_tree"
    name = "MultiClass Boosted Decision Tree"
    category = CLASSIFICATION
    description = "Gradient-boosted classification trees for several classes."
    task = "multiclass"


# ---- Decision forests ----------------------------------------------------------------------------


class DecisionForestParams(TrainerParams):
    resampling_method: Literal["Bagging Resampling", "Replicate Resampling"] = Field(
        "Bagging Resampling", alias="Resampling method"
    )
    number_of_decision_trees: int = Field(8, ge=1, alias="Number of decision trees")
    maximum_depth_of_the_decision_trees: int = Field(32, ge=1, alias="Maximum depth of the decision trees")
    number_of_random_splits_per_node: int = Field(128, ge=1, alias="Number of random splits per node")
    minimum_number_of_samples_per_leaf_node: int = Field(
        1, ge=1, alias="Minimum number of samples per leaf node"
    )
    range_for_number_of_decision_trees: CountRange = Field(
        "1; 8; 32", alias="Range for number of decision trees"
    )
    range_for_the_maximum_depth_of_the_decision_trees: CountRange = Field(
        "1; 16; 64", alias="Range for the maximum depth of the decision trees"
    )
    range_for_the_number_of_random_splits_per_node: CountRange = Field(
        "1; 128; 1024", alias="Range for the number of random splits per node"
    )
    range_for_the_minimum_number_of_samples_per_leaf_node: CountRange = Field(
        "1; 4; 16", alias="Range for the minimum number of samples per leaf node"
    )
    allow_unknown_values_for_categorical_features: bool = Field(
        True, alias="Allow unknown values for categorical features"
    )


class _DecisionForest(LearnerComponent):
    """A random forest. Bagging resampling trains each tree on a bootstrap sample; Replicate
    resampling trains every tree on all rows (bootstrap off). Trees -> n_estimators, depth ->
    max_depth, random splits per node -> max_features (all features when it exceeds their
    number), samples per leaf -> min_samples_leaf. The designer has no seed parameter here, so the
    forest is seeded with 0 and training is repeatable."""

    version = "2.0"
    Parameters = DecisionForestParams

    def build(self, params: DecisionForestParams) -> tuple[Any, Grid]:
        kind = DecisionForestRegressor if self.task == "regression" else DecisionForestClassifier
        estimator = kind(
            n_estimators=params.number_of_decision_trees,
            max_depth=params.maximum_depth_of_the_decision_trees,
            max_features=params.number_of_random_splits_per_node,
            min_samples_leaf=params.minimum_number_of_samples_per_leaf_node,
            bootstrap=params.resampling_method == "Bagging Resampling",
            random_state=0,
        )
        grid = sweep(
            params.create_trainer_mode,
            {
                "n_estimators": (params.range_for_number_of_decision_trees, int),
                "max_depth": (params.range_for_the_maximum_depth_of_the_decision_trees, int),
                "max_features": (params.range_for_the_number_of_random_splits_per_node, int),
                "min_samples_leaf": (params.range_for_the_minimum_number_of_samples_per_leaf_node, int),
            },
        )
        return estimator, grid

    def allows_unknown_levels(self, params: DecisionForestParams) -> bool:
        return params.allow_unknown_values_for_categorical_features


class DecisionForestRegression(_DecisionForest):
    id = "decision_forest_regression"
    name = "Decision Forest Regression"
    category = REGRESSION
    version = "3.0"
    description = "An ensemble of regression trees, averaged."
    task = "regression"


class TwoClassDecisionForest(_DecisionForest):
    id = "two_class_decision_forest"
    name = "Two-Class Decision Forest"
    category = CLASSIFICATION
    description = "An ensemble of classification trees for two classes."
    task = "binary"


class MulticlassDecisionForest(_DecisionForest):
    id = "multiclass_decision_forest"
    name = "Multiclass Decision Forest"
    category = CLASSIFICATION
    description = "An ensemble of classification trees for several classes."
    task = "multiclass"


# ---- Neural networks -----------------------------------------------------------------------------

HiddenLayerSpecification = Literal["Fully-connected case", "Custom definition script"]
NormalizerKind = Literal[
    "Binning normalizer", "Gaussian normalizer", "Min-Max normalizer", "Do not normalize"
]


class _NeuralNetworkFields(TrainerParams):
    hidden_layer_specification: HiddenLayerSpecification = Field(
        "Fully-connected case", alias="Hidden layer specification"
    )
    hidden_layer_specification1: HiddenLayerSpecification = Field(
        "Fully-connected case", alias="Hidden layer specification1"
    )
    the_initial_learning_weights_diameter: float = Field(
        0.1, gt=0.0, alias="The initial learning weights diameter"
    )
    the_learning_rate: float = Field(0.1, gt=0.0, le=2.0, alias="The learning rate")
    range_for_learning_rate: NeuralRateRange = Field("0.1; 0.2; 0.4", alias="Range for learning rate")
    the_momentum: float = Field(0.0, ge=0.0, le=1.0, alias="The momentum")
    the_type_of_normalizer: NormalizerKind = Field("Min-Max normalizer", alias="The type of normalizer")
    number_of_hidden_nodes: HiddenNodes = Field("100", alias="Number of hidden nodes")
    number_of_hidden_nodes1: HiddenNodes = Field("100", alias="Number of hidden nodes1")
    number_of_learning_iterations: int = Field(100, ge=1, alias="Number of learning iterations")
    range_for_number_of_learning_iterations: CountRange = Field(
        "20; 40; 80; 160", alias="Range for number of learning iterations"
    )
    shuffle_examples: bool = Field(True, alias="Shuffle examples")


class NeuralNetworkParams(SeededParams, _NeuralNetworkFields):
    pass


def _normalizer(kind: str) -> Any:
    """The designer's normalizers: Gaussian is a z-score, Min-Max maps to [0, 1], Binning maps each
    value to its quantile (equal-population bins, in [0, 1])."""
    match kind:
        case "Min-Max normalizer":
            return MinMaxScaler()
        case "Gaussian normalizer":
            return StandardScaler()
        case "Binning normalizer":
            return QuantileTransformer(n_quantiles=100)
    return "passthrough"


class _NeuralNetwork(LearnerComponent):
    """A fully-connected network trained by stochastic gradient descent (sklearn's MLP with
    solver="sgd"): hidden nodes -> hidden_layer_sizes ("100, 50" gives two layers), learning rate
    -> learning_rate_init, momentum -> momentum, learning iterations -> max_iter (epochs), shuffle
    -> shuffle. The normalizer runs before the network. For regression the label is standardised
    while training (predictions are in the label's units), so the learning rate behaves the same
    whatever the label's scale. Not mapped: "The initial learning weights diameter" (sklearn
    draws initial weights by Glorot's rule) and "Custom definition script" (Net#), which is
    refused."""

    version = "2.0"
    Parameters = NeuralNetworkParams

    def build(self, params: NeuralNetworkParams) -> tuple[Any, Grid]:
        single = params.create_trainer_mode == "SingleParameter"
        spec, field_name = (
            (params.hidden_layer_specification, "Hidden layer specification")
            if single
            else (params.hidden_layer_specification1, "Hidden layer specification1")
        )
        if spec != "Fully-connected case":
            raise ComponentError(
                f"{field_name}: 'Custom definition script' (Net#) is not supported; use "
                "'Fully-connected case'",
                code="NotSupported",
            )
        nodes = params.number_of_hidden_nodes if single else params.number_of_hidden_nodes1
        kind = MLPRegressor if self.task == "regression" else MLPClassifier
        mlp = kind(
            hidden_layer_sizes=tuple(int(n) for n in re.split(r"[;,]", nodes) if n.strip()),
            solver="sgd",
            learning_rate_init=params.the_learning_rate,
            momentum=params.the_momentum,
            max_iter=params.number_of_learning_iterations,
            shuffle=params.shuffle_examples,
            random_state=params.random_number_seed,
        )
        network = Pipeline([("normalize", _normalizer(params.the_type_of_normalizer)), ("mlp", mlp)])
        grid = prefixed(
            sweep(
                params.create_trainer_mode,
                {
                    "learning_rate_init": (params.range_for_learning_rate, float),
                    "max_iter": (params.range_for_number_of_learning_iterations, int),
                },
            ),
            "mlp__",
        )
        if self.task == "regression":
            scaled = TransformedTargetRegressor(regressor=network, transformer=StandardScaler())
            return scaled, prefixed(grid, "regressor__")
        return network, grid


class NeuralNetworkRegression(_NeuralNetwork):
    id = "neural_network_regression"
    name = "Neural Network Regression"
    category = REGRESSION
    description = "A fully-connected neural network for regression."
    task = "regression"


class TwoClassNeuralNetwork(_NeuralNetwork):
    id = "two_class_neural_network"
    name = "Two-Class Neural Network"
    category = CLASSIFICATION
    description = "A fully-connected neural network for two classes."
    task = "binary"


class MulticlassNeuralNetwork(_NeuralNetwork):
    id = "multiclass_neural_network"
    name = "Multiclass Neural Network"
    category = CLASSIFICATION
    description = "A fully-connected neural network for several classes."
    task = "multiclass"


# ---- Logistic regression -------------------------------------------------------------------------


class _LogisticRegressionFields(TrainerParams):
    optimization_tolerance: float = Field(1e-7, gt=0.0, alias="Optimization Tolerance")
    l1_regularization_weight: float = Field(1.0, ge=0.0, alias="L1 Regularization weight")
    l2_regularization_weight: float = Field(1.0, ge=0.0, alias="L2 Regularizaton weight")
    memory_size: int = Field(20, ge=1, alias="Memory Size")
    range_for_optimization_tolerance: PositiveRange = Field(
        "0.00001; 0.00000001", alias="Range for optimization tolerance"
    )
    range_for_l1_regularization_weight: WeightRange = Field(
        "0.0; 0.01; 0.1; 1.0", alias="Range for L1 regularization weight"
    )
    range_for_l2_regularization_weight: WeightRange = Field(
        "0.01; 0.1; 1.0", alias="Range for L2 regularization weight"
    )
    range_for_memory_size: CountRange = Field("5; 20; 50", alias=RANGE_FOR_MEMORY_SIZE)


class LogisticRegressionParams(SeededParams, _LogisticRegressionFields):
    pass


class _LogisticRegression(LearnerComponent):
    """Logistic regression (multinomial for several classes) on standardised features, as TLC
    normalises features for its linear learners. The L1 and L2 weights map to sklearn's C and
    l1_ratio (see :class:`ElasticNetLogisticRegression`); tolerance -> tol. "Memory Size" and its
    range have no sklearn counterpart: they are accepted and not swept (sweeping them would only
    repeat identical runs)."""

    version = "2.0"
    Parameters = LogisticRegressionParams

    def build(self, params: LogisticRegressionParams) -> tuple[Any, Grid]:
        model = ElasticNetLogisticRegression(
            l1_weight=params.l1_regularization_weight,
            l2_weight=params.l2_regularization_weight,
            tol=params.optimization_tolerance,
            random_state=params.random_number_seed,
        )
        estimator = Pipeline([("normalize", StandardScaler()), ("logistic", model)])
        grid = sweep(
            params.create_trainer_mode,
            {
                "tol": (params.range_for_optimization_tolerance, float),
                "l1_weight": (params.range_for_l1_regularization_weight, float),
                "l2_weight": (params.range_for_l2_regularization_weight, float),
            },
        )
        return estimator, prefixed(grid, "logistic__")


class TwoClassLogisticRegression(_LogisticRegression):
    id = "two_class_logistic_regression"
    name = "Two-Class Logistic Regression"
    category = CLASSIFICATION
    description = "Logistic regression with L1 and L2 regularisation for two classes."
    task = "binary"


class MulticlassLogisticRegression(_LogisticRegression):
    id = "multiclass_logistic_regression"
    name = "Multiclass Logistic Regression"
    category = CLASSIFICATION
    description = "Multinomial logistic regression with L1 and L2 regularisation."
    task = "multiclass"


# ---- Poisson Regression --------------------------------------------------------------------------


class _PoissonRegressionFields(TrainerParams):
    optimization_tolerance: float = Field(
        1e-7,
        gt=0.0,
        alias="Tolerance parameter for optimization convergence the lower the value the slower "
        "and more accurate the fitting",
    )
    l1_regularization_weight: float = Field(1.0, ge=0.0, alias="L1 regularization weight")
    l2_regularization_weight: float = Field(1.0, ge=0.0, alias="L2 regularization weight")
    memory_size: int = Field(
        20, ge=1, alias="Memory size for L-BFGS the lower the value the faster and less accurate the training"
    )
    range_for_optimization_tolerance: PositiveRange = Field(
        "0.00001; 0.00000001", alias="Range for optimization tolerance"
    )
    range_for_l1_regularization_weight: WeightRange = Field(
        "0.0; 0.01; 0.1; 1.0", alias="Range for L1 regularization weight"
    )
    range_for_l2_regularization_weight: WeightRange = Field(
        "0.01; 0.1; 1.0", alias="Range for L2 regularization weight"
    )
    range_for_memory_size: CountRange = Field("5; 20; 50", alias=RANGE_FOR_MEMORY_SIZE)


class PoissonRegressionParams(SeededParams, _PoissonRegressionFields):
    pass


class PoissonRegression(LearnerComponent):
    """Poisson regression for counts, on standardised features, by L-BFGS with the designer's L1
    and L2 weights, tolerance and memory size (see :class:`PenalisedPoissonRegressor`: sklearn's
    PoissonRegressor has no L1 term). The fit is deterministic, so the seed has nothing to seed;
    it is accepted for compatibility. Labels must be non-negative."""

    id = "poisson_regression"
    name = "Poisson Regression"
    category = REGRESSION
    version = "2.0"
    description = "Regression for count labels (log link), with L1 and L2 regularisation."
    Parameters = PoissonRegressionParams
    task = "regression"

    def build(self, params: PoissonRegressionParams) -> tuple[Any, Grid]:
        model = PenalisedPoissonRegressor(
            l1_weight=params.l1_regularization_weight,
            l2_weight=params.l2_regularization_weight,
            tol=params.optimization_tolerance,
            memory_size=params.memory_size,
        )
        estimator = Pipeline([("normalize", StandardScaler()), ("poisson", model)])
        grid = sweep(
            params.create_trainer_mode,
            {
                "tol": (params.range_for_optimization_tolerance, float),
                "l1_weight": (params.range_for_l1_regularization_weight, float),
                "l2_weight": (params.range_for_l2_regularization_weight, float),
                "memory_size": (params.range_for_memory_size, int),
            },
        )
        return estimator, prefixed(grid, "poisson__")


# ---- Two-Class Support Vector Machine and Averaged Perceptron -------------------------------------


class _SupportVectorMachineFields(TrainerParams):
    number_of_iterations: int = Field(10, ge=1, alias="Number of iterations")
    range_for_number_of_iterations: CountRange = Field("1; 10; 100", alias="Range for number of iterations")
    the_value_lambda: float = Field(0.001, gt=0.0, alias="The value lambda")
    range_for_lambda: PositiveRange = Field("0.00001; 0.0001; 0.001; 0.01; 0.1", alias="Range for lambda")
    normalize_the_features: bool = Field(True, alias="Normalize the features")
    perform_a_projection_to_the_unit_ball: bool = Field(False, alias="Perform a projection to the unit-ball")


class SupportVectorMachineParams(SeededParams, _SupportVectorMachineFields):
    pass


class TwoClassSupportVectorMachine(LearnerComponent):
    """A linear SVM trained like the designer's Pegasos: stochastic gradient descent on the hinge
    loss (sklearn's SGDClassifier) minimising mean hinge loss + (λ/2)·‖w‖², so lambda -> alpha
    and iterations -> max_iter (passes over the data) exactly. Normalize -> Min-Max scaling;
    projection to the unit ball -> each row scaled to unit length. Scored Probabilities are the
    logistic function of the margin (see :class:`DecisionProbabilities`)."""

    id = "two_class_support_vector_machine"
    name = "Two-Class Support Vector Machine"
    category = CLASSIFICATION
    version = "2.0"
    description = "A linear support vector machine for two classes."
    Parameters = SupportVectorMachineParams
    task = "binary"

    def build(self, params: SupportVectorMachineParams) -> tuple[Any, Grid]:
        svm = SGDClassifier(
            loss="hinge",
            alpha=params.the_value_lambda,
            max_iter=params.number_of_iterations,
            tol=None,
            random_state=params.random_number_seed,
        )
        estimator = Pipeline(
            [
                ("normalize", MinMaxScaler() if params.normalize_the_features else "passthrough"),
                ("project", Normalizer() if params.perform_a_projection_to_the_unit_ball else "passthrough"),
                ("svm", DecisionProbabilities(svm)),
            ]
        )
        grid = sweep(
            params.create_trainer_mode,
            {
                "max_iter": (params.range_for_number_of_iterations, int),
                "alpha": (params.range_for_lambda, float),
            },
        )
        return estimator, prefixed(grid, "svm__estimator__")


class _AveragedPerceptronFields(TrainerParams):
    initial_learning_rate: float = Field(1.0, gt=0.0, alias="Initial learning rate")
    maximum_number_of_iterations: int = Field(10, ge=1, alias="Maximum number of iterations")
    range_for_initial_learning_rate: PositiveRange = Field(
        "0.1; 0.5; 1.0", alias="Range for initial learning rate"
    )
    range_for_maximum_number_of_iterations: CountRange = Field(
        "1; 10", alias="Range for maximum number of iterations"
    )


class AveragedPerceptronParams(SeededParams, _AveragedPerceptronFields):
    pass


class TwoClassAveragedPerceptron(LearnerComponent):
    """An averaged perceptron: sklearn's SGDClassifier with the perceptron loss, no penalty, a
    constant learning rate and averaged weights (sklearn's Perceptron cannot average). Learning
    rate -> eta0, iterations -> max_iter. Features are Min-Max scaled first, as TLC normalises
    them; Scored Probabilities are the logistic function of the margin."""

    id = "two_class_averaged_perceptron"
    name = "Two-Class Averaged Perceptron"
    category = CLASSIFICATION
    version = "2.0"
    description = "An averaged perceptron for two classes."
    Parameters = AveragedPerceptronParams
    task = "binary"

    def build(self, params: AveragedPerceptronParams) -> tuple[Any, Grid]:
        perceptron = SGDClassifier(
            loss="perceptron",
            penalty=None,
            learning_rate="constant",
            eta0=params.initial_learning_rate,
            max_iter=params.maximum_number_of_iterations,
            tol=None,
            average=True,
            random_state=params.random_number_seed,
        )
        estimator = Pipeline(
            [("normalize", MinMaxScaler()), ("perceptron", DecisionProbabilities(perceptron))]
        )
        grid = sweep(
            params.create_trainer_mode,
            {
                "eta0": (params.range_for_initial_learning_rate, float),
                "max_iter": (params.range_for_maximum_number_of_iterations, int),
            },
        )
        return estimator, prefixed(grid, "perceptron__estimator__")


# ---- One-vs-All and One-vs-One -------------------------------------------------------------------

BINARY_IN = Port(
    "untrained_binary_classification_model", "Untrained binary classification model", PortType.UNTRAINED_MODEL
)


class _MulticlassEnsemble(Component):
    """A multiclass learner made of copies of the two-class learner on its input; a ranged input
    learner keeps its grid (under the ensemble's prefix), so the ensemble can be tuned."""

    version = "1.0"
    category = CLASSIFICATION
    inputs = (BINARY_IN,)
    outputs = (UNTRAINED_OUT,)
    grid_prefix: ClassVar[str]

    def wrap(self, binary: Any) -> Any:
        """The ensemble estimator around the two-class estimator ``binary``."""
        raise NotImplementedError

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        binary: Learner = inputs[BINARY_IN.id]
        if binary.task != "binary":
            raise ComponentError(
                f"{self.name} needs a two-class model; {binary.algorithm} is a {binary.task} model",
                code="InvalidLearner",
            )
        return {
            "untrained_model": Learner(
                estimator=self.wrap(binary.estimator),
                task="multiclass",
                algorithm=f"{self.name} ({binary.algorithm})",
                param_grid=prefixed(binary.param_grid, self.grid_prefix),
                allow_unknown_levels=binary.allow_unknown_levels,
            )
        }


class OneVsAllMulticlass(_MulticlassEnsemble):
    """One two-class model per class, each separating that class from the rest (sklearn's
    OneVsRestClassifier); probabilities are the per-class ones, normalised to sum to 1. A
    ranged input learner keeps its grid, so the ensemble can be tuned."""

    id = "one_vs_all_multiclass"
    name = "One-vs-All Multiclass"
    description = "A multiclass model made of one two-class model per class."
    grid_prefix = "estimator__"

    def wrap(self, binary: Any) -> Any:
        return OneVsRestClassifier(binary)


class OneVsOneMulticlass(_MulticlassEnsemble):
    """One two-class model per pair of classes; the class with most votes wins (sklearn's
    OneVsOneClassifier). Its probabilities are the softmax of the vote scores: they rank the
    classes as the votes do, but are not calibrated."""

    id = "one_vs_one_multiclass"
    name = "One-vs-One Multiclass"
    description = "A multiclass model made of one two-class model per pair of classes."
    grid_prefix = "estimator__estimator__"

    def wrap(self, binary: Any) -> Any:
        return DecisionProbabilities(OneVsOneClassifier(binary))


COMPONENTS = (
    LinearRegression,
    BoostedDecisionTreeRegression,
    DecisionForestRegression,
    NeuralNetworkRegression,
    PoissonRegression,
    TwoClassLogisticRegression,
    TwoClassBoostedDecisionTree,
    TwoClassDecisionForest,
    TwoClassSupportVectorMachine,
    TwoClassNeuralNetwork,
    TwoClassAveragedPerceptron,
    MulticlassLogisticRegression,
    MulticlassDecisionForest,
    MulticlassBoostedDecisionTree,
    MulticlassNeuralNetwork,
    OneVsAllMulticlass,
    OneVsOneMulticlass,
)
