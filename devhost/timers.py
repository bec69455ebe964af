"""Timer triggers: call each timer function on its schedule, and on demand.

Schedules are what the Functions host accepts: six-field NCRONTAB (seconds first, e.g.
``0 */5 * * * *``) or a TimeSpan (``00:05:00``), with ``%SETTING%`` references resolved
from the app settings. Occurrences are computed in UTC (the host's default without
``WEBSITE_TIME_ZONE``). A call that is still running when the next occurrence comes is not
overlapped, like the host's singleton timer. ``invoke(name)`` is what the host's admin API
``POST /admin/functions/{name}`` does: one call now, beside the schedule (tests call it
to fire a timer without waiting for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.functions.timer import TimerRequest
from croniter import croniter

from .app_index import TimerTriggerFunction
from .invoke import call_async, with_context

log = logging.getLogger(__name__)
TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


class Occurrences:
    """Next run times of one schedule expression."""

    def __init__(self, schedule: str) -> None:
        self._span: timedelta | None = None
        if match := TIMESPAN.match(schedule):
            days, hours, minutes, seconds = (int(x or 0) for x in match.groups())
            self._span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            if not self._span:
                raise ValueError(f"timer schedule {schedule!r} is zero")
        elif len(schedule.split()) != 6 or not croniter.is_valid(schedule, second_at_beginning=True):
            raise ValueError(f"timer schedule {schedule!r} is neither six-field NCRONTAB nor a TimeSpan")
        self._cron = schedule

    def next_after(self, moment: datetime) -> datetime:
        if self._span is not None:
            return moment + self._span
        return croniter(self._cron, moment, second_at_beginning=True).get_next(datetime)


def _resolve(schedule: str, settings: Mapping[str, str]) -> str:
    return re.sub(r"%(\w+)%", lambda m: settings.get(m.group(1), ""), schedule).strip()


class TimerService:
    """Runs beside the server (start()/stop()); ``durable_client_binding`` supplies the
    binding JSON for timer functions that also take a durable client."""

    def __init__(
        self,
        triggers: Sequence[TimerTriggerFunction],
        settings: Mapping[str, str],
        *,
        durable_client_binding: Callable[[], str] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._durable_client_binding = durable_client_binding
        self._now = now
        self._timers: dict[str, tuple[TimerTriggerFunction, Occurrences]] = {}
        for trigger in triggers:
            self._timers[trigger.name] = (trigger, Occurrences(_resolve(trigger.schedule, settings)))
        self._last: dict[str, datetime] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def names(self) -> list[str]:
        return sorted(self._timers)

    async def start(self) -> None:
        for name, (trigger, _) in self._timers.items():
            self._tasks.append(
                asyncio.create_task(self._run(name, trigger.run_on_startup), name=f"timer-{name}")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def invoke(self, name: str, past_due: bool = False) -> bool:
        """Call timer function ``name`` once now; False if there is no such timer function."""
        entry = self._timers.get(name)
        if entry is None:
            return False
        trigger, occurrences = entry
        now = self._now()
        request = TimerRequest(
            past_due=past_due,
            schedule={"AdjustForDST": True},
            schedule_status={
                "Last": (self._last.get(name) or now).isoformat(),
                "Next": occurrences.next_after(now).isoformat(),
                "LastUpdated": now.isoformat(),
            },
        )
        kwargs: dict[str, Any] = {trigger.arg: request}
        if trigger.durable_client_arg and self._durable_client_binding is not None:
            kwargs[trigger.durable_client_arg] = self._durable_client_binding()
        self._last[name] = now
        await call_async(trigger.func, with_context(trigger.func, trigger.name, kwargs))
        return True

    async def _run(self, name: str, on_startup: bool) -> None:
        _, occurrences = self._timers[name]
        if on_startup:
            await self._safely(name)
        due = occurrences.next_after(self._now())
        while True:
            await asyncio.sleep(max(0.0, (due - self._now()).total_seconds()))
            late = self._now() - due > timedelta(seconds=5)
            await self._safely(name, past_due=late)
            due = occurrences.next_after(max(due, self._now()))

    async def _safely(self, name: str, past_due: bool = False) -> None:
        try:
            await self.invoke(name, past_due=past_due)
        except Exception:
            log.exception("Executed 'Functions.%s' (Failed)", name)
