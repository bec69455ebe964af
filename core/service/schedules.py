"""The schedule use cases behind ``Service.schedules``: validate, record, view, tick."""

from __future__ import annotations

import builtins
from typing import Any

from core.clock import Clock
from core.components import lookup
from core.components.data import Dataset
from core.errors import InvalidRequest, Problem
from core.pipelines.document import Pipeline
from core.registry import endpoints
from core.schedules import records as schedules
from core.schedules import tick as schedule_tick
from core.schedules.records import ScheduleSpec, ScheduleStatus
from core.schedules.tick import Started
from core.storage.artifacts import Artifacts
from core.storage.store import Store


class SchedulesService:
    def __init__(self, store: Store, artifacts: Artifacts, clock: Clock, submit: schedules.Submit) -> None:
        self._store, self._artifacts, self.clock = store, artifacts, clock
        self._scheduler = schedule_tick.Scheduler(store, clock, submit)

    def create(self, endpoint: str, spec: ScheduleSpec, by: str | None) -> dict[str, Any]:
        self._check(endpoint, spec)
        schedule = schedules.create(self._store, endpoint, spec, self.clock.now(), by)
        return schedules.view(self._store, schedule)

    def replace(
        self, endpoint: str, schedule_id: str, spec: ScheduleSpec, etag: str | None
    ) -> dict[str, Any]:
        self._check(endpoint, spec)
        schedule = schedules.replace(self._store, endpoint, schedule_id, spec, self.clock.now(), etag)
        return schedules.view(self._store, schedule)

    def set_status(self, endpoint: str, schedule_id: str, status: ScheduleStatus) -> dict[str, Any]:
        return schedules.view(
            self._store, schedules.set_status(self._store, endpoint, schedule_id, status, self.clock.now())
        )

    def get(self, endpoint: str, schedule_id: str) -> dict[str, Any]:
        return schedules.view(self._store, schedules.get(self._store, endpoint, schedule_id))

    def list(self, endpoint: str) -> list[dict[str, Any]]:
        endpoints.get(self._store, endpoint)
        return [schedules.view(self._store, s) for s in schedules.list_for(self._store, endpoint)]

    def delete(self, endpoint: str, schedule_id: str) -> None:
        schedules.delete(self._store, endpoint, schedule_id)

    def tick(self) -> builtins.list[Started]:
        """Record a run for every due time (and new blob) this instance claims."""
        return self._scheduler.tick()

    def _check(self, endpoint: str, spec: ScheduleSpec) -> None:
        found = endpoints.get(self._store, endpoint)
        version = spec.pipeline_version or found.default_version
        if version is None:
            raise InvalidRequest(
                "The endpoint has no default version",
                [
                    Problem(
                        code="no_default_version",
                        field="pipeline_version",
                        message="Name a pipeline_version, or set the endpoint's default first",
                    )
                ],
            )
        try:
            entry = endpoints.get_version(self._store, endpoint, version)
        except Exception as exc:
            raise InvalidRequest(
                f"No version {version}",
                [Problem(code="unknown_version", field="pipeline_version", message=str(exc))],
            ) from exc
        pipeline = Pipeline.model_validate(self._artifacts.get_json(entry.pipeline_ref))
        names = {p.name for p in pipeline.parameters}
        data_params = {
            p.name
            for p in pipeline.parameters
            if p.bindings and all(lookup(pipeline.node(b.node).component) is Dataset for b in p.bindings)
        }
        schedules.check_spec(spec, names, data_params)
