"""Immutable, content-addressed artifacts: DataFrames as Parquet, models as signed joblib.

A reference is ``"<container>/<blob>"``. Artifacts live at ``artifacts/<sha256>``; registered
datasets at ``datasets/<name>/<version>/data.parquet``. Pickled objects (models, transforms)
carry an HMAC of their bytes made with the service's signing key, and are loaded only when it
verifies: the service never unpickles a file it did not write itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
from typing import Any

import joblib
import pandas as pd

from core.components import PortType
from core.errors import Conflict
from core.storage.store import Store

ARTIFACTS = "artifacts"
PICKLED = {
    PortType.MODEL,
    PortType.CLUSTER_MODEL,
    PortType.TRANSFORM,
    PortType.UNTRAINED_MODEL,
    PortType.UNTRAINED_CLUSTER,
}


class ArtifactIntegrityError(RuntimeError):
    """A stored artifact does not match its name or signature: refuse to load it."""


def dataframe_to_parquet(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def parquet_to_dataframe(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data))


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Artifacts:
    """Reads and writes artifacts of every port type through a :class:`Store`."""

    def __init__(self, store: Store, signing_key: str) -> None:
        self._store = store
        self._key = signing_key.encode()

    def put_bytes(
        self, data: bytes, kind: str, content_type: str, *, signed: bool = False, rows: int | None = None
    ) -> str:
        digest = hashlib.sha256(data).hexdigest()
        metadata = {"kind": kind, "sha256": digest}
        if rows is not None:
            metadata["rows"] = str(rows)
        if signed:
            metadata["signature"] = self._sign(data)
        # Same content, same name: a rerun writes nothing new, and a write is all-or-nothing.
        # An existing blob is touched instead, so a garbage collection running now spares it.
        if not self._store.touch_blob(ARTIFACTS, digest):
            with contextlib.suppress(Conflict):  # a concurrent writer stored the same bytes first
                self._store.put_blob(
                    ARTIFACTS, digest, data, metadata=metadata, content_type=content_type, overwrite=False
                )
        return f"{ARTIFACTS}/{digest}"

    def put_file(self, path: str, kind: str, content_type: str) -> str:
        """A large local file as an artifact, hashed and uploaded in blocks (never whole in memory)."""
        name = _file_sha256(path)
        if not self._store.touch_blob(ARTIFACTS, name):
            self._store.upload_file(
                ARTIFACTS, name, path, content_type=content_type, metadata={"kind": kind, "sha256": name}
            )
        return f"{ARTIFACTS}/{name}"

    def rows(self, ref: str) -> int | None:
        """A table's row count from its metadata, without downloading it (None if not recorded)."""
        container, _, name = ref.partition("/")
        rows = (self._store.blob_metadata(container, name) or {}).get("rows")
        return int(rows) if rows is not None else None

    def download_to(self, ref: str, path: str) -> None:
        """Stream an artifact (or dataset) to a local file, checking its content address."""
        container, _, name = ref.partition("/")
        self._store.download_to(container, name, path)
        if container == ARTIFACTS and _file_sha256(path) != name:
            raise ArtifactIntegrityError(f"{ref}: content does not match its address")

    def put(self, port_type: PortType, value: Any) -> str:
        if port_type == PortType.DATA:
            return self.put_bytes(
                dataframe_to_parquet(value),
                port_type.value,
                "application/vnd.apache.parquet",
                rows=len(value),
            )
        buffer = io.BytesIO()
        joblib.dump(value, buffer, compress=3)
        return self.put_bytes(buffer.getvalue(), port_type.value, "application/octet-stream", signed=True)

    def put_json(self, value: Any, kind: str) -> str:
        data = json.dumps(value, sort_keys=True, default=str).encode()
        return self.put_bytes(data, kind, "application/json")

    def get_bytes(self, ref: str) -> bytes:
        container, _, name = ref.partition("/")
        data = self._store.get_blob(container, name)
        if container == ARTIFACTS and hashlib.sha256(data).hexdigest() != name:
            raise ArtifactIntegrityError(f"{ref}: content does not match its address")
        return data

    def get(self, ref: str, port_type: PortType) -> Any:
        data = self.get_bytes(ref)
        if port_type == PortType.DATA:
            return parquet_to_dataframe(data)
        container, _, name = ref.partition("/")
        metadata = self._store.blob_metadata(container, name) or {}
        signature = metadata.get("signature", "")
        if container != ARTIFACTS or not hmac.compare_digest(signature, self._sign(data)):
            raise ArtifactIntegrityError(f"{ref}: not signed by this service; refusing to load it")
        return joblib.load(io.BytesIO(data))

    def get_json(self, ref: str) -> Any:
        return json.loads(self.get_bytes(ref))

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()
