"""Evaluate Model for two-class, multiclass and clustering results (core/components/evaluation.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.linear_model import LinearRegression, LogisticRegression

from core.components import lookup
from core.components.base import RunContext
from core.components.evaluation import (
    EvaluateModel,
    binary_metrics,
    class_metrics,
    clustering_evaluation,
    confusion_matrix,
    draw_plot,
    evaluate,
    multiclass_metrics,
    named_inputs,
    plot_names,
)
from core.components.models import SCORED_LABELS, SCORED_PROBABILITIES, Learner, fit
from core.errors import ComponentError
from core.storage.artifacts import dataframe_to_parquet, parquet_to_dataframe

BINARY_NAMES = [
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
]
MULTICLASS_NAMES = [
    "Overall_Accuracy",
    "Average_Accuracy",
    "Micro_Precision",
    "Macro_Precision",
    "Micro_Recall",
    "Macro_Recall",
]
CLUSTER_NAMES = [
    "Average Distance to Other Center",
    "Average Distance to Cluster Center",
    "Number of Points",
    "Maximal Distance to Cluster Center",
]

# Classes "a" < "b", so "b" is positive. Actual and P(b):
#   b 0.9 | b 0.4 | a 0.6 | a 0.2 | b 0.5 | a 0.1
# At threshold 0.5 (0.5 itself counts as positive): TP = rows 0 and 4, FN = row 1, FP = row 2,
# TN = rows 3 and 5.
# Accuracy = 4/6, precision = recall = F1 = 2/3.
# AUC: of the 9 (positive, negative) pairs, 7 rank the positive higher (3 + 2 + 2).
# Log loss = -mean(ln .9, ln .4, ln .4, ln .8, ln .5, ln .9).
ACTUAL = ["b", "b", "a", "a", "b", "a"]
PROBABILITY = [0.9, 0.4, 0.6, 0.2, 0.5, 0.1]
BINARY_HAND = {
    "AUC": 7 / 9,
    "Accuracy": 4 / 6,
    "Precision": 2 / 3,
    "Recall": 2 / 3,
    "F1_Score": 2 / 3,
    "Average_Log_Loss": -np.mean(np.log([0.9, 0.4, 0.4, 0.8, 0.5, 0.9])),
    "True Negative": 2,
    "False Positive": 1,
    "False Negative": 1,
    "True Positive": 2,
}

# Multiclass: actual a a b b c c c, predicted a b b b c a c.
MC_ACTUAL = ["a", "a", "b", "b", "c", "c", "c"]
MC_PREDICTED = ["a", "b", "b", "b", "c", "a", "c"]


def binary_scored(actual: list, probability: list, label: str = "y") -> pd.DataFrame:
    ordered = sorted(set(actual))
    df = pd.DataFrame(
        {
            "x": range(len(actual)),
            label: actual,
            SCORED_LABELS: [ordered[-1] if p >= 0.5 else ordered[0] for p in probability],
            SCORED_PROBABILITIES: probability,
        }
    )
    df.attrs.update(
        {"label": label, "task": "binary", "score_columns": [SCORED_LABELS, SCORED_PROBABILITIES]}
    )
    return df


def multiclass_scored(actual: list, predicted: list) -> pd.DataFrame:
    df = pd.DataFrame({"y": actual, SCORED_LABELS: predicted})
    df.attrs.update({"label": "y", "task": "multiclass", "score_columns": [SCORED_LABELS]})
    return df


def clusters(assignments: list[int], *distances: list[float]) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "f": range(len(assignments)),
            "Assignments": assignments,
            **{f"DistancesToClusterCenter no.{k}": d for k, d in enumerate(distances)},
        }
    )
    df.attrs["task"] = "clustering"
    return df


def run(*scored: pd.DataFrame, ctx: RunContext | None = None) -> pd.DataFrame:
    inputs = dict(zip(["scored_dataset", "scored_dataset_to_compare"], scored, strict=False))
    return EvaluateModel().run(inputs, None, ctx or RunContext())["evaluation_results"]


# --- two-class ------------------------------------------------------------------------------------


def test_binary_metrics_match_a_hand_computation() -> None:
    got = binary_metrics(np.array(ACTUAL) == "b", np.array(PROBABILITY))
    assert list(got) == BINARY_NAMES
    assert got == pytest.approx(BINARY_HAND)


def test_binary_metrics_take_a_threshold() -> None:
    got = binary_metrics(np.array(ACTUAL) == "b", np.array(PROBABILITY), threshold=0.3)
    counts = [got[name] for name in ("True Positive", "False Positive", "True Negative", "False Negative")]
    assert counts == [3, 1, 2, 0]
    assert got["AUC"] == pytest.approx(7 / 9)  # threshold-free


def test_binary_metrics_agree_with_sklearn_on_random_scores() -> None:
    rng = np.random.default_rng(3)
    positive = rng.random(200) < 0.3
    probability = np.clip(positive * 0.3 + rng.random(200) * 0.7, 0, 1)
    got = binary_metrics(positive, probability)
    predicted = probability >= 0.5
    assert got["AUC"] == pytest.approx(metrics.roc_auc_score(positive, probability))
    assert got["Accuracy"] == pytest.approx(metrics.accuracy_score(positive, predicted))
    assert got["Precision"] == pytest.approx(metrics.precision_score(positive, predicted))
    assert got["Recall"] == pytest.approx(metrics.recall_score(positive, predicted))
    assert got["F1_Score"] == pytest.approx(metrics.f1_score(positive, predicted))
    assert got["Average_Log_Loss"] == pytest.approx(metrics.log_loss(positive, probability))


def test_no_predicted_positive_gives_zero_precision_and_one_class_gives_no_auc() -> None:
    got = binary_metrics(np.array([True, False]), np.array([0.1, 0.2]))
    assert (got["Precision"], got["Recall"], got["F1_Score"]) == (0.0, 0.0, 0.0)
    assert math.isnan(binary_metrics(np.array([False, False]), np.array([0.1, 0.7]))["AUC"])


def test_evaluate_model_two_class_table_metrics_and_log() -> None:
    ctx = RunContext()
    table = run(binary_scored(ACTUAL, PROBABILITY), ctx=ctx)
    assert list(table.columns) == ["Dataset", *BINARY_NAMES]
    assert table["Dataset"].tolist() == ["Scored dataset"]
    assert table.iloc[0][BINARY_NAMES].to_dict() == pytest.approx(BINARY_HAND)
    assert ctx.metrics == pytest.approx(BINARY_HAND)
    assert type(ctx.metrics["True Positive"]) is int
    assert "positive class 'b'" in ctx.logs[0] and "threshold 0.5" in ctx.logs[0]


def test_positive_class_is_the_second_in_sorted_order_for_numbers_too() -> None:
    """German credit's labels are 1 (good) and 2 (bad): 2 is positive, as Scored Probabilities is P(2)."""
    df = binary_scored([2, 2, 1, 1, 2, 1], PROBABILITY)
    assert evaluate(df) == pytest.approx(BINARY_HAND)
    text = binary_scored([">50K", ">50K", "<=50K", "<=50K", ">50K", "<=50K"], PROBABILITY)
    assert evaluate(text) == pytest.approx(BINARY_HAND)


def test_two_class_model_trained_and_scored_agrees_with_sklearn() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    df["y"] = np.where(df["a"] + rng.normal(size=120) > 0, 2, 1)
    model = fit(Learner(LogisticRegression(), "binary", "Two-Class Logistic Regression"), df, "y")
    scored = model.score(df)
    got = evaluate(scored)
    probability = scored[SCORED_PROBABILITIES]
    assert got["AUC"] == pytest.approx(metrics.roc_auc_score(df["y"] == 2, probability))
    assert got["Accuracy"] == pytest.approx(metrics.accuracy_score(df["y"], scored[SCORED_LABELS]))
    assert got["Average_Log_Loss"] == pytest.approx(metrics.log_loss(df["y"], probability))


def test_two_class_without_probabilities_is_refused_by_column() -> None:
    df = binary_scored(ACTUAL, PROBABILITY).drop(columns=SCORED_PROBABILITIES)
    with pytest.raises(ComponentError) as info:
        run(df)
    assert (info.value.code, info.value.column) == ("NotScoredDataset", SCORED_PROBABILITIES)


def test_two_class_with_three_label_values_is_refused() -> None:
    df = binary_scored(["a", "b", "c"], [0.1, 0.6, 0.7])
    with pytest.raises(ComponentError) as info:
        evaluate(df)
    assert (info.value.code, info.value.column) == ("InvalidLabel", "y")


def test_known_classes_in_attrs_fix_the_positive_class_when_one_is_absent() -> None:
    df = binary_scored(["b", "b"], [0.9, 0.8])
    df.attrs["classes"] = ["a", "b"]
    got = evaluate(df)
    assert (got["True Positive"], got["Accuracy"], got["Recall"]) == (2, 1.0, 1.0)
    assert math.isnan(got["AUC"])


# --- multiclass -----------------------------------------------------------------------------------


def test_multiclass_metrics_match_sklearn_and_a_hand_average_accuracy() -> None:
    matrix = confusion_matrix(MC_ACTUAL, MC_PREDICTED, ["a", "b", "c"])
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    got = multiclass_metrics(matrix)
    assert list(got) == MULTICLASS_NAMES
    assert got["Overall_Accuracy"] == pytest.approx(metrics.accuracy_score(MC_ACTUAL, MC_PREDICTED))
    for average in ("micro", "macro"):
        assert got[f"{average.title()}_Precision"] == pytest.approx(
            metrics.precision_score(MC_ACTUAL, MC_PREDICTED, average=average)
        )
        assert got[f"{average.title()}_Recall"] == pytest.approx(
            metrics.recall_score(MC_ACTUAL, MC_PREDICTED, average=average)
        )
    # One-vs-rest accuracies: a 5/7, b 6/7, c 6/7.
    assert class_metrics(matrix)["Accuracy"].tolist() == pytest.approx([5 / 7, 6 / 7, 6 / 7])
    assert got["Average_Accuracy"] == pytest.approx(17 / 21)


def test_evaluate_model_multiclass_layout() -> None:
    ctx = RunContext()
    table = run(multiclass_scored(MC_ACTUAL, MC_PREDICTED), ctx=ctx)
    assert list(table.columns) == (
        [
            "Dataset",
            "Class",
            *MULTICLASS_NAMES,
            "Accuracy",
            "Precision",
            "Recall",
            "Predicted_a",
            "Predicted_b",
            "Predicted_c",
        ]
    )
    assert table["Class"].tolist() == ["Overall", "a", "b", "c"]
    overall, per_class = table.iloc[0], table.iloc[1:]
    assert overall[MULTICLASS_NAMES].to_dict() == pytest.approx(
        multiclass_metrics(confusion_matrix(MC_ACTUAL, MC_PREDICTED, ["a", "b", "c"]))
    )
    assert per_class["Precision"].tolist() == pytest.approx(
        metrics.precision_score(MC_ACTUAL, MC_PREDICTED, average=None).tolist()
    )
    assert per_class["Recall"].tolist() == pytest.approx(
        metrics.recall_score(MC_ACTUAL, MC_PREDICTED, average=None).tolist()
    )
    assert per_class[["Predicted_a", "Predicted_b", "Predicted_c"]].to_numpy().tolist() == [
        [1, 1, 0],
        [0, 2, 0],
        [1, 0, 2],
    ]
    assert per_class[MULTICLASS_NAMES].isna().all().all()
    assert list(ctx.metrics) == MULTICLASS_NAMES
    assert "confusion_matrix" in ctx.plots


def test_multiclass_class_order_is_numeric_for_numbers() -> None:
    table = run(multiclass_scored([10, 2, 2, 1], [10, 2, 1, 1]))
    assert table["Class"].tolist() == ["Overall", "1", "2", "10"]


def test_multiclass_classes_only_predicted_still_count() -> None:
    matrix = confusion_matrix(["a", "a"], ["a", "z"], ["a", "z"])
    assert multiclass_metrics(matrix)["Macro_Recall"] == pytest.approx(0.25)  # a: 1/2, z: 0


# --- clustering -----------------------------------------------------------------------------------


def test_clustering_evaluation_matches_a_hand_computation() -> None:
    # Cluster 0 = rows 0-1 (own 1, 2; other centre 4, 5); cluster 1 = rows 2-4 (own 1, .5, 2; other 5, 6, 7).
    df = clusters([0, 0, 1, 1, 1], [1.0, 2, 5, 6, 7], [4.0, 5, 1, 0.5, 2])
    ctx = RunContext()
    table = run(df, ctx=ctx)
    assert list(table.columns) == ["Dataset", "Result Description", *CLUSTER_NAMES]
    assert table["Result Description"].tolist() == [
        "Combined Evaluation",
        "Evaluation For Cluster No.0",
        "Evaluation For Cluster No.1",
    ]
    rows = table.set_index("Result Description")[CLUSTER_NAMES]
    assert rows.loc["Evaluation For Cluster No.0"].tolist() == pytest.approx([4.5, 1.5, 2, 2.0])
    assert rows.loc["Evaluation For Cluster No.1"].tolist() == pytest.approx([6.0, 3.5 / 3, 3, 2.0])
    assert rows.loc["Combined Evaluation"].tolist() == pytest.approx([5.4, 1.3, 5, 2.0])
    assert ctx.metrics == pytest.approx(dict(zip(CLUSTER_NAMES, [5.4, 1.3, 5, 2.0], strict=True)))
    assert ctx.plots == {}


def test_distance_to_other_centres_is_averaged_and_empty_clusters_are_listed() -> None:
    df = clusters([0, 0], [1.0, 3.0], [2.0, 4.0], [6.0, 8.0])
    table = clustering_evaluation(df).set_index("Result Description")
    assert table.loc["Evaluation For Cluster No.0", "Average Distance to Other Center"] == pytest.approx(5.0)
    empty = table.loc["Evaluation For Cluster No.2"]
    assert empty["Number of Points"] == 0 and math.isnan(empty["Average Distance to Cluster Center"])


def test_clustering_without_assignments_or_with_unknown_clusters_is_refused() -> None:
    with pytest.raises(ComponentError) as info:
        run(clusters([0, 1], [1.0, 2.0]).drop(columns="Assignments"))
    assert (info.value.code, info.value.column) == ("NotScoredDataset", "Assignments")
    with pytest.raises(ComponentError) as info:
        run(clusters([0, 3], [1.0, 2.0], [2.0, 1.0]))
    assert (info.value.code, info.value.column) == ("InvalidDataset", "Assignments")


# --- comparing two inputs -------------------------------------------------------------------------


def test_a_second_two_class_result_is_a_second_row_and_only_the_first_is_logged() -> None:
    ctx = RunContext()
    other = binary_scored(["a", "b", "a", "b"], [0.2, 0.8, 0.3, 0.9])
    table = run(binary_scored(ACTUAL, PROBABILITY), other, ctx=ctx)
    assert table["Dataset"].tolist() == ["Scored dataset", "Scored dataset to compare"]
    assert table.iloc[1]["Accuracy"] == 1.0 and table.iloc[1]["AUC"] == 1.0
    assert ctx.metrics == pytest.approx(BINARY_HAND)
    assert {"confusion_matrix", "confusion_matrix_compare", "roc_curve"} <= set(ctx.plots)


def named(*scored: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return named_inputs(dict(zip(["scored_dataset", "scored_dataset_to_compare"], scored, strict=False)))


def test_plot_names_follow_the_task_and_the_inputs() -> None:
    both = binary_scored(ACTUAL, PROBABILITY)
    one_class = binary_scored(["a", "a", "a"], [0.2, 0.7, 0.1])
    one_class.attrs["classes"] = ["a", "b"]
    curves = ["roc_curve", "precision_recall_curve", "lift_curve"]
    assert plot_names(named(both)) == [*curves, "confusion_matrix"]
    assert plot_names(named(both, one_class)) == [*curves, "confusion_matrix", "confusion_matrix_compare"]
    assert plot_names(named(one_class)) == ["confusion_matrix"]  # no curve without both classes
    mc = multiclass_scored(MC_ACTUAL, MC_PREDICTED)
    assert plot_names(named(mc, mc)) == ["confusion_matrix", "confusion_matrix_compare"]
    assert plot_names(named(clusters([0, 1], [1.0, 2.0], [2.0, 1.0]))) == []


def test_every_named_plot_of_two_inputs_draws_and_the_curves_overlay_only_two_class_ones() -> None:
    both = binary_scored(ACTUAL, PROBABILITY)
    one_class = binary_scored(["a", "a", "a"], [0.2, 0.7, 0.1])
    one_class.attrs["classes"] = ["a", "b"]
    pair = named(both, one_class)
    drawn = {name: draw_plot(pair, name) for name in plot_names(pair)}
    assert all(png.startswith(b"\x89PNG") for png in drawn.values())
    assert drawn["roc_curve"] == draw_plot(named(both), "roc_curve")  # the one-class input adds no curve
    assert drawn["confusion_matrix"] != drawn["confusion_matrix_compare"]
    mc = named(multiclass_scored(MC_ACTUAL, MC_PREDICTED), multiclass_scored(["a", "b"], ["a", "b"]))
    assert draw_plot(mc, "confusion_matrix") != draw_plot(mc, "confusion_matrix_compare")


def test_a_second_multiclass_result_is_a_second_section() -> None:
    table = run(multiclass_scored(MC_ACTUAL, MC_PREDICTED), multiclass_scored(["a", "b"], ["a", "b"]))
    assert table["Dataset"].tolist() == ["Scored dataset"] * 4 + ["Scored dataset to compare"] * 3
    assert table.iloc[4]["Overall_Accuracy"] == 1.0


def test_inputs_of_different_tasks_are_refused() -> None:
    regression = pd.DataFrame({"y": [1.0, 2.0], SCORED_LABELS: [1.0, 2.5]})
    regression.attrs.update({"label": "y", "task": "regression"})
    with pytest.raises(ComponentError) as info:
        run(binary_scored(ACTUAL, PROBABILITY), regression)
    assert info.value.code == "InvalidDataset"
    assert "binary" in str(info.value) and "regression" in str(info.value)


def test_regression_plots_and_metrics() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=50)})
    df["y"] = 3 * df["x"] + rng.normal(size=50)
    scored = fit(Learner(LinearRegression(), "regression", "Linear Regression"), df, "y").score(df)
    ctx = RunContext()
    run(scored, ctx=ctx)
    assert set(ctx.plots) == {"residual_histogram", "predicted_vs_actual"}
    for name in ctx.plots:
        assert draw_plot(named(scored), name).startswith(b"\x89PNG")
    assert ctx.metrics["Coefficient_of_Determination"] == pytest.approx(
        metrics.r2_score(df["y"], scored[SCORED_LABELS])
    )


# --- storage and catalogue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scored",
    [
        binary_scored(ACTUAL, PROBABILITY),
        multiclass_scored(MC_ACTUAL, MC_PREDICTED),
        clusters([0, 0, 1], [1.0, 2, 3], [3.0, 2, 1]),
    ],
)
def test_evaluation_tables_survive_parquet(scored: pd.DataFrame) -> None:
    table = run(scored)
    back = parquet_to_dataframe(dataframe_to_parquet(table))
    pd.testing.assert_frame_equal(back, table, check_dtype=False)


def test_describe_and_catalogue() -> None:
    entry = EvaluateModel.describe()
    assert entry["name"] == "Evaluate Model" and entry["parameters"]["properties"] == {}
    assert [p["optional"] for p in entry["inputs"]] == [False, True]
    assert lookup("Evaluate Model") is EvaluateModel
