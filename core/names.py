"""The one name check: what a dataset, draft, experiment, endpoint, asset or id may look like.

Names become table keys, blob paths and URL segments. Checking them before storage is asked
turns a 20,000-character name into a 400 that says what a name is, instead of a storage
fault, and the same patterns describe the routes in the API document.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from core.errors import InvalidRequest, Problem

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
REALTIME_NAME = r"^[A-Za-z0-9][A-Za-z0-9\-]{1,31}$"
ID = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,99}$"
NODE_ID = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,79}$"
PORT = r"^[A-Za-z0-9][A-Za-z0-9_ .()\-]{0,99}$"
PARAMETER = r"^[A-Za-z_][A-Za-z0-9_\-]{0,79}$"  # a pipeline parameter (also a Python identifier's start)
WEB_SERVICE_PORT = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # a real-time request's input or output name
FILE = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,199}$"  # a file dropped for scoring

_NAMES = "letters, digits, '.', '_' or '-' (at most 100), starting with a letter or digit"
RULES: dict[str, tuple[str, str]] = {
    "dataset": (NAME, _NAMES),
    "experiment": (NAME, _NAMES),
    "pipeline endpoint": (NAME, _NAMES),
    "asset": (NAME, _NAMES),
    "real-time endpoint": (REALTIME_NAME, "2-32 letters, digits or '-', starting with a letter or digit"),
    "draft": (ID, "letters, digits, '_' or '-' (at most 100)"),
    "run": (ID, "letters, digits, '_' or '-' (at most 100)"),
    "node": (NODE_ID, "letters, digits, '_' or '-' (at most 80)"),
    "port": (PORT, "letters, digits, spaces, '_', '.', '(', ')' or '-' (at most 100)"),
    "plot": (ID, "letters, digits, '_' or '-' (at most 100)"),
    "file": (FILE, "letters, digits, spaces, '.', '_' or '-' (at most 200), starting with a letter or digit"),
}

MAX_DESCRIPTION = 16_000  # a table property holds 32K characters; descriptions are kept in rows
MAX_ASSIGNMENTS_CHARS = 16_000

Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
Name = Annotated[str, Field(pattern=NAME, description="letters, digits, '.', '_', '-'; at most 100")]
RealtimeName = Annotated[str, Field(pattern=REALTIME_NAME, description="2-32 letters, digits or '-'")]
Id = Annotated[str, Field(pattern=ID, description="letters, digits, '_', '-'; at most 100")]


def check_assignments(values: dict) -> dict:
    """Parameter values are kept in the run's row: refuse what could not be stored there."""
    import json

    if len(json.dumps(values, default=str)) > MAX_ASSIGNMENTS_CHARS:
        raise ValueError(f"parameter assignments take at most {MAX_ASSIGNMENTS_CHARS} characters as JSON")
    return values


def is_valid(kind: str, value: str) -> bool:
    return re.fullmatch(RULES[kind][0], value) is not None


def check(kind: str, value: str, field: str = "name") -> None:
    """:class:`InvalidRequest` unless ``value`` is a well-formed ``kind`` name (never echoed whole)."""
    if is_valid(kind, value):
        return
    shown = value if len(value) <= 40 else value[:40] + "..."
    raise InvalidRequest(
        f"Invalid {kind} name",
        [
            Problem(
                code="invalid_name",
                field=field,
                message=f"{shown!r} is not a {kind} name: a {kind} name has {RULES[kind][1]}",
            )
        ],
    )
