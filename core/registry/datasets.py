"""Registered datasets: versioned tables stored as Parquet, plus the built-in samples.

A version is visible (has a table row) only once its Parquet blob is completely written, and
version numbers are claimed by creating the blob without overwrite, so two concurrent uploads
of one name get two different versions.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from core import names
from core.errors import Conflict, InvalidRequest, NotFound, Problem
from core.storage import tables
from core.storage.artifacts import dataframe_to_parquet, parquet_to_dataframe
from core.storage.records import EntityMap, Key, claim_next, version_key
from core.storage.store import Store
from core.tables import csvfile

TABLE = tables.DATASETS
CONTAINER = "datasets"
NAME_PATTERN = names.NAME
MAX_DESCRIPTION = names.MAX_DESCRIPTION
INLINE_SCHEMA_CHARS = 30_000  # a string property holds 32K UTF-16 characters

SAMPLES: dict[str, str] = {
    "automobile-price-raw": "Automobile price data (Raw): 205 cars, 26 columns; label 'price'.",
    "adult-census-income": "Adult Census Income: 32,561 people; binary label 'income'.",
    "german-credit": "German Credit Card UCI dataset: 1,000 applicants; label 'credit-risk'.",
}


class Column(BaseModel):
    name: str
    dtype: str


class DatasetVersion(BaseModel):
    name: str
    version: int
    description: str = ""
    source: str = "upload"
    rows: int
    columns: list[Column]
    sha256: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"{CONTAINER}/{blob_name(self.name, self.version)}"


_MAP = EntityMap(
    DatasetVersion, partition=Key("name"), row=version_key("version"), json=frozenset({"columns"})
)


def blob_name(name: str, version: int) -> str:
    return f"{name}/{version}/data.parquet"


def _row_key(version: int) -> str:
    return f"{version:06d}"


def parse_csv(data: bytes) -> pd.DataFrame:
    """CSV bytes to a DataFrame, or :class:`InvalidRequest` saying what is wrong with them."""
    if not data.strip():
        raise InvalidRequest(
            "The upload is empty",
            [Problem(code="empty_body", field="body", message="Send the CSV file as the body")],
        )
    return csvfile.read_frame(data)


def register(
    store: Store,
    name: str,
    df: pd.DataFrame,
    *,
    description: str = "",
    source: str = "upload",
    only_version: int | None = None,
) -> DatasetVersion:
    """Store ``df`` as the next version of dataset ``name`` (or exactly ``only_version``).

    The Parquet blob claims the version; if the table row cannot be written, the blob goes
    again, so a refused or failed registration leaves nothing behind.
    """
    check_name(name)
    check_description(description)
    data = dataframe_to_parquet(df)

    def claim(version: int) -> int:
        store.put_blob(
            CONTAINER,
            blob_name(name, version),
            data,
            overwrite=False,
            content_type="application/vnd.apache.parquet",
            metadata={"rows": str(len(df))},
        )
        return version

    version = claim(only_version) if only_version else claim_next(latest_version(store, name) + 1, claim)
    entry = DatasetVersion(
        name=name,
        version=version,
        description=description,
        source=source,
        rows=len(df),
        columns=[Column(name=str(c), dtype=str(t)) for c, t in df.dtypes.items()],
        sha256=hashlib.sha256(data).hexdigest(),
        created_at=datetime.now(UTC),
    )
    try:
        store.insert(TABLE, _to_entity(entry, store))
    except BaseException:
        store.delete_blob(CONTAINER, blob_name(name, version))
        store.delete_blob(CONTAINER, schema_blob_name(name, version))
        raise
    return entry


def schema_blob_name(name: str, version: int) -> str:
    return f"{name}/{version}/schema.json"


def check_description(description: str) -> None:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidRequest(
            "The description is too long",
            [
                Problem(
                    code="description_too_long",
                    field="description",
                    message=f"A description has at most {MAX_DESCRIPTION} characters, not {len(description)}",
                )
            ],
        )


def check_name(name: str) -> None:
    names.check("dataset", name)


def latest_version(store: Store, name: str) -> int:
    rows = store.partition(TABLE, name)
    return max((int(r["RowKey"]) for r in rows), default=0)


def list_datasets(store: Store) -> list[DatasetVersion]:
    """The latest version of every registered dataset."""
    latest: dict[str, DatasetVersion] = {}
    for entity in store.query(TABLE, "PartitionKey ne ''"):
        entry = _from_entity(entity, store)
        if entry.name not in latest or entry.version > latest[entry.name].version:
            latest[entry.name] = entry
    return sorted(latest.values(), key=lambda d: d.name)


def versions(store: Store, name: str) -> list[DatasetVersion]:
    check_name(name)
    return sorted((_from_entity(e, store) for e in store.partition(TABLE, name)), key=lambda d: d.version)


def get(store: Store, name: str, version: int | None = None) -> DatasetVersion:
    if version is None:
        found = versions(store, name)
        if not found:
            raise NotFound(f"No dataset named {name!r}")
        return found[-1]
    check_name(name)
    entity = store.get(TABLE, name, _row_key(version))
    if entity is None:
        raise NotFound(f"Dataset {name!r} has no version {version}")
    return _from_entity(entity, store)


def resolve(store: Store, name: str, version: int | None, samples_dir: Path | None) -> DatasetVersion:
    """A registered version; a built-in sample is registered on first use."""
    try:
        return get(store, name, version)
    except NotFound:
        if name not in SAMPLES or samples_dir is None or version not in (None, 1):
            raise
    return register_sample(store, name, samples_dir)


def register_sample(store: Store, name: str, samples_dir: Path) -> DatasetVersion:
    existing = versions(store, name)
    if existing:
        return existing[0]
    if name not in SAMPLES:
        raise NotFound(f"No built-in sample named {name!r}; samples: {sorted(SAMPLES)}")
    df = csvfile.read_frame((samples_dir / f"{name}.csv").read_bytes())
    try:
        return register(store, name, df, description=SAMPLES[name], source="sample", only_version=1)
    except Conflict:  # a concurrent first use is registering it: wait for its row
        for _ in range(100):
            time.sleep(0.05)
            if existing := versions(store, name):
                return existing[0]
        raise


def read_frame(store: Store, ref: DatasetVersion | str) -> pd.DataFrame:
    """The rows of a dataset version, from its Parquet blob: the one place that reads it.

    ``ref`` is the version, or its reference ``datasets/<name>/<version>/data.parquet``.
    """
    blob = ref.ref if isinstance(ref, DatasetVersion) else ref
    return parquet_to_dataframe(store.get_blob(CONTAINER, blob.split("/", 1)[1]))


def _to_entity(d: DatasetVersion, store: Store) -> dict:
    """The table row; a schema too wide for a table property (64 KiB) goes to a blob beside the data."""
    entity = _MAP.entity(d)
    if len(entity["columns"]) <= INLINE_SCHEMA_CHARS:
        return entity
    columns = entity.pop("columns")
    store.put_blob(
        CONTAINER, schema_blob_name(d.name, d.version), columns.encode(), content_type="application/json"
    )
    return {**entity, "columns_blob": schema_blob_name(d.name, d.version)}


def _from_entity(e: dict, store: Store) -> DatasetVersion:
    if not e.get("columns"):
        e = {**e, "columns": store.get_blob(CONTAINER, e["columns_blob"]).decode()}
    return _MAP.record(e)
