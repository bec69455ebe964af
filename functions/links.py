"""The links an answer carries. Only the HTTP layer knows its routes, so only it builds URLs:
the use cases name runs, nodes, plots and endpoints, and these functions say where each is served."""

from __future__ import annotations

from typing import Any

from core.service.compare import Comparison
from core.serving.deployments import RealtimeEndpoint

API = "/api"


def draft(draft_id: str) -> str:
    return f"{API}/pipelines/{draft_id}"


def run_status(run_id: str) -> str:
    return f"{API}/runs/{run_id}"


def node_plot(run_id: str, node_id: str, name: str) -> str:
    return f"{API}/runs/{run_id}/nodes/{node_id}/plots/{name}"


def endpoint_version(endpoint: str, version: int) -> str:
    return f"{API}/pipelineendpoints/{endpoint}/versions/{version}"


def realtime(name: str) -> str:
    return f"{API}/realtime/{name}"


def realtime_score(name: str) -> str:
    return f"{API}/realtime/{name}/score"


def run(view: dict[str, Any]) -> dict[str, Any]:
    """A run's view with the link to poll it and, when it has its nodes, their plots' links."""
    linked = {**view, "status_url": run_status(view["run_id"])}
    if "nodes" in view:
        linked["nodes"] = {node_id: node(n, view["run_id"]) for node_id, n in view["nodes"].items()}
    return linked


def runs(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [run(v) for v in views]


def node(view: dict[str, Any], run_id: str) -> dict[str, Any]:
    """A node's view with each plot name turned into the link that serves the PNG."""
    return {**view, "plots": {name: node_plot(run_id, view["node_id"], name) for name in view["plots"]}}


def comparison(found: Comparison) -> dict[str, Any]:
    """A comparison with each overlaid curve's link (the same runs, in the same order)."""
    query = ",".join(r.run_id for r in found.runs)
    return {
        **found.model_dump(mode="json"),
        "plots": {name: f"{API}/compare/plots/{name}?runs={query}" for name in found.plots},
    }


def realtime_view(endpoint: RealtimeEndpoint) -> dict[str, Any]:
    """A real-time endpoint with the links a client scores and reads its schema at."""
    view = endpoint.model_dump(mode="json", by_alias=True)
    view["scoring_uri"] = realtime_score(endpoint.name)
    view["swagger_uri"] = f"{realtime(endpoint.name)}/swagger.json"
    return view
