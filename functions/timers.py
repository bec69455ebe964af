"""Timer-triggered functions: the schedule tick, every minute.

Every instance of the app runs the tick; the claims in ``core.schedules.records`` make each due time
start exactly one run however many ticks overlap. The same tick is served over HTTP
(``POST /api/maintenance/schedules/tick``) for operators and for the local host's tests.
"""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from core.schedules.tick import Started
from functions import answers as a
from functions.common import json_errors, json_response, log, service
from functions.openapi import api
from functions.orchestration import ORCHESTRATOR

bp = df.Blueprint()
EVERY_MINUTE = "0 * * * * *"  # NCRONTAB: second minute hour day month day-of-week


async def run_due_schedules(client: df.DurableOrchestrationClient) -> list[Started]:
    """Claim and record what is due, then start each run's orchestration (id = run id)."""
    started = await asyncio.to_thread(service().schedules.tick)
    for item in started:
        try:
            await client.start_new(
                ORCHESTRATOR, instance_id=item.run.run_id, client_input=item.job.model_dump(mode="json")
            )
        except Exception as exc:
            log.exception("could not start scheduled run %s", item.run.run_id)
            await asyncio.to_thread(
                service().runs.start_failed, item.run, f"The run could not be started: {exc}"
            )
    return started


@bp.timer_trigger(arg_name="timer", schedule=EVERY_MINUTE, use_monitor=False)
@bp.durable_client_input(client_name="client")
async def schedule_tick(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    started = await run_due_schedules(client)
    if started:
        log.info("schedules started %d run(s): %s", len(started), [s.run.run_id for s in started])


@bp.route(route="maintenance/schedules/tick", methods=["POST"])
@bp.durable_client_input(client_name="client")
@api("Run the schedule tick now, as the timer does", response=a.TickAnswer, errors=())
@json_errors
async def schedule_tick_now(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Run the tick now (as the timer would): what it started."""
    started = await run_due_schedules(client)
    return json_response(
        {
            "started": [
                {
                    "Id": s.run.run_id,
                    "experiment": s.run.experiment,
                    "status_url": f"/api/runs/{s.run.run_id}",
                }
                for s in started
            ]
        }
    )
