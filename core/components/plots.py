"""Evaluation plots as PNG bytes, drawn with matplotlib's Agg canvas.

Figures are built from ``matplotlib.figure.Figure`` directly, never through pyplot: pyplot keeps
global state, and plots are drawn in parallel threads of one worker (components running side by
side, or several plots of a node requested at once). PNGs carry no ``Software`` (version) entry
and Agg writes no timestamp, so the same data gives the same bytes: reruns' artifacts stay
identical (they are stored by content hash), and a plot Evaluate Model draws only when it is
first viewed (a run should not pay for pictures nobody may look at) is the picture the run
would have drawn.

Each function takes one series per scored dataset (Evaluate Model overlays its second input on
the first), as ``(name, ...)`` tuples.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn import metrics

BinarySeries = tuple[str, np.ndarray, np.ndarray]  # name, actual is positive (bool), P(positive)
RegressionSeries = tuple[str, np.ndarray, np.ndarray]  # name, actual, predicted

_SIZE = (6.4, 4.8)
_DPI = 100


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=_SIZE)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.93)  # no layout engine: one draw
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def roc_curve(series: Sequence[BinarySeries]) -> bytes:
    fig, ax = _axes("ROC curve", "False Positive Rate", "True Positive Rate")
    for name, actual, probability in series:
        fpr, tpr, _ = metrics.roc_curve(actual, probability)
        ax.plot(fpr, tpr, label=f"{name} (AUC = {metrics.auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="Random")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right")
    return _png(fig)


def precision_recall_curve(series: Sequence[BinarySeries]) -> bytes:
    fig, ax = _axes("Precision-recall curve", "Recall", "Precision")
    for name, actual, probability in series:
        precision, recall, _ = metrics.precision_recall_curve(actual, probability)
        ax.plot(recall, precision, drawstyle="steps-post", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    return _png(fig)


def lift_curve(series: Sequence[BinarySeries]) -> bytes:
    """True positives captured against the share of rows predicted positive, as the threshold
    falls from the highest score: the steeper above the diagonal, the better the ranking."""
    fig, ax = _axes("Lift curve", "Fraction of rows predicted positive", "True positives")
    for name, actual, probability in series:
        order = np.argsort(-probability, kind="stable")
        captured = np.concatenate([[0], np.cumsum(actual[order])])
        share = np.arange(len(actual) + 1) / len(actual)
        line = ax.plot(share, captured, label=name)[0]
        ax.plot(
            [0, 1],
            [0, captured[-1]],
            linestyle="--",
            linewidth=1,
            color=line.get_color(),
            label=f"{name}: random",
        )
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right")
    return _png(fig)


def confusion_matrix(matrix: np.ndarray, classes: Sequence[str], title: str = "Confusion matrix") -> bytes:
    """Rows are actual classes, columns predicted ones, as in the evaluation table.

    Beyond 10 classes only non-zero cells are numbered: drawing hundreds of texts is slow and
    unreadable.
    """
    size = float(np.clip(0.3 * len(classes) + 3, 4.8, 10))
    fig = Figure(figsize=(size + 1, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(classes), rotation=45, ha="right")
    ax.set_yticks(ticks, labels=list(classes))
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("Actual label")
    ax.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    fontsize = 10 if len(classes) <= 10 else 7
    for (row, col), count in np.ndenumerate(matrix):
        if count == 0 and len(classes) > 10:
            continue
        ax.text(
            col,
            row,
            str(int(count)),
            ha="center",
            va="center",
            fontsize=fontsize,
            color="white" if count > threshold else "black",
            in_layout=False,
        )
    return _png(fig)


def residual_histogram(series: Sequence[RegressionSeries]) -> bytes:
    fig, ax = _axes("Residuals (actual - predicted)", "Residual", "Rows")
    residuals = [(name, actual - predicted) for name, actual, predicted in series]
    pooled = np.concatenate([r for _, r in residuals])
    bins = np.histogram_bin_edges(pooled, bins=int(np.clip(np.sqrt(len(pooled)), 5, 50)))
    for name, values in residuals:
        ax.hist(values, bins=bins.tolist(), alpha=0.6 if len(residuals) > 1 else 0.9, label=name)
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)
    ax.legend(loc="upper right")
    return _png(fig)


def predicted_vs_actual(series: Sequence[RegressionSeries]) -> bytes:
    fig, ax = _axes("Predicted vs actual", "Actual", "Predicted")
    for name, actual, predicted in series:
        ax.scatter(actual, predicted, s=12, alpha=0.7, label=name)
    pooled = np.concatenate([np.concatenate([a, p]) for _, a, p in series])
    low, high = float(pooled.min()), float(pooled.max())
    ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=1, label="Perfect")
    ax.legend(loc="upper left")
    return _png(fig)
