"""Evaluation plots (core/components/plots.py): valid, non-trivial PNGs, identical for identical data."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from core.components import plots
from core.components.base import RunContext
from core.components.evaluation import EvaluateModel, draw_plot, named_inputs, plot_names
from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES
from core.errors import ComponentError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

RNG = np.random.default_rng(7)
POSITIVE = RNG.random(80) < 0.4
PROBABILITY = np.clip(0.35 * POSITIVE + 0.65 * RNG.random(80), 0, 1)
ACTUAL = RNG.normal(10, 3, size=60)
PREDICTED = ACTUAL + RNG.normal(0, 1, size=60)

DRAWINGS: dict[str, Callable[[], bytes]] = {
    "roc": lambda: plots.roc_curve([("Scored dataset", POSITIVE, PROBABILITY)]),
    "roc_two": lambda: plots.roc_curve(
        [("Scored dataset", POSITIVE, PROBABILITY), ("Scored dataset to compare", POSITIVE, PROBABILITY**2)]
    ),
    "precision_recall": lambda: plots.precision_recall_curve([("Scored dataset", POSITIVE, PROBABILITY)]),
    "lift": lambda: plots.lift_curve([("Scored dataset", POSITIVE, PROBABILITY)]),
    "confusion_2": lambda: plots.confusion_matrix(np.array([[30, 5], [8, 37]]), ["<=50K", ">50K"]),
    "confusion_26": lambda: plots.confusion_matrix(
        np.diag(np.arange(26) + 10) + np.eye(26, k=1, dtype=int), [chr(65 + i) for i in range(26)]
    ),
    "residuals": lambda: plots.residual_histogram([("Scored dataset", ACTUAL, PREDICTED)]),
    "predicted_vs_actual": lambda: plots.predicted_vs_actual([("Scored dataset", ACTUAL, PREDICTED)]),
}


def assert_png(data: bytes) -> None:
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1024
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 0  # something was drawn


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_plot_is_a_readable_png_and_identical_for_identical_data(name: str) -> None:
    first, second = DRAWINGS[name](), DRAWINGS[name]()
    assert_png(first)
    assert first == second


def test_png_carries_no_software_or_time_stamp() -> None:
    data = DRAWINGS["roc"]()
    assert b"Software" not in data and b"tIME" not in data


def test_different_data_gives_a_different_picture() -> None:
    reversed_scores = plots.roc_curve([("s", POSITIVE, 1 - PROBABILITY)])
    assert plots.roc_curve([("s", POSITIVE, PROBABILITY)]) != reversed_scores


def binary_frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "y": np.where(POSITIVE, "yes", "no"),
            SCORED_PROBABILITIES: PROBABILITY,
            SCORED_LABELS: np.where(PROBABILITY >= 0.5, "yes", "no"),
        }
    )
    df.attrs.update({"label": "y", "task": "binary"})
    return df


def test_evaluate_model_names_its_plots_and_draws_none_during_the_run() -> None:
    ctx = RunContext()
    EvaluateModel().run({"scored_dataset": binary_frame()}, None, ctx)
    assert ctx.plots == dict.fromkeys(
        ["roc_curve", "precision_recall_curve", "lift_curve", "confusion_matrix"]
    )


def test_evaluate_model_plots_drawn_later_are_deterministic() -> None:
    names = plot_names(named_inputs({"scored_dataset": binary_frame()}))
    assert names == ["roc_curve", "precision_recall_curve", "lift_curve", "confusion_matrix"]
    for name in names:
        first = draw_plot(named_inputs({"scored_dataset": binary_frame()}), name)
        assert first == draw_plot(named_inputs({"scored_dataset": binary_frame()}), name)
        assert_png(first)


def test_each_plot_name_draws_its_own_picture() -> None:
    named = named_inputs({"scored_dataset": binary_frame()})
    drawn = {name: draw_plot(named, name) for name in plot_names(named)}
    assert len(set(drawn.values())) == len(drawn)
    assert drawn["roc_curve"] == plots.roc_curve([("Scored dataset", POSITIVE, PROBABILITY)])


def test_a_plot_the_inputs_do_not_have_is_refused() -> None:
    named = named_inputs({"scored_dataset": binary_frame()})
    for name in ("confusion_matrix_compare", "residual_histogram", "nope"):
        with pytest.raises(ComponentError) as info:
            draw_plot(named, name)
        assert info.value.code == "UnknownPlot"


def test_one_class_results_skip_the_curves_but_keep_the_confusion_matrix() -> None:
    df = pd.DataFrame(
        {"y": ["no", "no", "no"], SCORED_PROBABILITIES: [0.1, 0.7, 0.2], SCORED_LABELS: ["no", "yes", "no"]}
    )
    df.attrs.update({"label": "y", "task": "binary"})
    ctx = RunContext()
    EvaluateModel().run({"scored_dataset": df}, None, ctx)
    assert set(ctx.plots) == {"confusion_matrix"}
