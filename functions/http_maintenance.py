"""Storage maintenance: the artifact garbage collector (dry run by default)."""

from __future__ import annotations

from typing import Literal

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel, Field

from core.registry import gc
from functions.common import json_errors, json_response, service
from functions.openapi import api, parse_query

bp = df.Blueprint()
DEFAULT_GRACE_MINUTES = 60
MAX_GRACE_MINUTES = 366 * 24 * 60  # a year: beyond it nothing is left to spare, and timedelta stays in range


class GcQuery(BaseModel):
    dry_run: Literal["true", "false"] = "true"
    grace_minutes: int = Field(DEFAULT_GRACE_MINUTES, ge=0, le=MAX_GRACE_MINUTES)


@bp.route(route="maintenance/gc", methods=["POST"])
@api("Collect unreferenced artifacts (a dry run unless dry_run=false)", response=gc.GcReport, query=GcQuery)
@json_errors
def collect_garbage(req: func.HttpRequest) -> func.HttpResponse:
    """``?dry_run=false`` to delete; ``?grace_minutes=`` (default 60) spares younger artifacts."""
    query = parse_query(req, GcQuery)
    report = service().collect_garbage(query.dry_run == "true", query.grace_minutes)
    return json_response(gc.as_json(report))
