"""Tune Model Hyperparameters, and the model metrics it shares with Permutation Feature Importance.

The sweep covers the untrained model's :attr:`Learner.param_grid` (its "Range for ..." values in
ParameterRange mode):
- "Entire grid" tries every combination;
- "Random sweep" and "Random grid" try at most their maximum number of runs, drawn from the grid
  without repetition by their seed (the ranges are lists of values, so both draw from the grid).
A learner in SingleParameter mode has an empty grid: its one configuration is evaluated.

Each candidate is trained on the training dataset and measured on the validation dataset when
one is connected. Without it, the candidate is measured by 3-fold cross-validation on the
training rows (stratified by label for classification, shuffled by the sweep's seed), with the
metric computed over the pooled out-of-fold predictions. The best candidate by the chosen metric
is then retrained on all training rows: that is "Trained best model".

"Sweep results" has one row per candidate, best first: the parameter values (named by the
estimator parameter, e.g. ``max_leaf_nodes``) and every metric of the task under the names of
the metric options. For two classes the positive class is the second label in sorted order, as
in Score Model and Evaluate Model; Precision, Recall, F-score and AUC are macro averages over
classes for multiclass. "Train Log Loss" is the designer's relative log-loss reduction:
1 - log loss / log loss of always predicting the class frequencies (higher is better).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn import metrics
from sklearn.base import clone
from sklearn.model_selection import KFold, ParameterGrid, ParameterSampler, StratifiedKFold

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import ColumnSelection, require_columns
from core.components.evaluation import regression_metrics
from core.components.learners import UINT32_MAX
from core.components.models import Learner, fit
from core.errors import ComponentError

CLASSIFICATION_METRICS = (
    "Accuracy",
    "Precision",
    "Recall",
    "F-score",
    "AUC",
    "Average Log Loss",
    "Train Log Loss",
)
REGRESSION_METRICS = {
    "Mean absolute error": "Mean_Absolute_Error",
    "Root of mean squared error": "Root_Mean_Squared_Error",
    "Relative absolute error": "Relative_Absolute_Error",
    "Relative squared error": "Relative_Squared_Error",
    "Coefficient of determination": "Coefficient_of_Determination",
}
LOWER_IS_BETTER = frozenset(
    {
        "Average Log Loss",
        "Mean absolute error",
        "Root of mean squared error",
        "Relative absolute error",
        "Relative squared error",
    }
)
CV_FOLDS = 3

ClassificationMetric = Literal[
    "Accuracy", "Precision", "Recall", "F-score", "AUC", "Average Log Loss", "Train Log Loss"
]
RegressionMetric = Literal[
    "Mean absolute error",
    "Root of mean squared error",
    "Relative absolute error",
    "Relative squared error",
    "Coefficient of determination",
]


# ---- Metrics -------------------------------------------------------------------------------------


def model_scores(
    task: str, y_true: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> dict[str, float]:
    """Every metric of ``task``, keyed by Tune Model Hyperparameters' metric option names.

    ``proba`` has one column per class in ``classes`` order (None: the probability metrics are NaN).
    """
    if task == "regression":
        values = regression_metrics(np.asarray(y_true, dtype=float), np.asarray(predicted, dtype=float))
        return {option: values[key] for option, key in REGRESSION_METRICS.items()}
    # Through lists, so labels get a concrete dtype: sklearn refuses object arrays of numbers.
    return _classification_scores(np.asarray(list(y_true)), np.asarray(list(predicted)), proba, classes)


def _classification_scores(
    y: np.ndarray, predicted: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> dict[str, float]:
    binary = len(classes) == 2
    averaging: dict[str, Any] = (
        {"average": "binary", "pos_label": classes[1]} if binary else {"average": "macro", "labels": classes}
    )
    scores = {
        "Accuracy": float(metrics.accuracy_score(y, predicted)),
        "Precision": float(metrics.precision_score(y, predicted, zero_division=0, **averaging)),
        "Recall": float(metrics.recall_score(y, predicted, zero_division=0, **averaging)),
        "F-score": float(metrics.f1_score(y, predicted, zero_division=0, **averaging)),
        "AUC": math.nan,
        "Average Log Loss": math.nan,
        "Train Log Loss": math.nan,
    }
    if proba is None:
        return scores
    log_loss = float(metrics.log_loss(y, proba, labels=classes))
    frequencies = np.array([np.mean(y == c) for c in classes])
    prior = float(metrics.log_loss(y, np.tile(frequencies, (len(y), 1)), labels=classes))
    scores["Average Log Loss"] = log_loss
    scores["Train Log Loss"] = 1.0 - log_loss / prior if prior > 0 else math.nan
    if len(set(y.tolist())) > 1:
        scores["AUC"] = float(
            metrics.roc_auc_score(y == classes[1], proba[:, 1])
            if binary
            else metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
        )
    return scores


def signed(metric: str, value: float) -> float:
    """``value`` oriented so that larger is better."""
    return -value if metric in LOWER_IS_BETTER else value


# ---- Tune Model Hyperparameters ------------------------------------------------------------------


class TuneModelHyperparametersParams(Params):
    specify_parameter_sweeping_mode: Literal["Entire grid", "Random sweep", "Random grid"] = Field(
        "Random sweep", alias="Specify parameter sweeping mode"
    )
    maximum_number_of_runs_on_random_sweep: int = Field(
        5, ge=1, le=10000, alias="Maximum number of runs on random sweep"
    )
    random_seed: int = Field(0, ge=0, le=UINT32_MAX, alias="Random seed")
    maximum_number_of_runs_on_random_grid: int = Field(
        5, ge=1, le=10000, alias="Maximum number of runs on random grid"
    )
    random_seed_for_random_grid: int = Field(0, ge=0, le=UINT32_MAX, alias="Random seed for random grid")
    label_column: ColumnSelection = Field(alias="Name or numerical index of the label column")
    metric_for_measuring_performance_for_classification: ClassificationMetric = Field(
        "Accuracy", alias="Metric for measuring performance for classification"
    )
    metric_for_measuring_performance_for_regression: RegressionMetric = Field(
        "Mean absolute error", alias="Metric for measuring performance for regression"
    )


class TuneModelHyperparameters(Component):
    id = "tune_model_hyperparameters"
    name = "Tune Model Hyperparameters"
    category = "Model Training"
    version = "1.0"
    description = (
        "Sweep an untrained model's parameter ranges, measure each run on validation data (or by "
        "cross-validation) and train the best."
    )
    inputs = (
        Port("untrained_model", "Untrained model", PortType.UNTRAINED_MODEL),
        Port("training_dataset", "Training dataset", PortType.DATA),
        Port("validation_dataset", "Validation dataset", PortType.DATA, optional=True),
    )
    outputs = (
        Port("sweep_results", "Sweep results", PortType.DATA),
        Port("trained_best_model", "Trained best model", PortType.MODEL),
    )
    Parameters = TuneModelHyperparametersParams

    def run(
        self, inputs: Mapping[str, Any], params: TuneModelHyperparametersParams, ctx: RunContext
    ) -> dict[str, Any]:
        learner: Learner = inputs["untrained_model"]
        train: pd.DataFrame = inputs["training_dataset"]
        validation: pd.DataFrame | None = inputs.get("validation_dataset")
        if learner.task not in ("regression", "binary", "multiclass"):
            raise ComponentError(
                f"Tune Model Hyperparameters needs a regression or classification model, "
                f"not a {learner.task} one",
                code="InvalidLearner",
            )
        label = single_label(params.label_column, train, "Name or numerical index of the label column")
        metric = (
            params.metric_for_measuring_performance_for_regression
            if learner.task == "regression"
            else params.metric_for_measuring_performance_for_classification
        )
        candidates = self._candidates(learner.param_grid, params)
        rows = [
            {
                **_display(candidate),
                **self._measure(configured(learner, candidate), train, validation, label, params.random_seed),
            }
            for candidate in candidates
        ]
        table = pd.DataFrame(rows).sort_values(
            metric, ascending=metric in LOWER_IS_BETTER, na_position="last", kind="stable"
        )
        best_value = float(table[metric].iloc[0])
        if not math.isfinite(best_value):
            raise ComponentError(
                f"{metric} could not be computed for any run (e.g. AUC needs both classes "
                "in the evaluation rows)",
                code="NotInRangeValue",
            )
        best = candidates[int(table.index[0])]
        model = fit(configured(learner, best), train, label)
        ctx.metric(metric, best_value)
        how = "the validation dataset" if validation is not None else f"{CV_FOLDS}-fold cross-validation"
        ctx.log(
            f"{len(candidates)} run(s) of {learner.algorithm} measured on {how}; best {metric} "
            f"{best_value:.6g} with {_display(best) or 'its single parameters'}"
        )
        return {"sweep_results": table.reset_index(drop=True), "trained_best_model": model}

    @staticmethod
    def _measure(
        learner: Learner, train: pd.DataFrame, validation: pd.DataFrame | None, label: str, seed: int
    ) -> dict[str, float]:
        if validation is not None:
            return _validated(learner, train, validation, label)
        return _cross_validated(learner, train, label, seed)

    @staticmethod
    def _candidates(
        grid: dict[str, list[Any]], params: TuneModelHyperparametersParams
    ) -> list[dict[str, Any]]:
        if not grid:
            return [{}]
        every = ParameterGrid(grid)
        mode = params.specify_parameter_sweeping_mode
        if mode == "Entire grid":
            drawn = list(every)
        else:
            runs, seed = (
                (params.maximum_number_of_runs_on_random_sweep, params.random_seed)
                if mode == "Random sweep"
                else (params.maximum_number_of_runs_on_random_grid, params.random_seed_for_random_grid)
            )
            drawn = list(ParameterSampler(grid, n_iter=min(runs, len(every)), random_state=seed))
        return [{name: candidate[name] for name in grid} for candidate in drawn]  # the learner's order


def single_label(selection: ColumnSelection, df: pd.DataFrame, parameter: str) -> str:
    """The one column a label picker selects."""
    columns = selection.resolve(df)
    if len(columns) != 1:
        raise ComponentError(
            f"{parameter} must select exactly one column, it selects {len(columns)}",
            code="NotInRangeValue",
            column=columns[0] if columns else None,
        )
    return columns[0]


def configured(learner: Learner, candidate: dict[str, Any]) -> Learner:
    """``learner`` with one combination of its grid applied (and no grid left)."""
    try:
        estimator = clone(learner.estimator).set_params(**candidate)
    except ValueError as exc:
        raise ComponentError(
            f"{learner.algorithm} has no parameter for {sorted(candidate)}: {exc}", code="InvalidLearner"
        ) from exc
    return replace(learner, estimator=estimator, param_grid={})


def _display(candidate: dict[str, Any]) -> dict[str, Any]:
    """Parameter names without their pipeline prefixes (``mlp__max_iter`` -> ``max_iter``) when
    that stays unambiguous; numpy scalars as Python numbers."""
    short = [name.rsplit("__", 1)[-1] for name in candidate]
    names = short if len(set(short)) == len(short) else list(candidate)
    values = [v.item() if isinstance(v, np.generic) else v for v in candidate.values()]
    return dict(zip(names, values, strict=True))


def _validated(
    learner: Learner, train: pd.DataFrame, validation: pd.DataFrame, label: str
) -> dict[str, float]:
    require_columns(validation, [label])
    rows = validation[validation[label].notna()]
    if rows.empty:
        raise ComponentError(
            f"The validation dataset has no rows with a {label!r} value",
            code="TooFewRowsInDataset",
            column=label,
        )
    model = fit(learner, train, label)
    predicted, proba = model.predictions(rows)
    if model.classes and not set(rows[label].tolist()) <= set(model.classes):
        unseen = sorted(set(rows[label].tolist()) - set(model.classes), key=str)
        raise ComponentError(
            f"Validation label(s) {unseen[:5]} of {label!r} do not occur in the training dataset",
            code="InvalidLabel",
            column=label,
        )
    return model_scores(learner.task, rows[label].to_numpy(), predicted, proba, model.classes)


def _cross_validated(learner: Learner, train: pd.DataFrame, label: str, seed: int) -> dict[str, float]:
    require_columns(train, [label])
    data = train[train[label].notna()]
    if len(data) < 2 * CV_FOLDS:
        raise ComponentError(
            f"Cross-validating without a validation dataset needs at least {2 * CV_FOLDS} "
            f"labelled rows, found {len(data)}",
            code="TooFewRowsInDataset",
            column=label,
        )
    y = data[label].to_numpy()
    classification = learner.task != "regression"
    classes = [c.item() if isinstance(c, np.generic) else c for c in np.unique(y)] if classification else []
    splitter = (
        StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
        if classification
        else KFold(CV_FOLDS, shuffle=True, random_state=seed)
    )
    predicted = np.empty(len(data), dtype=object)
    proba = np.zeros((len(data), len(classes)))
    for fit_rows, held_out in splitter.split(data, y if classification else None):
        model = fit(learner, data.iloc[fit_rows], label)
        labels, probabilities = model.predictions(data.iloc[held_out])
        predicted[held_out] = labels
        if probabilities is not None:
            proba[np.ix_(held_out, [classes.index(c) for c in model.classes])] = probabilities
    has_proba = classification and proba.any()
    return model_scores(learner.task, y, predicted, proba if has_proba else None, classes)


COMPONENTS = (TuneModelHyperparameters,)
