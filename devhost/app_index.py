"""Read what a Functions app registered, the way the Functions host does at start-up.

The Python v2 programming model keeps everything on the app object: each decorated
function becomes an ``azure.functions.decorators.function_app.Function`` with one
trigger and some bindings. The host asks the worker for that list once (the worker
calls ``app.get_functions()``); devhost does the same and sorts the result into the
few kinds of function it knows how to run.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Binding type names as they appear in function.json / get_dict_repr().
HTTP_TRIGGER = "httpTrigger"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
BLOB_TRIGGER = "blobTrigger"
TIMER_TRIGGER = "timerTrigger"
DURABLE_CLIENT = "durableClient"
HTTP_OUTPUT = "http"

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class HttpFunction:
    """An HTTP-triggered function and everything needed to route and call it."""

    name: str
    route: str
    methods: frozenset[str] | None  # upper-case; None means every method
    auth_level: str  # "anonymous" | "function" | "admin"
    trigger_arg: str
    durable_client_arg: str | None
    func: Callable[..., Any]


@dataclass(frozen=True)
class OrchestratorFunction:
    """An orchestrator. ``func`` is the SDK's ``handle(context) -> state JSON``."""

    name: str
    func: Callable[..., str]


@dataclass(frozen=True)
class ActivityFunction:
    """An activity. The worker passes the decoded input as keyword ``input_arg``."""

    name: str
    input_arg: str
    func: Callable[..., Any]


@dataclass(frozen=True)
class BlobTriggerFunction:
    """A blob-triggered function watching ``path`` (``container/pattern``)."""

    name: str
    path: str
    connection: str
    arg: str
    durable_client_arg: str | None
    func: Callable[..., Any]

    @property
    def container(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def blob_pattern(self) -> str:
        """The part of ``path`` after the container, e.g. ``{endpoint}/{name}``."""
        return self.path.split("/", 1)[1] if "/" in self.path else "{name}"


@dataclass(frozen=True)
class TimerTriggerFunction:
    """A timer-triggered function: an NCRONTAB (six fields, seconds first) or TimeSpan schedule."""

    name: str
    schedule: str
    run_on_startup: bool
    arg: str
    durable_client_arg: str | None
    func: Callable[..., Any]


@dataclass
class AppIndex:
    """The functions of one app, grouped by the way devhost runs them."""

    http: list[HttpFunction] = field(default_factory=list)
    orchestrators: dict[str, OrchestratorFunction] = field(default_factory=dict)
    activities: dict[str, ActivityFunction] = field(default_factory=dict)
    blob_triggers: list[BlobTriggerFunction] = field(default_factory=list)
    timer_triggers: list[TimerTriggerFunction] = field(default_factory=list)

    @classmethod
    def from_app(cls, app: Any) -> AppIndex:
        """Index a ``func.FunctionApp`` / ``df.DFApp`` (anything with ``get_functions``)."""
        functions = app.get_functions()
        # get_functions() caches the bindings it validated on the app and refuses a
        # second call ("does not have a unique function name"); clearing the cache
        # lets the app be indexed again (by the activity workers, by tests, ...).
        app.functions_bindings = None
        index = cls()
        for function in functions:
            index._add(function)
        return index

    def _add(self, function: Any) -> None:
        trigger = function.get_trigger()
        kind = trigger.get_binding_name()
        name = function.get_function_name()
        user_function = function.get_user_function()
        durable_client_arg = _durable_client_arg(function)
        _warn_unsupported_bindings(name, function, trigger)

        if kind == HTTP_TRIGGER:
            methods = trigger.methods
            self.http.append(
                HttpFunction(
                    name=name,
                    route=trigger.route or name,
                    methods=frozenset(_enum_value(m).upper() for m in methods) if methods else None,
                    auth_level=_enum_value(trigger.auth_level or "function").lower(),
                    trigger_arg=trigger.name,
                    durable_client_arg=durable_client_arg,
                    func=user_function,
                )
            )
        elif kind == ORCHESTRATION_TRIGGER:
            # ``orchestration=`` overrides the name clients use to start it.
            orchestration = getattr(trigger, "orchestration", None) or name
            self.orchestrators[orchestration] = OrchestratorFunction(orchestration, user_function)
        elif kind == ACTIVITY_TRIGGER:
            activity = getattr(trigger, "activity", None) or name
            self.activities[activity] = ActivityFunction(activity, trigger.name, user_function)
        elif kind == BLOB_TRIGGER:
            self.blob_triggers.append(
                BlobTriggerFunction(
                    name=name,
                    path=trigger.path,
                    connection=trigger.connection or "AzureWebJobsStorage",
                    arg=trigger.name,
                    durable_client_arg=durable_client_arg,
                    func=user_function,
                )
            )
        elif kind == TIMER_TRIGGER:
            self.timer_triggers.append(
                TimerTriggerFunction(
                    name=name,
                    schedule=trigger.schedule,
                    run_on_startup=bool(trigger.run_on_startup),
                    arg=trigger.name,
                    durable_client_arg=durable_client_arg,
                    func=user_function,
                )
            )
        else:
            log.warning("devhost does not run %s triggers; function %r is ignored", kind, name)


def load_app(ref: str) -> Any:
    """Import ``module`` or ``module:attribute`` (default attribute ``app``)."""
    module_name, _, attribute = ref.partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute or "app")
    except AttributeError:
        raise LookupError(f"module {module_name!r} has no attribute {attribute or 'app'!r}") from None


def _durable_client_arg(function: Any) -> str | None:
    for binding in function.get_bindings():
        if binding.get_binding_name() == DURABLE_CLIENT:
            return binding.name
    return None


def _warn_unsupported_bindings(name: str, function: Any, trigger: Any) -> None:
    """Extra input/output bindings (blob_input, queue_output, ...) are not wired up."""
    known = {DURABLE_CLIENT, HTTP_OUTPUT}
    for binding in function.get_bindings():
        if binding is not trigger and binding.get_binding_name() not in known:
            log.warning(
                "devhost does not provide %s binding %r of function %r",
                binding.get_binding_name(),
                binding.name,
                name,
            )


def _enum_value(value: Any) -> str:
    """Decorators accept both enums (``func.AuthLevel.ADMIN``) and plain strings."""
    return str(getattr(value, "value", value))
