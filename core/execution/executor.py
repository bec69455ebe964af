"""Run one node: load its inputs, run its component, store its outputs, record the result.

Used by the durable activity (and by anything else that runs nodes). A component's refusal
(:class:`ComponentError`, a parameter error) is the user's problem and is recorded as the
node's failure (raised as :class:`AttemptFailed` instead while the node's ``max_retries``
leave it attempts, so the retry policy tries again); anything else is an infrastructure fault
and is raised, so the orchestrator's retry policy can try again. A node whose ending was
decided elsewhere meanwhile (its run canceled, it timed out) is not overwritten: every write
is conditional on the node's ETag, so no late or half result becomes visible. A deterministic
node whose inputs and parameters were seen before takes the earlier outputs instead of running
(see :mod:`core.execution.reuse`).

A chained request (:func:`run_chain`) runs the node's followers after it in this worker. Each
node's outputs are named (encoded and hashed) before the next one starts, and the next reads
them from this worker's memory; uploading them and writing the node's final record go on
behind, while the next node runs. The chain answers only when every write is done, so what
the orchestrator is told is stored. A node's record says Finished only after its outputs are
stored.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from core.components import Component, Params, RunContext, lookup
from core.components.base import PLOT_NOT_DRAWN
from core.errors import ComponentError
from core.execution import minibatch, reuse
from core.execution.results import ChunkOutcome, NodeResult
from core.pipelines.document import parse_parameters
from core.pipelines.planner import NodePlan
from core.registry import datasets, runs
from core.registry.runs import NodeRecord, RunStatus
from core.storage.artifacts import ARTIFACTS, Artifacts, Encoded, RecentBytes
from core.storage.store import PreconditionFailed, Store

READABLE_CONTAINERS = {"datasets", "batch-input", "exports"}
# Storage round trips of one node that need not wait for each other (they wait on the network).
_IO = ThreadPoolExecutor(8, thread_name_prefix="node-io")
# A chain's writes behind its nodes (they wait on _IO tasks, never the other way round).
_BEHIND = ThreadPoolExecutor(4, thread_name_prefix="node-behind")
log = logging.getLogger(__name__)
WRITABLE_CONTAINERS = {"exports"}
# What this worker wrote or read lately: often what its next node reads (artifacts never change).
_RECENT = RecentBytes()


class RunClose(BaseModel):
    """What recording a run's end needs beyond its nodes' results."""

    experiment: str
    plan_key: str | None = None
    cache_keys: dict[str, str] = Field(
        default_factory=dict, description="The reuse keys of the nodes finished before this step"
    )


class NodeRequest(BaseModel):
    """The activity input: the node and references to its inputs, never the data itself."""

    run_id: str
    node: NodePlan
    inputs: dict[str, str] = {}
    regenerate: bool = False
    etag: str | None = Field(None, description="The node record's ETag as its run was submitted (see _Claim)")
    close: RunClose | None = Field(
        None, description="Set on a run's last step (see core.execution.engine.Step.closes)"
    )
    then: list[NodeRequest] = Field(
        default_factory=list,
        description="Followers to run next here (see core.execution.engine); the inputs they read "
        "from nodes before them in the chain are filled in as those finish",
    )


class AttemptFailed(Exception):
    """A node's own failure while it has retries left: raised so the retry policy tries again."""


# Endings another writer decides (cancel, timeout, skip): an activity arriving late keeps out.
_DECIDED = {RunStatus.CANCELED, RunStatus.SKIPPED}


def run_node(
    store: Store,
    artifacts: Artifacts,
    request: NodeRequest,
    features: Mapping[str, bool] | None = None,
    mini_batch_rows: int | None = None,
    behind: _Behind | None = None,
) -> NodeResult:
    """One node; with ``behind``, its outputs' upload and final record are left to it."""
    node = request.node
    artifacts = artifacts.remembering(_RECENT)
    component = lookup(node.component)
    if component is None:  # validated at submit; only a catalogue change gets here
        raise RuntimeError(f"component {node.component!r} is no longer in the catalogue")
    # Marking the node Running is a read and a conditional write: a pure component loads its
    # inputs and runs meanwhile, and nothing it made is stored before that write succeeded.
    claim = _Claim(store, request)
    ctx = RunContext(features=dict(features or {}))
    try:
        params = parse_parameters(component, node.parameters)
    except ValidationError as exc:
        return claim.result() or _fail(claim.writer(ctx), ctx, exc, node.run_settings.max_retries)
    key = reuse.cache_key(component, params, request.inputs)
    port = minibatch.data_port(component)
    rows = node.run_settings.mini_batch_rows or mini_batch_rows
    # A scoring node whose input is known to fit one mini-batch scores it whole, like any node.
    may_split = bool(
        port is not None
        and rows
        and port.id in request.inputs
        and not minibatch.fits(artifacts, request.inputs[port.id], rows)
    )
    overlapped = (
        (not component.deterministic or request.regenerate)
        and not component.needs_data_access
        and not may_split
    )
    if overlapped:
        try:
            values = _inputs(component, request, artifacts)
            produced = _run(component, params, values, ctx)
        except (ComponentError, ValidationError) as exc:
            return claim.result() or _fail(claim.writer(ctx), ctx, exc, node.run_settings.max_retries)
        except BaseException:
            claim.result()  # the record's writes stay in order for the retry
            raise
        ended = claim.result()
        if ended is not None:
            return ended
        writer = claim.writer(ctx)
    else:
        ended = claim.result()
        if ended is not None:
            return ended
        writer = claim.writer(ctx)
        record = writer.record
        if component.deterministic and not request.regenerate:
            cached = reuse.find(store, key)
            if cached is not None:
                return _reused(writer, cached, key)
        if may_split and port is not None and rows:
            chunks = minibatch.split(artifacts, request.inputs[port.id], rows)
            if chunks:
                record.note = f"scored in {len(chunks)} mini-batches of up to {rows} rows"
                writer.write("note")
                return NodeResult(
                    node_id=node.id, status=RunStatus.RUNNING, chunks=chunks, attempts=record.attempts
                )
        if component.needs_data_access:
            ctx.data = StoreDataAccess(store)
        try:
            produced = _run(component, params, _inputs(component, request, artifacts), ctx)
        except (ComponentError, ValidationError) as exc:
            return _fail(writer, ctx, exc, node.run_settings.max_retries)
    try:
        encoded = _encode_outputs(component, produced, artifacts)
    except (ComponentError, ValidationError) as exc:
        return _fail(writer, ctx, exc, node.run_settings.max_retries)
    outputs = {port: item if isinstance(item, str) else item.ref for port, item in encoded.items()}

    def store_and_record(ended: datetime | None = None) -> None:
        writer.record.plots = _store_outputs(encoded, artifacts, ctx)
        _finished(writer, component, key, outputs, ctx, ended)

    if behind is None:
        store_and_record()
    else:  # it ended now, as the next node starts, though its record is written a moment later
        behind.add(functools.partial(store_and_record, datetime.now(UTC)))
    return _finished_result(writer.record, component, key, outputs)


def run_chain(
    store: Store,
    artifacts: Artifacts,
    request: NodeRequest,
    features: Mapping[str, bool] | None = None,
    mini_batch_rows: int | None = None,
) -> NodeResult:
    """A node, then each follower in ``request.then`` while the one before it finished.

    A follower whose run raises (a fault, or a refusal it may retry) ends the chain there: the
    orchestrator starts it again as a step of its own, with its own retry policy. The answer
    (the head's result, the followers' in ``followers``) is given once every write is done; a
    failed write raises, and the whole chain is tried again.
    """
    if not request.then:
        return run_node(store, artifacts, request, features, mini_batch_rows)
    _prefetch(artifacts.remembering(_RECENT), request.then)
    behind = _Behind()
    try:
        head = run_node(store, artifacts, request, features, mini_batch_rows, behind)
        produced = {request.node.id: head.outputs}
        last = head
        for follower in request.then:
            if last.status != RunStatus.FINISHED or last.chunks:
                break
            inputs = {
                port: produced[ref.node][ref.port] if ref.node in produced else follower.inputs[port]
                for port, ref in follower.node.inputs.items()
            }
            try:
                last = run_node(
                    store,
                    artifacts,
                    follower.model_copy(update={"inputs": inputs}),
                    features,
                    mini_batch_rows,
                    behind,
                )
            except Exception as exc:
                log.warning("node %s is left to a step of its own: %s", follower.node.id, exc)
                break
            head.followers.append(last)
            produced[follower.node.id] = last.outputs
    finally:
        behind.wait()
    return head


def _prefetch(artifacts: Artifacts, followers: list[NodeRequest]) -> None:
    """Start downloading what followers read from outside the chain, into this worker's memory,
    while the nodes before them run (a failed download is left to the read that needs it)."""
    for follower in followers:
        for ref in follower.inputs.values():
            if ref.startswith(f"{ARTIFACTS}/"):
                _IO.submit(_quietly, artifacts.get_bytes, ref)


def _quietly(read: Callable[[str], Any], ref: str) -> None:
    with contextlib.suppress(Exception):
        read(ref)


class _Behind:
    """Writes left behind by a chain's nodes; all waited for before the chain answers.

    They need no order among themselves: each node's own writes are in order (outputs, then
    its record), and nothing reads another node's record. No write waits on another, so
    chains of several activities sharing this worker's threads cannot block each other.
    """

    def __init__(self) -> None:
        self._writes: list[Future[None]] = []

    def add(self, write: Callable[[], None]) -> None:
        self._writes.append(_BEHIND.submit(write))

    def wait(self) -> None:
        """Until every write is done; the first failure is raised."""
        failure = None
        for write in self._writes:
            try:
                write.result()
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure


class _Claim:
    """Reads the node and marks it Running (attempt + 1), in a thread of its own."""

    def __init__(self, store: Store, request: NodeRequest) -> None:
        self._store, self._request = store, request
        self._ended: NodeResult | None = None
        self._writer: _Writer | None = None
        self._future = _IO.submit(self._claim)

    def _claim(self) -> None:
        if self._first_claim():
            return
        node_id = self._request.node.id
        record, etag = runs.get_node_for_update(self._store, self._request.run_id, node_id)
        if record.status in _DECIDED:
            self._ended = NodeResult(
                node_id=node_id, status=record.status, error=record.note, attempts=record.attempts
            )
            return
        record.status, record.started_at = RunStatus.RUNNING, datetime.now(UTC)
        record.attempts += 1
        writer = _Writer(self._store, record, etag)
        if not writer.write("status", "started_at", "attempts"):  # ended elsewhere a moment ago
            self._ended = NodeResult(
                node_id=node_id,
                status=RunStatus.CANCELED,
                error="ended before it started",
                attempts=record.attempts,
            )
            return
        self._writer = writer

    def _first_claim(self) -> bool:
        """The first attempt, while nobody wrote the node since the submit: one conditional write.

        Any write since (a cancel, an earlier attempt) fails it, and the claim reads the node."""
        request = self._request
        if request.etag is None:
            return False
        record = NodeRecord(
            run_id=request.run_id,
            node_id=request.node.id,
            component=request.node.component,
            status=RunStatus.RUNNING,
            started_at=datetime.now(UTC),
            attempts=1,
        )
        writer = _Writer(self._store, record, request.etag)
        if writer.write("status", "started_at", "attempts"):
            self._writer = writer
            return True
        return False

    def result(self) -> NodeResult | None:
        """Wait for the claim: None when the node is ours to run, else the answer to give."""
        self._future.result()  # an infrastructure fault is raised here
        return self._ended

    def writer(self, ctx: RunContext) -> _Writer:
        """The node's writer; earlier attempts' log lines go before this attempt's."""
        if self._writer is None:
            raise RuntimeError("the node was not claimed")
        ctx.logs[:0] = self._writer.record.logs
        return self._writer


class _Writer:
    """Writes one node record only while nobody else has (a cancel, a timeout) since it was read."""

    def __init__(self, store: Store, record: NodeRecord, etag: str) -> None:
        self.store, self.record, self._etag = store, record, etag
        self.lost = False

    def write(self, *fields: str) -> bool:
        if self.lost:
            return False
        try:
            self._etag = runs.update_node(self.store, self.record, *fields, etag=self._etag) or self._etag
        except PreconditionFailed:
            self.lost = True  # the node's ending was decided elsewhere; leave it as it is
        return not self.lost


def run_chunk(
    artifacts: Artifacts,
    request: NodeRequest,
    chunk: str,
    index: int,
    features: Mapping[str, bool] | None = None,
) -> ChunkOutcome:
    """Score one mini-batch of a split node (no records: :func:`join_chunks` writes them)."""
    component = lookup(request.node.component)
    assert component is not None
    port = minibatch.data_port(component)
    assert port is not None
    params = parse_parameters(component, request.node.parameters)
    return minibatch.run_chunk(
        component,
        params,
        request.inputs,
        port,
        chunk,
        index,
        artifacts,
        RunContext(features=dict(features or {})),
    )


def join_chunks(
    store: Store, artifacts: Artifacts, request: NodeRequest, outcomes: list[ChunkOutcome]
) -> NodeResult:
    """Finish a split node: its outputs in input order, or its failure naming the mini-batches."""
    component = lookup(request.node.component)
    assert component is not None
    record, etag = runs.get_node_for_update(store, request.run_id, request.node.id)
    writer = _Writer(store, record, etag)
    ctx = RunContext()
    failed = sorted((o for o in outcomes if o.error), key=lambda o: o.index)
    if failed:
        named = "; ".join(f"mini-batch {o.index}: {o.error}" for o in failed[:5])
        return _fail(
            writer, ctx, ComponentError(f"{len(failed)} of {len(outcomes)} mini-batches failed: {named}")
        )
    outputs = minibatch.join(artifacts, outcomes)
    ctx.log(f"joined {len(outcomes)} mini-batches in input order")
    params = parse_parameters(component, request.node.parameters)
    key = reuse.cache_key(component, params, request.inputs)
    _finished(writer, component, key, outputs, ctx)
    return _finished_result(record, component, key, outputs)


def _finished_result(
    record: NodeRecord, component: type[Component], key: str, outputs: dict[str, str]
) -> NodeResult:
    """What the orchestrator is told of a finished node (a reuse key only if it can be reused)."""
    return NodeResult(
        node_id=record.node_id,
        status=RunStatus.FINISHED,
        outputs=outputs,
        attempts=record.attempts,
        cache_key=key if component.deterministic else None,
    )


def _finished(
    writer: _Writer,
    component: type[Component],
    key: str,
    outputs: dict[str, str],
    ctx: RunContext,
    ended: datetime | None = None,
) -> None:
    record = writer.record
    record.status, record.ended_at, record.outputs = RunStatus.FINISHED, ended or datetime.now(UTC), outputs
    record.metrics, record.logs = _plain(ctx.metrics), runs.clip_logs(ctx.logs)
    record.error = record.error_code = record.reused_from = None
    remembered = None
    if component.deterministic:  # the outputs are complete, whoever decided this node's ending
        cached = reuse.CachedNode(
            run_id=record.run_id,
            node_id=record.node_id,
            outputs=outputs,
            metrics=record.metrics,
            plots=record.plots,
            logs=list(record.logs),
        )
        remembered = _IO.submit(reuse.remember, writer.store, key, cached)  # beside the record's write
    writer.write(
        "status", "ended_at", "outputs", "metrics", "logs", "plots", "error", "error_code", "reused_from"
    )
    if remembered is not None:
        remembered.result()


def _inputs(component: type[Component], request: NodeRequest, artifacts: Artifacts) -> dict[str, Any]:
    """The node's input values: downloads side by side, what this worker holds read here (a
    thread hop would only wait for the interpreter lock longer)."""
    ports = [port for port in component.inputs if port.id in request.inputs]
    loading = {
        port.id: _IO.submit(artifacts.get, request.inputs[port.id], port.type)
        for port in ports
        if not artifacts.in_memory(request.inputs[port.id])
    }
    return {
        port.id: loading[port.id].result()
        if port.id in loading
        else artifacts.get(request.inputs[port.id], port.type)
        for port in ports
    }


def _run(
    component: type[Component], params: Params, values: dict[str, Any], ctx: RunContext
) -> dict[str, Any] | _Sources:
    sources = component.source_outputs(params)
    if sources is not None:
        return _Sources(sources)
    return component().run(values, params, ctx)


class _Sources(dict[str, str]):
    """A source component's outputs: references to what is already stored."""


def _encode_outputs(
    component: type[Component], produced: dict[str, Any], artifacts: Artifacts
) -> dict[str, str | Encoded]:
    """The outputs named, in port order: encoded here, stored by :func:`_store_outputs`."""
    if isinstance(produced, _Sources):
        return dict(produced)
    return {
        port.id: artifacts.encode(port.type, produced[port.id])
        for port in component.outputs
        if port.id in produced
    }


def _store_outputs(
    encoded: dict[str, str | Encoded], artifacts: Artifacts, ctx: RunContext
) -> dict[str, str]:
    """Store the outputs and plots side by side; the plots' references.

    A plot named but not drawn (``RunContext.plot_on_request``) is recorded as
    :data:`PLOT_NOT_DRAWN`; it is drawn and stored when first viewed."""
    stored = [
        _IO.submit(artifacts.store_encoded, item) for item in encoded.values() if not isinstance(item, str)
    ]
    plots = {
        name: PLOT_NOT_DRAWN if png is None else _IO.submit(artifacts.put_bytes, png, "plot", "image/png")
        for name, png in ctx.plots.items()
    }
    for future in stored:
        future.result()
    return {k: v.result() if isinstance(v, Future) else v for k, v in plots.items()}


def _reused(writer: _Writer, cached: reuse.CachedNode, key: str) -> NodeResult:
    record = writer.record
    record.status, record.ended_at = RunStatus.FINISHED, datetime.now(UTC)
    record.outputs, record.metrics, record.plots = cached.outputs, cached.metrics, cached.plots
    record.logs = cached.logs
    record.reused_from = f"{cached.run_id}/{cached.node_id}"
    record.error = record.error_code = None
    writer.write(
        "status", "ended_at", "outputs", "metrics", "plots", "logs", "reused_from", "error", "error_code"
    )
    return NodeResult(
        node_id=record.node_id,
        status=RunStatus.FINISHED,
        outputs=cached.outputs,
        reused=True,
        attempts=record.attempts,
        cache_key=key,
    )


def _fail(writer: _Writer, ctx: RunContext, exc: Exception, retries: int = 0) -> NodeResult:
    """Record the node's failure, or, while it has retries left, raise so it is tried again."""
    record = writer.record
    code = exc.code if isinstance(exc, ComponentError) else "ParameterParsing"
    message = str(exc)
    trace = "".join(traceback.format_exception_only(exc)).strip()
    if record.attempts <= retries:
        record.logs = runs.clip_logs(
            [*ctx.logs, trace, f"attempt {record.attempts} of {retries + 1} failed; trying again"]
        )
        writer.write("logs")
        raise AttemptFailed(f"attempt {record.attempts} of node {record.node_id!r} failed: {message}")
    record.status, record.ended_at = RunStatus.FAILED, datetime.now(UTC)
    record.error, record.error_code = message, code
    record.logs = runs.clip_logs([*ctx.logs, trace])
    writer.write("status", "ended_at", "error", "error_code", "logs")
    return NodeResult(
        node_id=record.node_id, status=RunStatus.FAILED, error=message, attempts=record.attempts
    )


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as JSON-friendly scalars (numpy numbers become floats)."""
    return {
        k: float(v) if hasattr(v, "__float__") and not isinstance(v, (bool, int)) else v
        for k, v in metrics.items()
    }


class StoreDataAccess:
    """Import/Export Data's view of storage: registered datasets, and a few containers only."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def read_dataset(self, name: str, version: int | None) -> pd.DataFrame:
        found = datasets.get(self._store, name, version)
        return datasets.read_frame(self._store, found)

    def read_blob(self, path: str) -> bytes:
        container, name = self._split(path, READABLE_CONTAINERS)
        try:
            return self._store.get_blob(container, name)
        except KeyError as exc:
            raise ComponentError(f"No blob at {path!r}", code="InvalidDataset") from exc

    def write_blob(self, path: str, data: bytes) -> str:
        container, name = self._split(path, WRITABLE_CONTAINERS)
        self._store.put_blob(container, name, data)
        return f"{container}/{name}"

    @staticmethod
    def _split(path: str, allowed: set[str]) -> tuple[str, str]:
        container, _, name = path.strip("/").partition("/")
        if container not in allowed or not name or ".." in name.split("/"):
            raise ComponentError(
                f"Path {path!r} is not allowed; use one of the containers "
                f"{sorted(allowed)} followed by a blob name",
                code="InvalidPath",
            )
        return container, name
