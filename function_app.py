"""The Functions entry point: build the app and register the blueprints. Nothing else."""
import azure.durable_functions as df
import azure.functions as func

from functions import blob_scoring, http_datasets, http_endpoints, http_pipelines, http_realtime, http_ui, orchestration

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (http_pipelines.bp, http_datasets.bp, http_endpoints.bp, http_realtime.bp,
                  orchestration.bp, blob_scoring.bp, http_ui.bp):
    app.register_functions(blueprint)
