"""Pipeline drafts: a mutable name pointing at an immutable, content-addressed document.

A draft may be invalid (it is work in progress); validation is reported, not enforced, until a
run is submitted.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from core import names
from core.errors import NotFound, check_if_match
from core.pipelines.document import Pipeline
from core.storage import tables
from core.storage.artifacts import Artifacts
from core.storage.records import EntityMap, Key, fixed
from core.storage.store import Store

TABLE = tables.DRAFTS
PARTITION = "draft"


class Draft(BaseModel):
    id: str
    name: str
    description: str = ""
    pipeline_ref: str
    created_at: datetime
    updated_at: datetime
    etag: str | None = None


def create(store: Store, artifacts: Artifacts, pipeline: Pipeline) -> Draft:
    now = datetime.now(UTC)
    draft = Draft(
        id=uuid.uuid4().hex,
        name=pipeline.name,
        description=pipeline.description,
        pipeline_ref=artifacts.put_json(pipeline.model_dump(mode="json"), "pipeline"),
        created_at=now,
        updated_at=now,
    )
    draft.etag = store.insert(TABLE, _entity(draft))
    return draft


def update(
    store: Store, artifacts: Artifacts, draft_id: str, pipeline: Pipeline, etag: str | None = None
) -> Draft:
    """Replace the document; with ``etag`` the write fails if someone saved in between."""
    current = get(store, draft_id)
    check_if_match(etag, current.etag, f"Pipeline draft {draft_id!r}")
    current.name, current.description = pipeline.name, pipeline.description
    current.pipeline_ref = artifacts.put_json(pipeline.model_dump(mode="json"), "pipeline")
    current.updated_at = datetime.now(UTC)
    current.etag = store.update(TABLE, _entity(current), current.etag or "*")
    return current


def get(store: Store, draft_id: str) -> Draft:
    names.check("draft", draft_id, "draft_id")
    entity = store.get(TABLE, PARTITION, draft_id)
    if entity is None:
        raise NotFound(f"No pipeline draft {draft_id!r}")
    return _from_entity(entity)


def load(store: Store, artifacts: Artifacts, draft_id: str) -> tuple[Draft, Pipeline]:
    draft = get(store, draft_id)
    return draft, Pipeline.model_validate(artifacts.get_json(draft.pipeline_ref))


def list_drafts(store: Store) -> list[Draft]:
    return sorted(
        (_from_entity(e) for e in store.partition(TABLE, PARTITION)), key=lambda d: d.updated_at, reverse=True
    )


def delete(store: Store, draft_id: str) -> None:
    get(store, draft_id)
    store.delete(TABLE, PARTITION, draft_id)


_MAP = EntityMap(Draft, partition=fixed(PARTITION), row=Key("id"))


def _entity(d: Draft) -> dict:
    return _MAP.entity(d)


def _from_entity(e: dict) -> Draft:
    return _MAP.record(e)
