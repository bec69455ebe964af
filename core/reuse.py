"""Step-output reuse: a node whose component, parameters and input contents are unchanged takes
the outputs of the run that computed them, as the designer's cached results do.

The key holds no volatile ids: the component's id and version, its parameters after
validation (so an explicit default equals an omitted one), and the content address of each
input (artifact references are SHA-256 names; dataset references name an immutable version).
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from core.components import Component, Params
from core.store import Store

if TYPE_CHECKING:
    from core.planner import Plan

TABLE = "nodecache"


class CachedNode(BaseModel):
    run_id: str
    node_id: str
    outputs: dict[str, str]
    metrics: dict[str, Any] = {}
    plots: dict[str, str] = {}
    logs: list[str] = []


def cache_key(component: type[Component], params: Params, inputs: dict[str, str]) -> str:
    identity = {"component": component.id, "version": component.version,
                "parameters": params.model_dump(mode="json"), "inputs": dict(sorted(inputs.items()))}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def find(store: Store, key: str) -> CachedNode | None:
    entity = store.get(TABLE, key, "")
    if entity is None:
        return None
    return CachedNode(run_id=entity["run_id"], node_id=entity["node_id"],
                      **{k: json.loads(entity[k]) for k in ("outputs", "metrics", "plots", "logs")})


def remember(store: Store, key: str, node: CachedNode) -> None:
    entity = {"PartitionKey": key, "RowKey": "", "run_id": node.run_id, "node_id": node.node_id,
              "created_at": datetime.now(UTC),
              **{k: json.dumps(getattr(node, k), default=str) for k in ("outputs", "metrics", "plots", "logs")}}
    store.upsert(TABLE, entity, merge=False)


def resolve_at_submit(store: Store, plan: "Plan") -> dict[str, CachedNode]:
    """The nodes whose outputs can be reused without running anything, in plan order.

    A node resolves when it is deterministic, not asked to regenerate, every node it reads from
    resolved, and the key of those inputs is known; the rest run (and may still reuse an
    output at run time, when an upstream node recomputes an output seen before).
    """
    from core.components import lookup
    from core.graph import parse_parameters

    resolved: dict[str, CachedNode] = {}
    for node_id in (n for stage in plan.stages for n in stage):
        node = plan.nodes[node_id]
        component = lookup(node.component)
        if component is None or not component.deterministic or node.regenerate:
            continue
        if any(ref.node not in resolved or ref.port not in resolved[ref.node].outputs
               for ref in node.inputs.values()):
            continue
        inputs = {port: resolved[ref.node].outputs[ref.port] for port, ref in node.inputs.items()}
        cached = find(store, cache_key(component, parse_parameters(component, node.parameters), inputs))
        if cached is not None:
            resolved[node_id] = cached
    return resolved
