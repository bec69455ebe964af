"""Feature Selection: Filter Based Feature Selection."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import Field
from scipy.stats import chi2_contingency
from sklearn.metrics import mutual_info_score

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.columns import require_columns
from core.errors import ComponentError

ScoringMethod = Literal[
    "PearsonCorrelation",
    "MutualInformation",
    "KendallCorrelation",
    "SpearmanCorrelation",
    "ChiSquared",
    "FisherScore",
    "CountBased",
]
MAX_BINS = 10


class FilterBasedFeatureSelectionParams(Params):
    operate_on_feature_columns_only: bool = Field(True, alias="Operate on feature columns only")
    target_column: str = Field(alias="Target column", min_length=1)
    number_of_desired_features: int = Field(1, ge=1, alias="Number of desired features")
    feature_scoring_method: ScoringMethod = Field("PearsonCorrelation", alias="Feature scoring method")


class FilterBasedFeatureSelection(Component):
    """Score every candidate feature against the target and keep the best N.

    Candidates are all columns but the target, the label and score columns; with "Operate on
    feature columns only" and columns marked as features (``attrs["features"]``), only those.
    Scores (higher is better; rows with a missing target or feature value are ignored):

    - Pearson/Spearman/Kendall correlation: the absolute correlation. Features must be numeric
      (others score 0; booleans are 0/1). A non-numeric target is replaced, per row, by the mean
      of the feature over the rows with the same target value (the designer's rule).
    - ChiSquared and MutualInformation: over the contingency table of feature and target,
      numeric columns with more than 10 distinct values binned into 10 equal-width bins.
    - FisherScore: between-class over within-class variance of a numeric feature, the target's
      values (binned if numeric) being the classes.
    - CountBased: the number of non-missing, non-zero values (the target is not used).

    "Filtered dataset" holds the target and then the chosen features, best first. "Features"
    lists every candidate with its score, best first (ties keep the dataset's order).
    """

    id = "filter_based_feature_selection"
    name = "Filter Based Feature Selection"
    category = "Feature Selection"
    version = "2.0"
    description = "Rank features by a statistical score against the target column and keep the best N."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (
        Port("filtered_dataset", "Filtered dataset", PortType.DATA),
        Port("features", "Features", PortType.DATA),
    )
    Parameters = FilterBasedFeatureSelectionParams

    def run(
        self, inputs: Mapping[str, Any], params: FilterBasedFeatureSelectionParams, ctx: RunContext
    ) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        target = params.target_column
        require_columns(df, [target])
        rows = df[df[target].notna()]
        if rows.empty:
            raise ComponentError(
                f"Target column {target!r} has only missing values", code="MissingValues", column=target
            )
        candidates = _candidates(df, target, params.operate_on_feature_columns_only)
        score = SCORERS[params.feature_scoring_method]
        scores = pd.Series(
            [_finite(score(rows[c], rows[target])) for c in candidates], index=candidates, dtype=float
        ).sort_values(ascending=False, kind="stable")
        chosen = list(scores.index[: params.number_of_desired_features])
        filtered = df[[target, *chosen]]
        filtered.attrs = _attrs_for(df.attrs, set(filtered.columns))
        ctx.log(
            f"{params.feature_scoring_method}: kept {len(chosen)} of {len(candidates)} feature(s) for "
            f"target {target!r}: {', '.join(chosen)}"
        )
        return {
            "filtered_dataset": filtered,
            "features": pd.DataFrame({"Feature": scores.index, "Score": scores.to_numpy()}),
        }


def _candidates(df: pd.DataFrame, target: str, marked_only: bool) -> list[str]:
    excluded = {
        target,
        df.attrs.get("label"),
        df.attrs.get("fold_column"),
        *(df.attrs.get("score_columns") or ()),
    }
    marked = df.attrs.get("features") if marked_only else None
    candidates = [str(c) for c in df.columns if c not in excluded and (not marked or c in marked)]
    if not candidates:
        raise ComponentError(
            f"There is no feature column to score besides the target {target!r}",
            code="TooFewColumnsInDataset",
        )
    return candidates


def _attrs_for(attrs: dict[str, Any], columns: set[str]) -> dict[str, Any]:
    kept = dict(attrs)
    for key in ("features", "categorical", "score_columns"):
        if key in kept:
            kept[key] = [c for c in kept[key] if c in columns]
    for key in ("label", "fold_column"):
        if kept.get(key) not in columns:
            kept.pop(key, None)
    return kept


def _finite(value: float) -> float:
    return 0.0 if value is None or np.isnan(value) else float(value)


def _numeric(series: pd.Series) -> pd.Series | None:
    if ptypes.is_bool_dtype(series) or ptypes.is_numeric_dtype(series):
        return series.astype(float)
    return None


def _correlation(method: str) -> Callable[[pd.Series, pd.Series], float]:
    def score(feature: pd.Series, target: pd.Series) -> float:
        x = _numeric(feature)
        if x is None:
            return 0.0
        pair = pd.DataFrame({"x": x, "y": target}).dropna()
        if len(pair) < 2:
            return 0.0
        y = _numeric(pair["y"])
        if y is None:  # text target: each row's value becomes the feature's mean for its class
            y = pair.groupby("y", sort=False)["x"].transform("mean")
        if pair["x"].nunique() < 2 or y.nunique() < 2:
            return 0.0
        return abs(pair["x"].corr(y, method=method))

    return score


def _discrete(series: pd.Series) -> pd.Series:
    """Categories for counting: numeric columns with many values are cut into equal-width bins."""
    numeric = _numeric(series)
    if numeric is not None and numeric.nunique() > MAX_BINS:
        return pd.cut(numeric, MAX_BINS, labels=False)
    return series


def _pairs(feature: pd.Series, target: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"x": _discrete(feature), "y": _discrete(target)}).dropna()


def _chi_squared(feature: pd.Series, target: pd.Series) -> float:
    pair = _pairs(feature, target)
    table = pd.crosstab(pair["x"], pair["y"])
    if min(table.shape) < 2:
        return 0.0
    return float(chi2_contingency(table.to_numpy(), correction=False).statistic)


def _mutual_information(feature: pd.Series, target: pd.Series) -> float:
    pair = _pairs(feature, target)
    if pair.empty:
        return 0.0
    return float(mutual_info_score(pair["y"].astype(str), pair["x"].astype(str)))


def _fisher_score(feature: pd.Series, target: pd.Series) -> float:
    x = _numeric(feature)
    if x is None:
        return 0.0
    pair = pd.DataFrame({"x": x, "y": _discrete(target)}).dropna()
    if pair.empty:
        return 0.0
    classes = pair.groupby("y", sort=False)["x"].agg(["size", "mean", "var"])
    between = float((classes["size"] * (classes["mean"] - pair["x"].mean()) ** 2).sum())
    within = float(((classes["size"] - 1) * classes["var"].fillna(0.0)).sum())
    if within == 0.0:
        return np.inf if between > 0.0 else 0.0
    return between / within


def _count_based(feature: pd.Series, target: pd.Series) -> float:
    present = feature.dropna()
    numeric = _numeric(present)
    return float((numeric != 0).sum() if numeric is not None else (present.astype(str) != "").sum())


SCORERS: dict[str, Callable[[pd.Series, pd.Series], float]] = {
    "PearsonCorrelation": _correlation("pearson"),
    "SpearmanCorrelation": _correlation("spearman"),
    "KendallCorrelation": _correlation("kendall"),
    "ChiSquared": _chi_squared,
    "MutualInformation": _mutual_information,
    "FisherScore": _fisher_score,
    "CountBased": _count_based,
}

COMPONENTS = (FilterBasedFeatureSelection,)
