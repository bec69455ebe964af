"""Running activity functions on a worker pool, with the worker's own conversions.

In Azure, activities run in language-worker processes, and the host passes inputs
and outputs as JSON text that the worker decodes and encodes with
``azure.functions.durable_functions.ActivityTriggerConverter``. devhost does the
same: by default each worker is a separate process (spawned, never forked, because
the host has threads) that imports the app module by name, so the activities of one
fan-out really run side by side on several cores. A thread pool is available for
tests that define their app inside the test module.

Worker processes die with their host, however it ends (SIGKILL included): each one
watches its parent and, once orphaned, kills its own children (script sandboxes)
and exits. PR_SET_PDEATHSIG would not do: it fires when the *thread* that started
the worker ends, and pool workers are started from short-lived orchestration threads.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Literal

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter
from threadpoolctl import threadpool_limits

from .app_index import ActivityFunction, AppIndex, load_app
from .invoke import call_sync, with_context

WorkerKind = Literal["process", "thread"]


@dataclass(frozen=True)
class ActivityOutcome:
    """What the host learns from one activity execution (picklable)."""

    output_json: str | None = None
    reason: str | None = None  # set when the activity failed
    details: str | None = None

    @property
    def failed(self) -> bool:
        return self.reason is not None


def run_activity(activity: ActivityFunction, input_json: str | None) -> ActivityOutcome:
    """Decode the input, call the function, encode the output; failures become data."""
    try:
        value = ActivityTriggerConverter.decode(
            meta.Datum(type="json", value=input_json or "null"), trigger_metadata={}
        )
        kwargs = with_context(activity.func, activity.name, {activity.input_arg: value})
        result = call_sync(activity.func, kwargs)
        return ActivityOutcome(output_json=ActivityTriggerConverter.encode(result, expected_type=None).value)
    except Exception as error:  # the activity's failure is reported, not raised
        return ActivityOutcome(
            reason=f"Activity function '{activity.name}' failed: {type(error).__name__}: {error}",
            details="".join(traceback.format_exception(error)),
        )


def _missing_activity(name: str) -> ActivityOutcome:
    return ActivityOutcome(
        reason=f"The function '{name}' doesn't exist, is disabled, or is not an activity function.",
        details="",
    )


class ActivityPool:
    """Executes activities by name and hands back futures of ActivityOutcome."""

    def __init__(
        self,
        activities: Mapping[str, ActivityFunction],
        *,
        kind: WorkerKind = "process",
        size: int | None = None,
        app_ref: str | None = None,
    ) -> None:
        if kind not in ("process", "thread"):
            raise ValueError(f"unknown worker kind {kind!r}")
        if kind == "process" and not app_ref:
            raise ValueError("process workers need app_ref, the app's importable module name")
        self._activities = dict(activities)
        self._kind = kind
        self._size = size or os.cpu_count() or 1
        self._app_ref = app_ref
        self._restart_lock = threading.Lock()
        self._executor = self._new_executor()

    def submit(self, name: str, input_json: str | None) -> cf.Future[ActivityOutcome]:
        """Queue one execution. The future never raises for activity errors, but it
        does raise BrokenProcessPool if a worker process died while running it."""
        if name not in self._activities:
            future: cf.Future[ActivityOutcome] = cf.Future()
            future.set_result(_missing_activity(name))
            return future
        if self._kind == "thread":
            return self._executor.submit(run_activity, self._activities[name], input_json)
        executor = self._executor
        try:
            return executor.submit(_run_in_worker, name, input_json)
        except BrokenProcessPool:  # a worker died (os._exit, segfault, OOM kill): start afresh
            with self._restart_lock:
                if self._executor is executor:
                    logging.getLogger(__name__).warning("activity worker pool broken; restarting it")
                    self._executor = self._new_executor()
            return self._executor.submit(_run_in_worker, name, input_json)

    def _new_executor(self) -> cf.Executor:
        if self._kind == "thread":
            return cf.ThreadPoolExecutor(self._size, thread_name_prefix="activity")
        assert self._app_ref is not None  # checked in __init__ for process workers
        executor = cf.ProcessPoolExecutor(
            self._size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._app_ref, logging.getLogger().level, max(1, (os.cpu_count() or 1) // self._size)),
        )
        # Start every worker now: the app import cost is paid before the first fan-out,
        # and an app that fails to import fails the host at start-up.
        for future in [executor.submit(os.getpid) for _ in range(self._size)]:
            future.result()
        return executor

    def shutdown(self) -> None:
        """Drop queued activities and wait for the running ones."""
        self._executor.shutdown(wait=True, cancel_futures=True)


# -- inside a worker process ------------------------------------------------------
_worker_activities: dict[str, ActivityFunction] = {}


# How often an activity worker checks that its host is still alive.
PARENT_CHECK_SECONDS = 0.2


def _init_worker(app_ref: str, log_level: int, native_threads: int) -> None:
    # Ctrl+C reaches the whole process group; the host stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_when_orphaned, args=(os.getppid(),), daemon=True, name="host-watchdog"
    ).start()
    logging.basicConfig(level=log_level, format="%(levelname)s [activity worker] %(name)s: %(message)s")
    quiet_storage_logs()
    _worker_activities.update(AppIndex.from_app(load_app(app_ref)).activities)
    # Workers run side by side on the cores: each OpenMP/BLAS pool sized for the whole machine
    # would make them fight (measured: boosted-tree scoring 1.5x slower). Share the cores out.
    threadpool_limits(limits=native_threads)


def _run_in_worker(name: str, input_json: str | None) -> ActivityOutcome:
    return run_activity(_worker_activities[name], input_json)


def quiet_storage_logs() -> None:
    """The Azure SDKs log every request and response at INFO: only their warnings."""
    logging.getLogger("azure").setLevel(logging.WARNING)


def _exit_when_orphaned(host_pid: int) -> None:
    """Once the host is gone (the worker is re-parented), kill our children and exit."""
    while os.getppid() == host_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    for child in child_pids(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    os._exit(1)


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (from /proc; empty where there is none)."""
    children = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == parent:
                children.append(int(entry))
    return children
