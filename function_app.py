"""The Functions entry point: build the app and register the blueprints. Nothing else."""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from functions import (
    blob_scoring,
    http_compare,
    http_datasets,
    http_endpoints,
    http_export,
    http_file_drop,
    http_lifecycle,
    http_maintenance,
    http_pipelines,
    http_realtime,
    http_schedules,
    http_ui,
    openapi,
    orchestration,
    timers,
)

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (
    http_pipelines.bp,
    http_datasets.bp,
    http_endpoints.bp,
    http_realtime.bp,
    http_export.bp,
    http_schedules.bp,
    http_lifecycle.bp,
    http_maintenance.bp,
    http_compare.bp,
    http_file_drop.bp,
    openapi.bp,
    http_ui.bp,
    orchestration.bp,
    blob_scoring.bp,
    timers.bp,
):
    app.register_functions(blueprint)
