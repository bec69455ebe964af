"""The names of the tables the app keeps its records in: one place, imported by every record module.

``infra/`` creates exactly these (a test keeps them in step with :data:`ALL`); the garbage
collector and the lifecycle use cases scan them by these names too.
"""

from __future__ import annotations

DRAFTS = "pipelines"
RUNS = "runs"
RUN_NODES = "runnodes"
DATASETS = "datasets"
ENDPOINTS = "endpoints"
ENDPOINT_VERSIONS = "endpointversions"
ENDPOINT_AUDIT = "endpointaudit"
REALTIME_ENDPOINTS = "realtimeendpoints"
REALTIME_KEYS = "realtimekeys"
ASSETS = "assets"
NODE_CACHE = "nodecache"
SCHEDULES = "schedules"
SCHEDULE_FIRINGS = "schedulefirings"
SCHEDULE_BLOBS = "scheduleblobs"

ALL: tuple[str, ...] = (
    DRAFTS,
    RUNS,
    RUN_NODES,
    DATASETS,
    ENDPOINTS,
    ENDPOINT_VERSIONS,
    ENDPOINT_AUDIT,
    REALTIME_ENDPOINTS,
    REALTIME_KEYS,
    ASSETS,
    NODE_CACHE,
    SCHEDULES,
    SCHEDULE_FIRINGS,
    SCHEDULE_BLOBS,
)
