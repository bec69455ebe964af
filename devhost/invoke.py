"""Calling user functions the way the Python worker does.

The worker passes bindings as keyword arguments named after the binding, adds a
``context`` argument only when the function declares one, awaits ``async def``
functions on its event loop and runs plain functions on a thread pool so that one
slow request does not stall the others.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import azure.functions as func
from azure.functions._abc import RetryContext, TraceContext


class _TraceContext(TraceContext):
    def __init__(self, trace_parent: str = "", trace_state: str = "") -> None:
        self._trace_parent, self._trace_state = trace_parent, trace_state

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(RetryContext):
    """devhost never retries a trigger on its own: always the first attempt."""

    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """The ``context`` argument: what the worker's own Context object exposes."""

    def __init__(self, function_name: str, trace_parent: str = "", trace_state: str = "") -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._trace = _TraceContext(trace_parent, trace_state)
        self._thread_local = threading.local()
        self._thread_local.invocation_id = self._invocation_id

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return os.getcwd()  # the app root, where function_app.py lives

    @property
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        return self._thread_local

    @property
    def trace_context(self) -> _TraceContext:
        return self._trace

    @property
    def retry_context(self) -> _RetryContext:
        return _RetryContext()


def with_context(
    fn: Callable[..., Any],
    function_name: str,
    kwargs: Mapping[str, Any],
    trace_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``kwargs`` plus ``context=`` when ``fn`` has a parameter named ``context``.

    The durable-client middleware is wrapped with functools.wraps, so its signature
    is the user function's and this check sees the user's parameters.
    """
    kwargs = dict(kwargs)
    if _takes_context(fn):
        headers = trace_headers or {}
        kwargs["context"] = InvocationContext(
            function_name, headers.get("traceparent", ""), headers.get("tracestate", "")
        )
    return kwargs


@functools.lru_cache(maxsize=1024)
def _takes_context(fn: Callable[..., Any]) -> bool:
    """Read once per function: ``inspect.signature`` costs more than many a request."""
    return "context" in inspect.signature(fn).parameters


async def call_async(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Await ``async def`` functions here; run the others on the default thread pool."""
    if inspect.iscoroutinefunction(fn):
        return await fn(**kwargs)
    result = await asyncio.to_thread(fn, **kwargs)
    return await result if inspect.isawaitable(result) else result


def call_sync(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Call from a thread with no event loop (activity workers)."""
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable
