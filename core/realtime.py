"""Real-time endpoints: a deployed real-time inference pipeline, its input schema and its keys.

Keys are random, shown once, stored only as SHA-256 hashes and compared in constant time. The
input schema is captured from the training data when the endpoint is deployed: column names and
types, and which columns scoring really needs (found by scoring sample rows without each column),
so callers are not asked for the label or for columns the pipeline drops.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from core import names
from core.errors import Conflict, InvalidRequest, NotFound, Problem
from core.store import Store

ENDPOINTS = "realtimeendpoints"
KEYS = "realtimekeys"
PARTITION = "realtime"
NAME_PATTERN = names.REALTIME_NAME
KeyType = Literal["primary", "secondary"]
ColumnType = Literal["integer", "number", "string", "boolean"]
MAX_REPORTED = 50


class ColumnSpec(BaseModel):
    name: str
    type: ColumnType
    dtype: str = Field(description="The pandas dtype the column had in training")
    required: bool = True


class RealtimeEndpoint(BaseModel):
    name: str
    description: str = ""
    deployment: int = Field(1, description="Bumped by every update; scorers reload on change")
    pipeline_ref: str
    source: str
    input_name: str
    output_name: str
    schema_: list[ColumnSpec] = Field(alias="input_schema")
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    acceleration: dict[str, str] = Field(
        default_factory=dict,
        description="Per Score Model node: 'onnx' if single rows and small batches are scored with ONNX "
                    "Runtime (checked equal to scikit-learn at deployment), else 'scikit-learn: <why not>'")
    etag: str | None = Field(None, exclude=True)

    model_config = {"populate_by_name": True}


def column_type(dtype: str) -> ColumnType:
    if dtype.startswith(("int", "uint", "Int", "UInt")):
        return "integer"
    if dtype.startswith(("float", "Float")):
        return "number"
    if dtype in ("bool", "boolean"):
        return "boolean"
    return "string"


# ---- records -------------------------------------------------------------------------------
def check_name(name: str) -> None:
    names.check("real-time endpoint", name)


def create(store: Store, endpoint: RealtimeEndpoint) -> dict[str, str]:
    """Store the endpoint and return its two new keys (the only time they are visible)."""
    check_name(endpoint.name)
    try:
        store.insert(ENDPOINTS, _entity(endpoint))
    except Conflict as exc:
        raise Conflict(f"A real-time endpoint named {endpoint.name!r} exists; update it instead",
                       [Problem(code="endpoint_exists", field="name", message=str(exc))]) from exc
    return {kind: _new_key(store, endpoint.name, kind) for kind in ("primary", "secondary")}


def update(store: Store, endpoint: RealtimeEndpoint) -> RealtimeEndpoint:
    current = get(store, endpoint.name)
    endpoint.deployment = current.deployment + 1
    endpoint.created_at, endpoint.created_by = current.created_at, current.created_by
    endpoint.updated_at = datetime.now(UTC)
    store.update(ENDPOINTS, _entity(endpoint), current.etag or "*", merge=False)
    return endpoint


def get(store: Store, name: str) -> RealtimeEndpoint:
    check_name(name)
    entity = store.get(ENDPOINTS, PARTITION, name)
    if entity is None:
        raise NotFound(f"No real-time endpoint {name!r}")
    return _load(entity)


def list_endpoints(store: Store) -> list[RealtimeEndpoint]:
    return sorted((_load(e) for e in store.partition(ENDPOINTS, PARTITION)), key=lambda e: e.name)


def delete(store: Store, name: str) -> None:
    get(store, name)
    for kind in ("primary", "secondary"):
        try:
            store.delete(KEYS, name, kind)
        except Exception:  # noqa: BLE001 - a key row may already be gone
            pass
    store.delete(ENDPOINTS, PARTITION, name)


def _entity(e: RealtimeEndpoint) -> dict[str, Any]:
    return {"PartitionKey": PARTITION, "RowKey": e.name, "description": e.description,
            "deployment": e.deployment, "pipeline_ref": e.pipeline_ref, "source": e.source,
            "input_name": e.input_name, "output_name": e.output_name,
            "input_schema": json.dumps([c.model_dump() for c in e.schema_]),
            "created_at": e.created_at, "updated_at": e.updated_at, "created_by": e.created_by or "",
            "acceleration": json.dumps(e.acceleration)}


def _load(e: dict[str, Any]) -> RealtimeEndpoint:
    return RealtimeEndpoint(name=e["RowKey"], description=e.get("description", ""), deployment=e["deployment"],
                            pipeline_ref=e["pipeline_ref"], source=e["source"], input_name=e["input_name"],
                            output_name=e["output_name"], input_schema=json.loads(e["input_schema"]),
                            created_at=e["created_at"], updated_at=e["updated_at"],
                            created_by=e.get("created_by") or None,
                            acceleration=json.loads(e.get("acceleration") or "{}"), etag=e["etag"])


# ---- keys ----------------------------------------------------------------------------------
def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(store: Store, name: str, kind: KeyType) -> str:
    key = secrets.token_urlsafe(32)
    store.upsert(KEYS, {"PartitionKey": name, "RowKey": kind, "hash": _hash(key),
                        "created_at": datetime.now(UTC)}, merge=False)
    return key


def regenerate_key(store: Store, name: str, kind: KeyType) -> str:
    get(store, name)
    return _new_key(store, name, kind)


def key_hashes(store: Store, name: str) -> list[str]:
    return [e["hash"] for e in store.partition(KEYS, name)]


def key_matches(presented: str | None, hashes: list[str]) -> bool:
    """Constant-time comparison against every stored hash (no early exit on the first match)."""
    if not presented:
        return False
    digest = _hash(presented)
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(digest, stored)
    return found


# ---- requests ------------------------------------------------------------------------------
RequestStyle = Literal["designer", "mlflow"]


def request_rows(body: Any, input_name: str, schema: list[ColumnSpec]) -> tuple[list[dict[str, Any]], RequestStyle]:
    """The rows of a designer or MLflow request body, or a 400 naming what is wrong with it."""
    def refuse(code: str, message: str, field: str = "body") -> InvalidRequest:
        return InvalidRequest(message, [Problem(code=code, field=field, message=message)])

    if not isinstance(body, dict) or not body:
        raise refuse("empty_request", "Send a JSON object: {\"Inputs\": {\"%s\": [rows]}} or an MLflow "
                                      "dataframe_split / dataframe_records / instances body" % input_name)
    if "Inputs" in body:
        inputs = body["Inputs"]
        if not isinstance(inputs, dict) or input_name not in inputs:
            raise refuse("missing_input", f"Inputs must hold {input_name!r}", "Inputs")
        rows = inputs[input_name]
        style: RequestStyle = "designer"
    elif "dataframe_records" in body:
        rows, style = body["dataframe_records"], "mlflow"
    elif "dataframe_split" in body:
        split = body["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("columns"), list) \
                or not isinstance(split.get("data"), list):
            raise refuse("invalid_dataframe_split", "dataframe_split needs 'columns' and 'data' lists",
                         "dataframe_split")
        if any(not isinstance(r, list) or len(r) != len(split["columns"]) for r in split["data"]):
            raise refuse("invalid_dataframe_split", "every row of 'data' needs one value per column",
                         "dataframe_split.data")
        rows, style = [dict(zip(split["columns"], r)) for r in split["data"]], "mlflow"
    elif "instances" in body:
        instances = body["instances"]
        names = [c.name for c in schema]
        if isinstance(instances, list) and instances and all(isinstance(r, list) for r in instances):
            if any(len(r) != len(names) for r in instances):
                raise refuse("invalid_instances", f"list instances need {len(names)} values in schema order",
                             "instances")
            instances = [dict(zip(names, r)) for r in instances]
        rows, style = instances, "mlflow"
    else:
        raise refuse("unknown_request_shape", "Use {\"Inputs\": {\"%s\": [...]}} or MLflow's dataframe_split, "
                                              "dataframe_records or instances" % input_name)
    if not isinstance(rows, list) or not rows:
        raise refuse("no_rows", "The request holds no rows")
    if not all(isinstance(r, dict) for r in rows):
        raise refuse("invalid_rows", "Each row must be an object of column: value")
    return rows, style


def _fits(value: Any, kind: ColumnType) -> bool:
    if value is None:
        return True
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not (isinstance(value, float) and math.isinf(value))
    return isinstance(value, str)


def to_frame(rows: list[dict[str, Any]], schema: list[ColumnSpec]) -> pd.DataFrame:
    """Check rows against the schema and build the DataFrame scoring expects.

    Every problem is named by column and row number; values are never echoed back, since a
    request may carry personal data. Extra columns are ignored; ints widen to floats.
    """
    problems: list[Problem] = []
    present = set().union(*(r.keys() for r in rows))
    for spec in schema:  # in schema order, so a long list still reads column by column
        if spec.name not in present:
            if spec.required:
                problems.append(Problem(code="missing_column", column=spec.name,
                                        message=f"Required column {spec.name!r} ({spec.type}) is missing"))
            continue
        bad = [i for i, r in enumerate(rows) if not _fits(r.get(spec.name), spec.type)]
        if bad:
            shown = ", ".join(str(i) for i in bad[:5]) + (" ..." if len(bad) > 5 else "")
            problems.append(Problem(code="wrong_type", column=spec.name,
                                    message=f"Column {spec.name!r} takes {spec.type} values; rows {shown} do not"))
    if problems:
        extra = len(problems) - MAX_REPORTED
        shown_problems = problems[:MAX_REPORTED]
        message = f"The request has {len(problems)} problem(s)" + (f"; the first {MAX_REPORTED} are listed" if extra > 0 else "")
        raise InvalidRequest(message, shown_problems)
    columns: dict[str, Any] = {}
    for spec in schema:
        if spec.name not in present:
            continue
        values = [r.get(spec.name) for r in rows]
        columns[spec.name] = _column(values, spec)
    return pd.DataFrame(columns)


def _column(values: list[Any], spec: ColumnSpec) -> Any:
    if spec.type == "integer":
        if any(v is None for v in values):
            return np.array([np.nan if v is None else v for v in values], dtype="float64")
        return np.array(values, dtype="int64")
    if spec.type == "number":
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if spec.type == "boolean":
        return pd.array(values, dtype="boolean")
    return pd.array(values, dtype=spec.dtype if spec.dtype in ("str", "string", "object") else "str")


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN becomes null, numpy scalars become Python numbers."""
    return json.loads(df.to_json(orient="records", date_format="iso"))
