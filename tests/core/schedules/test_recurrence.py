"""Due times of recurrences (pure time arithmetic, no storage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from core.schedules.recurrence import Recurrence

T0 = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


def dues(recurrence: Recurrence, count: int, after: datetime = T0, anchor: datetime = T0) -> list[datetime]:
    out = []
    for _ in range(count):
        after = recurrence.next_after(after, anchor)
        out.append(after)
    return out


def test_daily_at_two_in_berlin_keeps_wall_time_across_daylight_saving():
    r = Recurrence(frequency="Day", hours=[2], minutes=[30], time_zone="Europe/Berlin")
    got = [d.astimezone(r.zone) for d in dues(r, 4)]
    assert [(d.day, d.hour, d.minute) for d in got] == [(28, 2, 30), (29, 3, 30), (30, 2, 30), (31, 2, 30)]
    assert got[0].utcoffset() == timedelta(hours=1) and got[2].utcoffset() == timedelta(hours=2)


def test_every_two_hours_counts_from_the_start():
    r = Recurrence(frequency="Hour", interval=2, start_time=datetime(2026, 3, 27, 9, 15, tzinfo=UTC))
    assert dues(r, 3) == [datetime(2026, 3, 27, h, 15, tzinfo=UTC) for h in (13, 15, 17)]


def test_weekly_on_chosen_days_every_other_week():
    r = Recurrence(
        frequency="Week",
        interval=2,
        week_days=["Monday", "Friday"],
        time_of_day="09:30",
        start_time=datetime(2026, 3, 23),
    )  # a Monday
    got = dues(r, 4)
    assert [d.strftime("%a %d") for d in got] == [
        "Mon 06",
        "Fri 10",
        "Mon 20",
        "Fri 24",
    ]  # Fri 27 09:30 is before T0


def test_monthly_on_the_31st_clamps_to_shorter_months():
    r = Recurrence(frequency="Month", start_time=datetime(2026, 1, 31, 8, 0))
    assert [(d.month, d.day) for d in dues(r, 3)] == [(3, 31), (4, 30), (5, 31)]


def test_cron_in_a_time_zone_and_the_end_time():
    r = Recurrence(cron="0 6 * * 1-5", time_zone="America/New_York", end_time=datetime(2026, 4, 1, 0, 0))
    got = dues(r, 3)
    assert got[:2] == [datetime(2026, 3, 30, 10, tzinfo=UTC), datetime(2026, 3, 31, 10, tzinfo=UTC)]
    assert got[2] is None  # past the end


def test_latest_due_is_the_last_missed_time():
    r = Recurrence(frequency="Minute", interval=10)
    at = T0 + timedelta(hours=5, minutes=3)
    assert r.latest_due(at, T0 + timedelta(minutes=10), T0) == T0 + timedelta(hours=5)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"frequency": "Day", "cron": "* * * * *"}, "cron"),
        ({}, "frequency"),
        ({"frequency": "Hour", "hours": [3]}, "hours"),
        ({"frequency": "Day", "week_days": ["Monday"]}, "week_days"),
        ({"frequency": "Day", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"frequency": "Day", "hours": [24]}, "hours"),
    ],
)
def test_inconsistent_recurrences_are_refused(body, field):
    with pytest.raises(ValidationError) as caught:
        Recurrence.model_validate(body)
    assert field in str(caught.value)
