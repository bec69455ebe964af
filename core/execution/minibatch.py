"""Mini-batch fan-out of scoring nodes inside a pipeline run.

A Score Model, Apply Transformation or Assign Data to Clusters node whose data input has more
rows than ``mini_batch_rows`` is not run in one go: :func:`split` streams that input into
mini-batches (through a local file, one batch in memory at a time), the orchestrator runs
:func:`run_chunk` on each in parallel, and :func:`join` writes each output by appending the
mini-batch results in input order, again one at a time. Rows keep their input order and
every column (the input's row id included) passes through.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping

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
__all__ = ["MINI_BATCHED", "ChunkOutcome", "data_port", "join", "run_chunk", "split"]


def data_port(component: type[Component]) -> Port | None:
    """The input that is split, for components that score row by row."""
    if component.id not in MINI_BATCHED:
        return None
    return next((p for p in component.inputs if p.type == PortType.DATA), None)


def split(artifacts: Artifacts, ref: str, rows_per_chunk: int) -> list[str] | None:
    """Mini-batch references, or None when the input is small enough to score whole."""
    known = artifacts.rows(ref)
    if known is not None and known <= rows_per_chunk:
        return None  # the usual case, decided from metadata alone
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "input.parquet")
        artifacts.download_to(ref, local)
        source = pq.ParquetFile(local)
        if source.metadata.num_rows <= rows_per_chunk:
            return None
        attrs = json.loads((source.schema_arrow.metadata or {}).get(ATTRS_KEY, b"{}"))
        refs = []
        for batch in source.iter_batches(batch_size=rows_per_chunk):
            frame = pa.Table.from_batches([batch]).to_pandas()
            frame.attrs = dict(attrs)
            refs.append(artifacts.put(PortType.DATA, frame))
        return refs


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
        writer: pq.ParquetWriter | None = None
        for ref in refs:
            frame: pd.DataFrame = artifacts.get(ref, PortType.DATA)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                metadata = {
                    **(table.schema.metadata or {}),
                    ATTRS_KEY: json.dumps(frame.attrs, default=str).encode(),
                }
                writer = pq.ParquetWriter(local, table.schema.with_metadata(metadata))
            writer.write_table(table.cast(writer.schema))
        assert writer is not None
        writer.close()
        return artifacts.put_file(local, PortType.DATA.value, "application/vnd.apache.parquet")
