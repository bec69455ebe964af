"""The objects that travel on model and transform ports, and how a model scores.

These classes are what artifacts of type Model/Transform unpickle to, so their import paths
are part of the artifact format: move them only with a migration. That includes the small
estimators at the end of this module, which learners put inside their pipelines.

Score columns per task:
- regression: ``Scored Labels``;
- binary: ``Scored Labels`` and ``Scored Probabilities``, the probability of the *positive*
  class, which is the second of the two label values in sorted order (``1`` of 0/1, ``"yes"`` of
  "no"/"yes", ``10`` of 9/10: numbers sort as numbers). Evaluate Model uses the same convention;
- multiclass: ``Scored Labels`` and one ``Scored Probabilities_<class>`` per class, in sorted order;
- clustering: ``Assignments`` (zero-based cluster) and ``DistancesToClusterCenter no.<k>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from core.errors import ColumnNotFound, ComponentError

Task = Literal["regression", "binary", "multiclass", "clustering"]

SCORED_LABELS = "Scored Labels"
SCORED_PROBABILITIES = "Scored Probabilities"
ASSIGNMENTS = "Assignments"
DISTANCE_TO_CENTER = "DistancesToClusterCenter no."


@dataclass(frozen=True)
class Learner:
    """An untrained model: the estimator template plus the task it solves.

    ``param_grid`` is what Tune Model Hyperparameters sweeps: the estimator's parameter names
    (``get_params`` keys, nested with ``__``) mapped to the values of the learner's "Range for ..."
    fields. It is empty in SingleParameter mode; Train Model ignores it and uses the single values,
    as the designer does. ``allow_unknown_levels`` is "Allow unknown levels in categorical
    features": when off, scoring refuses a category the model never saw in training.
    """

    estimator: BaseEstimator
    task: Task
    algorithm: str
    param_grid: dict[str, list[Any]] = field(default_factory=dict)
    allow_unknown_levels: bool = True


@dataclass
class TrainedModel:
    """A fitted model with the schema it was trained on, so scoring can check its input."""

    pipeline: Pipeline
    task: Task
    algorithm: str
    label_column: str
    feature_columns: list[str]
    feature_dtypes: dict[str, str]
    classes: list[Any] = field(default_factory=list)

    def predictions(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Predicted labels and, for classifiers, class probabilities (columns in ``classes`` order)."""
        features = checked_features(self.pipeline, self.feature_columns, df)
        if features.empty:  # e.g. every row dropped by a cleaning step: nothing to predict
            width = len(self.classes) if self.task in ("binary", "multiclass") else 0
            return np.empty(0), (np.empty((0, width)) if width else None)
        labels = self.pipeline.predict(features)
        if self.task in ("binary", "multiclass") and hasattr(self.pipeline, "predict_proba"):
            return labels, self.pipeline.predict_proba(features)
        return labels, None

    def score(self, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
        """Add ``Scored Labels`` (and probabilities for classifiers) to ``df``."""
        labels, proba = self.predictions(df)
        scores = pd.DataFrame(index=df.index)
        scores[SCORED_LABELS] = labels
        if proba is not None and self.task == "binary":
            scores[SCORED_PROBABILITIES] = proba[:, 1]
        elif proba is not None:
            for i, cls in enumerate(self.classes):
                scores[f"{SCORED_PROBABILITIES}_{cls}"] = proba[:, i]
        out = pd.concat([df, scores], axis=1) if append else scores
        out.attrs = {
            **df.attrs,
            "label": self.label_column,
            "task": self.task,
            "score_columns": list(scores.columns),
        }
        if self.classes:
            out.attrs["classes"] = list(self.classes)  # Evaluate Model's class list when the rows lack one
        return out


@dataclass
class TrainedClusterModel:
    """A fitted clustering model; ``assign`` gives each row its nearest centre and the distances."""

    pipeline: Pipeline
    algorithm: str
    feature_columns: list[str]
    feature_dtypes: dict[str, str]
    n_clusters: int

    def assign(self, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
        """``Assignments`` and ``DistancesToClusterCenter no.<k>``, after ``df``'s columns if ``append``.

        Distances are Euclidean in the space the model clustered in (after its normalisation).
        """
        distances = self.pipeline.transform(checked_features(self.pipeline, self.feature_columns, df))
        scores = pd.DataFrame(index=df.index)
        scores[ASSIGNMENTS] = distances.argmin(axis=1)
        for k in range(self.n_clusters):
            scores[f"{DISTANCE_TO_CENTER}{k}"] = distances[:, k]
        out = pd.concat([df, scores], axis=1) if append else scores
        out.attrs = {**df.attrs, "task": "clustering", "score_columns": list(scores.columns)}
        return out


def fit(learner: Learner, df: pd.DataFrame, label: str) -> TrainedModel:
    """Fit ``learner`` on every column but ``label``; categorical columns are one-hot encoded.

    Rows without a label are ignored, as the designer does. Missing feature values are refused
    by name rather than left to a scikit-learn message.
    """
    if learner.task == "clustering":
        raise ComponentError(
            "A clustering model is trained with Train Clustering Model", code="InvalidLearner"
        )
    if label not in df.columns:
        raise ColumnNotFound([label], [str(c) for c in df.columns])
    data = df[df[label].notna()]
    if data.empty:
        raise ComponentError(
            f"Label column {label!r} has no values", code="TooFewRowsInDataset", column=label
        )
    features = [str(c) for c in data.columns if c != label]
    if not features:
        raise ComponentError(
            "The dataset has no feature columns besides the label", code="TooFewColumnsInDataset"
        )
    _refuse_missing(data, features)
    y = data[label]
    classes: list[Any] = []
    if learner.task in ("binary", "multiclass"):
        classes = sorted(y.unique().tolist(), key=str)
        if learner.task == "binary" and len(classes) != 2:
            raise ComponentError(
                f"A two-class learner needs exactly 2 label values in {label!r}, found {len(classes)}",
                code="InvalidLabel",
                column=label,
            )
    elif not pd.api.types.is_numeric_dtype(y):
        raise ComponentError(
            f"Label column {label!r} must be numeric for regression", code="InvalidColumnType", column=label
        )
    pipeline = _fit_pipeline(learner, data, features, y)
    if classes:
        classes = list(pipeline.classes_)
    return TrainedModel(
        pipeline=pipeline,
        task=learner.task,
        algorithm=learner.algorithm,
        label_column=label,
        feature_columns=features,
        feature_dtypes={c: str(data[c].dtype) for c in features},
        classes=[c.item() if isinstance(c, np.generic) else c for c in classes],
    )


def fit_clusters(learner: Learner, df: pd.DataFrame, columns: list[str]) -> TrainedClusterModel:
    """Fit a clustering ``learner`` on ``columns`` of ``df`` (categorical ones one-hot encoded).

    A clustering estimator names its number of clusters ``n_clusters`` (possibly nested).
    """
    if learner.task != "clustering":
        raise ComponentError(
            f"Train Clustering Model needs a clustering model, not a {learner.task} "
            f"one ({learner.algorithm})",
            code="InvalidLearner",
        )
    if not columns:
        raise ComponentError("The column set selects no column to cluster on", code="TooFewColumnsInDataset")
    _refuse_missing(df, columns)
    n_clusters = next(v for k, v in learner.estimator.get_params().items() if k.endswith("n_clusters"))
    if len(df) < n_clusters:
        raise ComponentError(
            f"{n_clusters} clusters need at least {n_clusters} rows, found {len(df)}",
            code="TooFewRowsInDataset",
        )
    pipeline = _fit_pipeline(learner, df, columns, None)
    return TrainedClusterModel(
        pipeline=pipeline,
        algorithm=learner.algorithm,
        feature_columns=columns,
        feature_dtypes={c: str(df[c].dtype) for c in columns},
        n_clusters=n_clusters,
    )


def _fit_pipeline(learner: Learner, data: pd.DataFrame, features: list[str], y: pd.Series | None) -> Pipeline:
    categorical = [
        c
        for c in features
        if not pd.api.types.is_numeric_dtype(data[c])
        or pd.api.types.is_bool_dtype(data[c])
        or c in data.attrs.get("categorical", ())
    ]
    encoder = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(
                    handle_unknown="ignore" if learner.allow_unknown_levels else "error", sparse_output=False
                ),
                categorical,
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    pipeline = Pipeline([("encode", encoder), ("model", clone(learner.estimator))])
    try:
        pipeline.fit(data[features], y)
    except ValueError as exc:
        raise ComponentError(f"Training failed: {exc}", code="LibraryException") from exc
    return pipeline


def _refuse_missing(data: pd.DataFrame, features: list[str]) -> None:
    with_missing = [c for c in features if data[c].isna().any()]
    if with_missing:
        raise ComponentError(
            f"Feature column(s) {', '.join(with_missing)} have missing values; "
            "clean them first (Clean Missing Data)",
            code="MissingValues",
            column=with_missing[0],
        )


def checked_features(pipeline: Pipeline, columns: list[str], df: pd.DataFrame) -> pd.DataFrame:
    """``df``'s model columns, refusing absent columns, missing values and (if the model was
    trained not to allow them) categorical levels it never saw."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ColumnNotFound(missing, [str(c) for c in df.columns])
    features = df[columns]
    _refuse_missing(features, columns)
    onehot = pipeline.named_steps["encode"].named_transformers_["categorical"]
    if getattr(onehot, "handle_unknown", "ignore") == "error" and hasattr(onehot, "categories_"):
        for column, levels in zip(onehot.feature_names_in_, onehot.categories_, strict=True):
            unseen = features.loc[~features[column].isin(levels), column].unique().tolist()
            if unseen:
                raise ComponentError(
                    f"Column {column!r} has level(s) {unseen[:5]} not seen in training, and the model "
                    "does not allow unknown levels",
                    code="InvalidDataset",
                    column=str(column),
                )
    return features


# ---- Estimators that learners put in their pipelines ------------------------------------------


class _CappedRandomSplits:
    """The designer's "Number of random splits per node" is sklearn's ``max_features``, but the
    designer default (128) usually exceeds the number of features, which sklearn refuses; here
    it means "all features" then. The parameter itself is left as given, so clone/get_params and
    parameter sweeps see the user's value."""

    max_features: Any

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        requested = self.max_features
        if isinstance(requested, int) and requested >= X.shape[1]:
            self.max_features = None
        try:
            return super().fit(X, y, sample_weight=sample_weight)  # type: ignore[misc]
        finally:
            self.max_features = requested


class DecisionForestRegressor(_CappedRandomSplits, RandomForestRegressor):
    pass


class DecisionForestClassifier(_CappedRandomSplits, RandomForestClassifier):
    pass


class DecisionProbabilities(ClassifierMixin, BaseEstimator):
    """Gives a margin classifier (SVM, perceptron, one-vs-one) a ``predict_proba``.

    The probability is the logistic function of the decision value, or its softmax when there
    are several classes. It is not calibrated, but it ranks rows as the margin does and crosses
    0.5 exactly where the classifier's own decision flips, so scored labels and probabilities agree.
    """

    def __init__(self, estimator: BaseEstimator) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> DecisionProbabilities:
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator_.predict(X)

    def decision_function(self, X: Any) -> np.ndarray:
        return self.estimator_.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        decision = np.asarray(self.decision_function(X), dtype=float)
        if decision.ndim == 1:
            positive = expit(decision)
            return np.column_stack([1.0 - positive, positive])
        return softmax(decision, axis=1)


class ElasticNetLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression with the designer's separate L1 and L2 weights.

    The designer minimises  sum of log-losses + l1·‖w‖₁ + (l2/2)·‖w‖².  sklearn minimises
    C·sum of log-losses + r·‖w‖₁ + ((1-r)/2)·‖w‖², the same objective divided by C when
    C = 1/(l1 + l2) and r = l1/(l1 + l2). L1 needs the saga solver; pure L2 uses lbfgs; with
    both weights 0 the fit is unpenalised. The designer's L-BFGS "Memory size" has no sklearn
    counterpart (sklearn does not expose it), so it is not a parameter here. saga rarely meets
    the designer's 1e-7 tolerance, so passes are capped at 200: on the german credit sample 1000
    passes took 8x longer for the same AUC.
    """

    def __init__(
        self,
        l1_weight: float = 1.0,
        l2_weight: float = 1.0,
        tol: float = 1e-7,
        max_iter: int = 200,
        random_state: int | None = None,
    ) -> None:
        self.l1_weight = l1_weight
        self.l2_weight = l2_weight
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ElasticNetLogisticRegression:
        total = self.l1_weight + self.l2_weight
        self.model_ = LogisticRegression(
            C=1.0 / total if total else np.inf,
            l1_ratio=self.l1_weight / total if total else 0.0,
            solver="saga" if self.l1_weight else "lbfgs",
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.model_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.model_.predict_proba(X)

    def decision_function(self, X: Any) -> np.ndarray:
        return self.model_.decision_function(X)


class PenalisedPoissonRegressor(RegressorMixin, BaseEstimator):
    """Poisson regression (log link) with the designer's L1 and L2 weights, fitted by L-BFGS-B.

    It minimises  sum(μ - y·log μ) + l1·‖w‖₁ + (l2/2)·‖w‖²  with log μ = X·w + b (the intercept
    is not penalised). sklearn's PoissonRegressor has no L1 term, so this solves the problem
    directly: w = w⁺ - w⁻ with both parts bounded at 0 makes the L1 term smooth. The designer's
    parameters map one to one: tolerance -> the relative objective decrease at which L-BFGS
    stops (scipy's ``ftol``), memory size -> the number of L-BFGS correction pairs (``maxcor``).
    With l1 = 0 this is sklearn's ``PoissonRegressor(alpha=l2 / n_samples)``.
    """

    def __init__(
        self,
        l1_weight: float = 1.0,
        l2_weight: float = 1.0,
        tol: float = 1e-7,
        memory_size: int = 20,
        max_iter: int = 1000,
    ) -> None:
        self.l1_weight = l1_weight
        self.l2_weight = l2_weight
        self.tol = tol
        self.memory_size = memory_size
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> PenalisedPoissonRegressor:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if (y < 0).any():
            raise ValueError(
                f"Poisson Regression needs non-negative label values (counts); the label "
                f"has {int((y < 0).sum())} negative value(s)"
            )
        d = X.shape[1]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w = theta[:d] - theta[d : 2 * d]
            eta = np.minimum(X @ w + theta[-1], 50.0)
            mu = np.exp(eta)
            residual = mu - y
            grad_w = X.T @ residual + self.l2_weight * w
            loss = (
                np.sum(mu - y * eta) + self.l1_weight * np.sum(theta[: 2 * d]) + 0.5 * self.l2_weight * w @ w
            )
            return loss, np.concatenate([grad_w + self.l1_weight, self.l1_weight - grad_w, [residual.sum()]])

        start = np.concatenate([np.zeros(2 * d), [np.log(max(y.mean(), 1e-12))]])
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * (2 * d) + [(None, None)],
            options={"maxcor": self.memory_size, "ftol": self.tol, "maxiter": self.max_iter},
        )
        self.coef_ = result.x[:d] - result.x[d : 2 * d]
        self.intercept_ = float(result.x[-1])
        self.n_iter_ = int(result.nit)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.exp(np.minimum(np.asarray(X, dtype=float) @ self.coef_ + self.intercept_, 50.0))


def first_rows_init(X: np.ndarray, n_clusters: int, random_state: Any) -> np.ndarray:
    """K-Means "Default" initialisation: the first rows are the initial centres."""
    return np.asarray(X[:n_clusters], dtype=float)


def evenly_spaced_init(X: np.ndarray, n_clusters: int, random_state: Any) -> np.ndarray:
    """K-Means "Evenly" initialisation: centres equally spaced along the diagonal of the data's
    bounding box."""
    low, high = np.min(X, axis=0), np.max(X, axis=0)
    steps = (np.arange(n_clusters) + 0.5) / n_clusters
    return low + steps[:, None] * (high - low)
