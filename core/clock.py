"""Where the product gets the time from: a clock object it is handed, never ``datetime.now``.

Schedules ask their clock when it is; tests hand them a clock they move themselves, and the
local host under test reads the time from a file the test writes (``FileClock``), so a test can
jump a day ahead without waiting for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (unit and integration tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


class FileClock:
    """The time written (ISO 8601) in a file; the system time while the file is absent or empty.

    Only for driving a separate host process from a test; production never configures it.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)

    def now(self) -> datetime:
        try:
            text = self._path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        if not text:
            return datetime.now(UTC)
        at = datetime.fromisoformat(text)
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
