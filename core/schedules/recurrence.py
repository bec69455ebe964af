"""When a recurrence schedule is due: Azure ML's ``ScheduleRecurrence`` or a cron expression.

Times of day and week days are wall-clock times in the schedule's time zone (``zoneinfo``),
so "every day at 02:00 Europe/Berlin" stays at 02:00 across daylight-saving changes; minute
and hour frequencies count elapsed time from the start. A wall time that does not exist on
a spring-forward day runs at the same offset as before the change (one hour later on the
clock).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, Field, field_validator, model_validator

Frequency = Literal["Minute", "Hour", "Day", "Week", "Month"]
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEK_DAYS: tuple[WeekDay, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_SPAN = {
    "Minute": timedelta(minutes=1),
    "Hour": timedelta(hours=1),
    "Day": timedelta(days=1),
    "Week": timedelta(weeks=1),
    "Month": timedelta(days=31),
}


class Recurrence(BaseModel):
    """Azure ML's field names (``frequency``, ``interval``, ``hours``, ``minutes``, ``week_days``,
    ``time_of_day``, ``start_time``, ``time_zone``), plus ``end_time`` and ``cron``."""

    frequency: Frequency | None = None
    interval: int = Field(1, ge=1, le=1000)
    hours: list[int] = Field(default_factory=list, description="Hours of the day (Day, Week)")
    minutes: list[int] = Field(default_factory=list, description="Minutes of the hour (Day, Week)")
    week_days: list[WeekDay] = Field(default_factory=list, description="Week only")
    time_of_day: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="'HH:MM'")
    start_time: datetime | None = Field(None, description="Without an offset: in time_zone")
    end_time: datetime | None = None
    time_zone: str = "UTC"
    cron: str | None = Field(None, description="Five-field cron expression, in time_zone")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')"
            ) from exc
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        if any(not 0 <= h <= 23 for h in value):
            raise ValueError("hours are 0..23")
        return sorted(set(value))

    @field_validator("minutes")
    @classmethod
    def _minutes(cls, value: list[int]) -> list[int]:
        if any(not 0 <= m <= 59 for m in value):
            raise ValueError("minutes are 0..59")
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> Recurrence:
        if (self.frequency is None) == (self.cron is None):
            raise ValueError("give either 'frequency' (with 'interval') or 'cron'")
        if self.cron is not None and (len(self.cron.split()) != 5 or not croniter.is_valid(self.cron)):
            raise ValueError(f"{self.cron!r} is not a five-field cron expression")
        if self.frequency in ("Minute", "Hour", "Month") and (self.hours or self.minutes or self.time_of_day):
            raise ValueError("hours, minutes and time_of_day go with frequency Day or Week")
        if self.week_days and self.frequency != "Week":
            raise ValueError("week_days go with frequency Week")
        if self.time_of_day and (self.hours or self.minutes):
            raise ValueError("give time_of_day or hours/minutes, not both")
        if self.start_time and self.end_time and self.aware(self.end_time) <= self.aware(self.start_time):
            raise ValueError("end_time is before start_time")
        return self

    # ---- time arithmetic ---------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def aware(self, value: datetime) -> datetime:
        """A naive time is wall-clock time in the schedule's zone."""
        return (value if value.tzinfo else value.replace(tzinfo=self.zone)).astimezone(UTC)

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        """The first due time strictly after ``after`` (UTC), or None once past the end.

        ``anchor`` is where counting starts: ``start_time``, else when the schedule was made.
        """
        start = self.aware(self.start_time) if self.start_time else anchor.astimezone(UTC)
        after = max(after.astimezone(UTC), start - timedelta(microseconds=1))
        due = self._cron_next(after) if self.cron else self._next(after, start)
        if due is None or (self.end_time and due > self.aware(self.end_time)):
            return None
        return due

    def latest_due(self, at: datetime, since: datetime, anchor: datetime) -> datetime | None:
        """The last due time in ``[since, at]``, or None: what a catch-up run stands for."""
        span = self.span
        cursor = max(since - timedelta(microseconds=1), at - 2 * span)
        latest = None
        while (due := self.next_after(cursor, anchor)) is not None and due <= at:
            latest, cursor = due, due
        return latest

    @property
    def span(self) -> timedelta:
        """An upper bound of the time between two due times (for cron: scanned from one year)."""
        if self.cron:
            return timedelta(days=366)
        return _SPAN[self.frequency or "Day"] * self.interval

    def _cron_next(self, after: datetime) -> datetime:
        local = after.astimezone(self.zone)
        return croniter(self.cron or "", local).get_next(datetime).astimezone(UTC)

    def _next(self, after: datetime, start: datetime) -> datetime | None:
        if self.frequency in ("Minute", "Hour"):
            step = _SPAN[self.frequency] * self.interval
            k = max(0, int((after - start) // step) + 1)
            return start + k * step
        local_start = start.astimezone(self.zone)
        for candidate in self._local_candidates(after.astimezone(self.zone).date(), local_start):
            due = candidate.replace(tzinfo=self.zone).astimezone(UTC)
            if due > after and due >= start:
                return due
        return None

    def _times(self, local_start: datetime) -> list[time]:
        if self.time_of_day:
            hour, minute = (int(x) for x in self.time_of_day.split(":"))
            return [time(hour, minute)]
        hours = self.hours or [local_start.hour]
        minutes = self.minutes or ([local_start.minute] if not self.hours else [0])
        return [time(h, m) for h in hours for m in minutes]

    def _local_candidates(self, around: date, local_start: datetime):
        """Wall-clock candidates from the period before ``around`` on, in order."""
        times = self._times(local_start)
        start_day = local_start.date()
        if self.frequency == "Day":
            k = max(0, (around - start_day).days // self.interval - 1)
            for period in range(k, k + 4):
                day = start_day + timedelta(days=period * self.interval)
                yield from (datetime.combine(day, t) for t in times)
        elif self.frequency == "Week":
            days = sorted(WEEK_DAYS.index(d) for d in (self.week_days or [WEEK_DAYS[start_day.weekday()]]))
            week0 = start_day - timedelta(days=start_day.weekday())
            k = max(0, (around - week0).days // (7 * self.interval) - 1)
            for period in range(k, k + 4):
                monday = week0 + timedelta(weeks=period * self.interval)
                yield from (datetime.combine(monday + timedelta(days=d), t) for d in days for t in times)
        else:  # Month: the start's day of the month, clamped to shorter months
            months = (around.year - start_day.year) * 12 + around.month - start_day.month
            k = max(0, months // self.interval - 1)
            for period in range(k, k + 4):
                index = start_day.month - 1 + period * self.interval
                year, month = start_day.year + index // 12, index % 12 + 1
                day_of_month = min(start_day.day, calendar.monthrange(year, month)[1])
                yield from (datetime.combine(date(year, month, day_of_month), t) for t in times)
