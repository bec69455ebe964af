"""The objects that travel on model and transform ports, and how a model scores.

These classes are what artifacts of type Model/Transform unpickle to, so their import paths
are part of the artifact format: move them only with a migration.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from core.errors import ColumnNotFound, ComponentError

Task = Literal["regression", "binary", "multiclass", "clustering"]

SCORED_LABELS = "Scored Labels"
SCORED_PROBABILITIES = "Scored Probabilities"


@dataclass(frozen=True)
class Learner:
    """An untrained model: the estimator template plus the task it solves."""

    estimator: BaseEstimator
    task: Task
    algorithm: str


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

    def score(self, df: pd.DataFrame, append: bool = True) -> pd.DataFrame:
        """Add ``Scored Labels`` (and probabilities for classifiers) to ``df``."""
        missing = [c for c in self.feature_columns if c not in df.columns]
        if missing:
            raise ColumnNotFound(missing, [str(c) for c in df.columns])
        features = df[self.feature_columns]
        scores = pd.DataFrame(index=df.index)
        scores[SCORED_LABELS] = self.pipeline.predict(features)
        if self.task == "binary" and hasattr(self.pipeline, "predict_proba"):
            scores[SCORED_PROBABILITIES] = self.pipeline.predict_proba(features)[:, 1]
        elif self.task == "multiclass" and hasattr(self.pipeline, "predict_proba"):
            proba = self.pipeline.predict_proba(features)
            for i, cls in enumerate(self.classes):
                scores[f"{SCORED_PROBABILITIES}_{cls}"] = proba[:, i]
        out = pd.concat([df, scores], axis=1) if append else scores
        out.attrs = {**df.attrs, "label": self.label_column, "task": self.task,
                     "score_columns": list(scores.columns)}
        return out


def fit(learner: Learner, df: pd.DataFrame, label: str) -> TrainedModel:
    """Fit ``learner`` on every column but ``label``; categorical columns are one-hot encoded.

    Rows without a label are ignored, as the designer does. Missing feature values are refused
    by name rather than left to a scikit-learn message.
    """
    if label not in df.columns:
        raise ColumnNotFound([label], [str(c) for c in df.columns])
    data = df[df[label].notna()]
    if data.empty:
        raise ComponentError(f"Label column {label!r} has no values", code="TooFewRowsInDataset",
                             column=label)
    features = [str(c) for c in data.columns if c != label]
    if not features:
        raise ComponentError("The dataset has no feature columns besides the label",
                             code="TooFewColumnsInDataset")
    with_missing = [c for c in features if data[c].isna().any()]
    if with_missing:
        raise ComponentError(
            f"Feature column(s) {', '.join(with_missing)} have missing values; "
            "clean them first (Clean Missing Data)", code="MissingValues", column=with_missing[0])
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(data[c])
                   or pd.api.types.is_bool_dtype(data[c])]
    encoder = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)],
        remainder="passthrough", verbose_feature_names_out=False)
    pipeline = Pipeline([("encode", encoder), ("model", clone(learner.estimator))])
    y = data[label]
    classes: list[Any] = []
    if learner.task in ("binary", "multiclass"):
        classes = sorted(y.unique().tolist(), key=str)
        if learner.task == "binary" and len(classes) != 2:
            raise ComponentError(f"A two-class learner needs exactly 2 label values in {label!r}, "
                                 f"found {len(classes)}", code="InvalidLabel", column=label)
    elif not pd.api.types.is_numeric_dtype(y):
        raise ComponentError(f"Label column {label!r} must be numeric for regression",
                             code="InvalidColumnType", column=label)
    try:
        pipeline.fit(data[features], y)
    except ValueError as exc:
        raise ComponentError(f"Training failed: {exc}", code="LibraryException") from exc
    if classes:
        classes = list(pipeline.classes_)
    return TrainedModel(pipeline=pipeline, task=learner.task, algorithm=learner.algorithm,
                        label_column=label, feature_columns=features,
                        feature_dtypes={c: str(data[c].dtype) for c in features},
                        classes=[c.item() if isinstance(c, np.generic) else c for c in classes])
