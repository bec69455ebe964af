"""The plan fingerprint behind reuse at submit (core/execution/reuse.py): what it covers and what not."""

from __future__ import annotations

import json
from pathlib import Path

from core.execution.reuse import plan_key
from core.pipelines.document import Pipeline
from core.pipelines.planner import plan

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pipelines" / "automobile-price-training.json"


def key_of(change=None) -> str | None:
    doc = json.loads(SAMPLE.read_text())
    if change:
        change(doc)
    return plan_key(plan(Pipeline.model_validate(doc)))


def test_run_settings_and_regenerate_flags_do_not_change_the_fingerprint():
    def settings(doc):
        doc["nodes"][5]["run_settings"] = {"timeout_seconds": 5, "max_retries": 3}
        doc["nodes"][5]["regenerate_output"] = True

    assert key_of(settings) == key_of() is not None


def test_parameters_and_wiring_do():
    def fraction(doc):
        doc["parameters"] = []
        doc["nodes"][3]["parameters"]["Fraction of rows in the first output dataset"] = 0.5

    def rewire(doc):
        for edge in doc["edges"]:
            if edge["target"] == "score.dataset":
                edge["source"] = "split.results_dataset1"

    assert len({key_of(), key_of(fraction), key_of(rewire)}) == 3


def test_a_plan_with_a_non_deterministic_node_has_none():
    def importing(doc):
        doc["nodes"].append(
            {
                "id": "load",
                "component": "Import Data",
                "parameters": {"Data source": "Blob path", "Path": "exports/x.csv"},
            }
        )

    assert key_of(importing) is None


def test_a_library_upgrade_that_would_refuse_old_models_changes_both_keys(monkeypatch):
    from core.components import lookup
    from core.execution import reuse
    from core.storage.artifacts import compatibility_stamp

    component = lookup("linear_regression")
    params = component.Parameters()
    before = (key_of(), reuse.cache_key(component, params, {"x": "artifacts/abc"}))
    upgraded = {"scikit-learn": "1.10.0", "numpy": "2.4.6", "pandas": "3.1.1"}
    monkeypatch.setattr(reuse, "compatibility_stamp", lambda: compatibility_stamp(upgraded))
    after = (key_of(), reuse.cache_key(component, params, {"x": "artifacts/abc"}))
    assert before[0] != after[0] and before[1] != after[1]


def test_the_stamp_holds_only_what_decides_loading():
    from core.storage.artifacts import compatibility_stamp

    patch = compatibility_stamp(
        {"scikit-learn": "1.9.1", "numpy": "2.4.6", "pandas": "3.1.1", "scipy": "1.0"}
    )
    assert patch == compatibility_stamp({"scikit-learn": "1.9.2", "numpy": "2.0.0", "pandas": "3.0.0"})
    assert patch != compatibility_stamp({"scikit-learn": "1.10.0", "numpy": "2.4.6", "pandas": "3.1.1"})
    assert patch == "joblib 1; scikit-learn 1.9; numpy 2; pandas 3"
