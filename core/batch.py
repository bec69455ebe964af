"""Scoring a file dropped into ``batch-input/{endpoint}/{file}``, in parallel mini-batches.

The endpoint's default batch inference version runs over the file: ``prepare`` streams it into
mini-batches of ``mini_batch_rows`` rows (Parquet artifacts, never the whole file in memory),
``score_chunk`` scores one mini-batch in memory with the compiled pipeline, and ``finish`` joins
the results in input order into ``batch-output/{endpoint}/{file}.predictions.csv`` (Parquet in,
Parquet out), or writes ``{file}.error.json`` saying why the file could not be scored. The
same upload delivered twice is scored once: the run id comes from the blob's name and ETag.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from core import endpoints, runs
from core.artifacts import Artifacts
from core.components import PortType
from core.errors import ComponentError, Conflict, DesignerError
from core.graph import Pipeline
from core.runs import NodeRecord, RunRecord, Status
from core.scoring import CompiledPipeline, compile_batch_pipeline
from core.store import Store

INPUT_CONTAINER = "batch-input"
OUTPUT_CONTAINER = "batch-output"
EXPERIMENT = "blob-scoring"
CHECK_ROWS = 5


class BatchSettings(BaseModel):
    """Per pipeline endpoint; unset fields fall back to the app settings."""

    mini_batch_rows: int | None = Field(None, ge=1, le=10_000_000)
    output: Literal["all", "ids", "predictions"] = Field(
        "all", description="all: input columns and predictions; ids: the id column (or row number) "
                           "and predictions; predictions: prediction columns only")
    id_column: str | None = None
    error_threshold: int = Field(0, ge=-1, description="Failed mini-batches tolerated; -1: any number")


class BatchRequest(BaseModel):
    instance_id: str
    blob: str
    etag: str
    endpoint: str
    file: str


class Chunk(BaseModel):
    index: int
    ref: str
    rows: int
    first_row: int


class Prepared(BaseModel):
    status: Literal["Ready", "Duplicate", "Failed"]
    run_id: str
    pipeline_ref: str = ""
    settings: BatchSettings = Field(default_factory=BatchSettings)
    chunks: list[Chunk] = Field(default_factory=list)
    error: str | None = None


class ChunkResult(BaseModel):
    index: int
    ref: str | None = None
    rows: int = 0
    error: str | None = None


def request_for(store: Store, blob_name: str) -> BatchRequest | None:
    """The scoring request for an uploaded blob, or None if it is not under an endpoint folder."""
    container, _, path = blob_name.partition("/")
    endpoint, _, file = path.partition("/")
    if container != INPUT_CONTAINER or not endpoint or not file:
        return None
    props = store.blob_metadata(container, path)
    if props is None:
        return None
    identity = hashlib.sha256(f"{blob_name}\n{props['etag']}".encode()).hexdigest()[:32]
    return BatchRequest(instance_id=f"batch-{identity}", blob=blob_name, etag=props["etag"],
                        endpoint=endpoint, file=file)


def output_name(request: BatchRequest, suffix: str) -> str:
    return f"{request.endpoint}/{request.file}{suffix}"


class BatchScoring:
    """The three steps, with compiled pipelines kept per worker (keyed by immutable reference)."""

    def __init__(self, store: Store, artifacts: Artifacts, default_rows: int, pin: Any) -> None:
        self.store, self.artifacts, self.default_rows, self._pin = store, artifacts, default_rows, pin
        self._compiled: dict[str, CompiledPipeline] = {}

    # ---- prepare -----------------------------------------------------------------------------
    def prepare(self, request: BatchRequest) -> Prepared:
        run = RunRecord(run_id=request.instance_id, experiment=EXPERIMENT, created_at=datetime.now(UTC),
                        pipeline_name=f"blob scoring of {request.blob}", pipeline_ref="", node_count=1,
                        endpoint=request.endpoint, description=f"{request.blob} (ETag {request.etag})")
        try:
            runs.create(self.store, run, [NodeRecord(run_id=run.run_id, node_id="score", component="batch_scoring")])
        except Conflict:
            return Prepared(status="Duplicate", run_id=run.run_id)
        try:
            return self._prepare(request, run)
        except (DesignerError, ComponentError, pa.ArrowException, ValueError) as exc:
            message = getattr(exc, "message", None) or str(exc)
            self._fail(request, run, f"{type(exc).__name__}: {message}")
            return Prepared(status="Failed", run_id=run.run_id, error=message)

    def _prepare(self, request: BatchRequest, run: RunRecord) -> Prepared:
        entry = endpoints.resolve_for_submit(self.store, request.endpoint, None)
        if entry.kind != "batch_inference":
            raise DesignerError(f"Endpoint {request.endpoint!r} version {entry.version} is a {entry.kind} "
                                "pipeline; blob scoring needs a batch inference pipeline")
        settings = BatchSettings.model_validate(endpoints.get(self.store, request.endpoint).batch_settings)
        pinned: Pipeline = self._pin(Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref)))
        pipeline_ref = self.artifacts.put_json(pinned.model_dump(mode="json"), "pipeline")
        compiled = self._compiled_for(pipeline_ref)
        rows_per_chunk = settings.mini_batch_rows or self.default_rows
        chunks = list(self._split(request, rows_per_chunk))
        if not chunks:
            raise DesignerError("The file has no rows")
        first = self.artifacts.get(chunks[0].ref, PortType.DATA).head(CHECK_ROWS)
        compiled.score(first)  # a wrong schema fails here, before any fan-out
        run.status, run.started_at, run.pipeline_ref = Status.RUNNING, datetime.now(UTC), pipeline_ref
        run.endpoint_version, run.node_count = entry.version, len(chunks)
        runs.update_run(self.store, run, "status", "started_at", "pipeline_ref", "endpoint_version", "node_count")
        return Prepared(status="Ready", run_id=run.run_id, pipeline_ref=pipeline_ref, settings=settings,
                        chunks=chunks)

    def _split(self, request: BatchRequest, rows_per_chunk: int) -> Iterator[Chunk]:
        """Stream the upload (via a temporary file) into Parquet mini-batches."""
        suffix = os.path.splitext(request.file)[1].lower()
        if suffix not in (".csv", ".parquet"):
            raise DesignerError(f"{request.file!r} is not a table this service reads: upload .csv or .parquet")
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "input" + suffix)
            self.store.download_to(INPUT_CONTAINER, request.blob.split("/", 1)[1], local)
            first_row = 0
            for index, table in enumerate(_record_batches(local, suffix, rows_per_chunk)):
                frame = table.to_pandas()
                ref = self.artifacts.put(PortType.DATA, frame)
                yield Chunk(index=index, ref=ref, rows=len(frame), first_row=first_row)
                first_row += len(frame)

    # ---- score ---------------------------------------------------------------------------------
    def score_chunk(self, pipeline_ref: str, settings: BatchSettings, chunk: Chunk) -> ChunkResult:
        frame = self.artifacts.get(chunk.ref, PortType.DATA)
        frame.index = pd.RangeIndex(chunk.first_row, chunk.first_row + len(frame))
        try:
            scored = self._compiled_for(pipeline_ref).score(frame)
            out = shape_output(frame, scored, settings)
        except ComponentError as exc:
            return ChunkResult(index=chunk.index, error=str(exc))
        return ChunkResult(index=chunk.index, ref=self.artifacts.put(PortType.DATA, out), rows=len(out))

    def _compiled_for(self, pipeline_ref: str) -> CompiledPipeline:
        compiled = self._compiled.get(pipeline_ref)
        if compiled is None:
            pipeline = Pipeline.model_validate(self.artifacts.get_json(pipeline_ref))
            compiled = compile_batch_pipeline(pipeline, self.store, self.artifacts)
            if len(self._compiled) >= 8:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[pipeline_ref] = compiled
        return compiled

    # ---- finish --------------------------------------------------------------------------------
    def finish(self, request: BatchRequest, prepared: Prepared, results: list[ChunkResult] | None,
               error: str | None) -> dict[str, Any]:
        run = runs.get_run(self.store, prepared.run_id)
        results = sorted(results or [], key=lambda r: r.index)
        failed = [r for r in results if r.error]
        threshold = prepared.settings.error_threshold
        if error or (threshold >= 0 and len(failed) > threshold):
            chunks = {c.index: c for c in prepared.chunks}
            named = [f"mini-batch {r.index} (rows {chunks[r.index].first_row}-"
                     f"{chunks[r.index].first_row + chunks[r.index].rows - 1}): {r.error}" for r in failed]
            reason = error or f"{len(failed)} of {len(results)} mini-batches failed (threshold {threshold})"
            self._fail(request, run, reason, named)
            return {"status": "Failed", "run_id": run.run_id, "error": reason, "failed_batches": named}
        suffix = ".predictions.parquet" if request.file.lower().endswith(".parquet") else ".predictions.csv"
        target = output_name(request, suffix)
        rows = self._write_output([r for r in results if r.ref], target, suffix.endswith(".parquet"))
        self.store.delete_blob(OUTPUT_CONTAINER, output_name(request, ".error.json"))
        node = runs.get_node(self.store, run.run_id, "score")
        node.status, node.started_at, node.ended_at = Status.FINISHED, run.started_at, datetime.now(UTC)
        node.metrics = {"rows_in": sum(c.rows for c in prepared.chunks), "rows_out": rows,
                        "mini_batches": len(results), "failed_mini_batches": len(failed)}
        node.outputs = {"predictions": f"{OUTPUT_CONTAINER}/{target}"}
        node.logs = [f"mini-batch {r.index} failed: {r.error}" for r in failed]
        runs.update_node(self.store, node, "status", "started_at", "ended_at", "metrics", "outputs", "logs")
        run.status, run.ended_at = Status.FINISHED, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "ended_at")
        return {"status": "Finished", "run_id": run.run_id, "output": f"{OUTPUT_CONTAINER}/{target}", "rows": rows}

    def _write_output(self, results: list[ChunkResult], target: str, parquet: bool) -> int:
        """Join mini-batch results in input order through a local file: memory holds one at a time."""
        rows = 0
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "out")
            writer: pq.ParquetWriter | None = None
            with open(local, "wb") as sink:
                for number, result in enumerate(results):
                    frame = self.artifacts.get(result.ref or "", PortType.DATA)
                    rows += len(frame)
                    if parquet:
                        table = pa.Table.from_pandas(frame, preserve_index=False)
                        writer = writer or pq.ParquetWriter(sink, table.schema)
                        writer.write_table(table.cast(writer.schema))
                    else:
                        buffer = io.BytesIO()
                        pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buffer,
                                        pacsv.WriteOptions(include_header=number == 0))
                        sink.write(buffer.getvalue())
                if writer is not None:
                    writer.close()
            self.store.upload_file(OUTPUT_CONTAINER, target, local,
                                   content_type="application/vnd.apache.parquet" if parquet else "text/csv")
        return rows

    def _fail(self, request: BatchRequest, run: RunRecord, reason: str, details: list[str] | None = None) -> None:
        report = {"blob": request.blob, "etag": request.etag, "run_id": run.run_id, "error": reason,
                  "failed_batches": details or [], "at": datetime.now(UTC).isoformat()}
        self.store.put_blob(OUTPUT_CONTAINER, output_name(request, ".error.json"),
                            json.dumps(report, indent=2).encode(), content_type="application/json")
        run.status, run.ended_at, run.error = Status.FAILED, datetime.now(UTC), reason
        runs.update_run(self.store, run, "status", "ended_at", "error")
        node = runs.get_node(self.store, run.run_id, "score")
        node.status, node.ended_at, node.error, node.logs = Status.FAILED, run.ended_at, reason, details or []
        runs.update_node(self.store, node, "status", "ended_at", "error", "logs")


def _record_batches(path: str, suffix: str, rows: int) -> Iterator[pa.Table]:
    """Tables of ``rows`` rows (the last may be shorter), read incrementally."""
    if suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield pa.Table.from_batches([batch])
        return
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=8 << 20))
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending, schema=reader.schema)


def shape_output(frame: pd.DataFrame, scored: pd.DataFrame, settings: BatchSettings) -> pd.DataFrame:
    """The kept columns, joined back to the input rows by index (scoring may drop rows)."""
    scores = [c for c in scored.attrs.get("score_columns") or [] if c in scored.columns] or \
        [c for c in scored.columns if c not in frame.columns]
    if settings.output == "predictions":
        return scored[scores].reset_index(drop=True)
    if settings.output == "ids":
        if settings.id_column:
            if settings.id_column not in frame.columns:
                raise ComponentError(f"Id column {settings.id_column!r} is not in the file", code="ColumnNotFound",
                                     column=settings.id_column)
            ids = frame.loc[scored.index, [settings.id_column]]
        else:
            ids = pd.DataFrame({"Row": scored.index}, index=scored.index)
        return pd.concat([ids, scored[scores]], axis=1).reset_index(drop=True)
    return pd.concat([frame.loc[scored.index], scored[scores]], axis=1).reset_index(drop=True)
