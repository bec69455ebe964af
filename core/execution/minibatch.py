"""Mini-batch fan-out of scoring nodes inside a pipeline run.

A Score Model, Apply Transformation or Assign Data to Clusters node whose data input has more
rows than ``mini_batch_rows`` is not run in one go: :func:`split` streams that input into
mini-batches (through a local file, one batch in memory at a time), the orchestrator runs
:func:`run_chunk` on each in parallel, and :func:`join` writes each output by appending the
mini-batch results in input order, again one at a time. Rows keep their input order and
every column (the input's row id included) passes through.

:func:`parquet_batches` and :class:`ParquetAppender` are the streaming split and join of a local
Parquet file; file-drop scoring (``core.serving.batch``) splits uploads and joins its results
with them too.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.components import Component, Params, Port, PortType, RunContext
from core.errors import ComponentError
from core.execution.results import ChunkOutcome
from core.pipelines.run_settings import MINI_BATCH_COMPONENTS
from core.storage.artifacts import Artifacts

MINI_BATCHED = MINI_BATCH_COMPONENTS
ATTRS_KEY = b"PANDAS_ATTRS"
__all__ = [
    "MINI_BATCHED",
    "ChunkOutcome",
    "ParquetAppender",
    "data_port",
    "join",
    "parquet_batches",
    "run_chunk",
    "split",
]


def parquet_batches(path: str, rows: int) -> Iterator[pd.DataFrame]:
    """The local Parquet file's rows as frames of at most ``rows`` rows, in order, one in memory
    at a time; the ``attrs`` a :class:`ParquetAppender` kept come back on each."""
    source = pq.ParquetFile(path)
    attrs = json.loads((source.schema_arrow.metadata or {}).get(ATTRS_KEY, b"{}"))
    for batch in source.iter_batches(batch_size=rows):
        frame = pa.Table.from_batches([batch]).to_pandas()
        frame.attrs = dict(attrs)
        yield frame


class ParquetAppender:
    """Appends frames to one Parquet file (a path or an open binary file) in the first frame's
    schema, so memory holds one frame at a time. ``keep_attrs`` stores the first frame's
    ``attrs`` (label, task, score columns) in the file's metadata, for :func:`parquet_batches`
    and the artifact store to read back."""

    def __init__(self, sink: str | BinaryIO, keep_attrs: bool = False) -> None:
        self.sink = sink
        self.keep_attrs = keep_attrs
        self.frames = 0
        self._writer: pq.ParquetWriter | None = None

    def append(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            schema = table.schema
            if self.keep_attrs:
                attrs = json.dumps(frame.attrs, default=str).encode()
                schema = schema.with_metadata({**(schema.metadata or {}), ATTRS_KEY: attrs})
            self._writer = pq.ParquetWriter(self.sink, schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def data_port(component: type[Component]) -> Port | None:
    """The input that is split, for components that score row by row."""
    if component.id not in MINI_BATCHED:
        return None
    return next((p for p in component.inputs if p.type == PortType.DATA), None)


def fits(artifacts: Artifacts, ref: str, rows_per_chunk: int) -> bool:
    """The table is known (from its metadata, or this worker's memory) to fit one mini-batch."""
    known = artifacts.rows(ref)
    return known is not None and known <= rows_per_chunk


def split(artifacts: Artifacts, ref: str, rows_per_chunk: int) -> list[str] | None:
    """Mini-batch references, or None when the input is small enough to score whole.

    For an input :func:`fits` could not decide from metadata (callers ask it first: the usual
    case is decided there): it is downloaded and its rows are counted."""
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "input.parquet")
        artifacts.download_to(ref, local)
        if pq.ParquetFile(local).metadata.num_rows <= rows_per_chunk:
            return None
        return [artifacts.put(PortType.DATA, frame) for frame in parquet_batches(local, rows_per_chunk)]


def run_chunk(
    component: type[Component],
    params: Params,
    inputs: Mapping[str, str],
    port: Port,
    chunk: str,
    index: int,
    artifacts: Artifacts,
    ctx: RunContext,
) -> ChunkOutcome:
    values = {
        p.id: artifacts.get(chunk if p.id == port.id else inputs[p.id], p.type)
        for p in component.inputs
        if p.id in inputs
    }
    try:
        produced = component().run(values, params, ctx)
    except ComponentError as exc:
        return ChunkOutcome(index=index, error=str(exc))
    return ChunkOutcome(
        index=index,
        outputs={p.id: artifacts.put(p.type, produced[p.id]) for p in component.outputs if p.id in produced},
    )


def join(artifacts: Artifacts, outcomes: list[ChunkOutcome]) -> dict[str, str]:
    """One artifact per output port, the mini-batches appended in input order."""
    ordered = sorted(outcomes, key=lambda o: o.index)
    return {port: _concatenate(artifacts, [o.outputs[port] for o in ordered]) for port in ordered[0].outputs}


def _concatenate(artifacts: Artifacts, refs: list[str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "joined.parquet")
        appender = ParquetAppender(local, keep_attrs=True)
        for ref in refs:
            appender.append(artifacts.get(ref, PortType.DATA))
        appender.close()
        if not appender.frames:
            raise ValueError("no mini-batch output to join")
        return artifacts.put_file(local, PortType.DATA.value, "application/vnd.apache.parquet")
