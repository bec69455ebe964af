"""What an MLflow model carries: only code it ships, and the files MLflow's pyfunc format names."""

from __future__ import annotations

import pickle

import pytest

from core.errors import Conflict
from core.pipelines.document import Pipeline
from core.serving.model_export import SHIPPED_FILES, SHIPPED_MODULES, pickle_model


def test_a_pickle_referring_to_code_the_model_does_not_carry_is_refused():
    with pytest.raises(Conflict) as caught:
        pickle_model({"pipeline": Pipeline(nodes=[{"id": "a", "component": "Dataset"}])})
    assert "core.pipelines.document" in caught.value.problems[0].message


def test_a_pickle_of_shipped_code_loads_back():
    from core.components.models import TrainedModel

    model = TrainedModel(
        pipeline=None,
        task="regression",
        algorithm="x",
        label_column="y",  # type: ignore[arg-type]
        feature_columns=["a"],
        feature_dtypes={"a": "float64"},
    )
    assert pickle.loads(pickle_model(model)) == model


def test_the_catalogue_and_what_it_imports_are_shipped():
    assert {
        "errors.py",
        "components/sandbox.py",
        "tables/csvfile.py",
        "components/__init__.py",
        "components/models.py",
    } <= set(SHIPPED_FILES)
    assert {"core.components", "core.components.models", "core.errors"} <= SHIPPED_MODULES


def test_every_core_module_a_shipped_file_imports_is_shipped_too():
    import ast
    from pathlib import Path

    core = Path(__file__).resolve().parents[3] / "core"
    imported = set()
    for name in SHIPPED_FILES:
        for node in ast.walk(ast.parse((core / name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core"):
                imported |= (
                    {f"{node.module}.{a.name}" for a in node.names}
                    if node.module == "core"
                    else {node.module}
                )
    assert imported <= SHIPPED_MODULES | {"core"}, imported - SHIPPED_MODULES
