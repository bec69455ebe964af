"""Timer triggers of the local host: schedule expressions, and calls with a TimerRequest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import azure.functions as func
import pytest

from devhost.app_index import AppIndex, TimerTriggerFunction
from devhost.timers import Occurrences, TimerService

T = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)


def test_ncrontab_has_seconds_first_and_timespans_repeat():
    assert Occurrences("0 */5 * * * *").next_after(T) == datetime(2030, 1, 1, 12, 5, tzinfo=UTC)
    assert Occurrences("30 0 12 * * *").next_after(T) == datetime(2030, 1, 2, 12, 0, 30, tzinfo=UTC)
    assert Occurrences("00:00:10").next_after(T) == datetime(2030, 1, 1, 12, 0, 40, tzinfo=UTC)
    assert Occurrences("1.00:00:00").next_after(T) == datetime(2030, 1, 2, 12, 0, 30, tzinfo=UTC)
    for bad in ("*/5 * * * *", "every minute", "00:00:00"):
        with pytest.raises(ValueError):
            Occurrences(bad)


def test_the_app_registers_its_schedule_tick_as_a_timer():
    import function_app

    timers = AppIndex.from_app(function_app.app).timer_triggers
    assert [(t.name, t.schedule) for t in timers] == [("schedule_tick", "0 * * * * *")]


def test_invoke_passes_a_timer_request_and_fires_on_schedule():
    calls: list[func.TimerRequest] = []

    async def on_timer(timer: func.TimerRequest) -> None:
        calls.append(timer)

    trigger = TimerTriggerFunction(
        name="tick",
        schedule="%TICK_SCHEDULE%",
        run_on_startup=True,
        arg="timer",
        durable_client_arg=None,
        func=on_timer,
    )
    service = TimerService([trigger], {"TICK_SCHEDULE": "00:00:01"})

    async def scenario() -> bool:
        assert await service.invoke("tick")
        missing = await service.invoke("no_such_timer")
        await service.start()
        await asyncio.sleep(1.5)  # on start-up, then once more a second later
        await service.stop()
        return missing

    assert asyncio.run(scenario()) is False
    assert len(calls) in (3, 4)
    assert all(isinstance(c, func.TimerRequest) and c.past_due is False for c in calls)
    assert "Next" in calls[0].schedule_status


def test_the_admin_api_fires_a_timer_function_now():
    from pathlib import Path

    import httpx

    from devhost.server import DevHost, DevHostConfig
    from tests.devhost import timer_app
    from tests.devhost.helpers import FUNCTION_KEY, LiveServer

    config = DevHostConfig(
        app="tests.devhost.timer_app",
        port=0,
        workers="thread",
        max_workers=1,
        function_key=FUNCTION_KEY,
        app_dir=Path(__file__).parent,
        log_level="warning",
    )
    with LiveServer(DevHost(config, settings={})) as server:
        url = f"{server.base_url}/admin/functions/yearly"
        assert httpx.post(url, json={"input": ""}).status_code == 401
        assert (
            httpx.post(url, json={"input": ""}, headers={"x-functions-key": FUNCTION_KEY}).status_code == 202
        )
        missing = httpx.post(
            f"{server.base_url}/admin/functions/nope", headers={"x-functions-key": FUNCTION_KEY}
        )
        assert missing.status_code == 404
    assert len(timer_app.CALLS) == 1 and isinstance(timer_app.CALLS[0], func.TimerRequest)
