"""A pipeline document as a Python script that runs it in process with the service's components.

The script is meant to be read: one call per node, assigned to a variable named after the
node, in dependency order (document order where the graph leaves a choice), with the node's
parameters by their designer names. It imports ``core`` from this project, so it runs from a
checkout (or with the project's directory on ``PYTHONPATH``) with the project's requirements.
"""

from __future__ import annotations

import keyword
import pprint
import re
from typing import Any

from core.components import Component, lookup
from core.components.data import Dataset
from core.errors import InvalidRequest, Problem
from core.pipelines.document import Pipeline, canonical_parameter
from core.pipelines.yaml_io import parameter_name

INDENT = " " * 4


def to_script(pipeline: Pipeline) -> str:
    """The script's source; :class:`InvalidRequest` if the pipeline cannot run outside the service."""
    resolved = pipeline.with_assignments({})  # pipeline parameters at their defaults
    problems = resolved.validate() + _local_problems(resolved)
    if problems:
        raise InvalidRequest("The pipeline cannot be exported as a script", problems)
    names = _variable_names(resolved)
    body = [_call(resolved, node_id, names) for node_id in _order(resolved)]
    header = _docstring(resolved)
    return "\n".join(
        [
            "#!/usr/bin/env python3",
            header,
            "from __future__ import annotations",
            "",
            "import sys",
            "",
            "from core.pipelines.script_runtime import LocalRun, main",
            "",
            "",
            "def pipeline(run: LocalRun) -> None:",
            *body,
            "",
            "",
            'if __name__ == "__main__":',
            f"{INDENT}sys.exit(main(pipeline, {resolved.name!r}))",
            "",
        ]
    )


def _local_problems(pipeline: Pipeline) -> list[Problem]:
    problems = []
    for node in pipeline.nodes:
        component = lookup(node.component)
        if component is not None and component is not Dataset and _is_source(component):
            problems.append(
                Problem(
                    code="not_exportable",
                    node=node.id,
                    message=(
                        f"{component.name} reads a model or transformation stored in the service; a script "
                        "runs training pipelines (export the model itself as MLflow or ONNX instead)"
                    ),
                )
            )
    return problems


def _docstring(pipeline: Pipeline) -> str:
    datasets = [n for n in pipeline.nodes if lookup(n.component) is Dataset]
    names = sorted({str(_params(n)["name"]) for n in datasets})
    usage = " ".join(f"--data {name}=FILE.csv" for name in names) if len(names) > 1 else "--data FILE.csv"
    lines = [
        f'"""{pipeline.name}',
        "",
        *([*_wrap(pipeline.description), ""] if pipeline.description else []),
        "Exported from the ML pipeline designer. It runs the pipeline in this process with the",
        "designer's own components (no storage, no host) and prints every node's metrics as JSON.",
        "It imports the designer's ``core`` package: run it from a checkout of the designer, or with",
        "the checkout on PYTHONPATH, in an environment with the designer's requirements.txt:",
        "",
        f"    python pipeline.py {usage}",
        "",
        "Without --data, a built-in sample dataset is read from the checkout's samples/datasets.",
        '"""',
    ]
    return "\n".join(lines)


def _wrap(text: str, width: int = 96) -> list[str]:
    words, lines, line = text.replace('"""', "'''").split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def _params(node: Any) -> dict[str, Any]:
    component = lookup(node.component)
    assert component is not None
    return {canonical_parameter(component, k) or k: v for k, v in node.parameters.items()}


def _order(pipeline: Pipeline) -> list[str]:
    """Dependency order; among nodes that are ready, the one first in the document."""
    deps = pipeline.dependencies()
    done: list[str] = []
    pending = [n.id for n in pipeline.nodes]
    while pending:
        ready = next(n for n in pending if deps[n] <= set(done))
        done.append(ready)
        pending.remove(ready)
    return done


def _variable_names(pipeline: Pipeline) -> dict[str, str]:
    names: dict[str, str] = {}
    taken = {"run", "pipeline", "main", "sys", "LocalRun"}
    for node in pipeline.nodes:
        base = re.sub(r"\W+", "_", node.id).strip("_").lower() or "node"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = f"node_{base}"
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names[node.id] = name
    return names


def _call(pipeline: Pipeline, node_id: str, names: dict[str, str]) -> str:
    node = pipeline.node(node_id)
    component = lookup(node.component)
    assert component is not None
    var = names[node_id]
    comment = [f"{INDENT}# {line}" for line in _wrap(node.comment or "", 90)]
    if component is Dataset:
        params = _params(node)
        version = f", version={params['version']!r}" if params.get("version") is not None else ""
        call = f"{INDENT}{var} = run.dataset({node_id!r}, name={params['name']!r}{version})"
        return "\n".join([*comment, call])
    args = [repr(node_id), repr(component.name)]
    parameters = {parameter_name(component, k): v for k, v in node.parameters.items()}
    if parameters:
        args.append(_literal(parameters))
    for edge in pipeline.edges:
        if edge.target.node != node_id:
            continue
        source = lookup(pipeline.node(edge.source.node).component)
        in_port = component.input_port(edge.target.port)
        out_port = source.output_port(edge.source.port) if source else None
        assert in_port is not None and out_port is not None
        args.append(f"{in_port.id}={names[edge.source.node]}[{out_port.id!r}]")
    call = f"{INDENT}{var} = run.node(" + ", ".join(args) + ")"
    if len(call) > 100 or "\n" in call:
        inner = ",\n".join(f"{INDENT * 2}{a}".replace("\n", "\n" + INDENT * 2) for a in args)
        call = f"{INDENT}{var} = run.node(\n{inner},\n{INDENT})"
    return "\n".join([*comment, call])


def _literal(value: dict[str, Any]) -> str:
    return pprint.pformat(value, width=88, sort_dicts=False)


def _is_source(component: type[Component]) -> bool:
    """A node that hands on a stored reference instead of running (a registered model, ...)."""
    own = component.source_outputs.__func__  # type: ignore[attr-defined]
    return own is not Component.source_outputs.__func__  # type: ignore[attr-defined]
