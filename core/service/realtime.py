"""Real-time endpoint use cases: deploy, update, score, describe. Scorers stay loaded.

A deployment scores on the compiled row path (``core.serving.compiled``) where every replayed
step compiles and the result verifies against the DataFrame path on the training rows; the
endpoint record's ``serving`` says which path and why. Requests that set global parameters, and
any request the compiled path does not handle the same way, take the DataFrame path.

Each worker keeps a compiled scorer per (endpoint, deployment) and re-reads the endpoint record
and key hashes at most every ``REFRESH_SECONDS``: a key regeneration or redeployment takes
effect within that time, and a scoring call costs no storage round trip in between.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from core.components import lookup
from core.components.data import Dataset
from core.errors import ComponentError, InvalidRequest, NotFound, Problem, Unauthorized
from core.pipelines import drafts
from core.pipelines.document import Pipeline
from core.registry import datasets, endpoints
from core.service.pipelines import Pipelines
from core.serving import deployments, requests
from core.serving.compiled import (
    Drop,
    Fallback,
    NotCompilable,
    Program,
    compile_program,
    frame_columns,
    plain,
    records,
    signature,
    table_columns,
    trace,
)
from core.serving.deployments import ColumnSpec, RealtimeEndpoint
from core.serving.onnx import ONNX, accelerate
from core.serving.scoring import CompiledPipeline, compile_pipeline
from core.storage.artifacts import Artifacts
from core.storage.store import Store

REFRESH_SECONDS = 5.0
SAMPLE_ROWS = 5
VERIFY_ROWS = 256  # training rows the compiled path is checked on, per signature
MAX_SIGNATURES = 32  # compiled programs kept per deployment (column sets and null patterns)
MAX_DEPTH = 32  # JSON nesting a scoring request may have; real requests need 5
COMPILED, DATAFRAME = "compiled", "dataframe"
KEY_REQUIRED = "A valid endpoint key is required: 'Authorization: Bearer <key>' or 'api-key'"

log = logging.getLogger(__name__)


class RealtimeSource(BaseModel):
    """What to deploy: a real-time inference draft, or a published pipeline-endpoint version."""

    draft_id: str | None = None
    pipeline_endpoint: str | None = None
    pipeline_version: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one(self) -> RealtimeSource:
        if (self.draft_id is None) == (self.pipeline_endpoint is None):
            raise ValueError("give either draft_id or pipeline_endpoint (with an optional pipeline_version)")
        return self


class RealtimeService:
    def __init__(self, store: Store, artifacts: Artifacts, pipelines: Pipelines) -> None:
        self.store, self.artifacts, self._pipelines = store, artifacts, pipelines
        self._lock = threading.Lock()
        self._records: dict[str, tuple[float, RealtimeEndpoint, list[str]]] = {}
        self._scorers: dict[tuple[str, int], Scorer] = {}
        self._loading = threading.Lock()

    # ---- deploy --------------------------------------------------------------------------
    def deploy(
        self, name: str, source: RealtimeSource, description: str, by: str | None
    ) -> tuple[RealtimeEndpoint, dict[str, str]]:
        deployments.check_name(name)
        endpoint = self._prepare(name, source, description, by)
        keys = deployments.create(self.store, endpoint)
        return deployments.get(self.store, name), keys

    def update(
        self, name: str, source: RealtimeSource, description: str | None, by: str | None
    ) -> RealtimeEndpoint:
        current = deployments.get(self.store, name)
        endpoint = self._prepare(
            name, source, current.description if description is None else description, by
        )
        updated = deployments.update(self.store, endpoint)
        with self._lock:
            self._records.pop(name, None)
        return updated

    # ---- manage ---------------------------------------------------------------------------
    def list_endpoints(self) -> list[RealtimeEndpoint]:
        return deployments.list_endpoints(self.store)

    def get(self, name: str) -> RealtimeEndpoint:
        return deployments.get(self.store, name)

    def delete(self, name: str) -> None:
        """Delete the endpoint; this worker scores with it no more (others within the refresh)."""
        deployments.delete(self.store, name)
        self.forget(name)

    def regenerate_key(self, name: str, kind: deployments.KeyType) -> str:
        """A new primary or secondary key; the old one stops working here at once."""
        key = deployments.regenerate_key(self.store, name, kind)
        self.forget(name)
        return key

    def _prepare(
        self, name: str, source: RealtimeSource, description: str, by: str | None
    ) -> RealtimeEndpoint:
        pipeline, label = self._load_source(source)
        if pipeline.kind != "realtime_inference":
            raise InvalidRequest(
                "Not a real-time inference pipeline",
                [
                    Problem(
                        code="not_realtime",
                        field="draft_id" if source.draft_id else "pipeline_endpoint",
                        message=f"This is a {pipeline.kind} pipeline; create a real-time inference "
                        "pipeline from a training run first",
                    )
                ],
            )
        problems = self._pipelines.validate(pipeline)
        if problems:
            raise InvalidRequest(f"The pipeline has {len(problems)} problem(s)", problems)
        pinned = self._pipelines.pin(pipeline)
        compiled = compile_pipeline(pinned, self.store, self.artifacts)
        sample = self._sample(pinned, compiled)
        schema = self._capture_schema(compiled, sample)
        accelerated, acceleration = _accelerate(compiled, sample)
        scorer = Scorer(accelerated, schema, self._verify_sample(pinned, compiled))
        now = datetime.now(UTC)
        return RealtimeEndpoint(
            name=name,
            description=description,
            source=label,
            input_name=compiled.input_name,
            output_name=compiled.output_name,
            schema_=schema,
            created_at=now,
            updated_at=now,
            created_by=by,
            pipeline_ref=self.artifacts.put_json(pinned.model_dump(mode="json"), "pipeline"),
            acceleration=acceleration,
            serving=scorer.serving,
        )

    def _load_source(self, source: RealtimeSource) -> tuple[Pipeline, str]:
        if source.draft_id:
            _, pipeline = drafts.load(self.store, self.artifacts, source.draft_id)
            return pipeline, f"draft {source.draft_id}"
        entry = endpoints.resolve_for_submit(
            self.store, source.pipeline_endpoint or "", source.pipeline_version
        )
        return (
            Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref)),
            f"pipeline endpoint {entry.endpoint} version {entry.version}",
        )

    def _sample(self, pinned: Pipeline, compiled: CompiledPipeline, rows: int = 0) -> pd.DataFrame:
        """The first rows of the dataset connected to Web Service Input, as a request would carry them
        (``SAMPLE_ROWS`` unless ``rows`` says otherwise)."""
        feeding = [e.source.node for e in pinned.edges if e.target.node == compiled.input_node]
        node = next((pinned.node(n) for n in feeding if lookup(pinned.node(n).component) is Dataset), None)
        if node is None:
            raise InvalidRequest(
                "No schema",
                [
                    Problem(
                        code="no_schema_dataset",
                        node=compiled.input_node,
                        message="Connect the training dataset to Web Service Input: it defines the "
                        "request schema",
                    )
                ],
            )
        entry = datasets.get(self.store, node.parameters["name"], node.parameters["version"])
        sample = datasets.read_frame(self.store, entry)
        return sample.drop(columns=[c for c in compiled.drop_columns if c in sample.columns]).head(
            rows or SAMPLE_ROWS
        )

    def _verify_sample(self, pinned: Pipeline, compiled: CompiledPipeline) -> pd.DataFrame | None:
        try:
            return self._sample(pinned, compiled, VERIFY_ROWS)
        except Exception as exc:
            log.warning("no training rows to verify the compiled path on (%s)", exc)
            return None

    def _capture_schema(self, compiled: CompiledPipeline, sample: pd.DataFrame) -> list[ColumnSpec]:
        """Columns and types from the training data; a column is required if scoring needs it."""
        try:
            baseline = compiled.score(sample)
        except ComponentError as exc:
            raise InvalidRequest(
                "The pipeline cannot score its own training rows",
                [Problem(code="cannot_score_sample", message=str(exc))],
            ) from exc
        specs = [
            ColumnSpec(
                name=c,
                type=deployments.column_type(str(sample[c].dtype)),
                dtype=str(sample[c].dtype),
                required=_needed(compiled, sample, baseline, c),
            )
            for c in sample.columns
        ]
        return [
            spec.model_copy(update={"nullable": _nullable(compiled, sample, specs, spec)})
            if spec.required
            else spec
            for spec in specs
        ]

    # ---- score ---------------------------------------------------------------------------
    def score(self, name: str, key: str | None, body: Any) -> dict[str, Any]:
        """The answer to a parsed request body (see :meth:`score_json` for the HTTP path)."""
        endpoint = self.authorised(name, key)
        return self._answer(endpoint, body)

    def score_json(self, name: str, key: str | None, body: bytes) -> bytes:
        """The HTTP path: the key is checked before the body is read, the body's nesting is bounded,
        and the answer is serialised directly."""
        return self._answer_json(self.authorised(name, key), body)

    def test_json(self, name: str, body: bytes) -> bytes:
        """The studio's Test tab: scored exactly as :meth:`score_json`, for a caller the function
        key already authorised (it manages the endpoint), so the browser holds no endpoint key."""
        endpoint, _ = self._record(name)
        return self._answer_json(endpoint, body)

    def _answer_json(self, endpoint: RealtimeEndpoint, body: bytes) -> bytes:
        return json.dumps(self._answer(endpoint, parse_request(body)), allow_nan=False).encode()

    def _answer(self, endpoint: RealtimeEndpoint, body: Any) -> dict[str, Any]:
        rows, style = requests.request_rows(body, endpoint.input_name, endpoint.schema_)
        columns = requests.check_rows(rows, endpoint.schema_)
        scorer = self._scorer(endpoint)
        globals_ = body.get("GlobalParameters") or {}
        if not isinstance(globals_, dict):
            raise InvalidRequest(
                "GlobalParameters must be an object",
                [
                    Problem(
                        code="invalid_global_parameters",
                        field="GlobalParameters",
                        message="Send an object of name: value",
                    )
                ],
            )
        overrides = scorer.pipeline.overrides_for(globals_) if globals_ else None
        out, kept, drops = scorer.score(columns, len(rows), overrides)
        result = records(out, kept)
        answer: dict[str, Any] = (
            {"predictions": result} if style == "mlflow" else {"Results": {endpoint.output_name: result}}
        )
        if drops:
            answer["dropped_rows"] = [d.to_json() for d in drops]
        return answer

    def authorised(self, name: str, key: str | None) -> RealtimeEndpoint:
        """The endpoint, if ``key`` is one of its keys; an unknown endpoint answers as a wrong key
        does, so names cannot be probed."""
        try:
            endpoint, hashes = self._record(name)
        except NotFound:
            endpoint, hashes = None, []
        if not deployments.key_matches(key, hashes) or endpoint is None:
            raise Unauthorized(KEY_REQUIRED)
        return endpoint

    def warm(self, name: str) -> bool:
        """Whether scoring ``name`` now needs no storage round trip (its record is fresh and its
        scorer loaded), so a caller may run it where blocking would hurt."""
        cached = self._records.get(name)
        return (
            cached is not None
            and time.monotonic() - cached[0] < REFRESH_SECONDS
            and (name, cached[1].deployment) in self._scorers
        )

    def _record(self, name: str) -> tuple[RealtimeEndpoint, list[str]]:
        """The endpoint and its key hashes, read again at most every ``REFRESH_SECONDS``."""
        now = time.monotonic()
        with self._lock:
            cached = self._records.get(name)
        if cached and now - cached[0] < REFRESH_SECONDS:
            return cached[1], cached[2]
        endpoint = deployments.get(self.store, name)
        hashes = deployments.key_hashes(self.store, name)
        with self._lock:
            self._records[name] = (now, endpoint, hashes)
        return endpoint, hashes

    def _scorer(self, endpoint: RealtimeEndpoint) -> Scorer:
        key = (endpoint.name, endpoint.deployment)
        scorer = self._scorers.get(key)
        if scorer is None:
            with self._loading:  # one load per deployment, however many requests arrive meanwhile
                scorer = self._scorers.get(key)
                if scorer is None:
                    scorer = self._load_scorer(endpoint)
                    with self._lock:
                        self._scorers = {k: v for k, v in self._scorers.items() if k[0] != endpoint.name}
                        self._scorers[key] = scorer
        return scorer

    def _load_scorer(self, endpoint: RealtimeEndpoint) -> Scorer:
        pipeline = Pipeline.model_validate(self.artifacts.get_json(endpoint.pipeline_ref))
        compiled = compile_pipeline(pipeline, self.store, self.artifacts)
        verified = {node for node, how in endpoint.acceleration.items() if how == ONNX}
        if verified:
            compiled = self._accelerated(endpoint, pipeline, compiled, verified)
        sample = None
        if endpoint.serving.get("path") != DATAFRAME:  # verified again here: this worker's libraries may
            sample = self._verify_sample(pipeline, compiled)  # differ (and older records say nothing)
        scorer = Scorer(compiled, endpoint.schema_, sample)
        if endpoint.serving.get("path") == COMPILED and scorer.serving["path"] != COMPILED:
            log.warning(
                "real-time endpoint %s: the compiled path does not verify in this worker (%s); "
                "using the DataFrame path",
                endpoint.name,
                scorer.serving["reason"],
            )
        return scorer

    def _accelerated(
        self, endpoint: RealtimeEndpoint, pipeline: Pipeline, scorer: CompiledPipeline, verified: set[str]
    ) -> CompiledPipeline:
        """``scorer`` with ONNX Runtime for the steps verified at deployment, verified again here on
        the same sample rows (this worker's libraries may differ); scikit-learn for any other."""
        try:
            sample = self._sample(pipeline, scorer)
        except Exception as exc:
            log.warning(
                "real-time endpoint %s: no sample rows to verify ONNX scoring (%s); using scikit-learn",
                endpoint.name,
                exc,
            )
            return scorer
        accelerated, decisions = _accelerate(scorer, sample, verified)
        for node, how in decisions.items():
            if node in verified and how != ONNX:
                log.warning(
                    "real-time endpoint %s: Score Model %s falls back to %s", endpoint.name, node, how
                )
        return accelerated

    def forget(self, name: str) -> None:
        with self._lock:
            self._records.pop(name, None)
            self._scorers = {k: v for k, v in self._scorers.items() if k[0] != name}


class Scorer:
    """A deployment's scoring: the compiled row path for the signatures it verified on, else (and
    for requests that set global parameters) the DataFrame path."""

    def __init__(
        self, pipeline: CompiledPipeline, schema: list[ColumnSpec], sample: pd.DataFrame | None
    ) -> None:
        self.pipeline, self.schema, self.sample = pipeline, schema, sample
        self._programs: dict[tuple[tuple[str, str], ...], Program | None] = {}
        self._kinds = [(s.name, s.type) for s in schema]
        self._lock = threading.Lock()
        self.serving = self._prepare()

    def _prepare(self) -> dict[str, str]:
        if self.sample is None or self.sample.empty:
            return {"path": DATAFRAME, "reason": "no training rows to verify a compiled path on"}
        every = tuple((s.name, s.type) for s in self.schema)
        reason = self._compile(every)
        if reason is not None:
            return {"path": DATAFRAME, "reason": reason}
        needed = tuple((s.name, s.type) for s in self.schema if s.required)
        if needed != every:
            self._compile(needed)  # what most callers send: warm, not required
        program = self._programs[every]
        assert program is not None
        steps = ", ".join(node for node, _ in program.ops)
        return {
            "path": COMPILED,
            "reason": f"every step compiled ({steps}); checked equal to the DataFrame "
            f"path on {len(self.sample)} training row(s)",
        }

    def _compile(self, sig: tuple[tuple[str, str], ...]) -> str | None:
        assert self.sample is not None
        try:
            self._programs[sig] = compile_program(self.pipeline, self.schema, sig, self.sample)
            return None
        except NotCompilable as exc:
            self._programs[sig] = None
            return str(exc)
        except Exception as exc:
            log.exception("compiling the real-time path failed")
            self._programs[sig] = None
            return f"compiling failed ({type(exc).__name__})"

    def program(self, sig: tuple[tuple[str, str], ...]) -> Program | None:
        try:
            return self._programs[sig]
        except KeyError:
            pass
        with self._lock:
            if sig not in self._programs and len(self._programs) < MAX_SIGNATURES:
                reason = self._compile(sig)
                if reason:
                    log.info("columns %s take the DataFrame path: %s", [n for n, _ in sig][:8], reason)
            return self._programs.get(sig)

    def score(
        self, columns: requests.Columns, n: int, overrides: dict[str, Any] | None
    ) -> tuple[requests.Columns, int, list[Drop]]:
        """The output's columns, its number of rows, and the input rows steps removed."""
        if overrides is None and self.serving["path"] == COMPILED:
            program = self.program(signature(columns, self._kinds))
            if program is not None:
                try:
                    table = program.run(columns, n)
                    return table_columns(table), len(table.rows), table.drops
                except Fallback:
                    pass  # the DataFrame path scores it or names the problem
        try:
            out, drops, _ = trace(self.pipeline, requests.frame(columns, self.schema), overrides)
        except ComponentError as exc:
            raise InvalidRequest(
                "Module Executing Error: the pipeline refused the input",
                [Problem(code=exc.code, column=exc.column, message=str(exc))],
            ) from exc
        return frame_columns(out), len(out), drops


_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEPS = np.full(256, -1, dtype=np.int8)
_STEPS[[ord("["), ord("{")]] = 1


def parse_request(body: bytes) -> Any:
    """A scoring request's JSON, refused with a 400 when it is not JSON or nested deeper than
    ``MAX_DEPTH`` (checked before parsing, so no recursion limit is ever reached)."""
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        raise InvalidRequest(
            "The body is nested too deeply",
            [
                Problem(
                    code="too_deep", field="body", message=f"JSON nesting is limited to {MAX_DEPTH} levels"
                )
            ],
        )
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidRequest(
            "The body is not valid JSON",
            [Problem(code="invalid_json", field="body", message="Send a JSON body")],
        ) from exc


def _depth(body: bytes) -> int:
    """The deepest nesting of ``body``'s brackets outside strings, all in C: escaped characters
    go, then every other part between quotes is a string, and the rest's brackets are counted."""
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[0::2]).translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    return int(np.cumsum(_STEPS[np.frombuffer(brackets, dtype=np.uint8)], dtype=np.int64).max())


def _accelerate(
    compiled: CompiledPipeline, sample: pd.DataFrame, only: set[str] | None = None
) -> tuple[CompiledPipeline, dict[str, str]]:
    """ONNX Runtime for the Score Model steps that convert and verify; never fails a deployment."""
    try:
        return accelerate(compiled, sample, only)
    except Exception as exc:  # acceleration is an optimisation: scikit-learn always works
        log.exception("ONNX acceleration failed; scoring stays on scikit-learn")
        return compiled, {
            s.node_id: f"scikit-learn: acceleration failed ({type(exc).__name__})"
            for s in compiled.steps
            if s.component.id == "score_model"
        }


def _nullable(
    compiled: CompiledPipeline, sample: pd.DataFrame, schema: list[ColumnSpec], spec: ColumnSpec
) -> bool:
    """Whether the pipeline scores rows with no value in ``spec``'s column (it cleans the column,
    or removes such rows): sample rows as a request would carry them, with that column null."""
    columns = {name: [plain(v) for v in values] for name, values in frame_columns(sample).items()}
    columns[spec.name] = [None] * len(sample)
    try:
        compiled.score(requests.frame(columns, schema))
    except (ComponentError, KeyError, ValueError, TypeError):
        return False
    return True


def _needed(compiled: CompiledPipeline, sample: pd.DataFrame, baseline: pd.DataFrame, column: str) -> bool:
    try:
        without = compiled.score(sample.drop(columns=[column]))
    except (ComponentError, KeyError, ValueError):
        return True
    same = baseline.drop(columns=[column], errors="ignore")
    try:
        pd.testing.assert_frame_equal(
            without.reset_index(drop=True), same.reset_index(drop=True), check_dtype=False
        )
    except AssertionError:
        return True
    return False
