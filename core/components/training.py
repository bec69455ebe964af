"""Train Model and Score Model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import Field

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.models import Learner, TrainedModel, fit


class TrainModelParams(Params):
    label_column: str = Field(alias="Label column", min_length=1)


class TrainModel(Component):
    id = "train_model"
    name = "Train Model"
    category = "Model Training"
    version = "2.0"
    description = "Fit an untrained model on a labelled dataset."
    inputs = (
        Port("untrained_model", "Untrained model", PortType.UNTRAINED_MODEL),
        Port("dataset", "Dataset", PortType.DATA),
    )
    outputs = (Port("trained_model", "Trained model", PortType.MODEL),)
    Parameters = TrainModelParams

    def run(self, inputs: Mapping[str, Any], params: TrainModelParams, ctx: RunContext) -> dict[str, Any]:
        learner: Learner = inputs["untrained_model"]
        df: pd.DataFrame = inputs["dataset"]
        model = fit(learner, df, params.label_column)
        ctx.log(
            f"trained {learner.algorithm} on {len(df)} rows, {len(model.feature_columns)} features, "
            f"label {params.label_column!r}"
        )
        return {"trained_model": model}


class ScoreModelParams(Params):
    append_score_columns: bool = Field(True, alias="Append score columns to output")


class ScoreModel(Component):
    id = "score_model"
    name = "Score Model"
    category = "Model Scoring & Evaluation"
    version = "2.0"
    description = "Predict with a trained model; adds Scored Labels (and Scored Probabilities)."
    inputs = (
        Port("trained_model", "Trained model", PortType.MODEL),
        Port("dataset", "Dataset", PortType.DATA),
    )
    outputs = (Port("scored_dataset", "Scored dataset", PortType.DATA),)
    Parameters = ScoreModelParams

    def run(self, inputs: Mapping[str, Any], params: ScoreModelParams, ctx: RunContext) -> dict[str, Any]:
        model: TrainedModel = inputs["trained_model"]
        scored = model.score(inputs["dataset"], append=params.append_score_columns)
        ctx.log(f"scored {len(scored)} rows")
        return {"scored_dataset": scored}


COMPONENTS = (TrainModel, ScoreModel)
