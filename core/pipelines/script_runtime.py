"""What an exported pipeline script runs on: the service's own components, in one process.

An exported script (:mod:`core.pipelines.script_export`) calls :meth:`LocalRun.node` once per
node. Each call does what the service's executor does for that node, without storage: parse
the parameters, run the component, and hand its outputs on as the executor's storage would
(tables through Parquet, models through joblib), so the script's metrics are the service's
to the last bit on the same data.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from core.components import PortType, RunContext, lookup
from core.components.data import Dataset
from core.errors import ComponentError
from core.pipelines.document import parse_parameters
from core.registry.datasets import parse_csv
from core.storage.artifacts import PICKLED, dataframe_to_parquet, parquet_to_dataframe

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples" / "datasets"


class PipelineFailed(RuntimeError):
    def __init__(self, node_id: str, message: str) -> None:
        super().__init__(f"node {node_id!r} failed: {message}")
        self.node_id = node_id


class _LocalData:
    """Import Data's door in a script: the datasets given on the command line, no blobs."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self._tables = tables

    def read_dataset(self, name: str, version: int | None) -> pd.DataFrame:
        if name not in self._tables:
            raise ComponentError(f"Dataset {name!r} was not given: pass --data {name}=FILE.csv")
        return self._tables[name]

    def read_blob(self, path: str) -> bytes:
        raise ComponentError(f"Blob {path!r}: storage paths are not available outside the service")

    def write_blob(self, path: str, data: bytes) -> str:
        raise ComponentError(f"Blob {path!r}: storage paths are not available outside the service")


class LocalRun:
    """One in-process run: node outputs by port id, and each node's metrics and logs."""

    def __init__(
        self,
        files: dict[str, Path],
        features: dict[str, bool] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.files = files
        self.features = dict(features or {})
        self.metrics: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, list[str]] = {}
        self._echo = echo or (lambda line: None)
        self._tables: dict[str, pd.DataFrame] = {}

    def dataset(self, node_id: str, name: str, version: int | None = None) -> dict[str, Any]:
        """A Dataset node: the file given for it (by node id or dataset name), or the built-in sample."""
        path = self.files.get(node_id) or self.files.get(name) or self.files.get("")
        if path is None and (SAMPLES_DIR / f"{name}.csv").is_file():
            path = SAMPLES_DIR / f"{name}.csv"
        if path is None:
            raise PipelineFailed(node_id, f"no data for dataset {name!r}: pass --data {name}=FILE.csv")
        table = _through_parquet(_read_table(Path(path)))
        self._tables[name] = table
        self._echo(f"{node_id}: {name} from {path} ({len(table)} rows)")
        return {"dataset": table}

    def node(
        self, node_id: str, component: str, parameters: dict[str, Any] | None = None, **inputs: Any
    ) -> dict[str, Any]:
        """Run one node as the service's executor would; its outputs by port id."""
        found = lookup(component)
        if found is None:
            raise PipelineFailed(node_id, f"unknown component {component!r}")
        if found is Dataset:
            params = parse_parameters(found, parameters or {})
            return self.dataset(node_id, params.name, params.version)  # type: ignore[attr-defined]
        ctx = RunContext(features=self.features)
        if found.needs_data_access:
            ctx.data = _LocalData(self._tables)
        try:
            params = parse_parameters(found, parameters or {})
            if found.source_outputs(params) is not None:
                raise ComponentError(f"{found.name} reads a stored artifact; it runs only in the service")
            produced = found().run(inputs, params, ctx)
        except (ComponentError, ValueError) as exc:
            raise PipelineFailed(node_id, str(exc)) from exc
        self.logs[node_id] = ctx.logs
        if ctx.metrics:
            self.metrics[node_id] = _plain(ctx.metrics)
        self._echo(f"{node_id}: {found.name} done")
        return {
            port.id: _through_storage(port.type, produced[port.id])
            for port in found.outputs
            if port.id in produced
        }


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return parse_csv(path.read_bytes())


def _through_parquet(df: pd.DataFrame) -> pd.DataFrame:
    return parquet_to_dataframe(dataframe_to_parquet(df))


def _through_storage(port_type: PortType, value: Any) -> Any:
    """The value as the next node would read it back from the service's storage."""
    if port_type == PortType.DATA:
        return _through_parquet(value)
    if port_type in PICKLED:
        buffer = io.BytesIO()
        joblib.dump(value, buffer, compress=3)
        buffer.seek(0)
        return joblib.load(buffer)
    return value


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    """As the executor records metrics: numpy numbers become floats."""
    return {
        k: float(v) if hasattr(v, "__float__") and not isinstance(v, (bool, int)) else v
        for k, v in metrics.items()
    }


def main(pipeline: Callable[[LocalRun], None], description: str, argv: Sequence[str] | None = None) -> int:
    """The exported script's command line: ``--data [NAME=]FILE`` per dataset, metrics as JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="a CSV or Parquet file for a dataset (by dataset name or node id); one "
        "file without a name feeds every dataset node",
    )
    parser.add_argument("--enable-python-script", action="store_true", help="allow Execute Python Script")
    parser.add_argument("--enable-sql", action="store_true", help="allow Apply SQL Transformation")
    parser.add_argument("--quiet", action="store_true", help="print only the metrics")
    args = parser.parse_args(argv)
    files = {}
    for item in args.data:
        name, sep, path = item.partition("=")
        files[name if sep else ""] = Path(path if sep else name)
    run = LocalRun(
        files,
        {"enable_python_script": args.enable_python_script, "enable_sql": args.enable_sql},
        echo=None if args.quiet else (lambda line: print(line, file=sys.stderr)),
    )
    try:
        pipeline(run)
    except PipelineFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(run.metrics, indent=2))
    return 0
