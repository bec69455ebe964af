"""Storage maintenance: the artifact garbage collector (dry run by default)."""
from __future__ import annotations

import azure.functions as func
import azure.durable_functions as df

from core import gc
from core.errors import InvalidRequest, Problem
from functions.common import json_errors, json_response, service

bp = df.Blueprint()
DEFAULT_GRACE_MINUTES = 60


@bp.route(route="maintenance/gc", methods=["POST"])
@json_errors
def collect_garbage(req: func.HttpRequest) -> func.HttpResponse:
    """``?dry_run=false`` to delete; ``?grace_minutes=`` (default 60) spares younger artifacts."""
    dry_run = (req.params.get("dry_run") or "true").lower()
    grace = req.params.get("grace_minutes") or str(DEFAULT_GRACE_MINUTES)
    problems = []
    if dry_run not in ("true", "false"):
        problems.append(Problem(code="invalid_query", field="dry_run", message="dry_run is true or false"))
    if not grace.isdigit():
        problems.append(Problem(code="invalid_query", field="grace_minutes", message="a whole number of minutes"))
    if problems:
        raise InvalidRequest("Bad query", problems)
    report = service().collect_garbage(dry_run == "true", int(grace))
    return json_response(gc.as_json(report))
