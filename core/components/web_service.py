"""Web Service Input and Output: where a real-time endpoint's request rows enter and leave.

In a pipeline run, Web Service Input passes on the dataset connected to it (its schema and
sample), minus the columns it drops (the label, so callers need not send it). In real-time
scoring the request rows take the place of its output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from core import names
from core.components.base import Component, Params, Port, PortType, RunContext
from core.errors import ComponentError


class WebServiceInputParams(Params):
    name: str = Field("WebServiceInput0", pattern=names.WEB_SERVICE_PORT)
    drop_columns: list[str] = Field(
        default_factory=list, description="Columns callers need not send (e.g. the label)"
    )


class WebServiceInput(Component):
    id = "web_service_input"
    name = "Web Service Input"
    category = "Web Service"
    description = "Request rows of a real-time endpoint; in pipeline runs, the connected dataset."
    inputs = (Port("dataset", "Dataset", PortType.DATA, optional=True),)
    outputs = (Port("data", "Data", PortType.DATA),)
    Parameters = WebServiceInputParams

    def run(
        self, inputs: Mapping[str, Any], params: WebServiceInputParams, ctx: RunContext
    ) -> dict[str, Any]:
        df = inputs.get("dataset")
        if df is None:
            raise ComponentError(
                "Web Service Input has no data in a pipeline run: connect a dataset "
                "to it (it also defines the request schema)",
                code="NullOrEmpty",
            )
        out = df.drop(columns=[c for c in params.drop_columns if c in df.columns])
        out.attrs = dict(df.attrs)
        return {"data": out}


class WebServiceOutputParams(Params):
    name: str = Field("WebServiceOutput0", pattern=names.WEB_SERVICE_PORT)


class WebServiceOutput(Component):
    id = "web_service_output"
    name = "Web Service Output"
    category = "Web Service"
    description = "What a real-time endpoint answers with."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (Port("data", "Data", PortType.DATA),)
    Parameters = WebServiceOutputParams

    def run(
        self, inputs: Mapping[str, Any], params: WebServiceOutputParams, ctx: RunContext
    ) -> dict[str, Any]:
        return {"data": inputs["dataset"]}


COMPONENTS = (WebServiceInput, WebServiceOutput)
