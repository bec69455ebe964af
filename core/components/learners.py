"""Learners: components with no inputs whose output is an untrained model."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.components.base import Component, Params, Port, PortType, RunContext
from core.components.models import Learner

UNTRAINED_OUT = Port("untrained_model", "Untrained model", PortType.UNTRAINED_MODEL)


class LinearRegressionParams(Params):
    solution_method: Literal["Ordinary Least Squares", "Online Gradient Descent"] = Field(
        "Ordinary Least Squares", alias="Solution method")
    l2_regularization_weight: float = Field(0.001, ge=0.0, alias="L2 regularization weight")
    include_intercept_term: bool = Field(True, alias="Include intercept term")
    learning_rate: float = Field(0.1, gt=0.0, alias="Learning rate")
    number_of_epochs: int = Field(10, ge=1, alias="Number of epochs over which algorithm iterates through examples")
    l2_regularization_term_weight: float = Field(0.001, ge=0.0, alias="L2 regularization term weight")
    normalize_features: bool = Field(True, alias="Should input instances be normalized")
    average_final_hypothesis: bool = Field(True, alias="Final hypothesis is averaged")
    decrease_learning_rate: bool = Field(True, alias="Decrease learning rate as iterations progress")
    random_number_seed: int | None = Field(None, ge=0, le=2**32 - 1, alias="Random number seed")
    allow_unknown_levels: bool = Field(True, alias="Allow unknown levels in categorical features")


class LinearRegression(Component):
    id = "linear_regression"
    name = "Linear Regression"
    category = "Machine Learning Algorithms/Regression"
    version = "3.0"
    description = "Ordinary least squares (ridge-regularised) or online gradient descent."
    outputs = (UNTRAINED_OUT,)
    Parameters = LinearRegressionParams

    def run(self, inputs: Mapping[str, Any], params: LinearRegressionParams, ctx: RunContext) -> dict[str, Any]:
        if params.solution_method == "Ordinary Least Squares":
            estimator: Any = Ridge(alpha=params.l2_regularization_weight,
                                   fit_intercept=params.include_intercept_term)
        else:
            sgd = SGDRegressor(alpha=params.l2_regularization_term_weight, eta0=params.learning_rate,
                               max_iter=params.number_of_epochs, average=params.average_final_hypothesis,
                               learning_rate="invscaling" if params.decrease_learning_rate else "constant",
                               random_state=params.random_number_seed, tol=None)
            estimator = make_pipeline(StandardScaler(), sgd) if params.normalize_features else sgd
        return {"untrained_model": Learner(estimator=estimator, task="regression",
                                           algorithm=self.name)}

COMPONENTS = (LinearRegression,)
