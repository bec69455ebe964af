"""Compare runs: parameters, metrics and overlaid two-class curves of two to five runs."""
from __future__ import annotations

import azure.functions as func

from functions.common import json_errors, json_response, service

bp = func.Blueprint()


def _run_ids(req: func.HttpRequest) -> list[str]:
    return [r.strip() for r in (req.params.get("runs") or "").split(",")]


@bp.route(route="compare", methods=["GET"])
@json_errors
def compare_runs(req: func.HttpRequest) -> func.HttpResponse:
    """``?runs=a,b[,c...]``: parameters side by side (differences marked) and metrics."""
    return json_response(service().compare_runs(_run_ids(req)).model_dump(mode="json"))


@bp.route(route="compare/plots/{name}", methods=["GET"])
@json_errors
def compare_plot(req: func.HttpRequest) -> func.HttpResponse:
    """``roc_curve`` or ``precision_recall_curve`` of every run in one PNG."""
    png = service().compare_plot(_run_ids(req), req.route_params["name"])
    return func.HttpResponse(png, mimetype="image/png")
