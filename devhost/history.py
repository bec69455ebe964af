"""The Durable Task protocol between the host and the Python SDK's replay engine.

Each orchestrator call (an *episode*) sends the whole history of the instance; the
SDK replays the generator over it and answers with the list of actions the
orchestrator has asked for so far. The numbers below are the SDK's
``HistoryEventType`` and ``ActionType`` values (azure-functions-durable 1.7.0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import IntEnum
from typing import Any


class EventType(IntEnum):
    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13


class ActionType(IntEnum):
    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    WHEN_ANY = 11
    WHEN_ALL = 12


# What the Durable extension advertises (OrchestrationContextToString): with these
# the SDK answers in replay schema V3, one flat append-only action list in which
# fan-outs appear as WhenAll/WhenAny compound actions.
UPPER_SCHEMA_VERSION = 1
UPPER_SCHEMA_VERSION_NEW = 2

_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_timestamp(moment: dt.datetime) -> str:
    """History timestamps must be UTC with a ``Z``: the SDK compares them with aware
    datetimes, and a naive one breaks ``current_utc_datetime`` arithmetic."""
    return moment.astimezone(dt.UTC).strftime(_TIMESTAMP)


def parse_timestamp(text: str) -> dt.datetime:
    """Read a history timestamp, or a timer's ``fireAt`` (the SDK writes the same format)."""
    return dt.datetime.strptime(text, _TIMESTAMP).replace(tzinfo=dt.UTC)


def event(event_type: EventType, timestamp: dt.datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    """A history event in the JSON shape the SDK's ``HistoryEvent`` reads."""
    return {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_timestamp(timestamp),
        **fields,
    }


def execution_started(
    name: str, instance_id: str, execution_id: str, input_json: str | None, timestamp: dt.datetime
) -> dict[str, Any]:
    # The SDK reads ``Version`` unconditionally (AttributeError without it).
    return event(
        EventType.EXECUTION_STARTED,
        timestamp,
        Name=name,
        Version="",
        Input=input_json,
        ParentInstance=None,
        Tags=None,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
    )


def atomic_actions(action: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The non-compound actions inside ``action``, in the order the SDK numbers them."""
    if action["actionType"] in (ActionType.WHEN_ALL, ActionType.WHEN_ANY):
        for child in action["compoundActions"]:
            yield from atomic_actions(child)
    else:
        yield action
