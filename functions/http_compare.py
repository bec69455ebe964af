"""Compare runs: parameters, metrics and overlaid two-class curves of two to five runs."""

from __future__ import annotations

import azure.functions as func
from pydantic import BaseModel, Field

from functions import answers as a
from functions import links
from functions.common import json_errors, json_response, service
from functions.openapi import api, parse_query

bp = func.Blueprint()


class CompareQuery(BaseModel):
    runs: str = Field("", max_length=2000, description="Two to five run ids, separated by commas")


def _run_ids(req: func.HttpRequest) -> list[str]:
    return [r.strip() for r in parse_query(req, CompareQuery).runs.split(",")]


@bp.route(route="compare", methods=["GET"])
@api(
    "Parameters and metrics of two to five runs side by side",
    response=a.Comparison,
    errors=(404,),
    query=CompareQuery,
)
@json_errors
def compare_runs(req: func.HttpRequest) -> func.HttpResponse:
    """``?runs=a,b[,c...]``: parameters side by side (differences marked) and metrics."""
    return json_response(links.comparison(service().compare.compare_runs(_run_ids(req))))


@bp.route(route="compare/plots/{name}", methods=["GET"])
@api(
    "One two-class curve of every compared run",
    response="image/png",
    errors=(404,),
    query=CompareQuery,
    name_kind="plot",
)
@json_errors
def compare_plot(req: func.HttpRequest) -> func.HttpResponse:
    """``roc_curve`` or ``precision_recall_curve`` of every run in one PNG."""
    png = service().compare.compare_plot(_run_ids(req), req.route_params["name"])
    return func.HttpResponse(png, mimetype="image/png")
