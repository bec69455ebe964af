"""Import Data, Export Data and the code-running components inside real runs (Azurite)."""

from __future__ import annotations

import io
import uuid

import pandas as pd
import pytest

from core.errors import InvalidRequest
from core.pipelines.document import Pipeline
from core.service.facade import Service, Submission
from tests.core.service.test_service import run_inline


def run(service: Service, doc: dict) -> dict:
    record, job = service.submit(
        Submission(experiment="dataio", pipeline=Pipeline.model_validate(doc), regenerate_outputs=True)
    )
    run_inline(service, job)
    return service.get_run(record.run_id)


def test_import_from_a_blob_path_and_export_to_the_exports_container(service, store):
    path = f"{uuid.uuid4().hex[:8]}/in.csv"
    store.put_blob("batch-input", path, b"a,b\n1,x\n2,y\n")
    out = f"exports/{uuid.uuid4().hex[:8]}/out.csv"
    view = run(
        service,
        {
            "nodes": [
                {
                    "id": "imp",
                    "component": "Import Data",
                    "parameters": {"Data source": "Blob path", "Path": f"batch-input/{path}"},
                },
                {"id": "exp", "component": "Export Data", "parameters": {"Path": out}},
            ],
            "edges": [{"source": "imp.results_dataset", "target": "exp.dataset"}],
        },
    )
    assert view["status"] == "Finished", view
    exported = pd.read_csv(io.BytesIO(store.get_blob("exports", out.split("/", 1)[1])))
    assert exported.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


def test_import_data_cannot_reach_other_containers(service):
    view = run(
        service,
        {
            "nodes": [
                {
                    "id": "imp",
                    "component": "Import Data",
                    "parameters": {"Data source": "Blob path", "Path": "artifacts/anything.parquet"},
                }
            ]
        },
    )
    assert view["status"] == "Failed" and "not allowed" in view["nodes"]["imp"]["error"]


def test_sql_and_python_script_are_off_unless_enabled(service, store, settings):
    doc = {
        "nodes": [
            {"id": "data", "component": "Enter Data Manually", "parameters": {"Data": "a,b\n1,2\n3,4\n"}},
            {
                "id": "sql",
                "component": "Apply SQL Transformation",
                "parameters": {"SQL query script": "select a + b as total from t1"},
            },
        ],
        "edges": [{"source": "data.dataset", "target": "sql.t1"}],
    }
    problems = service.validate(Pipeline.model_validate(doc))
    assert [(p.code, p.node) for p in problems] == [("component_disabled", "sql")]
    assert "DESIGNER_ENABLE_SQL" in problems[0].message
    with pytest.raises(InvalidRequest) as refused:  # refused when submitted, not failed when run
        run(service, doc)
    assert [p.code for p in refused.value.problems] == ["component_disabled"]
    entries = {c["id"]: c for c in service.components()}
    assert (
        entries["apply_sql_transformation"]["enabled"] is False and entries["split_data"]["enabled"] is True
    )
    assert not entries["execute_python_script"]["deterministic"]
    assert not entries["apply_sql_transformation"]["deterministic"]
    enabled = Service(store, settings.model_copy(update={"enable_sql": True}), service.samples_dir)
    assert not enabled.validate(Pipeline.model_validate(doc))
    assert {c["id"]: c for c in enabled.components()}["apply_sql_transformation"]["enabled"] is True
    on = run(enabled, doc)
    assert on["status"] == "Finished"
    assert enabled.node_output(on["run_id"], "sql", "result_dataset", None)["total"].tolist() == [3, 7]
