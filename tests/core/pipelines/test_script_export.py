"""The exported Python script reproduces the service's metrics, in a process of its own."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidRequest
from core.pipelines.document import Pipeline
from core.pipelines.script_export import to_script
from core.service.facade import Submission
from tests.core.service.test_service import run_inline

ROOT = Path(__file__).resolve().parents[3]
CASES = {
    "automobile-price-training.json": "automobile-price-raw.csv",
    "german-credit-classification.json": "german-credit.csv",
}


def assert_close(got: Any, want: Any, where: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for key in want:
            assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9) or (
            math.isnan(got) and math.isnan(want)
        ), where
    else:
        assert got == want, where


@pytest.mark.parametrize("sample", sorted(CASES))
def test_script_prints_the_services_metrics(service, sample: str, tmp_path: Path):
    pipeline = Pipeline.model_validate(json.loads((ROOT / "samples" / "pipelines" / sample).read_text()))
    for node in pipeline.nodes:  # an unset seed draws a fresh one per run (the service differs from itself)
        if node.component == "Two-Class Logistic Regression":
            node.parameters["Random number seed"] = 7
    run, job = service.submit(Submission(experiment="script-export", pipeline=pipeline))
    run_inline(service, job)
    recorded = service.get_run(run.run_id)
    assert recorded["status"] == "Finished"
    ran = Pipeline.model_validate(service.artifacts.get_json(run.pipeline_ref))  # pinned, as the run ran
    script = tmp_path / "pipeline.py"
    script.write_text(to_script(ran))
    data = tmp_path / "data.csv"
    data.write_bytes((ROOT / "samples" / "datasets" / CASES[sample]).read_bytes())
    done = subprocess.run(
        [sys.executable, str(script), "--data", str(data), "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed, "the script printed no metrics"
    assert_close(printed, recorded["metrics"])


def test_script_is_one_call_per_node_named_after_it_in_dependency_order():
    pipeline = Pipeline.model_validate(
        json.loads((ROOT / "samples/pipelines/german-credit-classification.json").read_text())
    )
    source = to_script(pipeline)
    compile(source, "pipeline.py", "exec")
    calls = [line.strip().split(" = ")[0] for line in source.splitlines() if " = run." in line]
    assert calls == [n.id for n in _dependency_order(pipeline)]
    assert "train_logistic = run.node(" in source and "from core.pipelines.script_runtime import" in source
    assert "'Label column': 'credit-risk'" in source
    assert "untrained_model=logistic['untrained_model']" in source


def _dependency_order(pipeline: Pipeline) -> list:
    deps, done, order = pipeline.dependencies(), set(), []
    pending = list(pipeline.nodes)
    while pending:
        node = next(n for n in pending if deps[n.id] <= done)
        order.append(node)
        done.add(node.id)
        pending.remove(node)
    return order


def test_a_pipeline_reading_a_stored_model_is_not_exported():
    pipeline = Pipeline.model_validate(
        {
            "name": "scoring",
            "nodes": [
                {"id": "data", "component": "Dataset", "parameters": {"name": "cars"}},
                {"id": "MD-train", "component": "trained_model_asset", "parameters": {"asset": "cars-model"}},
                {"id": "score", "component": "Score Model"},
            ],
            "edges": [
                {"source": "data.dataset", "target": "score.dataset"},
                {"source": "MD-train.trained_model", "target": "score.trained_model"},
            ],
        }
    )
    with pytest.raises(InvalidRequest) as caught:
        to_script(pipeline)
    assert [p.node for p in caught.value.problems] == ["MD-train"]
