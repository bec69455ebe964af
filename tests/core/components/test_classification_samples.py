"""The two-class sample datasets through the designer chain: Select Columns -> Clean Missing Data ->
Split Data 70/30 -> Two-Class Logistic Regression -> Train Model -> Score Model -> Evaluate Model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.components.base import RunContext
from core.components.evaluation import EvaluateModel, draw_plot, named_inputs
from core.components.models import Learner
from core.components.training import ScoreModel, ScoreModelParams, TrainModel, TrainModelParams
from core.components.transformation import (
    CleanMissingData,
    CleanMissingDataParams,
    SelectColumnsInDataset,
    SelectColumnsParams,
    SplitData,
    SplitDataParams,
)

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "datasets"


def adult() -> pd.DataFrame:
    """A seeded 4,000-row subset, for speed."""
    return pd.read_csv(SAMPLES / "adult-census-income.csv").sample(n=4000, random_state=0)


def german() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "german-credit.csv")


def train_score_evaluate(
    raw: pd.DataFrame, label: str, exclude: list[str], ctx: RunContext
) -> tuple[pd.DataFrame, pd.DataFrame]:
    selection = (
        {"start": "all", "rules": [{"action": "exclude", "by": "name", "values": exclude}]}
        if exclude
        else {"start": "all"}
    )
    selected = SelectColumnsInDataset().run(
        {"dataset": raw}, SelectColumnsParams.model_validate({"Select Columns": selection}), ctx
    )["results_dataset"]
    cleaned = CleanMissingData().run(
        {"dataset": selected},
        CleanMissingDataParams.model_validate({"Cleaning mode": "Replace with mode"}),
        ctx,
    )["cleaned_dataset"]
    parts = SplitData().run(
        {"dataset": cleaned},
        SplitDataParams.model_validate(
            {"Fraction of rows in the first output dataset": 0.7, "Random seed": 0}
        ),
        ctx,
    )
    # Scaled first, as the designer's learner normalizes features: unscaled, L-BFGS does not converge.
    learner = Learner(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "binary",
        "Two-Class Logistic Regression",
    )
    model = TrainModel().run(
        {"untrained_model": learner, "dataset": parts["results_dataset1"]},
        TrainModelParams.model_validate({"Label column": label}),
        ctx,
    )["trained_model"]
    scored = ScoreModel().run(
        {"trained_model": model, "dataset": parts["results_dataset2"]}, ScoreModelParams(), ctx
    )["scored_dataset"]
    results = EvaluateModel().run({"scored_dataset": scored}, None, ctx)["evaluation_results"]
    return scored, results


@pytest.mark.parametrize(
    ("load", "label", "exclude", "positive"),
    [
        (adult, "income", ["fnlwgt"], ">50K"),
        (german, "credit-risk", [], 2),
    ],
)
def test_two_class_logistic_regression_on_a_sample(
    load, label: str, exclude: list[str], positive: object
) -> None:
    ctx = RunContext()
    raw = load()
    scored, results = train_score_evaluate(raw, label, exclude, ctx)
    assert len(scored) == round(0.3 * len(raw))
    majority_rate = scored[label].value_counts(normalize=True).max()
    row = results.iloc[0]
    assert row["AUC"] > 0.7
    assert row["Accuracy"] > majority_rate
    assert row["True Positive"] + row["False Negative"] == (scored[label] == positive).sum()
    assert f"positive class {positive!r}" in ctx.logs[-1]
    assert ctx.metrics["AUC"] == row["AUC"]
    assert {"roc_curve", "precision_recall_curve", "confusion_matrix"} <= set(ctx.plots)
    assert all(png is None for png in ctx.plots.values())  # named during the run, drawn when viewed
    named = named_inputs({"scored_dataset": scored})
    assert all(
        draw_plot(named, name).startswith(b"\x89PNG") and len(draw_plot(named, name)) > 1024
        for name in ctx.plots
    )
