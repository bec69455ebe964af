"""Registered models and transformations: named, versioned references to run outputs.

The designer's "Register data" on a Train Model output. An ``MD-``/``TD-`` node may name an asset
instead of an artifact; submission pins it to the artifact it stood for at that moment.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from core import names
from core.components import PortType
from core.errors import Conflict, NotFound, Problem
from core.storage import tables
from core.storage.records import EntityMap, Key, claim_next, version_key
from core.storage.store import Store

TABLE = tables.ASSETS
NAME_PATTERN = names.NAME
REGISTRABLE = {PortType.MODEL, PortType.CLUSTER_MODEL, PortType.TRANSFORM}


class AssetVersion(BaseModel):
    name: str
    version: int
    kind: PortType
    ref: str
    description: str = ""
    source: str = ""
    created_at: datetime
    created_by: str | None = None


_MAP = EntityMap(AssetVersion, partition=Key("name"), row=version_key("version"))


def register(
    store: Store,
    name: str,
    kind: PortType,
    ref: str,
    *,
    description: str = "",
    source: str = "",
    created_by: str | None = None,
) -> AssetVersion:
    names.check("asset", name)
    existing = versions(store, name)
    if existing and existing[-1].kind != kind:
        raise Conflict(
            f"Asset {name!r} holds {existing[-1].kind.value} versions, not {kind.value}",
            [
                Problem(
                    code="asset_kind_mismatch", field="name", message=f"Use another name for a {kind.value}"
                )
            ],
        )

    def claim(version: int) -> AssetVersion:
        entry = AssetVersion(
            name=name,
            version=version,
            kind=kind,
            ref=ref,
            description=description,
            source=source,
            created_at=datetime.now(UTC),
            created_by=created_by,
        )
        store.insert(TABLE, _MAP.entity(entry))
        return entry

    return claim_next(existing[-1].version + 1 if existing else 1, claim)


def versions(store: Store, name: str) -> list[AssetVersion]:
    names.check("asset", name)
    rows = store.partition(TABLE, name)
    return sorted((_load(e) for e in rows), key=lambda a: a.version)


def get(store: Store, name: str, version: int | None = None) -> AssetVersion:
    found = versions(store, name)
    if version is not None:
        found = [a for a in found if a.version == version]
    if not found:
        raise NotFound(f"No asset {name!r}" + (f" version {version}" if version else ""))
    return found[-1]


def list_assets(store: Store) -> list[AssetVersion]:
    latest: dict[str, AssetVersion] = {}
    for entity in store.query(TABLE, "PartitionKey ne ''"):
        asset = _load(entity)
        if asset.name not in latest or asset.version > latest[asset.name].version:
            latest[asset.name] = asset
    return sorted(latest.values(), key=lambda a: a.name)


def _load(e: dict) -> AssetVersion:
    return _MAP.record(e)
