"""Permutation Feature Importance.

Each feature column of the test data is shuffled in turn (once, by the seed) and the trained
model is scored again; a feature's Score is how much the chosen metric got worse. Error metrics
(log loss, MAE, RMSE, RAE, RSE) count an increase as worse, so for every metric a larger Score
means a more important feature, and a Score near 0 (or below) means the model does not rely on it.
Metrics are computed as in Tune Model Hyperparameters (the positive class of two is the second
label in sorted order; multiclass precision and recall are macro averages).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.inspection import permutation_importance

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import require_columns
from core.components.learners import UINT32_MAX
from core.components.models import TrainedModel, checked_features
from core.components.tuning import CLASSIFICATION_METRICS, model_scores, signed
from core.errors import ComponentError

# The option names here differ from Tune Model Hyperparameters'; map them to its metric names.
METRICS = {
    "Accuracy": "Accuracy",
    "Precision": "Precision",
    "Recall": "Recall",
    "Average Log Loss": "Average Log Loss",
    "Mean Absolute Error": "Mean absolute error",
    "Root Mean Squared Error": "Root of mean squared error",
    "Relative Absolute Error": "Relative absolute error",
    "Relative Squared Error": "Relative squared error",
    "Coefficient of Determination": "Coefficient of determination",
}
METRIC_ALIAS = "Metric for measuring performance"
ImportanceMetric = Literal[
    "Accuracy",
    "Precision",
    "Recall",
    "Average Log Loss",
    "Mean Absolute Error",
    "Root Mean Squared Error",
    "Relative Absolute Error",
    "Relative Squared Error",
    "Coefficient of Determination",
]


class PermutationFeatureImportanceParams(Params):
    random_seed: int = Field(0, ge=0, le=UINT32_MAX, alias="Random seed")
    metric_for_measuring_performance: ImportanceMetric = Field("Accuracy", alias=METRIC_ALIAS)


class PermutationFeatureImportance(Component):
    id = "permutation_feature_importance"
    name = "Permutation Feature Importance"
    category = "Feature Selection"
    version = "1.0"
    description = "Rank features by how much shuffling each one degrades a trained model on test data."
    inputs = (
        Port("trained_model", "Trained model", PortType.MODEL),
        Port("test_data", "Test data", PortType.DATA),
    )
    outputs = (Port("feature_importance", "Feature importance", PortType.DATA),)
    Parameters = PermutationFeatureImportanceParams

    def run(
        self, inputs: Mapping[str, Any], params: PermutationFeatureImportanceParams, ctx: RunContext
    ) -> dict[str, Any]:
        model: TrainedModel = inputs["trained_model"]
        test: pd.DataFrame = inputs["test_data"]
        metric = METRICS[params.metric_for_measuring_performance]
        if (metric in CLASSIFICATION_METRICS) != (model.task != "regression"):
            kind = "classification" if metric in CLASSIFICATION_METRICS else "regression"
            raise ComponentError(
                f"{METRIC_ALIAS} {params.metric_for_measuring_performance!r} is a {kind} "
                f"metric, but {model.algorithm} is a {model.task} model",
                code="NotInRangeValue",
            )
        label = model.label_column
        require_columns(test, [label])
        rows = test[test[label].notna()]
        if rows.empty:
            raise ComponentError(
                f"The test data has no rows with a {label!r} value", code="TooFewRowsInDataset", column=label
            )
        unseen = sorted(set(rows[label].tolist()) - set(model.classes), key=str) if model.classes else []
        if unseen:
            raise ComponentError(
                f"Test label(s) {unseen[:5]} of {label!r} are not classes the model was trained on",
                code="InvalidLabel",
                column=label,
            )
        features = checked_features(model.pipeline, model.feature_columns, rows)
        result = permutation_importance(
            model.pipeline,
            features,
            rows[label].to_numpy(),
            scoring=_scorer(model, metric),
            n_repeats=1,
            random_state=params.random_seed,
        )
        table = (
            pd.DataFrame({"Feature": model.feature_columns, "Score": result.importances_mean})
            .sort_values("Score", ascending=False, kind="stable")
            .reset_index(drop=True)
        )
        ctx.log(
            f"{len(table)} features of {model.algorithm} by {params.metric_for_measuring_performance} "
            f"on {len(rows)} rows; most important: {table['Feature'].iloc[0]!r}"
        )
        return {"feature_importance": table}


def _scorer(model: TrainedModel, metric: str) -> Any:
    """A scikit-learn scorer (larger is better) computing ``metric`` for ``model``'s task."""
    wants_proba = model.task != "regression" and hasattr(model.pipeline, "predict_proba")

    def score(estimator: Any, X: pd.DataFrame, y: np.ndarray) -> float:
        proba = estimator.predict_proba(X) if wants_proba else None
        values = model_scores(model.task, y, estimator.predict(X), proba, model.classes)
        return signed(metric, values[metric])

    return score


COMPONENTS = (PermutationFeatureImportance,)
