"""The one entity mapper and the one next-version claim (no storage needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest
from pydantic import BaseModel, Field

from core.errors import Conflict
from core.storage.records import EntityMap, Key, claim_next, fixed, version_key


class Colour(StrEnum):
    RED = "red"


class Thing(BaseModel):
    name: str
    version: int
    colour: Colour = Colour.RED
    tags: dict[str, int] = Field(default_factory=dict)
    owner: str | None = None
    default: int | None = None
    note: str | None = None
    when: datetime
    etag: str | None = Field(None, exclude=True)


MAP = EntityMap(
    Thing,
    partition=Key("name"),
    row=version_key("version"),
    json=frozenset({"tags"}),
    blank=frozenset({"owner"}),
    sentinel={"default": -1},
)
WHEN = datetime(2026, 1, 2, tzinfo=UTC)


def test_a_record_becomes_a_flat_entity_and_comes_back():
    thing = Thing(name="a", version=7, tags={"x": 1}, when=WHEN)
    entity = MAP.entity(thing)
    assert entity == {
        "PartitionKey": "a",
        "RowKey": "000007",
        "colour": "red",
        "tags": '{"x": 1}',
        "owner": "",
        "default": -1,
        "when": WHEN,
    }
    assert MAP.record({**entity, "etag": "e1", "Timestamp": WHEN}) == thing.model_copy(update={"etag": "e1"})


def test_only_the_named_fields_are_written_and_a_missing_value_stays_missing():
    thing = Thing(name="a", version=1, when=WHEN)
    assert MAP.entity(thing, ["note", "tags"]) == {
        "PartitionKey": "a",
        "RowKey": "000001",
        "tags": "{}",
        "note": None,
    }


def test_fixed_keys_renamed_columns_and_empty_json():
    class Row(BaseModel):
        id: str
        items: list[int] = Field(default_factory=list)

    rows = EntityMap(
        Row, partition=fixed("p"), row=Key("id"), json=frozenset({"items"}), columns={"items": "i"}
    )
    assert rows.entity(Row(id="r", items=[1])) == {"PartitionKey": "p", "RowKey": "r", "i": "[1]"}
    assert rows.record({"PartitionKey": "p", "RowKey": "r", "i": ""}) == Row(id="r")


def test_claim_next_skips_taken_numbers():
    taken = {3, 4}

    def claim(version: int) -> int:
        if version in taken:
            raise Conflict(f"{version} is taken")
        return version

    def broken(version: int) -> int:
        raise ValueError("not a conflict")

    assert claim_next(3, claim) == 5
    with pytest.raises(ValueError):
        claim_next(1, broken)
