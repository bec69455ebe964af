"""A pipeline document as readable YAML, and back.

The YAML names components, parameters and ports by their designer names, leaves out what is
at its default (no ``version``, ``comment`` or ``regenerate_output`` unless set), and keeps
the canvas layout (each node's ``position``) apart in a ``layout`` mapping at the end, so a
reviewer reads the pipeline first and the coordinates last. Exporting is canonical (parameters and
the mappings inside their values in key order, as the service stores them): export, import,
save, export again gives the same bytes.

Only ``yaml.safe_load`` reads YAML here: a document cannot construct Python objects.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.components import Component, lookup
from core.errors import InvalidRequest, Problem
from core.pipelines.document import canonical_parameter

LAYOUT = "layout"
NODE_LAYOUT_FIELDS = ("position",)
MEDIA_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
_TOP = ("name", "description", "kind", "source_run", "nodes", "edges", "parameters", "outputs")


class _Flow(dict):
    """A small mapping written on one line (an edge, a position)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)


def is_yaml(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in MEDIA_TYPES


def to_yaml(document: dict[str, Any]) -> str:
    """The JSON form of a pipeline (``Pipeline.model_dump(mode="json")``) as canonical YAML."""
    out: dict[str, Any] = {}
    for key in _TOP:
        if key not in document:
            continue
        value = document[key]
        if key in ("description", "source_run") and not value:
            continue
        if key in ("edges", "parameters", "outputs") and not value:
            continue
        out[key] = value
    components = {n["id"]: lookup(n["component"]) for n in document.get("nodes", []) if "id" in n}
    out["nodes"] = [_node(n, components.get(n.get("id"))) for n in document.get("nodes", [])]
    if document.get("edges"):
        out["edges"] = [
            _Flow(
                source=port_name(e["source"], components, output=True),
                target=port_name(e["target"], components, output=False),
            )
            for e in document["edges"]
        ]
    if document.get("parameters"):
        out["parameters"] = [_pipeline_parameter(p, components) for p in document["parameters"]]
    if document.get("outputs"):
        out["outputs"] = [port_name(ref, components, output=True) for ref in document["outputs"]]
    layout = {
        n["id"]: _Flow(n[f])
        for n in document.get("nodes", [])
        for f in NODE_LAYOUT_FIELDS
        if isinstance(n.get(f), dict)
    }
    if layout:
        out[LAYOUT] = layout
    return yaml.dump(
        out, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def from_yaml(text: str | bytes) -> dict[str, Any]:
    """A pipeline document (to validate as :class:`core.pipelines.document.Pipeline`) from YAML text.

    :class:`InvalidRequest` if the text is not YAML or not a mapping; the layout goes back
    onto its nodes (a layout entry for an unknown node is reported).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InvalidRequest(
            "The body is not valid YAML",
            [
                Problem(
                    code="invalid_yaml",
                    field="body",
                    message=f"{getattr(exc, 'problem', None) or exc}{where}",
                )
            ],
        ) from exc
    if not isinstance(data, dict):
        raise InvalidRequest(
            "The YAML must be a mapping",
            [Problem(code="invalid_yaml", field="body", message="Send a pipeline: name, nodes, edges, ...")],
        )
    layout = data.pop(LAYOUT, None) or {}
    if not isinstance(layout, dict):
        raise InvalidRequest(
            "layout must map node ids to positions",
            [Problem(code="invalid_layout", field=LAYOUT, message="layout: {node id: {x: .., y: ..}}")],
        )
    nodes = data.get("nodes")
    by_id = {n.get("id"): n for n in nodes if isinstance(n, dict)} if isinstance(nodes, list) else {}
    unknown = [
        Problem(
            code="unknown_node",
            node=str(node_id),
            field=f"{LAYOUT}.{node_id}",
            message=f"layout names no node {node_id!r}",
        )
        for node_id in layout
        if node_id not in by_id
    ]
    if unknown:
        raise InvalidRequest("The layout names unknown nodes", unknown)
    for node_id, position in layout.items():
        by_id[node_id]["position"] = position
    return data


# ---- canonical names ---------------------------------------------------------------------------
def _node(node: dict[str, Any], component: type[Component] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": node.get("id"),
        "component": component.name if component else node.get("component"),
    }
    if node.get("version") is not None:
        out["version"] = node["version"]
    if node.get("comment"):
        out["comment"] = node["comment"]
    if node.get("regenerate_output"):
        out["regenerate_output"] = True
    parameters = node.get("parameters") or {}
    if parameters:
        named = {parameter_name(component, k): v for k, v in parameters.items()}
        out["parameters"] = {k: _sorted(named[k]) for k in sorted(named)}
    extra = {
        k: v
        for k, v in node.items()
        if k not in out
        and k not in ("parameters", "regenerate_output", "comment", "version")
        and k not in NODE_LAYOUT_FIELDS
        and v is not None
    }
    out.update(extra)  # fields a later document version adds travel too
    return out


def _sorted(value: Any) -> Any:
    """Mappings inside values in key order: the service stores documents with sorted keys, so
    this is the only order that survives a save (and keeps a second export byte-identical)."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def parameter_name(component: type[Component] | None, key: str) -> str:
    """The designer's display name of a parameter (its alias), else the name as given."""
    if component is None:
        return key
    name = canonical_parameter(component, key)
    if name is None:
        return key
    return component.Parameters.model_fields[name].alias or name


def port_name(ref: Any, components: dict[str, type[Component] | None], output: bool) -> str:
    """``node.Port name``: the designer's port name where the node and port are known."""
    if isinstance(ref, dict):
        node_id, port = ref.get("node", ""), ref.get("port", "")
    else:
        node_id, _, port = str(ref).partition(".")
    component = components.get(node_id)
    found = (component.output_port(port) if output else component.input_port(port)) if component else None
    return f"{node_id}.{found.name if found else port}"


def _pipeline_parameter(
    param: dict[str, Any], components: dict[str, type[Component] | None]
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param["name"]}
    if param.get("default") is not None:
        out["default"] = _sorted(param["default"])
    if param.get("description"):
        out["description"] = param["description"]
    out["bindings"] = [
        _Flow(node=b["node"], parameter=parameter_name(components.get(b["node"]), b["parameter"]))
        for b in param.get("bindings", [])
    ]
    return out
