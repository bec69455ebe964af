"""The component catalogue: every component the designer offers, looked up by id or name."""
from __future__ import annotations

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.data import Dataset
from core.components.evaluation import EvaluateModel
from core.components.learners import LinearRegression
from core.components.training import ScoreModel, TrainModel
from core.components.transformation import CleanMissingData, SelectColumnsInDataset, SplitData

__all__ = ["CATALOGUE", "Component", "Params", "Port", "PortType", "RunContext", "lookup"]

_ALL: tuple[type[Component], ...] = (
    Dataset, SelectColumnsInDataset, CleanMissingData, SplitData, LinearRegression,
    TrainModel, ScoreModel, EvaluateModel,
)

CATALOGUE: dict[str, type[Component]] = {c.id: c for c in _ALL}
_BY_NAME: dict[str, type[Component]] = {c.name.lower(): c for c in _ALL}


def lookup(ref: str) -> type[Component] | None:
    """A component by id (``split_data``) or designer name (``Split Data``, any case)."""
    return CATALOGUE.get(ref) or _BY_NAME.get(ref.strip().lower())
