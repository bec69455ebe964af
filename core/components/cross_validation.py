"""Cross Validate Model: train and score k times so every row is scored by a model that did not
see it, and report the task's metrics per fold.

Folds. By default there are 10 folds, drawn with the "Random seed". For classification they are
stratified by the label: each class is shuffled and dealt round-robin, so every fold gets its
share of every class and fold sizes differ by at most one.

A fold assignment made earlier takes precedence. Partition and Sample's "Assign to Folds" mode
writes one, and the fold column is looked up as follows:
- the column named by ``df.attrs["fold_column"]``, if that is set;
- otherwise a column named "Fold".
Its distinct values (0..k-1 or 1..k) are the folds, numbered zero-based in sorted order. The
fold column is not used as a feature.

Rows without a label cannot be scored against one, so they are left out; the log says how many.

Outputs:
- "Scored results" is the labelled rows in input order, with Score Model's score columns and
  "Fold Number" (zero-based).
- "Evaluation results by fold" has one row per fold: "Fold Number", "Number of examples in fold",
  "Model" (the algorithm), then Evaluate Model's metrics for the task. Two last rows follow,
  "Mean" and "Standard Deviation" (sample standard deviation over the folds). "Fold Number" is
  therefore text: "0", "1", ..., "Mean", "Standard Deviation".

The fold means also go to ``ctx.metric`` under the metric names. The plots are Evaluate Model's,
drawn from the pooled out-of-fold scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import require_columns
from core.components.evaluation import SUPERVISED_TASKS, evaluate, report_plots, sorted_classes
from core.components.models import Learner, fit
from core.errors import ComponentError

DEFAULT_FOLDS = 10
FOLD_COLUMN = "Fold"
FOLD_NUMBER = "Fold Number"
FOLD_SIZE = "Number of examples in fold"
MODEL = "Model"
LEADING_COLUMNS = (FOLD_NUMBER, FOLD_SIZE, MODEL)


class CrossValidateModelParams(Params):
    label_column: str = Field(alias="Label column", min_length=1)
    random_seed: int = Field(0, ge=0, le=2**32 - 1, alias="Random seed")


def assign_folds(labels: pd.Series | None, rows: int, folds: int, seed: int) -> np.ndarray:
    """A zero-based fold per row, shuffled by ``seed``, stratified by ``labels`` when given."""
    rng = np.random.default_rng(seed)
    codes = np.zeros(rows, dtype=int) if labels is None else pd.factorize(labels, sort=True)[0]
    assigned = np.empty(rows, dtype=int)
    dealt = 0
    for code in range(codes.max() + 1 if rows else 0):
        members = rng.permutation(np.flatnonzero(codes == code))
        assigned[members] = (dealt + np.arange(len(members))) % folds
        dealt += len(members)
    return assigned


def given_folds(df: pd.DataFrame) -> tuple[str, np.ndarray] | None:
    """The fold assignment already in ``df`` (see the module docstring), zero-based, if any."""
    column = df.attrs.get("fold_column") or FOLD_COLUMN
    if column not in df.columns:
        if df.attrs.get("fold_column"):
            require_columns(df, [column])
        return None
    values = df[column]
    if values.isna().any():
        raise ComponentError(
            f"Fold column {column!r} has missing values", code="MissingValues", column=column
        )
    codes, distinct = pd.factorize(values, sort=True)
    if len(distinct) < 2:
        raise ComponentError(
            f"Fold column {column!r} assigns {len(distinct)} fold; cross-validation needs at least 2",
            code="NotInRangeValue",
            column=column,
        )
    return column, codes


class CrossValidateModel(Component):
    id = "cross_validate_model"
    name = "Cross Validate Model"
    category = "Model Scoring & Evaluation"
    version = "2.0"
    description = (
        "Train and score an untrained model over folds (10, or Partition and Sample's) and "
        "report every fold's metrics with their mean and standard deviation."
    )
    inputs = (
        Port("untrained_model", "Untrained model", PortType.UNTRAINED_MODEL),
        Port("dataset", "Dataset", PortType.DATA),
    )
    outputs = (
        Port("scored_results", "Scored results", PortType.DATA),
        Port("evaluation_results_by_fold", "Evaluation results by fold", PortType.DATA),
    )
    Parameters = CrossValidateModelParams

    def run(
        self, inputs: Mapping[str, Any], params: CrossValidateModelParams, ctx: RunContext
    ) -> dict[str, Any]:
        learner: Learner = inputs["untrained_model"]
        df: pd.DataFrame = inputs["dataset"]
        label = params.label_column
        if learner.task not in SUPERVISED_TASKS:
            raise ComponentError(
                f"Cross Validate Model needs a regression or classification model, not a {learner.task} one",
                code="InvalidLearner",
            )
        require_columns(df, [label])
        data = df[df[label].notna()].reset_index(drop=True)
        folds, fold_column, how = self._folds(data, learner, label, params.random_seed)
        scored = self._score_out_of_fold(learner, data, folds, fold_column, label)
        table = self._by_fold(scored, folds, learner.algorithm)
        ctx.log(
            f"{table.shape[0] - 2} folds ({how}) over {len(data)} rows"
            + (f"; {len(df) - len(data)} row(s) without a label left out" if len(df) > len(data) else "")
        )
        mean = table.iloc[-2]
        for metric in table.columns.drop(list(LEADING_COLUMNS)):
            if np.isfinite(mean[metric]):
                ctx.metric(str(metric), float(mean[metric]))
        report_plots([("Out-of-fold scores", scored)], ctx)
        return {"scored_results": scored, "evaluation_results_by_fold": table}

    @staticmethod
    def _folds(
        data: pd.DataFrame, learner: Learner, label: str, seed: int
    ) -> tuple[np.ndarray, str | None, str]:
        given = given_folds(data)
        if given is not None:
            return given[1], given[0], f"from column {given[0]!r}"
        if len(data) < DEFAULT_FOLDS:
            raise ComponentError(
                f"Cross-validation needs at least {DEFAULT_FOLDS} labelled rows, found {len(data)}",
                code="TooFewRowsInDataset",
                column=label,
            )
        stratified = learner.task != "regression"
        folds = assign_folds(data[label] if stratified else None, len(data), DEFAULT_FOLDS, seed)
        return folds, None, f"stratified by {label!r}" if stratified else "random"

    @staticmethod
    def _score_out_of_fold(
        learner: Learner, data: pd.DataFrame, folds: np.ndarray, fold_column: str | None, label: str
    ) -> pd.DataFrame:
        features = data.drop(columns=[fold_column]) if fold_column else data
        pieces, classes = [], []
        for fold in range(folds.max() + 1):
            held_out = folds == fold
            model = fit(learner, features[~held_out], label)
            pieces.append(model.score(features[held_out], append=False))
            classes.extend(model.classes)
        scores = pd.concat(pieces).sort_index()
        scored = pd.concat([data, scores], axis=1)
        scored[FOLD_NUMBER] = folds
        scored.attrs = {
            **data.attrs,
            "label": label,
            "task": learner.task,
            "score_columns": [str(c) for c in scores.columns],
        }
        if classes:
            scored.attrs["classes"] = sorted_classes(classes)
        return scored

    @staticmethod
    def _by_fold(scored: pd.DataFrame, folds: np.ndarray, algorithm: str) -> pd.DataFrame:
        rows = []
        for fold in range(folds.max() + 1):
            part = scored[folds == fold]
            part.attrs = dict(scored.attrs)
            rows.append({FOLD_NUMBER: str(fold), FOLD_SIZE: len(part), MODEL: algorithm, **evaluate(part)})
        table = pd.DataFrame(rows)
        numeric = table.columns.drop([FOLD_NUMBER, MODEL])
        summary = pd.DataFrame(
            [
                {FOLD_NUMBER: "Mean", MODEL: algorithm, **table[numeric].mean()},
                {FOLD_NUMBER: "Standard Deviation", MODEL: algorithm, **table[numeric].std(ddof=1)},
            ]
        )
        return pd.concat([table, summary[table.columns]], ignore_index=True)


COMPONENTS = (CrossValidateModel,)
