"""Data Input and Output: Enter Data Manually, Import Data, Export Data; and Convert to CSV.

Import and Export reach storage only through ``ctx.data`` (a :class:`DataAccess` the executor
hands to components that declare ``needs_data_access``), so they stay testable with a fake.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
from pydantic import Field
from sklearn.datasets import load_svmlight_file

from core.components.base import Component, DataAccess, Params, Port, PortType, RunContext
from core.errors import ComponentError, DesignerError
from core.tables import csvfile

EXPORTS = "exports"
READERS = {
    ".csv": csvfile.read_frame,  # the service's one CSV reader, as uploads and file drop
    ".tsv": lambda data: pd.read_csv(io.BytesIO(data), sep="\t"),
    ".parquet": lambda data: pd.read_parquet(io.BytesIO(data)),
}


class EnterDataManuallyParams(Params):
    data_format: Literal["ARFF", "CSV", "SvmLight", "TSV"] = Field("CSV", alias="DataFormat")
    data: str = Field(alias="Data")
    has_header: bool = Field(True, alias="HasHeader")


class EnterDataManually(Component):
    """A small table typed (or pasted) into the pipeline.

    CSV and TSV without a header get columns Col1, Col2, ...; SvmLight gives a "Label" column
    (marked as the label) and one column per feature index (f1, f2, ...).
    """

    id = "enter_data_manually"
    name = "Enter Data Manually"
    category = "Data Input and Output"
    version = "0.1"
    description = "Type or paste a small dataset as CSV, TSV, ARFF or SvmLight text."
    outputs = (Port("dataset", "dataset", PortType.DATA),)
    Parameters = EnterDataManuallyParams

    def run(
        self, inputs: Mapping[str, Any], params: EnterDataManuallyParams, ctx: RunContext
    ) -> dict[str, Any]:
        if not params.data.strip():
            raise ComponentError("'Data' is empty: type or paste the rows of the dataset", code="NullOrEmpty")
        try:
            df = _parse(params.data, params.data_format, params.has_header)
        except (ValueError, IndexError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ComponentError(
                f"'Data' is not valid {params.data_format}: {str(exc).strip()}", code="ParameterParsing"
            ) from None
        ctx.log(f"read {len(df)} row(s) and {df.shape[1]} column(s) of {params.data_format}")
        return {"dataset": df}


def _parse(text: str, data_format: str, has_header: bool) -> pd.DataFrame:
    if data_format in ("CSV", "TSV"):
        df = pd.read_csv(
            io.StringIO(text), sep="," if data_format == "CSV" else "\t", header=0 if has_header else None
        )
        if not has_header:
            df.columns = [f"Col{i + 1}" for i in range(df.shape[1])]
        return df
    if data_format == "ARFF":
        return _from_arff(text)
    return _from_svmlight(text)


def _from_arff(text: str) -> pd.DataFrame:
    """Dense ARFF: ``@attribute`` lines, then ``@data`` rows; ``?`` is missing, nominals are categorical."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("%")]
    starts = [i for i, line in enumerate(lines) if line.lower().startswith("@data")]
    attributes = [_arff_attribute(line) for line in lines if line.lower().startswith("@attribute")]
    if not starts or not attributes:
        raise ValueError("ARFF needs @attribute lines and a @data section")
    names = [name for name, _ in attributes]
    df = pd.read_csv(
        io.StringIO("\n".join(lines[starts[0] + 1 :])),
        header=None,
        names=names,
        quotechar="'",
        na_values=["?"],
        keep_default_na=False,
        skipinitialspace=True,
        dtype=str,
    )
    for name, kind in attributes:
        if kind in ("numeric", "real", "integer"):
            df[name] = pd.to_numeric(df[name])
        elif kind.startswith("date"):
            df[name] = pd.to_datetime(df[name])
    df.attrs["categorical"] = [name for name, kind in attributes if kind.startswith("{")]
    return df


def _arff_attribute(line: str) -> tuple[str, str]:
    tokens = shlex.split(line)
    if len(tokens) < 3:
        raise ValueError(f"cannot read the attribute line {line!r}")
    return tokens[1], " ".join(tokens[2:]).lower()


def _from_svmlight(text: str) -> pd.DataFrame:
    features, labels = load_svmlight_file(io.BytesIO(text.encode()), zero_based=False)
    df = pd.DataFrame(features.toarray(), columns=[f"f{i + 1}" for i in range(features.shape[1])])
    df.insert(0, "Label", labels)
    df.attrs["label"] = "Label"
    return df


class ImportDataParams(Params):
    data_source: Literal["Registered dataset", "Blob path"] = Field("Registered dataset", alias="Data source")
    dataset_name: str | None = Field(None, alias="Dataset name")
    dataset_version: int | None = Field(None, ge=1, alias="Dataset version")
    path: str | None = Field(None, alias="Path")


class ImportData(Component):
    """Read a registered dataset or a CSV/TSV/Parquet blob at run time.

    Unlike a Dataset node, whose version is pinned at submit, this reads whatever is there when
    it runs (the latest version if none is given), so it is never reused from an earlier run.
    Blob paths are ``container/name`` in the containers the service allows (e.g. ``exports``);
    the format follows the extension.
    """

    id = "import_data"
    name = "Import Data"
    category = "Data Input and Output"
    version = "1.0"
    description = "Load a registered dataset or a CSV/Parquet file from storage when the pipeline runs."
    outputs = (Port("results_dataset", "Results dataset", PortType.DATA),)
    Parameters = ImportDataParams
    deterministic = False
    needs_data_access = True

    def run(self, inputs: Mapping[str, Any], params: ImportDataParams, ctx: RunContext) -> dict[str, Any]:
        data = _data_access(ctx)
        if params.data_source == "Registered dataset":
            df, source = _read_registered(data, params.dataset_name, params.dataset_version)
        else:
            df, source = _read_blob(data, params.path)
        ctx.log(f"imported {len(df)} row(s) and {df.shape[1]} column(s) from {source}")
        return {"results_dataset": df}


def _data_access(ctx: RunContext) -> DataAccess:
    if ctx.data is None:  # the executor sets it for every component that needs it
        raise RuntimeError("no DataAccess in the run context of a needs_data_access component")
    return ctx.data


def _read_registered(data: DataAccess, name: str | None, version: int | None) -> tuple[pd.DataFrame, str]:
    if not name or not name.strip():
        raise ComponentError(
            "'Dataset name' is empty: name the registered dataset to import", code="NullOrEmpty"
        )
    source = f"dataset {name!r}" + (f" version {version}" if version else " (latest version)")
    try:
        return data.read_dataset(name.strip(), version), source
    except DesignerError as exc:  # e.g. NotFound
        raise ComponentError(f"Cannot import {source}: {exc.message}", code="InvalidDataset") from None


def _read_blob(data: DataAccess, path: str | None) -> tuple[pd.DataFrame, str]:
    if not path or not path.strip():
        raise ComponentError(
            "'Path' is empty: give container/name.csv or container/name.parquet", code="NullOrEmpty"
        )
    path = path.strip()
    reader = next((r for ext, r in READERS.items() if path.lower().endswith(ext)), None)
    if reader is None:
        raise ComponentError(f"'Path' {path!r} must end with {', '.join(READERS)}", code="NotSupported")
    raw = data.read_blob(path)
    try:
        return reader(raw), f"blob {path!r}"
    except DesignerError as exc:
        where = "; ".join(p.message for p in exc.problems[:5])
        raise ComponentError(
            f"Cannot read {path!r}: {exc.message}" + (f" ({where})" if where else ""), code="InvalidDataset"
        ) from None
    except Exception:
        raise ComponentError(
            f"Cannot read {path!r}: it is not a readable table of its kind", code="InvalidDataset"
        ) from None


class ExportDataParams(Params):
    path: str = Field(min_length=1, alias="Path")
    file_format: Literal["CSV", "Parquet"] = Field("CSV", alias="File format")


class ExportData(Component):
    """Write the dataset to ``exports/<Path>`` in storage, as CSV or Parquet.

    "Path" may include the ``exports/`` prefix or not; the format's extension is added when
    missing. Every run writes (nothing is reused), and overwrites what is at that path.
    """

    id = "export_data"
    name = "Export Data"
    category = "Data Input and Output"
    version = "1.0"
    description = "Save a dataset to the exports container as a CSV or Parquet file."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    Parameters = ExportDataParams
    deterministic = False
    needs_data_access = True

    def run(self, inputs: Mapping[str, Any], params: ExportDataParams, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        path = _export_path(params.path, params.file_format)
        if params.file_format == "CSV":
            payload = df.to_csv(index=False).encode("utf-8")
        else:
            buffer = io.BytesIO()
            df.to_parquet(buffer, index=False)
            payload = buffer.getvalue()
        written = _data_access(ctx).write_blob(path, payload)
        ctx.log(f"exported {len(df)} row(s) and {df.shape[1]} column(s) as {params.file_format} to {written}")
        return {}


def _export_path(path: str, file_format: str) -> str:
    parts = [p for p in path.strip().replace("\\", "/").split("/") if p]
    if parts and parts[0] == EXPORTS:
        parts = parts[1:]
    if not parts or any(p in (".", "..") for p in parts):
        raise ComponentError(
            f"'Path' {path!r} is not a file path under {EXPORTS}/ (no '.' or '..' parts)", code="InvalidPath"
        )
    extension = ".csv" if file_format == "CSV" else ".parquet"
    name = "/".join(parts)
    return f"{EXPORTS}/{name}" if name.lower().endswith(extension) else f"{EXPORTS}/{name}{extension}"


class ConvertToCsv(Component):
    """Mark a dataset to be downloaded as CSV.

    Datasets are stored as Parquet here, whatever their format; the output is the same table
    tagged ``attrs["format"] = "csv"``, which makes CSV the default format of its download.
    """

    id = "convert_to_csv"
    name = "Convert to CSV"
    category = "Data Transformation"
    version = "2.0"
    description = "The same dataset, downloadable as a CSV file."
    inputs = (Port("dataset", "Dataset", PortType.DATA),)
    outputs = (Port("results_dataset", "Results dataset", PortType.DATA),)

    def run(self, inputs: Mapping[str, Any], params: Any, ctx: RunContext) -> dict[str, Any]:
        df: pd.DataFrame = inputs["dataset"]
        out = df.copy(deep=False)
        out.attrs = {**df.attrs, "format": "csv"}
        ctx.log(f"{len(df)} row(s) tagged for CSV download")
        return {"results_dataset": out}


COMPONENTS = (EnterDataManually, ImportData, ExportData, ConvertToCsv)
