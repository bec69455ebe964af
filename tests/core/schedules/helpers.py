"""A small published pipeline to schedule: a dataset input ``input_data`` and one step."""

from __future__ import annotations

import uuid

import pandas as pd

from core.pipelines.document import Pipeline
from core.registry import datasets

DOC = {
    "name": "select two columns",
    "nodes": [
        {"id": "data", "component": "Dataset", "parameters": {"name": "PLACEHOLDER"}},
        {
            "id": "select",
            "component": "Select Columns in Dataset",
            "parameters": {
                "Select Columns": {
                    "start": "none",
                    "rules": [{"action": "include", "by": "name", "values": ["a", "b"]}],
                }
            },
        },
    ],
    "edges": [{"source": "data.dataset", "target": "select.dataset"}],
    "parameters": [
        {"name": "input_data", "default": "PLACEHOLDER", "bindings": [{"node": "data", "parameter": "name"}]}
    ],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def publish_endpoint(service) -> tuple[str, str]:
    """(endpoint name, dataset name) of a fresh endpoint whose default version is valid."""
    dataset = unique("sched-data")
    datasets.register(service.store, dataset, pd.DataFrame({"a": [1, 2], "b": [3, 4], "c": [5, 6]}))
    text = str(DOC).replace("PLACEHOLDER", dataset)
    pipeline = Pipeline.model_validate(eval(text))  # noqa: S307 - our own literal
    draft, problems = service.create_draft(pipeline)
    assert not problems, problems
    endpoint = unique("sched-ep")
    service.publish(draft.id, endpoint, "v1", True, "tester")
    return endpoint, dataset
