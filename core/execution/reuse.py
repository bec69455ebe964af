"""Step-output reuse: a node whose component, parameters and input contents are unchanged takes
the outputs of the run that computed them, as the designer's cached results do.

The key holds no volatile ids: the component's id and version, its parameters after
validation (so an explicit default equals an omitted one), the content address of each input
(artifact references are SHA-256 names; dataset references name an immutable version), and the
library releases a stored model needs to load (``artifacts.compatibility_stamp``).
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from core.components import Component, Params
from core.storage import tables
from core.storage.artifacts import compatibility_stamp
from core.storage.records import NO_KEY, EntityMap, fixed
from core.storage.store import Store

if TYPE_CHECKING:
    from core.pipelines.planner import Plan

TABLE = tables.NODE_CACHE


class CachedNode(BaseModel):
    run_id: str
    node_id: str
    outputs: dict[str, str]
    metrics: dict[str, Any] = {}
    plots: dict[str, str] = {}
    logs: list[str] = []


_MAP = EntityMap(
    CachedNode, partition=NO_KEY, row=fixed(""), json=frozenset({"outputs", "metrics", "plots", "logs"})
)


def cache_key(component: type[Component], params: Params, inputs: dict[str, str]) -> str:
    identity = {
        "component": component.id,
        "version": component.version,
        "parameters": params.model_dump(mode="json"),
        "inputs": dict(sorted(inputs.items())),
        "libraries": compatibility_stamp(),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def find(store: Store, key: str) -> CachedNode | None:
    entity = store.get(TABLE, key, "")
    if entity is None:
        return None
    return _MAP.record(entity)


def remember(store: Store, key: str, node: CachedNode) -> None:
    entity = {**_MAP.entity(node, partition=key), "created_at": datetime.now(UTC)}
    store.upsert(TABLE, entity, merge=False)


PLAN_ROW = "plan"


def plan_key(plan: Plan) -> str | None:
    """A fingerprint of everything the plan's outputs depend on, or None if some node may differ
    between runs (a non-deterministic component).

    Components, versions, parameters (datasets and assets are pinned to immutable versions by
    then) and the wiring; not run settings nor regenerate flags, which change how nodes run,
    not what they compute.
    """
    from core.components import lookup

    identity = {}
    for node_id, node in plan.nodes.items():
        component = lookup(node.component)
        if component is None or not component.deterministic:
            return None
        identity[node_id] = {
            "component": node.component,
            "version": node.version,
            "parameters": node.parameters,
            "inputs": {port: f"{ref.node}.{ref.port}" for port, ref in node.inputs.items()},
        }
    whole = {"nodes": identity, "libraries": compatibility_stamp()}
    return "plan-" + hashlib.sha256(json.dumps(whole, sort_keys=True, default=str).encode()).hexdigest()


def remember_plan(store: Store, key: str, node_keys: dict[str, str]) -> None:
    """After a run of the plan finished: each node's reuse key, so the next identical submission
    finds all of them with one read instead of one per node in order."""
    entity = {
        "PartitionKey": key,
        "RowKey": PLAN_ROW,
        "keys": json.dumps(node_keys, sort_keys=True),
        "created_at": datetime.now(UTC),
    }
    store.upsert(TABLE, entity, merge=False)


def resolve_at_submit(
    store: Store, plan: Plan, fingerprint: str | None = None
) -> dict[str, tuple[str, CachedNode]]:
    """The nodes whose outputs can be reused without running anything: node id -> (key, entry).

    A node resolves when it is deterministic, not asked to regenerate, every node it reads from
    resolved, and an output of those inputs was kept; the rest run (and may still reuse an
    output at run time, when an upstream node recomputes an output seen before). A plan seen
    finished before resolves at once from its fingerprint's entry.
    """
    if fingerprint and not any(node.regenerate for node in plan.nodes.values()):
        whole = _resolve_plan(store, plan, fingerprint)
        if whole is not None:
            return whole
    from core.components import lookup
    from core.pipelines.document import parse_parameters

    resolved: dict[str, tuple[str, CachedNode]] = {}
    for node_id in (n for stage in plan.stages for n in stage):
        node = plan.nodes[node_id]
        component = lookup(node.component)
        if component is None or not component.deterministic or node.regenerate:
            continue
        if any(
            ref.node not in resolved or ref.port not in resolved[ref.node][1].outputs
            for ref in node.inputs.values()
        ):
            continue
        inputs = {port: resolved[ref.node][1].outputs[ref.port] for port, ref in node.inputs.items()}
        key = cache_key(component, parse_parameters(component, node.parameters), inputs)
        cached = find(store, key)
        if cached is not None:
            resolved[node_id] = (key, cached)
    return resolved


def _resolve_plan(store: Store, plan: Plan, fingerprint: str) -> dict[str, tuple[str, CachedNode]] | None:
    entity = store.get(TABLE, fingerprint, PLAN_ROW)
    if entity is None:
        return None
    keys: dict[str, str] = json.loads(entity["keys"])
    if set(keys) != set(plan.nodes):
        return None
    with ThreadPoolExecutor(max_workers=min(8, len(keys))) as pool:
        found = dict(zip(keys, pool.map(lambda key: find(store, key), keys.values()), strict=True))
    if any(entry is None for entry in found.values()):
        return None  # an entry went missing: resolve node by node
    return {node_id: (keys[node_id], entry) for node_id, entry in found.items() if entry is not None}
