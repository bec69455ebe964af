"""Runs whose orchestration is gone: found when the run is read, and ended as Failed.

A run is recorded as NotStarted/Running until its orchestration's last activity closes
it. If the orchestration ends any other way (terminated, failed in the orchestrator
itself, purged, lost with a host), nothing would ever close the run: reading it asks
the durable client, and a run that can no longer finish is failed with the reason.

A watched run is polled often (the studio, clients waiting for it): the durable client is
asked about one run at most every :data:`CHECK_EVERY` seconds in this process, so the polls
of a run in progress cost its storage reads only, and a run whose orchestration is gone is
still found within a few seconds.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.durable_functions as df
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from core.registry.runs import RunStatus
from functions.common import service

log = logging.getLogger("designer")

ACTIVE = {RunStatus.NOT_STARTED.value, RunStatus.RUNNING.value}
# A run is recorded just before its orchestration is started: a missing orchestration
# only counts once the run is older than this.
START_GRACE = timedelta(minutes=2)
# The termination reason a cancel gives: such a run ends Canceled, never Failed, even when it
# is read between the termination and the cancel's own record.
CANCEL_REASON = "canceled"
CHECK_EVERY = 2.0
_KNOWN = 10_000
_checked: OrderedDict[str, float] = OrderedDict()  # run id -> when its orchestration was asked about


def _due(run_id: str) -> bool:
    """Whether to ask about this run's orchestration now (and note that it was)."""
    now = time.monotonic()
    last = _checked.get(run_id)
    if last is not None and now - last < CHECK_EVERY:
        return False
    _checked[run_id] = now
    _checked.move_to_end(run_id)
    while len(_checked) > _KNOWN:
        _checked.popitem(last=False)
    return True


def gone_reason(status: Any, created_at: datetime, now: datetime) -> str | None:
    """Why the orchestration behind a still-active run can never finish it, or None."""
    runtime = getattr(status, "runtime_status", None)
    if runtime is None:
        if now - created_at < START_GRACE:
            return None
        return "The run's orchestration no longer exists (purged, or lost with its host)."
    if runtime == OrchestrationRuntimeStatus.Terminated:
        return f"The run's orchestration was terminated: {status.output or 'no reason given'}"
    if runtime == OrchestrationRuntimeStatus.Failed:
        first_line = str(status.output or "").split("\n")[0]
        return f"The run's orchestration failed: {first_line}".rstrip(": ")
    if runtime == OrchestrationRuntimeStatus.Completed:
        return "The run's orchestration ended without recording the run's end."
    return None


async def settle(client: df.DurableOrchestrationClient, view: dict[str, Any]) -> dict[str, Any]:
    """``view`` (a run as ``Service.get_run`` shows it), failed first if its orchestration is gone."""
    if view.get("status") not in ACTIVE:
        return view
    run_id = view["run_id"]
    if not _due(run_id):
        return view
    try:
        status = await client.get_status(run_id)
    except Exception:  # the durable API is unreachable: say nothing rather than guess
        log.warning("could not read the orchestration of run %s", run_id, exc_info=True)
        return view
    if (
        getattr(status, "runtime_status", None) == OrchestrationRuntimeStatus.Terminated
        and status.output == CANCEL_REASON
    ):
        return _shaped(view, service().runs.record_canceled(run_id))
    created_at = datetime.fromisoformat(view["created_at"])
    reason = gone_reason(
        status, created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC), datetime.now(UTC)
    )
    failed = service().runs.fail_orphaned(run_id, reason) if reason else None
    if failed is not None:
        log.error("run %s failed: %s", run_id, reason)
        return _shaped(view, failed)
    return view


async def settle_all(
    client: df.DurableOrchestrationClient, views: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """:func:`settle` for a list of runs (only the active ones cost a status query)."""
    return [await settle(client, view) for view in views]


def _shaped(view: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    """The run as the use case left it, in the shape ``view`` had (a list entry has no nodes)."""
    return fresh if "nodes" in view else {k: v for k, v in fresh.items() if k in view}
