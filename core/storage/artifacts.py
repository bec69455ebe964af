"""Immutable, content-addressed artifacts: DataFrames as Parquet, models as signed joblib.

A reference is ``"<container>/<blob>"``. Artifacts live at ``artifacts/<sha256>``; registered
datasets at ``datasets/<name>/<version>/data.parquet``. Pickled objects (models, transforms)
carry an HMAC made with the service's signing key, and are loaded only when it verifies: the
service never unpickles a file it did not write itself.

Each pickled artifact also records its format (``joblib`` layout, version ``FORMAT_VERSION``) and
the versions of the libraries that wrote it (:data:`RECORDED`: scikit-learn, numpy, pandas...).
The record sits in the blob's metadata, *beside* the hashed content, and the signature covers it
with the content's digest, so it cannot be altered without the load being refused. It stays out
of the hashed bytes on purpose: the name is the SHA-256 of the model's bytes alone, so the same
model pickled twice is one artifact, and a Python or pandas patch release that pickles a model
byte for byte alike does not rename it (step-output reuse keys on these names). A blob stored
again with the same bytes keeps its first writer's record, unless that record would refuse the
bytes under the libraries writing them now: then the new record replaces it (same bytes, name).

On load the record is compared with the running libraries (:data:`MUST_MATCH`): a different
format major, scikit-learn major.minor (scikit-learn does not keep a pickled estimator's state
across minor releases), or numpy or pandas major is refused with :class:`IncompatibleArtifact`
(HTTP 409) naming the artifact, both versions and the remedy, never a raw unpickling error. The
other versions are recorded to explain a failure, not checked; ONNX graphs are not stored (each
worker converts and verifies its model against scikit-learn itself), so onnxruntime and skl2onnx
are recorded only as what the writer would have accelerated with.

Artifacts written before the record existed carry the signature of their bytes alone and no
record: they load as the current format (the layout has not changed), unchecked, as before; an
unpickling failure on one is still reported as :class:`IncompatibleArtifact`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import platform
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata as distributions
from typing import Any

import joblib
import pandas as pd
import pyarrow.parquet as pq

from core.components import PortType
from core.errors import Conflict, Problem
from core.storage.store import Store

ARTIFACTS = "artifacts"
PICKLED = {
    PortType.MODEL,
    PortType.CLUSTER_MODEL,
    PortType.TRANSFORM,
    PortType.UNTRAINED_MODEL,
    PortType.UNTRAINED_CLUSTER,
}

FORMAT = "joblib"  # joblib.dump, zlib level 3, signed
FORMAT_VERSION = "1.0"  # major: a reader of another major cannot load it; minor: additions only
RECORDED = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "onnxruntime", "skl2onnx")
# How many leading release numbers of a library must match the writer's for a pickle to load.
MUST_MATCH = {"scikit-learn": 2, "numpy": 1, "pandas": 1}
_MANIFEST = ("format", "format_version", "versions")  # the metadata keys the signature covers
_REMEDY = (
    "retrain it: run the pipeline that made it again with regenerate_outputs set (so no earlier "
    "output is reused), then redeploy the endpoints that score with it"
)


class ArtifactIntegrityError(RuntimeError):
    """A stored artifact does not match its name or signature: refuse to load it."""


class IncompatibleArtifact(Conflict):
    """A signed artifact written by library versions this service cannot load (HTTP 409)."""

    def __init__(self, ref: str, reason: str) -> None:
        message = f"Artifact {ref} cannot be loaded here: {reason}; {_REMEDY}"
        super().__init__(message, [Problem(code="incompatible_artifact", field=ref, message=message)])
        self.ref = ref


@cache
def running_versions() -> dict[str, str]:
    """This process's Python and :data:`RECORDED` library versions (those installed)."""
    versions = {"python": platform.python_version()}
    for name in RECORDED:
        with contextlib.suppress(distributions.PackageNotFoundError):  # not installed: not recorded
            versions[name] = distributions.version(name)
    return versions


def compatibility_stamp(running: Mapping[str, str] | None = None) -> str:
    """What decides whether a pickle written here loads elsewhere: the format's major version and
    the :data:`MUST_MATCH` parts of the library versions. Step-output reuse keys include it, so
    after an upgrade that would refuse an old model the node runs again instead of failing."""
    here = running_versions() if running is None else running
    parts = [f"{FORMAT} {_release(FORMAT_VERSION)[0]}"]
    for name, count in MUST_MATCH.items():
        release = _release(here.get(name, ""))[:count]
        parts.append(f"{name} {'.'.join(map(str, release)) or '-'}")
    return "; ".join(parts)


def encode_versions(versions: Mapping[str, str]) -> str:
    """``name=version;...`` sorted by name: plain ASCII a blob's metadata header can hold."""
    return ";".join(f"{name}={versions[name]}" for name in sorted(versions))


def decode_versions(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(";") if "=" in item)


def _release(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string: ``"1.9.1rc1"`` -> ``(1, 9, 1)``."""
    numbers = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
    return tuple(numbers)


def incompatibility(manifest: Mapping[str, str], running: Mapping[str, str]) -> str | None:
    """Why an artifact with this record cannot be loaded with ``running`` libraries, or None."""
    name, version = manifest.get("format", ""), manifest.get("format_version", "")
    if name != FORMAT or _release(version)[:1] != _release(FORMAT_VERSION)[:1]:
        return f"it is in format {name} {version}; this service reads {FORMAT} {FORMAT_VERSION}"
    written = decode_versions(manifest.get("versions", ""))
    for name, parts in MUST_MATCH.items():
        if name not in written:
            continue
        here = running.get(name, "(not installed)")
        if _release(written[name])[:parts] != _release(here)[:parts]:
            return f"it was written with {name} {written[name]}; this service runs {name} {here}"
    return None


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


# Tables up to this size are written again rather than looked for first (one round trip).
_REPLACE_BYTES = 4 << 20


@dataclass(frozen=True)
class Encoded:
    """An artifact named but maybe not stored yet: what :meth:`Artifacts.store_encoded` writes."""

    ref: str
    data: bytes
    metadata: dict[str, str]
    content_type: str
    signed: bool
    replace: bool


class RecentBytes:
    """Artifact bytes read or written lately, by reference, least recently used out.

    Artifacts are content-addressed, so the bytes behind a reference never change: a node that
    reads what a node before it wrote in this worker (or what the same node read in an earlier
    run) needs no download. An entry remembers whether its signature was checked or made here,
    so a model is trusted from memory only under the signing key that verified it (one memory
    may serve readers of several keys: each keys its entries by its own).
    """

    def __init__(self, limit_bytes: int = 128 << 20, largest: int = 16 << 20) -> None:
        self._limit, self._largest = limit_bytes, largest
        self._entries: OrderedDict[Hashable, tuple[bytes, bool]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, bool] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def add(self, key: Hashable, data: bytes, verified: bool) -> None:
        if len(data) > self._largest:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[0])
                verified = verified or old[1]
            self._entries[key] = (data, verified)
            self._size += len(data)
            while self._size > self._limit:
                _, (dropped, _) = self._entries.popitem(last=False)
                self._size -= len(dropped)


class Artifacts:
    """Reads and writes artifacts of every port type through a :class:`Store`.

    ``versions`` stands for the running libraries (default: this process's); a test passes other
    ones to write an artifact as another installation would. ``recent`` keeps what was read or
    written lately in memory (see :class:`RecentBytes`): a run's nodes read through it
    (:meth:`remembering`); the service's own reads always go to storage.
    """

    def __init__(
        self,
        store: Store,
        signing_key: str,
        *,
        versions: Mapping[str, str] | None = None,
        recent: RecentBytes | None = None,
    ) -> None:
        self._store = store
        self._recent = recent
        self._key = signing_key.encode()
        self._owner = hashlib.sha256(self._key).hexdigest()  # what its memory entries are keyed by
        # A key of its own for records, so no signature of one scheme ever verifies in the other.
        self._manifest_key = hmac.new(self._key, b"artifact manifest v1", hashlib.sha256).digest()
        self._versions = dict(versions if versions is not None else running_versions())

    def remembering(self, recent: RecentBytes) -> Artifacts:
        """The same reader (store, key, versions) with ``recent`` as its memory."""
        return Artifacts(self._store, self._key.decode(), versions=self._versions, recent=recent)

    def put_bytes(
        self, data: bytes, kind: str, content_type: str, *, signed: bool = False, rows: int | None = None
    ) -> str:
        return self.store_encoded(self.encoded(data, kind, content_type, signed=signed, rows=rows))

    def encoded(
        self,
        data: bytes,
        kind: str,
        content_type: str,
        *,
        signed: bool = False,
        rows: int | None = None,
        replace: bool = False,
    ) -> Encoded:
        """Name ``data`` (its content address) without storing it; :meth:`store_encoded` stores it.

        The bytes are remembered at once, so a node run next in this worker reads them from
        memory while they are still being uploaded: only that worker knows the reference until
        :meth:`store_encoded` returns (the executor waits for it before answering).
        """
        digest = hashlib.sha256(data).hexdigest()
        metadata = {"kind": kind, "sha256": digest}
        if rows is not None:
            metadata["rows"] = str(rows)
        if signed:
            manifest = self._manifest()
            metadata.update(manifest, signature=self._sign_manifest(digest, manifest))
        ref = f"{ARTIFACTS}/{digest}"
        if self._recent is not None:
            self._recent.add((self._owner, ref), data, signed)
        return Encoded(ref, data, metadata, content_type, signed, replace and len(data) <= _REPLACE_BYTES)

    def store_encoded(self, item: Encoded) -> str:
        """Store what :meth:`encoded` named, unless storage has it already; its reference."""
        digest = item.ref.partition("/")[2]
        if item.replace:
            # Small tables: writing the same bytes again is one round trip, where looking first
            # is two, and it counts as a touch (see below) all the same.
            self._store.put_blob(
                ARTIFACTS, digest, item.data, metadata=item.metadata, content_type=item.content_type
            )
            return item.ref
        # Same content, same name: a rerun writes nothing new, and a write is all-or-nothing.
        # An existing blob is touched instead, so a garbage collection running now spares it.
        if not self._store.touch_blob(ARTIFACTS, digest):
            with contextlib.suppress(Conflict):  # a concurrent writer stored the same bytes first
                self._store.put_blob(
                    ARTIFACTS,
                    digest,
                    item.data,
                    metadata=item.metadata,
                    content_type=item.content_type,
                    overwrite=False,
                )
        elif item.signed and self._recorded_incompatible(digest):
            # Libraries upgraded, bytes alike (an object scikit-learn has no part in): these bytes
            # load here, so the record becomes this writer's rather than refuse its own output.
            self._store.put_blob(
                ARTIFACTS, digest, item.data, metadata=item.metadata, content_type=item.content_type
            )
        return item.ref

    def _recorded_incompatible(self, name: str) -> bool:
        metadata = self._store.blob_metadata(ARTIFACTS, name) or {}
        manifest = {key: metadata[key] for key in _MANIFEST if key in metadata}
        return bool(manifest) and incompatibility(manifest, self._versions) is not None

    def put_file(self, path: str, kind: str, content_type: str) -> str:
        """A large local file as an artifact, hashed and uploaded in blocks (never whole in memory)."""
        name = _file_sha256(path)
        if not self._store.touch_blob(ARTIFACTS, name):
            self._store.upload_file(
                ARTIFACTS, name, path, content_type=content_type, metadata={"kind": kind, "sha256": name}
            )
        return f"{ARTIFACTS}/{name}"

    def rows(self, ref: str) -> int | None:
        """A table's row count from its metadata, without downloading it (None if not recorded).

        A table this worker holds in memory is counted from its Parquet footer: it may be one
        a chain is still uploading."""
        container, _, name = ref.partition("/")
        found = self._remembered(ref)
        if found is not None:
            return int(pq.ParquetFile(io.BytesIO(found)).metadata.num_rows)
        rows = (self._store.blob_metadata(container, name) or {}).get("rows")
        return int(rows) if rows is not None else None

    def in_memory(self, ref: str) -> bool:
        """Whether reading ``ref`` needs no download (see :class:`RecentBytes`)."""
        return self._remembered(ref) is not None

    def _remembered(self, ref: str) -> bytes | None:
        if self._recent is None or not ref.startswith(f"{ARTIFACTS}/"):
            return None
        found = self._recent.get((self._owner, ref))
        return found[0] if found is not None else None

    def versions(self, ref: str) -> dict[str, str] | None:
        """The format and library versions a pickled artifact records (None if it records none).

        Unverified: :meth:`get` checks the signature before it trusts them.
        """
        container, _, name = ref.partition("/")
        metadata = self._store.blob_metadata(container, name) or {}
        if not any(key in metadata for key in _MANIFEST):
            return None
        return {
            "format": metadata.get("format", ""),
            "format_version": metadata.get("format_version", ""),
            **decode_versions(metadata.get("versions", "")),
        }

    def download_to(self, ref: str, path: str) -> None:
        """Stream an artifact (or dataset) to a local file, checking its content address."""
        container, _, name = ref.partition("/")
        found = self._remembered(ref)
        if found is not None:  # see rows()
            with open(path, "wb") as file:
                file.write(found)
            return
        self._store.download_to(container, name, path)
        if container == ARTIFACTS and _file_sha256(path) != name:
            raise ArtifactIntegrityError(f"{ref}: content does not match its address")

    def put(self, port_type: PortType, value: Any) -> str:
        return self.store_encoded(self.encode(port_type, value))

    def encode(self, port_type: PortType, value: Any) -> Encoded:
        """A port value as the bytes it is stored as (see :meth:`encoded`)."""
        if port_type == PortType.DATA:
            # Parquet bytes only ever hold a table, so rewriting them cannot change what a
            # blob is (its kind decides what garbage collection reads inside documents).
            return self.encoded(
                dataframe_to_parquet(value),
                port_type.value,
                "application/vnd.apache.parquet",
                rows=len(value),
                replace=True,
            )
        buffer = io.BytesIO()
        joblib.dump(value, buffer, compress=3)
        return self.encoded(buffer.getvalue(), port_type.value, "application/octet-stream", signed=True)

    def put_json(self, value: Any, kind: str) -> str:
        """A JSON document (the service stores pipelines so), written again rather than looked
        for first: one round trip. Written by another kind's writer first, the blob becomes a
        document, which garbage collection reads for references: it can only keep more."""
        data = json.dumps(value, sort_keys=True, default=str).encode()
        return self.store_encoded(self.encoded(data, kind, "application/json", replace=True))

    def get_bytes(self, ref: str) -> bytes:
        container, _, name = ref.partition("/")
        recent = self._recent if container == ARTIFACTS else None  # only artifacts never change
        found = recent.get((self._owner, ref)) if recent is not None else None
        if found is not None:
            return found[0]
        data = self._store.get_blob(container, name)
        if container == ARTIFACTS and hashlib.sha256(data).hexdigest() != name:
            raise ArtifactIntegrityError(f"{ref}: content does not match its address")
        if recent is not None:
            recent.add((self._owner, ref), data, False)
        return data

    def get(self, ref: str, port_type: PortType) -> Any:
        if port_type in PICKLED and self._recent is not None:
            found = self._recent.get((self._owner, ref))
            if found is not None and found[1]:  # written or verified here: signed and loadable
                return joblib.load(io.BytesIO(found[0]))
        data = self.get_bytes(ref)
        if port_type == PortType.DATA:
            return parquet_to_dataframe(data)
        container, _, name = ref.partition("/")
        metadata = self._store.blob_metadata(container, name) or {}
        manifest = {key: metadata[key] for key in _MANIFEST if key in metadata} or None
        if container != ARTIFACTS or not self._signed(name, data, metadata.get("signature", ""), manifest):
            raise ArtifactIntegrityError(
                f"{ref}: not signed by this service, or its recorded versions were altered; "
                "refusing to load it"
            )
        if manifest is not None and (reason := incompatibility(manifest, self._versions)):
            raise IncompatibleArtifact(ref, reason)
        try:
            value = joblib.load(io.BytesIO(data))
        except Exception as exc:  # signed, so ours: what fails is this installation's libraries
            written = (
                manifest.get("versions") if manifest else "no versions (written before they were recorded)"
            )
            raise IncompatibleArtifact(
                ref,
                f"unpickling failed ({type(exc).__name__}: {exc}); it records {written}, this service "
                f"runs {encode_versions(self._versions)}",
            ) from exc
        if self._recent is not None:
            self._recent.add((self._owner, ref), data, True)
        return value

    def get_json(self, ref: str) -> Any:
        return json.loads(self.get_bytes(ref))

    def _manifest(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "versions": encode_versions(self._versions),
        }

    def _signed(self, digest: str, data: bytes, signature: str, manifest: Mapping[str, str] | None) -> bool:
        """The signature covers the record and the content's digest, or (older artifacts) the bytes."""
        expected = self._sign(data) if manifest is None else self._sign_manifest(digest, manifest)
        return hmac.compare_digest(signature, expected)

    def _sign_manifest(self, digest: str, manifest: Mapping[str, str]) -> str:
        # Every manifest key is in the message, an absent one as "": dropping one breaks it too.
        fields = {"sha256": digest, **{key: manifest.get(key, "") for key in _MANIFEST}}
        message = json.dumps(fields, sort_keys=True).encode()
        return hmac.new(self._manifest_key, message, hashlib.sha256).hexdigest()

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()
