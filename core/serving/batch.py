"""Scoring a file dropped into ``batch-input/{endpoint}/{file}``, in parallel mini-batches.

The endpoint's default batch inference version runs over the file. ``prepare`` plans the
mini-batches without reading the file through: a CSV is cut into byte ranges of about
``mini_batch_rows`` rows (each mini-batch reads and parses its own range, so parsing runs in
parallel too), a Parquet file is streamed into Parquet mini-batches. ``score_chunk`` scores one
mini-batch in memory with the compiled pipeline, and ``finish`` joins the results in input
order into ``batch-output/{endpoint}/{file}.predictions.csv`` (Parquet in, Parquet out), or
writes ``{file}.error.json`` saying why the file could not be scored. The same upload
delivered twice is scored once: the run id comes from the blob's name and ETag.

CSV ranges split at line ends, so a quoted value holding a line break is not supported there.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from pydantic import BaseModel, Field

from core.components import PortType
from core.errors import ComponentError, Conflict, DesignerError
from core.execution.engine import RunMachine, Step, StepKind
from core.execution.minibatch import ParquetAppender, parquet_batches
from core.execution.results import NodeResult
from core.execution.steps import run_in_process
from core.pipelines.document import Pipeline
from core.pipelines.planner import NodePlan, Plan
from core.pipelines.run_settings import RunSettings
from core.registry import datasets, endpoints, runs
from core.registry.runs import NodeRecord, RunRecord, RunStatus
from core.serving.scoring import CompiledPipeline, compile_batch_pipeline
from core.storage.artifacts import Artifacts
from core.storage.store import Store
from core.tables import csvfile

INPUT_CONTAINER = "batch-input"
OUTPUT_CONTAINER = "batch-output"
EXPERIMENT = "blob-scoring"
COMPONENT = "batch_scoring"  # the one node of a file-drop run; not a catalogue component
CHECK_ROWS = 5
SAMPLE_BYTES = 1 << 20  # read to find the header, the column types and the bytes per row
SAMPLE_ROWS = 2000
LOOKAHEAD = 1 << 16


class BatchSettings(BaseModel):
    """Per pipeline endpoint; unset fields fall back to the app settings."""

    mini_batch_rows: int | None = Field(None, ge=1, le=10_000_000)
    output: Literal["all", "ids", "predictions"] = Field(
        "all",
        description="all: input columns and predictions; ids: the id column (or row number) "
        "and predictions; predictions: prediction columns only",
    )
    id_column: str | None = None
    error_threshold: int = Field(0, ge=-1, description="Failed mini-batches tolerated; -1: any number")


class BatchRequest(BaseModel):
    instance_id: str
    blob: str
    etag: str
    endpoint: str
    file: str


class Chunk(BaseModel):
    """A Parquet mini-batch already stored (``ref``), or a byte range of the uploaded CSV."""

    index: int
    ref: str | None = None
    start: int | None = None
    end: int | None = None


class Prepared(BaseModel):
    status: Literal["Ready", "Duplicate", "Failed"]
    run_id: str
    pipeline_ref: str = ""
    settings: BatchSettings = Field(default_factory=BatchSettings)
    chunks: list[Chunk] = Field(default_factory=list)
    blob: str = ""
    header: str = Field("", description="The CSV header line, given to every range")
    column_types: dict[str, str] = Field(
        default_factory=dict, description="CSV column types, the same for every range"
    )
    error: str | None = None


class ChunkResult(BaseModel):
    index: int
    ref: str | None = None
    rows_in: int = 0
    rows: int = 0
    error: str | None = None


class BatchOutcome(BaseModel):
    """How the scoring of one upload ended (what the orchestration returns)."""

    status: Literal["Finished", "Failed", "Duplicate"]
    run_id: str
    output: str | None = None
    rows: int | None = None
    error: str | None = None
    failed_batches: list[str] = Field(default_factory=list)


SCORE_NODE = "score"
PREPARE, SCORE, FINISH = "batch_prepare", "batch_score", "batch_finish"


class BatchSteps:
    """File-drop scoring as a one-node run of the run state machine.

    The node's run step is ``prepare`` (which plans the mini-batches), each mini-batch is a
    chunk step (``score_chunk``) and the join step is ``finish``: the same machine, retries
    and failure semantics as a pipeline's mini-batched scoring node. A mini-batch whose
    activity kept failing counts as a failed mini-batch against the endpoint's error threshold.
    """

    def __init__(self, request: BatchRequest) -> None:
        self.request = request
        self.prepared: Prepared | None = None
        self.finished: BatchOutcome | None = None

    def machine(self) -> RunMachine:
        node = NodePlan(id=SCORE_NODE, component=COMPONENT, version="1", parameters={}, inputs={})
        return RunMachine(Plan(stages=[[SCORE_NODE]], nodes={SCORE_NODE: node}))

    def settings(self, node_id: str) -> RunSettings:
        return RunSettings()

    def call(self, machine: RunMachine, step: Step) -> tuple[str, Any]:
        if step.kind == StepKind.RUN:
            return PREPARE, self.request.model_dump()
        assert self.prepared is not None
        if step.kind == StepKind.CHUNK:  # the shared part once per call, not the whole chunk list
            shared = self.prepared.model_copy(update={"chunks": []}).model_dump(mode="json")
            return SCORE, {"prepared": shared, "chunk": step.chunk}
        return FINISH, {
            "request": self.request.model_dump(),
            "prepared": self.prepared.model_dump(mode="json"),
            "results": [r.model_dump(mode="json") for r in machine.outcomes(step.node_id)],
        }

    def accept(self, machine: RunMachine, step: Step, answer: Any) -> None:
        if step.kind == StepKind.RUN:
            self.prepared = Prepared.model_validate(answer)
            if self.prepared.status == "Ready":
                machine.split(step.node_id, [c.model_dump(mode="json") for c in self.prepared.chunks])
                return
            self.finished = BatchOutcome(
                status=self.prepared.status, run_id=self.prepared.run_id, error=self.prepared.error
            )
        elif step.kind == StepKind.CHUNK:
            machine.record_chunk(step, ChunkResult.model_validate(answer))
            return
        else:
            self.finished = BatchOutcome.model_validate(answer)
        ok = self.finished.status != "Failed"
        machine.record(
            step,
            NodeResult(
                node_id=step.node_id,
                status=RunStatus.FINISHED if ok else RunStatus.FAILED,
                error=self.finished.error,
            ),
        )

    def fault(self, machine: RunMachine, step: Step, message: str) -> None:
        if step.kind == StepKind.CHUNK:
            machine.record_chunk(step, ChunkResult(index=step.index, error=message))
            return
        machine.step_failed(step, message)
        run_id = self.prepared.run_id if self.prepared else self.request.instance_id
        self.finished = BatchOutcome(status="Failed", run_id=run_id, error=message)

    def endings(self, states: list[Any]) -> None:
        return None  # prepare and finish write this run's records themselves

    def result(self, machine: RunMachine) -> BatchOutcome:
        assert self.finished is not None, "the machine ended without an outcome"
        return self.finished


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
    return BatchRequest(
        instance_id=f"batch-{identity}", blob=blob_name, etag=props["etag"], endpoint=endpoint, file=file
    )


def output_name(request: BatchRequest, suffix: str) -> str:
    return f"{request.endpoint}/{request.file}{suffix}"


class Pinning(Protocol):
    """What turns a document's dataset and asset names into immutable references."""

    def pin(self, pipeline: Pipeline) -> Pipeline: ...


class BatchScoring:
    """The three steps, with compiled pipelines kept per worker (keyed by immutable reference)."""

    def __init__(self, store: Store, artifacts: Artifacts, default_rows: int, pinning: Pinning) -> None:
        self.store, self.artifacts, self.default_rows, self._pinning = store, artifacts, default_rows, pinning
        self._compiled: dict[str, CompiledPipeline] = {}

    # ---- an upload -----------------------------------------------------------------------------
    def request_for(self, blob_name: str) -> BatchRequest | None:
        """The scoring request for an uploaded blob (see :func:`request_for`)."""
        return request_for(self.store, blob_name)

    def misplaced_upload(self, blob_name: str) -> bool:
        """Record an upload outside an endpoint folder (see :func:`misplaced_upload`)."""
        return misplaced_upload(self.store, blob_name)

    # ---- prepare -----------------------------------------------------------------------------
    def prepare(self, request: BatchRequest) -> Prepared:
        run = RunRecord(
            run_id=request.instance_id,
            experiment=EXPERIMENT,
            created_at=datetime.now(UTC),
            pipeline_name=f"blob scoring of {request.blob}",
            pipeline_ref="",
            node_count=1,
            endpoint=request.endpoint,
            description=f"{request.blob} (ETag {request.etag})",
        )
        try:
            runs.create(
                self.store, run, [NodeRecord(run_id=run.run_id, node_id="score", component=COMPONENT)]
            )
        except Conflict:
            return Prepared(status="Duplicate", run_id=run.run_id)
        try:
            return self._prepare(request, run)
        except (DesignerError, ComponentError, pa.ArrowException, ValueError) as exc:
            message, details = user_error(exc)
            self._fail(request, run, message, details)
            return Prepared(status="Failed", run_id=run.run_id, error=message)

    def _prepare(self, request: BatchRequest, run: RunRecord) -> Prepared:
        entry = endpoints.resolve_for_submit(self.store, request.endpoint, None)
        if entry.kind != "batch_inference":
            raise DesignerError(
                f"Endpoint {request.endpoint!r} version {entry.version} is a {entry.kind} "
                "pipeline; blob scoring needs a batch inference pipeline"
            )
        settings = BatchSettings.model_validate(endpoints.get(self.store, request.endpoint).batch_settings)
        pinned = self._pinning.pin(Pipeline.model_validate(self.artifacts.get_json(entry.pipeline_ref)))
        pipeline_ref = self.artifacts.put_json(pinned.model_dump(mode="json"), "pipeline")
        compiled = self._compiled_for(pipeline_ref)
        rows_per_chunk = settings.mini_batch_rows or self.default_rows
        suffix = os.path.splitext(request.file)[1].lower()
        if suffix == ".csv":
            prepared, sample = self._plan_csv(request, rows_per_chunk, self._expected_types(pinned, compiled))
        elif suffix == ".parquet":
            prepared, sample = self._split_parquet(request, rows_per_chunk)
        else:
            raise DesignerError(
                f"{request.file!r} is not a table this service reads: upload .csv or .parquet"
            )
        compiled.score(sample)  # a wrong schema fails here, before any fan-out
        run.status, run.started_at, run.pipeline_ref = RunStatus.RUNNING, datetime.now(UTC), pipeline_ref
        run.endpoint_version, run.node_count = entry.version, len(prepared.chunks)
        runs.update_run(
            self.store, run, "status", "started_at", "pipeline_ref", "endpoint_version", "node_count"
        )
        return prepared.model_copy(
            update={
                "status": "Ready",
                "run_id": run.run_id,
                "pipeline_ref": pipeline_ref,
                "settings": settings,
                "blob": request.blob,
            }
        )

    def _expected_types(self, pipeline: Pipeline, compiled: CompiledPipeline) -> dict[str, pa.DataType]:
        """The column types the pipeline was trained on: a stray text value in a number column
        then fails the mini-batch holding it, instead of turning the whole column into text."""
        params = pipeline.node(compiled.input_node).parameters
        try:
            found = datasets.get(self.store, params.get("name", ""), params.get("version"))
        except DesignerError:
            return {}
        return {c.name: _arrow_type(c.dtype) for c in found.columns}

    def _plan_csv(
        self, request: BatchRequest, rows_per_chunk: int, expected: dict[str, pa.DataType] | None = None
    ) -> tuple[Prepared, pd.DataFrame]:
        """Byte ranges of about ``rows_per_chunk`` rows, from the size and a sample of the file."""
        name = request.blob.split("/", 1)[1]
        size = int((self.store.blob_metadata(INPUT_CONTAINER, name) or {}).get("size", 0))
        if size == 0:
            raise DesignerError("The file is empty")
        head = self.store.get_range(INPUT_CONTAINER, name, 0, min(size, SAMPLE_BYTES))
        header, _, body = head.partition(b"\n")
        lines = body.split(b"\n")[:-1] if len(head) < size else [line for line in body.split(b"\n") if line]
        if not header.strip() or not lines:
            raise DesignerError("The file has no rows: a CSV needs a header line and at least one row")
        sample = _parse_csv(
            header + b"\n" + b"\n".join(lines[:SAMPLE_ROWS]) + b"\n", {k: pa.string() for k in expected or {}}
        )
        types = {
            field.name: (expected or {}).get(field.name) or _widened(field.type) for field in sample.schema
        }
        bytes_per_row = max(1, len(b"\n".join(lines)) // len(lines))
        step = max(bytes_per_row * rows_per_chunk, 1)
        body_start = len(header) + 1
        starts = list(range(body_start, size, step)) or [body_start]
        chunks = [Chunk(index=i, start=s, end=min(s + step, size)) for i, s in enumerate(starts)]
        frame = _check_frame(header, lines, types)
        return Prepared(
            status="Ready",
            run_id="",
            chunks=chunks,
            header=header.decode("utf-8", "replace"),
            column_types={k: str(v) for k, v in types.items()},
        ), frame

    def _split_parquet(self, request: BatchRequest, rows_per_chunk: int) -> tuple[Prepared, pd.DataFrame]:
        """Stream the upload (via a temporary file) into Parquet mini-batches."""
        chunks: list[Chunk] = []
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "input.parquet")
            self.store.download_to(INPUT_CONTAINER, request.blob.split("/", 1)[1], local)
            for index, frame in enumerate(parquet_batches(local, rows_per_chunk)):
                chunks.append(Chunk(index=index, ref=self.artifacts.put(PortType.DATA, frame)))
                if index == 0:
                    sample = frame.head(CHECK_ROWS)
        if not chunks:
            raise DesignerError("The file has no rows")
        return Prepared(status="Ready", run_id="", chunks=chunks), sample

    # ---- score ---------------------------------------------------------------------------------
    def score_chunk(self, prepared: Prepared, chunk: Chunk) -> ChunkResult:
        """Score one mini-batch; rows are numbered within it (``finish`` adds the offsets)."""
        try:
            frame = self._read_chunk(prepared, chunk)
            scored = self._compiled_for(prepared.pipeline_ref).score(frame)
            out = shape_output(frame, scored, prepared.settings)
        except (ComponentError, DesignerError, pa.ArrowInvalid, ValueError, TypeError) as exc:
            message, details = user_error(exc)
            return ChunkResult(index=chunk.index, error="; ".join(details) if details else message)
        if chunk.ref is None:  # CSV in, CSV out: the joined file is these bytes end to end
            buffer = io.BytesIO()
            pacsv.write_csv(
                pa.Table.from_pandas(out, preserve_index=False),
                buffer,
                pacsv.WriteOptions(include_header=True),
            )
            ref = self.artifacts.put_bytes(buffer.getvalue(), "csv", "text/csv", rows=len(out))
        else:
            ref = self.artifacts.put(PortType.DATA, out)
        return ChunkResult(index=chunk.index, ref=ref, rows_in=len(frame), rows=len(out))

    def _read_chunk(self, prepared: Prepared, chunk: Chunk) -> pd.DataFrame:
        if chunk.ref is not None:
            return self.artifacts.get(chunk.ref, PortType.DATA)
        assert chunk.start is not None and chunk.end is not None
        body = _owned_lines(self.store, prepared.blob.split("/", 1)[1], chunk.start, chunk.end)
        types = {k: pa.type_for_alias(v) for k, v in prepared.column_types.items()}
        return _parse_csv(prepared.header.encode() + b"\n" + body, types, label="row").to_pandas()

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
    def score_in_process(self, request: BatchRequest) -> BatchOutcome:
        """Score an upload here, through the same machine and steps as the orchestration."""
        steps = BatchSteps(request)
        calls = {
            PREPARE: lambda p: self.prepare(BatchRequest.model_validate(p)).model_dump(mode="json"),
            SCORE: lambda p: self.score_chunk(
                Prepared.model_validate(p["prepared"]), Chunk.model_validate(p["chunk"])
            ).model_dump(mode="json"),
            FINISH: lambda p: self.finish(
                request,
                Prepared.model_validate(p["prepared"]),
                [ChunkResult.model_validate(r) for r in p["results"]],
                None,
            ).model_dump(mode="json"),
        }
        machine = run_in_process(steps.machine(), steps, lambda name, payload: calls[name](payload))
        return steps.result(machine)

    def finish(
        self, request: BatchRequest, prepared: Prepared, results: list[ChunkResult] | None, error: str | None
    ) -> BatchOutcome:
        run = runs.get_run(self.store, prepared.run_id)
        results = sorted(results or [], key=lambda r: r.index)
        failed = [r for r in results if r.error]
        threshold = prepared.settings.error_threshold
        if error or (threshold >= 0 and len(failed) > threshold):
            chunks = {c.index: c for c in prepared.chunks}
            named = [f"mini-batch {r.index} ({_where(chunks[r.index])}): {r.error}" for r in failed]
            reason = error or f"{len(failed)} of {len(results)} mini-batches failed (threshold {threshold})"
            self._fail(request, run, reason, named)
            return BatchOutcome(status="Failed", run_id=run.run_id, error=reason, failed_batches=named)
        suffix = ".predictions.parquet" if request.file.lower().endswith(".parquet") else ".predictions.csv"
        target = output_name(request, suffix)
        renumber = prepared.settings.output == "ids" and not prepared.settings.id_column
        rows = self._write_output(
            [r for r in results if r.ref], target, suffix.endswith(".parquet"), renumber
        )
        self.store.delete_blob(OUTPUT_CONTAINER, output_name(request, ".error.json"))
        node = runs.get_node(self.store, run.run_id, "score")
        node.status, node.started_at, node.ended_at = RunStatus.FINISHED, run.started_at, datetime.now(UTC)
        node.metrics = {
            "rows_in": sum(r.rows_in for r in results),
            "rows_out": rows,
            "mini_batches": len(results),
            "failed_mini_batches": len(failed),
        }
        node.outputs = {"predictions": f"{OUTPUT_CONTAINER}/{target}"}
        node.logs = [f"mini-batch {r.index} failed: {r.error}" for r in failed]
        runs.update_node(self.store, node, "status", "started_at", "ended_at", "metrics", "outputs", "logs")
        run.status, run.ended_at = RunStatus.FINISHED, datetime.now(UTC)
        runs.update_run(self.store, run, "status", "ended_at")
        return BatchOutcome(
            status="Finished", run_id=run.run_id, output=f"{OUTPUT_CONTAINER}/{target}", rows=rows
        )

    def _write_output(self, results: list[ChunkResult], target: str, parquet: bool, renumber: bool) -> int:
        """Join mini-batch results in input order through a local file: memory holds one at a time.

        CSV results are already CSV text and are appended as they are, unless their ``Row``
        numbers (counted within each mini-batch) need the rows of the batches before added.
        """
        rows, offset = 0, 0
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "out")
            with open(local, "wb") as sink:
                appender = ParquetAppender(sink)
                for result in results:
                    rows += result.rows
                    if not parquet and not renumber:
                        text = self.artifacts.get_bytes(result.ref or "")
                        sink.write(text if sink.tell() == 0 else text[text.find(b"\n") + 1 :])
                        continue
                    frame = self._result_frame(result, parquet)
                    if renumber:
                        frame["Row"] += offset
                    offset += result.rows_in
                    if parquet:
                        appender.append(frame)
                    else:
                        table = pa.Table.from_pandas(frame, preserve_index=False)
                        buffer = io.BytesIO()
                        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=sink.tell() == 0))
                        sink.write(buffer.getvalue())
                appender.close()
            self.store.upload_file(
                OUTPUT_CONTAINER,
                target,
                local,
                content_type="application/vnd.apache.parquet" if parquet else "text/csv",
            )
        return rows

    def _result_frame(self, result: ChunkResult, parquet: bool) -> pd.DataFrame:
        if parquet:
            return self.artifacts.get(result.ref or "", PortType.DATA)
        return pacsv.read_csv(io.BytesIO(self.artifacts.get_bytes(result.ref or ""))).to_pandas()

    def _fail(
        self, request: BatchRequest, run: RunRecord, reason: str, details: list[str] | None = None
    ) -> None:
        report = {
            "blob": request.blob,
            "etag": request.etag,
            "run_id": run.run_id,
            "error": reason,
            "failed_batches": details or [],
            "at": datetime.now(UTC).isoformat(),
        }
        self.store.put_blob(
            OUTPUT_CONTAINER,
            output_name(request, ".error.json"),
            json.dumps(report, indent=2).encode(),
            content_type="application/json",
        )
        run.status, run.ended_at, run.error = RunStatus.FAILED, datetime.now(UTC), reason
        runs.update_run(self.store, run, "status", "ended_at", "error")
        node = runs.get_node(self.store, run.run_id, "score")
        node.status, node.ended_at, node.error, node.logs = (
            RunStatus.FAILED,
            run.ended_at,
            reason,
            details or [],
        )
        runs.update_node(self.store, node, "status", "ended_at", "error", "logs")


def _owned_lines(store: Store, name: str, start: int, end: int) -> bytes:
    """The lines whose first byte lies in [start, end): a range owns the lines it starts."""
    offset = start - 1  # one byte back, to know whether ``start`` begins a line
    wanted = end - offset + LOOKAHEAD
    data = store.get_range(INPUT_CONTAINER, name, offset, wanted)
    at_end = len(data) < wanted
    first = data.find(b"\n") + 1  # lines begin after the first newline at or past start - 1
    if first == 0:
        return b""
    while True:
        stop = data.find(b"\n", end - offset - 1)
        if stop != -1:
            return data[first : stop + 1]
        if at_end:
            return data[first:] + b"\n"
        more = store.get_range(INPUT_CONTAINER, name, offset + len(data), LOOKAHEAD)
        at_end = len(more) < LOOKAHEAD
        data += more


def _parse_csv(data: bytes, types: dict[str, pa.DataType] | None, label: str = "line") -> pa.Table:
    """The shared CSV reader; in a mini-batch, rows are counted from its first row."""
    return csvfile.read_csv(data, types, first_line=2 if label == "line" else 1, label=label)


def _check_frame(header: bytes, lines: list[bytes], types: dict[str, pa.DataType]) -> pd.DataFrame:
    """The first rows that read cleanly, to try the pipeline on before any fan-out.

    A bad row among them fails its own mini-batch later; only a file none of whose first rows
    read is refused whole.
    """
    try:
        return _parse_csv(header + b"\n" + b"\n".join(lines[:CHECK_ROWS]) + b"\n", types).to_pandas()
    except csvfile.CsvError as exc:
        first_error = exc
    good = []
    for line in lines[: CHECK_ROWS * 10]:
        try:
            good.append(_parse_csv(header + b"\n" + line + b"\n", types).to_pandas())
        except csvfile.CsvError:
            continue
        if len(good) == CHECK_ROWS:
            break
    if not good:
        raise first_error
    return pd.concat(good, ignore_index=True)


def _arrow_type(dtype: str) -> pa.DataType:
    """A pandas dtype name of the training data as the type every range reads the column as."""
    kind = dtype.lower()
    if kind.startswith(("int", "uint", "float")):
        return pa.float64()
    if kind in ("bool", "boolean"):
        return pa.bool_()
    return pa.string()


def user_error(exc: BaseException) -> tuple[str, list[str]]:
    """What a user is told about a failure: the service's own words, never a library's.

    Arrow's and Python's messages quote the file's bytes and name internals
    (``ArrowInvalid``...), so they become a documented code and a neutral sentence.
    """
    if isinstance(exc, DesignerError):
        return exc.message, [p.message for p in exc.problems]
    if isinstance(exc, ComponentError):
        return f"{exc.code}: {exc}", []
    if isinstance(exc, pa.ArrowException):
        return "InvalidTable: the file could not be read as a table of the expected types", []
    return "InvalidTable: the file does not fit the pipeline's input", []


def misplaced_upload(store: Store, blob_name: str) -> bool:
    """A file at the container's root (no endpoint folder) gets an error report saying where to put it."""
    container, _, path = blob_name.partition("/")
    if container != INPUT_CONTAINER or not path or "/" in path:
        return False
    report = {
        "blob": blob_name,
        "error": f"{path!r} is not in an endpoint folder: upload files to "
        f"{INPUT_CONTAINER}/<pipeline endpoint>/<file> to score them",
        "failed_batches": [],
        "at": datetime.now(UTC).isoformat(),
    }
    store.put_blob(
        OUTPUT_CONTAINER,
        f"{path}.error.json",
        json.dumps(report, indent=2).encode(),
        content_type="application/json",
    )
    return True


def _widened(kind: pa.DataType) -> pa.DataType:
    """Types every range can share: integers may meet a gap later, so numbers are float64."""
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind):
        return pa.float64()
    if pa.types.is_boolean(kind):
        return pa.bool_()
    return pa.string()


def _where(chunk: Chunk) -> str:
    if chunk.ref is None:
        return f"bytes {chunk.start}-{chunk.end}"
    return f"stored as {chunk.ref}"


def shape_output(frame: pd.DataFrame, scored: pd.DataFrame, settings: BatchSettings) -> pd.DataFrame:
    """The kept columns, joined back to the input rows by index (scoring may drop rows)."""
    scores = [c for c in scored.attrs.get("score_columns") or [] if c in scored.columns] or [
        c for c in scored.columns if c not in frame.columns
    ]
    if settings.output == "predictions":
        return scored[scores].reset_index(drop=True)
    if settings.output == "ids":
        if settings.id_column:
            if settings.id_column not in frame.columns:
                raise ComponentError(
                    f"Id column {settings.id_column!r} is not in the file",
                    code="ColumnNotFound",
                    column=settings.id_column,
                )
            ids = frame.loc[scored.index, [settings.id_column]]
        else:
            ids = pd.DataFrame({"Row": scored.index}, index=scored.index)
        return pd.concat([ids, scored[scores]], axis=1).reset_index(drop=True)
    return pd.concat([frame.loc[scored.index], scored[scores]], axis=1).reset_index(drop=True)
