"""Apply Transformation: replay a fitted transformation (normalization, binning, cleaning...) on
new data, with the statistics learned from the training data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from core.components.base import Component, Port, PortType, RunContext
from core.errors import ComponentError


class ApplyTransformation(Component):
    """The transform decides which columns it needs (those fitted here name any that are missing);
    a KeyError from a transform that does not check its columns is still reported as a missing column."""

    id = "apply_transformation"
    name = "Apply Transformation"
    category = "Model Scoring & Evaluation"
    version = "2.0"
    description = "Apply a saved transformation to a dataset with the schema it was fitted on."
    inputs = (
        Port("transformation", "Transformation", PortType.TRANSFORM),
        Port("dataset", "Dataset", PortType.DATA),
    )
    outputs = (Port("transformed_dataset", "Transformed dataset", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        transform = inputs["transformation"]
        df: pd.DataFrame = inputs["dataset"]
        if not callable(getattr(transform, "apply", None)):
            raise ComponentError(
                f"The Transformation input is a {type(transform).__name__}, not a transformation",
                code="InvalidTransformationDirectory",
            )
        try:
            out = transform.apply(df)
        except KeyError as exc:
            available = ", ".join(str(c) for c in df.columns)
            raise ComponentError(
                f"The transformation needs a column the dataset lacks ({exc}); "
                f"available columns: {available}",
                code="ColumnNotFound",
            ) from exc
        ctx.log(f"applied {type(transform).__name__}: {df.shape} -> {out.shape}")
        return {"transformed_dataset": out}


COMPONENTS = (ApplyTransformation,)
