"""Evaluate Model: the designer's metric names, computed with sklearn.metrics."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from core.components.base import Component, Port, PortType, RunContext
from core.components.models import SCORED_LABELS
from core.errors import ComponentError


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, relative absolute/squared error and R², named as the designer names them."""
    deviation = y_true - y_true.mean()
    abs_total = float(np.abs(deviation).sum())
    sq_total = float((deviation ** 2).sum())
    abs_err = float(np.abs(y_true - y_pred).sum())
    sq_err = float(((y_true - y_pred) ** 2).sum())
    return {
        "Mean_Absolute_Error": float(metrics.mean_absolute_error(y_true, y_pred)),
        "Root_Mean_Squared_Error": float(np.sqrt(metrics.mean_squared_error(y_true, y_pred))),
        "Relative_Absolute_Error": abs_err / abs_total if abs_total else float("nan"),
        "Relative_Squared_Error": sq_err / sq_total if sq_total else float("nan"),
        "Coefficient_of_Determination": float(metrics.r2_score(y_true, y_pred)),
    }


def evaluate(scored: pd.DataFrame) -> dict[str, float]:
    label = scored.attrs.get("label")
    task = scored.attrs.get("task")
    if not label or SCORED_LABELS not in scored.columns:
        raise ComponentError("Evaluate Model needs a scored dataset (the output of Score Model)",
                             code="NotScoredDataset")
    if label not in scored.columns:
        raise ComponentError(f"The scored dataset lacks its label column {label!r}",
                             code="NotLabeledDataset", column=label)
    rows = scored[scored[label].notna()]
    if rows.empty:
        raise ComponentError("No scored row has a label value", code="TooFewRowsInDataset")
    if task == "regression":
        return regression_metrics(rows[label].to_numpy(dtype=float),
                                  rows[SCORED_LABELS].to_numpy(dtype=float))
    raise ComponentError(f"Evaluate Model does not support task {task!r} yet", code="InvalidLearner")


class EvaluateModel(Component):
    id = "evaluate_model"
    name = "Evaluate Model"
    category = "Model Scoring & Evaluation"
    version = "2.0"
    description = "Metrics of a scored dataset; a second scored dataset is compared beside it."
    inputs = (Port("scored_dataset", "Scored dataset", PortType.DATA),
              Port("scored_dataset_to_compare", "Scored dataset to compare", PortType.DATA, optional=True))
    outputs = (Port("evaluation_results", "Evaluation results", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        rows = [evaluate(inputs["scored_dataset"])]
        if inputs.get("scored_dataset_to_compare") is not None:
            rows.append(evaluate(inputs["scored_dataset_to_compare"]))
        for name, value in rows[0].items():
            ctx.metric(name, value)
        table = pd.DataFrame(rows, index=["Scored dataset", "Scored dataset to compare"][:len(rows)])
        return {"evaluation_results": table.reset_index(names="Dataset")}

COMPONENTS = (EvaluateModel,)
