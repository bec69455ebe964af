"""The compiled row path answers exactly as the DataFrame path, component by component.

Each real-time step is put in a small pipeline (Web Service Input -> step(s) -> Score Model ->
Web Service Output) over a table with a string, an integer, a float and a boolean column, fitted
on training rows with missing values. Requests then carry ordinary rows, missing values in every
column, an unseen category, an extra column and a missing column, one by one and as a batch; the
compiled path must give the DataFrame path's answer (rows, values, dropped rows, or the refusal).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from core.components.apply_transformation import ApplyTransformation
from core.components.base import RunContext
from core.components.manipulation import EditMetadata
from core.components.math_ops import ApplyMathOperation
from core.components.models import Learner, fit
from core.components.scaling import (
    ConvertToIndicatorValuesParams,
    NormalizeData,
    NormalizeDataParams,
    fit_indicators,
    fit_normalization,
)
from core.components.training import ScoreModel
from core.components.transformation import (
    CleanMissingDataParams,
    SelectColumnsInDataset,
    fit_cleaning,
)
from core.components.web_service import WebServiceOutput
from core.errors import InvalidRequest
from core.pipelines.document import parse_parameters
from core.service.realtime import Scorer
from core.serving import deployments
from core.serving import onnx as oa
from core.serving.compiled import Fallback, signature
from core.serving.requests import check_rows
from core.serving.scoring import CompiledPipeline, _Step

LABEL = "churned"


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 200
    city = rng.choice(["oslo", "lima", "pune", "kobe"], n).astype(object)
    spend = rng.gamma(2.0, 30.0, n) + 0.5
    visits = rng.integers(1, 20, n)
    signal = (city == "lima") * 1.2 + spend / 60 - visits / 8
    frame = pd.DataFrame(
        {
            "city": pd.array(city, dtype="str"),
            "visits": visits,
            "spend": spend,
            LABEL: np.where(signal + rng.normal(0, 0.6, n) > np.median(signal), "yes", "no"),
        }
    )
    frame.loc[rng.choice(n, 12, replace=False), "spend"] = np.nan  # missing values to clean
    frame.loc[rng.choice(n, 8, replace=False), "city"] = None
    return frame


def schema_of(frame: pd.DataFrame) -> list[deployments.ColumnSpec]:
    """Every column optional, so missing columns reach the pipeline (and its own refusal)."""
    return [
        deployments.ColumnSpec(
            name=c,
            type=deployments.column_type(str(frame[c].dtype)),
            dtype=str(frame[c].dtype),
            required=False,
        )
        for c in frame.columns
        if c != LABEL
    ]


Stage = tuple[Any, dict[str, Any], Any]  # component, parameters, transformation (or None)


def build(train: pd.DataFrame, stages: list[Stage], learner: Learner) -> Scorer:
    """The pipeline of ``stages``, a model fitted on their output, and a Scorer over it."""
    steps: list[_Step] = []
    static: dict[tuple[str, str], Any] = {}
    source = ("input", "data")
    frame = train
    for i, (component, parameters, transform) in enumerate(stages):
        node = f"n{i}"
        params = parse_parameters(component, parameters)
        inputs = {component.inputs[-1].id if transform is not None else component.inputs[0].id: source}
        if transform is not None:
            static[(f"t{i}", "transformation")] = transform
            inputs["transformation"] = (f"t{i}", "transformation")
        steps.append(_Step(node, component(), params, inputs, parameters))
        run_inputs = {port: (frame if ref == source else static[ref]) for port, ref in inputs.items()}
        out_port = next(p.id for p in component.outputs)
        frame = component().run(run_inputs, params, RunContext())[out_port]
        source = (node, out_port)
    model = fit(learner, frame.dropna(), LABEL)
    features = frame.drop(columns=[LABEL]).dropna()
    onnx = oa.convert(model, features.head(5))
    assert onnx is not None, "the test model converts"
    static[("model", "trained_model")] = oa.AcceleratedModel.wrap(model, onnx)
    steps.append(
        _Step(
            "score",
            ScoreModel(),
            parse_parameters(ScoreModel, {}),
            {"trained_model": ("model", "trained_model"), "dataset": source},
        )
    )
    steps.append(
        _Step(
            "out",
            WebServiceOutput(),
            parse_parameters(WebServiceOutput, {}),
            {"dataset": ("score", "scored_dataset")},
        )
    )
    pipeline = CompiledPipeline(
        input_node="input",
        input_port="data",
        output_node="out",
        output_port="data",
        steps=steps,
        static=static,
    )
    sample = train.drop(columns=[LABEL])
    return Scorer(pipeline, schema_of(train), sample)


def requests(train: pd.DataFrame) -> list[list[dict[str, Any]]]:
    rows = [
        {k: realtime_value(v) for k, v in r.items() if k != LABEL} for r in train.head(12).to_dict("records")
    ]
    missing = [{**rows[0], column: None} for column in rows[0]]
    unseen = [{**rows[1], "city": "atlantis"}]
    extra = [{**rows[2], "unexpected": 1}]
    without = [{k: v for k, v in rows[3].items() if k != column} for column in rows[3]]
    return (
        [[r] for r in rows]
        + [rows]
        + [[r] for r in missing]
        + [missing]
        + [unseen, extra]
        + [[r] for r in without]
    )


def realtime_value(v: Any) -> Any:
    if isinstance(v, float) and np.isnan(v):
        return None
    return v.item() if isinstance(v, np.generic) else v


def answer(scorer: Scorer, rows: list[dict[str, Any]], overrides: dict | None) -> Any:
    """What the service answers for ``rows``: the compiled path (``None``) or the DataFrame path ({})."""
    try:
        columns = check_rows(rows, scorer.schema)
        out, kept, drops = scorer.score(columns, len(rows), overrides)
    except InvalidRequest as exc:
        return ("refused", [p.model_dump() for p in exc.problems])
    return out, kept, [(d.row, d.node, d.reason) for d in drops]


def compiled_runs(scorer: Scorer, rows: list[dict[str, Any]]) -> bool:
    columns = check_rows(rows, scorer.schema)
    program = scorer.program(signature(columns, scorer.schema))
    if program is None:
        return False
    try:
        program.run(columns, len(rows))
    except Fallback:
        return False
    return True


def assert_same_answers(scorer: Scorer, train: pd.DataFrame) -> None:
    assert scorer.serving["path"] == "compiled", scorer.serving
    ran = 0
    for rows in requests(train):
        assert answer(scorer, rows, None) == answer(scorer, rows, {}), rows
        ran += compiled_runs(scorer, rows)
    assert ran >= 13  # the ordinary rows (one by one and together) at least took the compiled path


def logistic() -> Learner:
    return Learner(LogisticRegression(max_iter=500), "binary", "Two-Class Logistic Regression")


def cleaning(train: pd.DataFrame, **parameters: Any) -> Stage:
    params = CleanMissingDataParams.model_validate(parameters)
    return ApplyTransformation, {}, fit_cleaning(train, params)


def normalizing(train: pd.DataFrame, **parameters: Any) -> Stage:
    params = NormalizeDataParams.model_validate(parameters)
    return ApplyTransformation, {}, fit_normalization(train, params)


# ---- one test per component ---------------------------------------------------------------------
def test_select_columns(people):
    select = (
        SelectColumnsInDataset,
        {
            "Select Columns": {
                "start": "all",
                "rules": [{"action": "exclude", "by": "name", "values": ["visits"]}],
            }
        },
        None,
    )
    scorer = build(people, [select, cleaning(people, **{"Cleaning mode": "Remove entire row"})], logistic())
    assert_same_answers(scorer, people)


@pytest.mark.parametrize(
    "parameters",
    [
        {"Cleaning mode": "Remove entire row"},
        {"Cleaning mode": "Replace with mean", "Columns to be cleaned": ["spend"]},
        {"Cleaning mode": "Custom substitution value", "Replacement value": "0"},
        {"Cleaning mode": "Replace with mode", "Generate missing value indicator column": True},
    ],
)
def test_clean_missing_data(people, parameters):
    stages = [cleaning(people, **parameters)]
    if parameters["Cleaning mode"] != "Remove entire row":  # what one mode leaves, the next cleans
        stages.append(cleaning(people, **{"Cleaning mode": "Remove entire row"}))
    scorer = build(people, stages, logistic())
    assert_same_answers(scorer, people)


def test_rows_removed_are_reported_alike(people):
    scorer = build(people, [cleaning(people, **{"Cleaning mode": "Remove entire row"})], logistic())
    rows = requests(people)[12]  # the first 12 rows together
    rows[4] = {**rows[4], "spend": None}
    fast = answer(scorer, rows, None)
    assert fast == answer(scorer, rows, {}) and compiled_runs(scorer, rows)
    assert [d[0] for d in fast[2]] == [4] and fast[1] == 11
    assert "Clean Missing Data (Remove entire row)" in fast[2][0][2]


@pytest.mark.parametrize("method", ["ZScore", "MinMax", "Logistic", "TanH", "LogNormal"])
def test_normalize_data(people, method):
    stages = [
        cleaning(people, **{"Cleaning mode": "Remove entire row"}),
        normalizing(
            people.dropna(), **{"Transformation method": method, "Columns to transform": ["spend", "visits"]}
        ),
    ]
    scorer = build(people, stages, logistic())
    assert_same_answers(scorer, people)


def test_edit_metadata(people):
    rename = (EditMetadata, {"Column": ["visits"], "New Column Name": "trips", "Fields": "Features"}, None)
    scorer = build(people, [cleaning(people, **{"Cleaning mode": "Remove entire row"}), rename], logistic())
    assert_same_answers(scorer, people)


def test_score_model_regression_with_unseen_levels_refused(people):
    """A regression model trained not to allow unknown levels: the compiled path leaves an unseen
    level to the DataFrame path, which names it."""
    train = people.assign(**{LABEL: people["visits"] * 2.5 + people["spend"].fillna(0)})
    learner = Learner(Ridge(alpha=0.01), "regression", "Linear Regression", allow_unknown_levels=False)
    scorer = build(train, [cleaning(train, **{"Cleaning mode": "Remove entire row"})], learner)
    assert_same_answers(scorer, train)
    refused = answer(scorer, [{"city": "atlantis", "visits": 3, "spend": 2.0}], None)
    assert refused[0] == "refused" and refused[1][0]["column"] == "city"


def test_web_service_output_alone_with_score_columns_only(people):
    scorer = build(people, [cleaning(people, **{"Cleaning mode": "Remove entire row"})], logistic())
    score = scorer.pipeline.steps[-2]
    score.params = parse_parameters(ScoreModel, {"Append score columns to output": False})
    scorer = Scorer(scorer.pipeline, scorer.schema, scorer.sample)
    assert_same_answers(scorer, people)
    out, _, _ = answer(scorer, requests(people)[0], None)
    assert list(out) == ["Scored Labels", "Scored Probabilities"]


@pytest.mark.parametrize(
    "parameters",
    [
        {
            "Column set": ["visits"],
            "Category": "Basic",
            "Basic math function": "Abs",
            "Output mode": "Inplace",
        },
        {"Column set": ["spend"], "Category": "Basic", "Basic math function": "Ln", "Output mode": "Append"},
        {
            "Column set": ["spend", "visits"],
            "Category": "Operations",
            "Arithmetic operation": "Divide",
            "Second argument": 3.0,
            "Output mode": "Append",
        },
        {
            "Column set": ["spend"],
            "Category": "Operations",
            "Arithmetic operation": "Multiply",
            "Second argument type": "ColumnSet",
            "Second argument column set": ["visits"],
            "Output mode": "Inplace",
        },
    ],
)
def test_apply_math_operation(people, parameters):
    math = (ApplyMathOperation, parameters, None)
    scorer = build(people, [cleaning(people, **{"Cleaning mode": "Remove entire row"}), math], logistic())
    assert_same_answers(scorer, people)


def test_a_step_with_no_compiled_form_keeps_the_dataframe_path_and_says_which(people):
    """Remove Duplicate Rows has no compiled form: the DataFrame path scores, and the rows it
    removes are reported there too."""
    from core.components.manipulation import RemoveDuplicateRows

    dedupe = (RemoveDuplicateRows, {"Key column selection filter expression": {"start": "all"}}, None)
    scorer = build(people, [cleaning(people, **{"Cleaning mode": "Remove entire row"}), dedupe], logistic())
    assert scorer.serving["path"] == "dataframe"
    assert "n1 (Remove Duplicate Rows) has no compiled form" in scorer.serving["reason"]
    [row] = requests(people)[1]
    out, kept, dropped = answer(scorer, [row, row, {**row, "city": "atlantis"}], None)
    assert kept == 2 and len(out["Scored Labels"]) == 2
    assert [(d[0], d[1], d[2]) for d in dropped] == [(1, "n1", "removed by Remove Duplicate Rows")]


def test_normalize_data_on_a_column_the_data_lacks_is_skipped_alike(people):
    stages = [
        cleaning(people, **{"Cleaning mode": "Remove entire row"}),
        normalizing(people.dropna(), **{"Transformation method": "ZScore"}),
    ]
    scorer = build(people, stages, logistic())
    assert_same_answers(scorer, people)
    assert NormalizeData  # the component these transformations come from


def test_a_boolean_feature_keeps_the_dataframe_path_and_says_why(people):
    """A request's booleans are a nullable pandas column, which the DataFrame path scores with
    scikit-learn: the compiled path (ONNX Runtime) would not give bit-identical probabilities."""
    train = people.assign(member=np.arange(len(people)) % 3 == 0)
    scorer = build(train, [cleaning(train, **{"Cleaning mode": "Remove entire row"})], logistic())
    assert scorer.serving["path"] == "dataframe"
    assert "'member' (boolean) does not feed ONNX directly" in scorer.serving["reason"]
    out, kept, dropped = answer(scorer, requests(train)[12], None)
    assert kept + len(dropped) == 12 and len(out["Scored Labels"]) == kept > 0


def test_convert_to_indicator_values(people):
    """Edit Metadata marks the city categorical, its indicator columns replace it."""
    categorical = (EditMetadata, {"Column": ["city"], "Categorical": "Categorical"}, None)
    marked = EditMetadata().run(
        {"dataset": people}, parse_parameters(EditMetadata, categorical[1]), RunContext()
    )["results_dataset"]
    params = ConvertToIndicatorValuesParams.model_validate(
        {"Categorical columns to convert": ["city"], "Overwrite categorical columns": True}
    )
    indicators = (ApplyTransformation, {}, fit_indicators(marked, params))
    stages = [categorical, indicators, cleaning(people, **{"Cleaning mode": "Remove entire row"})]
    scorer = build(people, stages, logistic())
    assert_same_answers(scorer, people)
    out, _, _ = answer(scorer, requests(people)[1], None)
    assert "city" not in out and any(name.startswith("city-") for name in out)
