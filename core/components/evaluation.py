"""Evaluate Model: the designer's metric names, computed with sklearn.metrics.

The evaluation table is one DataFrame. Its "Dataset" column says which input a row describes:
the "Scored dataset" rows come first, then the "Scored dataset to compare" rows. The layout per task:

- regression: one row per input with Mean_Absolute_Error, Root_Mean_Squared_Error,
  Relative_Absolute_Error, Relative_Squared_Error, Coefficient_of_Determination.
- binary: one row per input with AUC, Accuracy, Precision, Recall, F1_Score, Average_Log_Loss and
  the counts True Negative, False Positive, False Negative, True Positive.
  The positive class is the second class in sorted order: ">50K" of "<=50K"/">50K", 2 of 1/2.
  That is the class Score Model's "Scored Probabilities" gives the probability of (sklearn's
  ``predict_proba[:, 1]``). A row counts as predicted positive when that probability is at or
  above 0.5, the designer's threshold; Evaluate Model has no parameter for it.
- multiclass: per input, first a row whose "Class" is "Overall". It holds Overall_Accuracy,
  Average_Accuracy, Micro_Precision, Macro_Precision, Micro_Recall and Macro_Recall. Then comes
  one row per class, in sorted order, with:
  - that class's one-vs-rest Accuracy, Precision and Recall;
  - its row of the confusion matrix: "Predicted_<c>" counts the rows of this actual class that
    were scored as <c>.
  Average_Accuracy is the mean of the per-class accuracies.
- clustering: per input, a "Combined Evaluation" row, then one row per cluster named
  "Evaluation For Cluster No.<k>" (both in "Result Description"). The columns are Average Distance
  to Other Center, Average Distance to Cluster Center, Number of Points and Maximal Distance to
  Cluster Center.

The left input's headline metrics also go to ``ctx.metric``, finite numbers only: the one row
for regression and binary, the Overall row for multiclass, Combined Evaluation for clustering.
The plots (:func:`plot_names`) are:
- binary: roc_curve, precision_recall_curve and lift_curve, with both inputs overlaid (only the
  inputs whose labelled rows hold both classes; none if neither does), plus confusion_matrix;
- multiclass: confusion_matrix;
- regression: residual_histogram and predicted_vs_actual.
The second input's confusion matrix is confusion_matrix_compare.

Evaluate Model only names its plots during the run (``ctx.plot_on_request``); each is drawn by
:func:`draw_plot` from the same scored inputs the first time it is viewed. Drawing them costs
more than the rest of a small run's Evaluate Model, and the run's critical path should not pay
for pictures nobody may look at. The inputs are content-addressed and the PNGs deterministic,
so a plot drawn later is the picture the run would have drawn. Cross Validate Model still
draws the same plots during its run (:func:`report_plots`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from core.components import plots
from core.components.base import Component, Port, PortType, RunContext
from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES
from core.errors import ComponentError

THRESHOLD = 0.5
BINARY_METRICS = (
    "AUC",
    "Accuracy",
    "Precision",
    "Recall",
    "F1_Score",
    "Average_Log_Loss",
    "True Negative",
    "False Positive",
    "False Negative",
    "True Positive",
)
MULTICLASS_METRICS = (
    "Overall_Accuracy",
    "Average_Accuracy",
    "Micro_Precision",
    "Macro_Precision",
    "Micro_Recall",
    "Macro_Recall",
)
CLASS_METRICS = ("Accuracy", "Precision", "Recall")
CLUSTER_METRICS = (
    "Average Distance to Other Center",
    "Average Distance to Cluster Center",
    "Number of Points",
    "Maximal Distance to Cluster Center",
)
ASSIGNMENTS = "Assignments"
DISTANCE_COLUMN = re.compile(r"DistancesToClusterCenter no\.(\d+)")
SUPERVISED_TASKS = ("regression", "binary", "multiclass")
INPUT_NAMES = ("Scored dataset", "Scored dataset to compare")
PLOT_SUFFIXES = ("", "_compare")
CURVE_PLOTS = ("roc_curve", "precision_recall_curve", "lift_curve")
CONFUSION_PLOTS = tuple(f"confusion_matrix{suffix}" for suffix in PLOT_SUFFIXES)
REGRESSION_PLOTS = ("residual_histogram", "predicted_vs_actual")


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, relative absolute/squared error and R², named as the designer names them."""
    deviation = y_true - y_true.mean()
    abs_total = float(np.abs(deviation).sum())
    sq_total = float((deviation**2).sum())
    abs_err = float(np.abs(y_true - y_pred).sum())
    sq_err = float(((y_true - y_pred) ** 2).sum())
    return {
        "Mean_Absolute_Error": float(metrics.mean_absolute_error(y_true, y_pred)),
        "Root_Mean_Squared_Error": float(np.sqrt(metrics.mean_squared_error(y_true, y_pred))),
        "Relative_Absolute_Error": abs_err / abs_total if abs_total else float("nan"),
        "Relative_Squared_Error": sq_err / sq_total if sq_total else float("nan"),
        "Coefficient_of_Determination": float(metrics.r2_score(y_true, y_pred)),
    }


def binary_metrics(
    positive: np.ndarray, probability: np.ndarray, threshold: float = THRESHOLD
) -> dict[str, float]:
    """The designer's two-class metrics. ``positive`` is True where the actual class is the
    positive one and ``probability`` is P(positive). A probability at or above ``threshold``
    counts as a positive prediction. AUC is NaN when only one class is present."""
    predicted = probability >= threshold
    tp = int(np.sum(positive & predicted))
    fp = int(np.sum(~positive & predicted))
    fn = int(np.sum(positive & ~predicted))
    tn = len(positive) - tp - fp - fn
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    both_classes = 0 < tp + fn < len(positive)
    return {
        "AUC": float(metrics.roc_auc_score(positive, probability)) if both_classes else math.nan,
        "Accuracy": (tp + tn) / len(positive),
        "Precision": precision,
        "Recall": recall,
        "F1_Score": _ratio(2 * precision * recall, precision + recall),
        "Average_Log_Loss": float(metrics.log_loss(positive, probability, labels=[False, True])),
        "True Negative": tn,
        "False Positive": fp,
        "False Negative": fn,
        "True Positive": tp,
    }


def confusion_matrix(actual: Iterable[Any], predicted: Iterable[Any], classes: Sequence[Any]) -> np.ndarray:
    """Counts with actual classes as rows and predicted classes as columns, in ``classes`` order."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(matrix, ([index[v] for v in actual], [index[v] for v in predicted]), 1)
    return matrix


def class_metrics(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Per class, treating it as the positive class against all others (one-vs-rest)."""
    tp = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    tn = matrix.sum() - predicted - actual + tp
    return {
        "Accuracy": (tp + tn) / matrix.sum(),
        "Precision": np.divide(tp, predicted, out=np.zeros(len(tp)), where=predicted > 0),
        "Recall": np.divide(tp, actual, out=np.zeros(len(tp)), where=actual > 0),
    }


def multiclass_metrics(matrix: np.ndarray) -> dict[str, float]:
    """The designer's multiclass metrics from a confusion matrix (rows actual, columns predicted).

    With one label per row, micro-averaged precision and recall both equal the overall accuracy.
    """
    per_class = class_metrics(matrix)
    overall = float(np.trace(matrix) / matrix.sum())
    return {
        "Overall_Accuracy": overall,
        "Average_Accuracy": float(per_class["Accuracy"].mean()),
        "Micro_Precision": overall,
        "Macro_Precision": float(per_class["Precision"].mean()),
        "Micro_Recall": overall,
        "Macro_Recall": float(per_class["Recall"].mean()),
    }


def evaluate(scored: pd.DataFrame) -> dict[str, float]:
    """The headline metrics of one supervised scored dataset, keyed by designer name.

    For multiclass these are the Overall metrics. Clustering results are a table per cluster
    (:func:`clustering_evaluation`).
    """
    label, rows = _labelled(scored)
    task = scored.attrs.get("task")
    if task == "regression":
        return regression_metrics(_floats(rows, label), _floats(rows, SCORED_LABELS))
    if task == "binary":
        positive, probability, _ = binary_target(scored)
        return binary_metrics(positive, probability)
    if task == "multiclass":
        return multiclass_metrics(multiclass_confusion(scored)[0])
    raise ComponentError(
        f"Evaluate Model gives {', '.join(SUPERVISED_TASKS)} metrics for a scored "
        f"dataset of a supervised model, not for task {task!r}",
        code="InvalidLearner",
    )


def binary_target(scored: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Whether each labelled row is of the positive class, P(positive), and the two classes."""
    label, rows = _labelled(scored)
    classes = _classes(scored, rows, label)
    if len(classes) != 2:
        raise ComponentError(
            f"A two-class evaluation needs exactly two classes among {label!r} and "
            f"{SCORED_LABELS!r}, found {len(classes)}: {classes[:5]}",
            code="InvalidLabel",
            column=label,
        )
    if SCORED_PROBABILITIES not in rows.columns:
        raise ComponentError(
            f"A two-class evaluation needs the {SCORED_PROBABILITIES!r} column",
            code="NotScoredDataset",
            column=SCORED_PROBABILITIES,
        )
    positive = (rows[label] == classes[1]).to_numpy(dtype=bool)
    return positive, _floats(rows, SCORED_PROBABILITIES), classes


def multiclass_confusion(scored: pd.DataFrame) -> tuple[np.ndarray, list[Any]]:
    label, rows = _labelled(scored)
    classes = _classes(scored, rows, label)
    return confusion_matrix(rows[label].tolist(), rows[SCORED_LABELS].tolist(), classes), classes


def clustering_evaluation(scored: pd.DataFrame) -> pd.DataFrame:
    """Distances of each cluster's points to their own and to the other centres.

    "Average Distance to Other Center" averages, over a cluster's points, each point's mean
    distance to the centres of the other clusters.
    """
    own, others, position, clusters = _cluster_distances(scored)

    def summary(mask: np.ndarray) -> dict[str, float]:
        count = int(mask.sum())
        return {
            "Average Distance to Other Center": float(others[mask].mean()) if count else math.nan,
            "Average Distance to Cluster Center": float(own[mask].mean()) if count else math.nan,
            "Number of Points": count,
            "Maximal Distance to Cluster Center": float(own[mask].max()) if count else math.nan,
        }

    rows = [{"Result Description": "Combined Evaluation", **summary(np.ones(len(own), dtype=bool))}]
    rows += [
        {"Result Description": f"Evaluation For Cluster No.{k}", **summary(position == i)}
        for i, k in enumerate(clusters)
    ]
    return pd.DataFrame(rows)


def named_inputs(inputs: Mapping[str, Any]) -> list[tuple[str, pd.DataFrame]]:
    """Evaluate Model's scored datasets by port id, as (input name, frame), left input first.

    The run and the drawing of a plot later both start here, so they name the inputs alike.
    """
    ports = EvaluateModel.inputs
    given = [(name, inputs.get(port.id)) for name, port in zip(INPUT_NAMES, ports, strict=True)]
    return [(name, df) for name, df in given if df is not None]


def plot_names(named: Sequence[tuple[str, pd.DataFrame]]) -> list[str]:
    """The plots the task has for up to two scored datasets of the same task, without drawing.

    Two-class curves need both classes among an input's labelled rows; a confusion matrix is
    drawn per input, the second suffixed ``_compare``.
    """
    task = named[0][1].attrs.get("task")
    confusion = list(CONFUSION_PLOTS[: len(named)])
    if task == "binary":
        curves = any(_both_classes(binary_target(df)[0]) for _, df in named)
        return [*(CURVE_PLOTS if curves else ()), *confusion]
    if task == "multiclass":
        return confusion
    if task == "regression":
        return list(REGRESSION_PLOTS)
    return []


def draw_plot(named: Sequence[tuple[str, pd.DataFrame]], name: str) -> bytes:
    """The PNG of plot ``name`` (one of :func:`plot_names`) for these scored datasets."""
    task = named[0][1].attrs.get("task")
    if task == "binary":
        return _draw_binary(named, name)
    if task == "multiclass" and name in CONFUSION_PLOTS[: len(named)]:
        title, df = named[CONFUSION_PLOTS.index(name)]
        matrix, classes = multiclass_confusion(df)
        return plots.confusion_matrix(matrix, [str(c) for c in classes], f"Confusion matrix: {title}")
    if task == "regression" and name in REGRESSION_PLOTS:
        series = []
        for title, df in named:
            label, rows = _labelled(df)
            series.append((title, _floats(rows, label), _floats(rows, SCORED_LABELS)))
        draw = plots.residual_histogram if name == "residual_histogram" else plots.predicted_vs_actual
        return draw(series)
    raise _no_plot(task, name)


def _draw_binary(named: Sequence[tuple[str, pd.DataFrame]], name: str) -> bytes:
    prepared = [(title, *binary_target(df)) for title, df in named]
    if name in CURVE_PLOTS:
        curves = [(title, pos, prob) for title, pos, prob, _ in prepared if _both_classes(pos)]
        if curves:
            draw = {
                "roc_curve": plots.roc_curve,
                "precision_recall_curve": plots.precision_recall_curve,
                "lift_curve": plots.lift_curve,
            }[name]
            return draw(curves)
    elif name in CONFUSION_PLOTS[: len(prepared)]:
        title, positive, probability, classes = prepared[CONFUSION_PLOTS.index(name)]
        matrix = confusion_matrix(positive, probability >= THRESHOLD, [False, True])
        return plots.confusion_matrix(
            matrix, [str(c) for c in classes], f"Confusion matrix: {title} (threshold {THRESHOLD})"
        )
    raise _no_plot("binary", name)


def _both_classes(positive: np.ndarray) -> bool:
    return bool(0 < positive.sum() < len(positive))


def _no_plot(task: Any, name: str) -> ComponentError:
    return ComponentError(f"A {task} evaluation of these inputs has no plot {name!r}", code="UnknownPlot")


def report_plots(named: Sequence[tuple[str, pd.DataFrame]], ctx: RunContext) -> None:
    """Draw the task's plots now, for a component whose scored rows are not kept to draw from."""
    for name in plot_names(named):
        ctx.plot(name, draw_plot(named, name))


@dataclass(frozen=True)
class _Section:
    table: pd.DataFrame
    headline: dict[str, float]
    summary: str


def _section(scored: pd.DataFrame) -> _Section:
    task = scored.attrs.get("task")
    if task == "clustering":
        table = clustering_evaluation(scored)
        combined = table.iloc[0]
        return _Section(
            table,
            {m: combined[m] for m in CLUSTER_METRICS},
            f"{int(combined['Number of Points'])} rows in {len(table) - 1} clusters",
        )
    if task == "multiclass":
        matrix, classes = multiclass_confusion(scored)
        headline = multiclass_metrics(matrix)
        names = [str(c) for c in classes]
        per_class = pd.DataFrame({"Class": names, **class_metrics(matrix)})
        for j, name in enumerate(names):
            per_class[f"Predicted_{name}"] = pd.array(matrix[:, j], dtype="Int64")
        table = pd.concat([pd.DataFrame([{"Class": "Overall", **headline}]), per_class], ignore_index=True)
        return _Section(table, headline, f"{int(matrix.sum())} rows, {len(classes)} classes")
    headline = evaluate(scored)
    summary = f"{len(_labelled(scored)[1])} labelled rows"
    if task == "binary":
        classes = binary_target(scored)[2]
        summary += f", positive class {classes[1]!r} (second in sorted order), threshold {THRESHOLD}"
    return _Section(pd.DataFrame([headline]), headline, summary)


def _labelled(scored: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    label = scored.attrs.get("label")
    if not label or SCORED_LABELS not in scored.columns:
        raise ComponentError(
            "Evaluate Model needs a scored dataset (the output of Score Model)", code="NotScoredDataset"
        )
    if label not in scored.columns:
        raise ComponentError(
            f"The scored dataset lacks its label column {label!r}", code="NotLabeledDataset", column=label
        )
    rows = scored[scored[label].notna()]
    if rows.empty:
        raise ComponentError("No scored row has a label value", code="TooFewRowsInDataset")
    return label, rows


def sorted_classes(values: Iterable[Any]) -> list[Any]:
    """Distinct classes in sklearn's ``classes_`` order (numbers by value, text alphabetically)."""
    distinct = set(values)
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def _classes(scored: pd.DataFrame, rows: pd.DataFrame, label: str) -> list[Any]:
    """Classes the model knows (attrs "classes") count even when absent from these rows."""
    return sorted_classes(
        [*(scored.attrs.get("classes") or ()), *rows[label].tolist(), *rows[SCORED_LABELS].tolist()]
    )


def _floats(rows: pd.DataFrame, column: str) -> np.ndarray:
    try:
        values = rows[column].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ComponentError(
            f"Column {column!r} must be numeric to evaluate", code="InvalidColumnType", column=column
        ) from exc
    if np.isnan(values).any():
        raise ComponentError(
            f"Column {column!r} has missing values in labelled rows", code="MissingValues", column=column
        )
    return values


def _cluster_distances(scored: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Per row: distance to its own centre, mean distance to the others, and its cluster's position."""
    columns = {int(m.group(1)): str(c) for c in scored.columns if (m := DISTANCE_COLUMN.fullmatch(str(c)))}
    if ASSIGNMENTS not in scored.columns or not columns:
        raise ComponentError(
            f"Evaluating clusters needs the {ASSIGNMENTS!r} and 'DistancesToClusterCenter "
            "no.<k>' columns (the output of Assign Data to Clusters)",
            code="NotScoredDataset",
            column=ASSIGNMENTS,
        )
    if scored.empty:
        raise ComponentError("The clustering results have no rows", code="TooFewRowsInDataset")
    clusters = sorted(columns)
    distances = np.column_stack([_floats(scored, columns[k]) for k in clusters])
    assignments = scored[ASSIGNMENTS]
    unknown = set(assignments.dropna().tolist()) - set(clusters)
    if assignments.isna().any() or unknown:
        raise ComponentError(
            f"{ASSIGNMENTS!r} must name a cluster with a distance column for every row; "
            f"found {sorted(unknown, key=str)[:5] or 'missing values'}",
            code="InvalidDataset",
            column=ASSIGNMENTS,
        )
    position = assignments.map({k: i for i, k in enumerate(clusters)}).to_numpy(dtype=int)
    own = distances[np.arange(len(distances)), position]
    others = (
        (distances.sum(axis=1) - own) / (len(clusters) - 1)
        if len(clusters) > 1
        else np.full(len(own), math.nan)
    )
    return own, others, position, clusters


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _metric_values(headline: Mapping[str, Any]) -> dict[str, float]:
    """Finite numbers only, as plain Python numbers, so a run's metrics stay valid JSON."""
    plain = {k: v.item() if isinstance(v, np.generic) else v for k, v in headline.items()}
    return {k: v for k, v in plain.items() if isinstance(v, (int, float)) and math.isfinite(v)}


class EvaluateModel(Component):
    id = "evaluate_model"
    name = "Evaluate Model"
    category = "Model Scoring & Evaluation"
    version = "2.0"
    description = (
        "Metrics of a scored dataset (regression, two-class, multiclass or clustering); "
        "a second scored dataset of the same kind is compared beside it."
    )
    inputs = (
        Port("scored_dataset", "Scored dataset", PortType.DATA),
        Port("scored_dataset_to_compare", "Scored dataset to compare", PortType.DATA, optional=True),
    )
    outputs = (Port("evaluation_results", "Evaluation results", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        named = named_inputs(inputs)
        sections = [_section(df) for _, df in named]
        tasks = [df.attrs.get("task") for _, df in named]
        if len(set(tasks)) > 1:
            raise ComponentError(
                f"Evaluate Model compares results of the same kind: the scored dataset "
                f"is {tasks[0]}, the one to compare is {tasks[1]}",
                code="InvalidDataset",
            )
        tables = []
        for (name, _), section in zip(named, sections, strict=True):
            table = section.table.copy()
            table.insert(0, "Dataset", name)
            tables.append(table)
            ctx.log(f"{name}: {tasks[0]} evaluation, {section.summary}")
        for metric, value in _metric_values(sections[0].headline).items():
            ctx.metric(metric, value)
        for name in plot_names(named):  # drawn when first viewed: Runs.node_plot
            ctx.plot_on_request(name)
        return {"evaluation_results": pd.concat(tables, ignore_index=True)}


COMPONENTS = (EvaluateModel,)
