"""Real-time endpoint use cases: deploy, update, score, describe. Scorers stay loaded.

Each worker keeps a compiled scorer per (endpoint, deployment) and re-reads the endpoint record
and key hashes at most every ``REFRESH_SECONDS``: a key regeneration or redeployment takes
effect within that time, and a scoring call costs no storage round trip in between.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, model_validator

from core import datasets, drafts, endpoints, realtime
from core.artifacts import Artifacts, parquet_to_dataframe
from core.components import lookup
from core.components.data import Dataset
from core.errors import ComponentError, InvalidRequest, Problem, Unauthorized
from core.graph import Pipeline
from core.onnx_acceleration import ONNX, accelerate
from core.realtime import ColumnSpec, RealtimeEndpoint
from core.scoring import CompiledPipeline, compile_pipeline
from core.store import Store

REFRESH_SECONDS = 5.0
SAMPLE_ROWS = 5

log = logging.getLogger(__name__)


class RealtimeSource(BaseModel):
    """What to deploy: a real-time inference draft, or a published pipeline-endpoint version."""

    draft_id: str | None = None
    pipeline_endpoint: str | None = None
    pipeline_version: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one(self) -> "RealtimeSource":
        if (self.draft_id is None) == (self.pipeline_endpoint is None):
            raise ValueError("give either draft_id or pipeline_endpoint (with an optional pipeline_version)")
        return self


class RealtimeService:
    def __init__(self, store: Store, artifacts: Artifacts, pin: Any, validate: Any) -> None:
        self.store, self.artifacts = store, artifacts
        self._pin, self._validate = pin, validate
        self._lock = threading.Lock()
        self._records: dict[str, tuple[float, RealtimeEndpoint, list[str]]] = {}
        self._scorers: dict[tuple[str, int], CompiledPipeline] = {}

    # ---- deploy --------------------------------------------------------------------------
    def deploy(self, name: str, source: RealtimeSource, description: str, by: str | None) -> tuple[RealtimeEndpoint, dict[str, str]]:
        realtime.check_name(name)
        endpoint = self._prepare(name, source, description, by)
        keys = realtime.create(self.store, endpoint)
        return realtime.get(self.store, name), keys

    def update(self, name: str, source: RealtimeSource, description: str | None, by: str | None) -> RealtimeEndpoint:
        current = realtime.get(self.store, name)
        endpoint = self._prepare(name, source, current.description if description is None else description, by)
        updated = realtime.update(self.store, endpoint)
        with self._lock:
            self._records.pop(name, None)
        return updated

    def _prepare(self, name: str, source: RealtimeSource, description: str, by: str | None) -> RealtimeEndpoint:
        pipeline, label = self._load_source(source)
        if pipeline.kind != "realtime_inference":
            raise InvalidRequest("Not a real-time inference pipeline", [Problem(
                code="not_realtime", field="draft_id" if source.draft_id else "pipeline_endpoint",
                message=f"This is a {pipeline.kind} pipeline; create a real-time inference pipeline from a "
                        "training run first")])
        problems = self._validate(pipeline)
        if problems:
            raise InvalidRequest(f"The pipeline has {len(problems)} problem(s)", problems)
        pinned: Pipeline = self._pin(pipeline)
        compiled = compile_pipeline(pinned, self.store, self.artifacts)
        sample = self._sample(pinned, compiled)
        schema = self._capture_schema(compiled, sample)
        _, acceleration = _accelerate(compiled, sample)
        now = datetime.now(UTC)
        return RealtimeEndpoint(
            name=name, description=description, source=label, input_name=compiled.input_name,
            output_name=compiled.output_name, input_schema=schema, created_at=now, updated_at=now, created_by=by,
            pipeline_ref=self.artifacts.put_json(pinned.model_dump(mode="json"), "pipeline"),
            acceleration=acceleration)

    def _load_source(self, source: RealtimeSource) -> tuple[Pipeline, str]:
        if source.draft_id:
            _, pipeline = drafts.load(self.store, self.artifacts, source.draft_id)
            return pipeline, f"draft {source.draft_id}"
        entry = endpoints.resolve_for_submit(self.store, source.pipeline_endpoint or "", source.pipeline_version)
        return (Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref)),
                f"pipeline endpoint {entry.endpoint} version {entry.version}")

    def _sample(self, pinned: Pipeline, compiled: CompiledPipeline) -> pd.DataFrame:
        """The first rows of the dataset connected to Web Service Input, as a request would carry them."""
        feeding = [e.source.node for e in pinned.edges if e.target.node == compiled.input_node]
        node = next((pinned.node(n) for n in feeding if lookup(pinned.node(n).component) is Dataset), None)
        if node is None:
            raise InvalidRequest("No schema", [Problem(
                code="no_schema_dataset", node=compiled.input_node,
                message="Connect the training dataset to Web Service Input: it defines the request schema")])
        entry = datasets.get(self.store, node.parameters["name"], node.parameters["version"])
        sample = parquet_to_dataframe(self.store.get_blob("datasets", datasets.blob_name(entry.name, entry.version)))
        return sample.drop(columns=[c for c in compiled.drop_columns if c in sample.columns]).head(SAMPLE_ROWS)

    def _capture_schema(self, compiled: CompiledPipeline, sample: pd.DataFrame) -> list[ColumnSpec]:
        """Columns and types from the training data; a column is required if scoring needs it."""
        try:
            baseline = compiled.score(sample)
        except ComponentError as exc:
            raise InvalidRequest("The pipeline cannot score its own training rows", [Problem(
                code="cannot_score_sample", message=str(exc))]) from exc
        return [ColumnSpec(name=c, type=realtime.column_type(str(sample[c].dtype)), dtype=str(sample[c].dtype),
                           required=_needed(compiled, sample, baseline, c)) for c in sample.columns]

    # ---- score ---------------------------------------------------------------------------
    def score(self, name: str, key: str | None, body: Any) -> dict[str, Any]:
        endpoint, hashes = self._record(name)
        if not realtime.key_matches(key, hashes):
            raise Unauthorized("A valid endpoint key is required: 'Authorization: Bearer <key>' or 'api-key'")
        rows, style = realtime.request_rows(body, endpoint.input_name, endpoint.schema_)
        frame = realtime.to_frame(rows, endpoint.schema_)
        scorer = self._scorer(endpoint)
        globals_ = body.get("GlobalParameters") or {}
        if not isinstance(globals_, dict):
            raise InvalidRequest("GlobalParameters must be an object", [Problem(
                code="invalid_global_parameters", field="GlobalParameters", message="Send an object of name: value")])
        overrides = scorer.overrides_for(globals_) if globals_ else None
        try:
            out = scorer.score(frame, overrides)
        except ComponentError as exc:
            raise InvalidRequest("Module Executing Error: the pipeline refused the input", [Problem(
                code=exc.code, column=exc.column, message=str(exc))]) from exc
        result = realtime.records(out)
        if style == "mlflow":
            return {"predictions": result}
        return {"Results": {endpoint.output_name: result}}

    def authorised(self, name: str, key: str | None) -> RealtimeEndpoint:
        endpoint, hashes = self._record(name)
        if not realtime.key_matches(key, hashes):
            raise Unauthorized("A valid endpoint key is required")
        return endpoint

    def _record(self, name: str) -> tuple[RealtimeEndpoint, list[str]]:
        now = time.monotonic()
        with self._lock:
            cached = self._records.get(name)
        if cached and now - cached[0] < REFRESH_SECONDS:
            return cached[1], cached[2]
        endpoint = realtime.get(self.store, name)
        hashes = realtime.key_hashes(self.store, name)
        with self._lock:
            self._records[name] = (now, endpoint, hashes)
        return endpoint, hashes

    def _scorer(self, endpoint: RealtimeEndpoint) -> CompiledPipeline:
        key = (endpoint.name, endpoint.deployment)
        with self._lock:
            scorer = self._scorers.get(key)
        if scorer is None:
            pipeline = Pipeline.model_validate(self.artifacts.get_json(endpoint.pipeline_ref))
            scorer = compile_pipeline(pipeline, self.store, self.artifacts)
            verified = {node for node, how in endpoint.acceleration.items() if how == ONNX}
            if verified:
                scorer = self._accelerated(endpoint, pipeline, scorer, verified)
            with self._lock:
                self._scorers = {k: v for k, v in self._scorers.items() if k[0] != endpoint.name}
                self._scorers[key] = scorer
        return scorer

    def _accelerated(self, endpoint: RealtimeEndpoint, pipeline: Pipeline, scorer: CompiledPipeline,
                     verified: set[str]) -> CompiledPipeline:
        """``scorer`` with ONNX Runtime for the steps verified at deployment, verified again here on
        the same sample rows (this worker's libraries may differ); scikit-learn for any other."""
        try:
            sample = self._sample(pipeline, scorer)
        except Exception as exc:  # noqa: BLE001 - e.g. the dataset is gone: scikit-learn still scores
            log.warning("real-time endpoint %s: no sample rows to verify ONNX scoring (%s); using scikit-learn",
                        endpoint.name, exc)
            return scorer
        accelerated, decisions = _accelerate(scorer, sample, verified)
        for node, how in decisions.items():
            if node in verified and how != ONNX:
                log.warning("real-time endpoint %s: Score Model %s falls back to %s", endpoint.name, node, how)
        return accelerated

    def forget(self, name: str) -> None:
        with self._lock:
            self._records.pop(name, None)
            self._scorers = {k: v for k, v in self._scorers.items() if k[0] != name}


def _accelerate(compiled: CompiledPipeline, sample: pd.DataFrame,
                only: set[str] | None = None) -> tuple[CompiledPipeline, dict[str, str]]:
    """ONNX Runtime for the Score Model steps that convert and verify; never fails a deployment."""
    try:
        return accelerate(compiled, sample, only)
    except Exception as exc:  # acceleration is an optimisation: scikit-learn always works
        log.exception("ONNX acceleration failed; scoring stays on scikit-learn")
        return compiled, {s.node_id: f"scikit-learn: acceleration failed ({type(exc).__name__})"
                          for s in compiled.steps if s.component.id == "score_model"}


def _needed(compiled: CompiledPipeline, sample: pd.DataFrame, baseline: pd.DataFrame, column: str) -> bool:
    try:
        without = compiled.score(sample.drop(columns=[column]))
    except (ComponentError, KeyError, ValueError):
        return True
    same = baseline.drop(columns=[column], errors="ignore")
    try:
        pd.testing.assert_frame_equal(without.reset_index(drop=True), same.reset_index(drop=True),
                                      check_dtype=False)
    except AssertionError:
        return True
    return False


def swagger(endpoint: RealtimeEndpoint, base_url: str) -> dict[str, Any]:
    """An OpenAPI 3 document of the endpoint's request and response."""
    types = {"integer": {"type": "integer", "format": "int64"}, "number": {"type": "number", "format": "double"},
             "string": {"type": "string"}, "boolean": {"type": "boolean"}}
    row = {"type": "object", "properties": {c.name: {**types[c.type], "nullable": True} for c in endpoint.schema_},
           "required": [c.name for c in endpoint.schema_ if c.required]}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{endpoint.name} real-time endpoint", "version": str(endpoint.deployment),
                 "description": endpoint.description},
        "servers": [{"url": base_url}],
        "components": {"securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer"},
                                           "ApiKey": {"type": "apiKey", "in": "header", "name": "api-key"}},
                       "schemas": {"Row": row}},
        "security": [{"Bearer": []}, {"ApiKey": []}],
        "paths": {f"/api/realtime/{endpoint.name}/score": {"post": {
            "summary": "Score rows",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["Inputs"],
                "properties": {"Inputs": {"type": "object", "required": [endpoint.input_name], "properties": {
                    endpoint.input_name: {"type": "array", "items": {"$ref": "#/components/schemas/Row"}}}},
                    "GlobalParameters": {"type": "object"}}}}}},
            "responses": {
                "200": {"description": "Scored rows", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"Results": {"type": "object", "properties": {
                        endpoint.output_name: {"type": "array", "items": {"type": "object"}}}}}}}}},
                "400": {"description": "The request does not fit the schema; every problem is listed"},
                "401": {"description": "Missing or wrong key"}}}}},
    }
