"""Trained models out of the service: an MLflow model (zip) and an ONNX file.

The MLflow model is written without MLflow (it is not a dependency of the app): an ``MLmodel``
file with a ``python_function`` flavor whose ``loader_module`` ships in the model's ``code``
directory, as MLflow's pyfunc format defines it. The model file is a pickle of the designer's
``TrainedModel`` (so MLflow scores with the same code as Score Model) or, for a real-time
endpoint, of the endpoint's whole scoring path (its steps after Web Service Input with their
fitted models and transformations), so MLflow answers what the endpoint answers. The modules of
this project a pickle refers to (the component catalogue, ``core.errors``, ``core.components.sandbox``)
ship in ``code/`` too, and pickling refuses one that refers to any other. The signature comes
from the captured schema (a real-time endpoint's input schema, or the columns the model was
trained on), the input example from the training rows.

The ONNX file is the conversion :mod:`core.serving.onnx` makes and verifies against
scikit-learn, with its graph inputs renamed to the schema's column names (skl2onnx changes
e.g. ``fuel-type`` to ``fuel_type``) and verified again after the renaming.
"""

from __future__ import annotations

import io
import json
import pickle
import platform
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from core.components.models import TrainedModel
from core.errors import Conflict
from core.serving.deployments import ColumnSpec, column_type
from core.serving.onnx import OnnxModel, probe_rows, try_convert, verify

LOADER_MODULE = "designer_mlflow_model"
MODEL_FILE = "model/model.pkl"
EXAMPLE_ROWS = 5
_CORE = Path(__file__).resolve().parents[1]
# The project files an MLflow model carries in code/core/: the component catalogue and what it imports.
SHIPPED_FILES = (
    "errors.py",
    "names.py",
    "tables/__init__.py",
    "tables/csvfile.py",
    *sorted(f"components/{p.name}" for p in (_CORE / "components").glob("*.py")),
)
SHIPPED_MODULES = {"core." + f[:-3].replace("/", ".").removesuffix(".__init__") for f in SHIPPED_FILES}
_MLFLOW_TYPES = {"integer": "long", "number": "double", "string": "string", "boolean": "boolean"}
_PINNED = ("scikit-learn", "pandas", "numpy", "scipy", "pydantic", "joblib", "matplotlib", "duckdb")

LOADER_SOURCE = '''"""Loads a model exported by the ML pipeline designer (MLflow's pyfunc loader_module).

The pickle holds either the designer's TrainedModel, whose predict() answers what Score Model
adds to the rows (Scored Labels, and Scored Probabilities for classifiers), or a real-time
endpoint's scoring path, whose predict() answers the endpoint's output table.
"""
import pickle

import pandas as pd


class DesignerModel:
    def __init__(self, model):
        self.model = model

    def predict(self, model_input, params=None):
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.model.score(frame, append=False).reset_index(drop=True)


class DesignerPipeline:
    """The endpoint's steps, run in order on the request rows, as the endpoint runs them."""

    def __init__(self, program):
        self.program = program

    def predict(self, model_input, params=None):
        from core.components import RunContext

        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        values = dict(self.program["static"])
        values[self.program["entry"]] = frame.reset_index(drop=True)
        context = RunContext()
        for node_id, component, parameters, inputs in self.program["steps"]:
            produced = component.run({port: values[ref] for port, ref in inputs.items()}, parameters, context)
            for port, value in produced.items():
                values[(node_id, port)] = value
        return values[self.program["exit"]].reset_index(drop=True)


def _load_pyfunc(path):
    with open(path, "rb") as handle:
        payload = pickle.load(handle)
    return DesignerPipeline(payload) if isinstance(payload, dict) else DesignerModel(payload)
'''


@dataclass
class ExportSource:
    """A trained model with the rows it was trained on and, for an endpoint, its request schema."""

    model: TrainedModel
    rows: pd.DataFrame
    schema: list[ColumnSpec] | None = None
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    program: dict[str, Any] | None = None  # an endpoint's scoring path (see LOADER_SOURCE)
    score: Callable[[pd.DataFrame], pd.DataFrame] | None = None  # what the program answers, in process
    onnx_refusal: str | None = None  # why the model alone does not stand for this source

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        if self.score is not None:
            return self.score(rows)
        return self.model.score(rows, append=False)

    def input_schema(self) -> list[ColumnSpec]:
        if self.schema is not None:
            return self.schema
        return [
            ColumnSpec(
                name=c,
                type=column_type(self.model.feature_dtypes.get(c, "str")),
                dtype=self.model.feature_dtypes.get(c, "str"),
            )
            for c in self.model.feature_columns
        ]

    def example(self) -> pd.DataFrame:
        names = [c.name for c in self.input_schema() if c.name in self.rows.columns]
        complete = self.rows.dropna(subset=[c for c in self.model.feature_columns if c in self.rows.columns])
        return (complete if len(complete) else self.rows)[names].head(EXAMPLE_ROWS).reset_index(drop=True)


# ---- MLflow ----------------------------------------------------------------------------------
def mlflow_model_zip(source: ExportSource, name: str) -> bytes:
    """The MLflow model directory, zipped, with the model files at the root of the archive."""
    files = mlflow_model_files(source, name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def mlflow_model_files(source: ExportSource, name: str) -> dict[str, bytes]:
    example = source.example()
    outputs = source.predict(example) if len(example) else pd.DataFrame()
    versions = _versions()
    python = platform.python_version()
    serving = {"dataframe_split": json.loads(example.to_json(orient="split", index=False))}
    mlmodel = {
        "artifact_path": name,
        "flavors": {
            "python_function": {
                "code": "code",
                "data": MODEL_FILE,
                "env": {"virtualenv": "python_env.yaml"},
                "loader_module": LOADER_MODULE,
                "python_version": python,
            }
        },
        "metadata": {
            "designer": {
                "description": source.description,
                "algorithm": source.model.algorithm,
                "task": source.model.task,
                "label_column": source.model.label_column,
                **source.details,
            }
        },
        "model_uuid": uuid.uuid4().hex,
        "saved_input_example_info": {
            "artifact_path": "input_example.json",
            "type": "dataframe",
            "pandas_orient": "split",
            "serving_input_path": "serving_input_example.json",
        },
        "signature": {
            "inputs": json.dumps(_mlflow_columns(source.input_schema())),
            "outputs": json.dumps(_output_columns(outputs)),
            "params": None,
        },
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    requirements = "mlflow\n" + "".join(f"{pkg}=={versions[pkg]}\n" for pkg in _PINNED if pkg in versions)
    files = {
        "MLmodel": yaml.safe_dump(mlmodel, sort_keys=False).encode(),
        MODEL_FILE: pickle_model(source.program if source.program is not None else source.model),
        f"code/{LOADER_MODULE}.py": LOADER_SOURCE.encode(),
        "code/core/__init__.py": b'"""The designer modules this model\'s pickle refers to."""\n',
        "input_example.json": example.to_json(orient="split", index=False).encode(),
        "serving_input_example.json": json.dumps(serving).encode(),
        "requirements.txt": requirements.encode(),
        "python_env.yaml": yaml.safe_dump(
            {"python": python, "build_dependencies": ["pip"], "dependencies": ["-r requirements.txt"]},
            sort_keys=False,
        ).encode(),
    }
    for path in SHIPPED_FILES:
        files[f"code/core/{path}"] = (_CORE / path).read_bytes()
    return files


class _CheckedPickler(pickle.Pickler):
    """Notes the project modules the pickle refers to, so none is missing from code/."""

    def __init__(self, file: Any) -> None:
        super().__init__(file, protocol=5)
        self.modules: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        module = getattr(obj, "__module__", None) if isinstance(obj, type) else type(obj).__module__
        if isinstance(module, str) and (module == "core" or module.startswith("core.")):
            self.modules.add(module)
        return NotImplemented


def pickle_model(model: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = _CheckedPickler(buffer)
    pickler.dump(model)
    foreign = sorted(pickler.modules - set(SHIPPED_MODULES))
    if foreign:
        raise Conflict(
            "This model cannot be exported as an MLflow model",
            [
                _problem(
                    "not_exportable",
                    f"the model uses code from {foreign}, which an MLflow model does not carry",
                )
            ],
        )
    return buffer.getvalue()


def _mlflow_columns(schema: list[ColumnSpec]) -> list[dict[str, Any]]:
    return [{"type": _MLFLOW_TYPES[c.type], "name": c.name, "required": c.required} for c in schema]


def _output_columns(outputs: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"type": _MLFLOW_TYPES[column_type(str(t))], "name": str(c), "required": True}
        for c, t in outputs.dtypes.items()
    ]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for pkg in _PINNED:
        try:
            found[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return found


# ---- ONNX ------------------------------------------------------------------------------------
def onnx_model_bytes(source: ExportSource) -> tuple[bytes, dict[str, Any]]:
    """The verified ONNX conversion with inputs named as the schema's columns, and a description
    of its inputs and outputs; :class:`Conflict` with the reason if it does not convert or verify."""
    import onnx

    if source.onnx_refusal:
        raise Conflict(
            "This model is not exported as ONNX from here", [_problem("not_convertible", source.onnx_refusal)]
        )
    rows = source.rows[[c for c in source.model.feature_columns if c in source.rows.columns]]
    conversion = try_convert(source.model, rows)
    if conversion.onnx is None:
        raise Conflict(
            "This model does not convert to ONNX", [_problem("not_convertible", conversion.reason)]
        )
    converted = conversion.onnx
    graph = onnx.load_from_string(converted.onnx_bytes)
    renames = {spec.name: spec.column for spec in converted.inputs if spec.name != spec.column}
    internal = {name for node in graph.graph.node for name in node.output}
    clashes = sorted(set(renames.values()) & internal)
    if clashes:
        raise Conflict(
            "The ONNX inputs cannot take the column names",
            [_problem("not_convertible", f"column name(s) {clashes} are taken by tensors inside the graph")],
        )
    for value in graph.graph.input:
        value.name = renames.get(value.name, value.name)
    for node in graph.graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    inputs = [_renamed(spec) for spec in converted.inputs]
    description = {
        "inputs": [{"name": s.column, "type": s.kind, "shape": [None, 1]} for s in inputs],
        "outputs": [o.name for o in graph.graph.output],
        "task": source.model.task,
        "classes": [_plain(c) for c in source.model.classes],
        "verified": conversion.reason,
    }
    entry = graph.metadata_props.add()
    entry.key, entry.value = "designer", json.dumps(description)
    data = graph.SerializeToString()
    renamed = OnnxModel(data, inputs, converted.task, converted.classes, converted.with_proba)
    problem = verify(source.model, renamed, probe_rows(source.model, rows.dropna()))
    if problem:
        raise Conflict("The renamed ONNX model does not verify", [_problem("not_convertible", problem)])
    return data, description


def _renamed(spec: Any) -> Any:
    from dataclasses import replace

    return replace(spec, name=spec.column)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _problem(code: str, message: str) -> Any:
    from core.errors import Problem

    return Problem(code=code, field="format", message=message)
