"""Apply SQL Transformation and Execute Python Script: off by default, useful when on, and
unable to reach files, the network, processes or the service's secrets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from core.components import scripting
from core.components.base import RunContext
from core.components.scripting import (
    ApplySqlTransformation,
    ApplySqlTransformationParams,
    ExecutePythonScript,
    ExecutePythonScriptParams,
)
from core.errors import ComponentError

SQL_ON = {"enable_sql": True}
PYTHON_ON = {"enable_python_script": True}


@pytest.fixture
def t1() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "price": [10.0, 20.0, 30.0]})


@pytest.fixture
def t2() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 3], "make": ["audi", "bmw"]})


def sql(query: str, ctx: RunContext | None = None, **tables: pd.DataFrame) -> pd.DataFrame:
    params = ApplySqlTransformationParams.model_validate({"SQL query script": query})
    return ApplySqlTransformation().run(tables, params, ctx or RunContext(features=SQL_ON))["result_dataset"]


def python(script: str, ctx: RunContext | None = None, **inputs: pd.DataFrame) -> dict[str, Any]:
    params = ExecutePythonScriptParams.model_validate({"Python Script": script})
    return ExecutePythonScript().run(inputs, params, ctx or RunContext(features=PYTHON_ON))


def test_catalogue_entries_and_defaults() -> None:
    for component in (ApplySqlTransformation, ExecutePythonScript):
        assert component.describe()["parameters"]["properties"]
    assert ApplySqlTransformationParams().sql_query_script == "select * from t1"
    default = ExecutePythonScriptParams().python_script
    assert "def azureml_main(dataframe1 = None, dataframe2 = None):" in default
    assert [p.name for p in ExecutePythonScript.outputs] == ["Result Dataset", "Result Dataset2"]
    with pytest.raises(ValidationError):
        ApplySqlTransformationParams.model_validate({"SQL query script": ""})
    with pytest.raises(ValidationError):
        ExecutePythonScriptParams.model_validate({"Python Script": "x", "Python Version": "2.7"})


# ---- Apply SQL Transformation ------------------------------------------------------------------


def test_sql_is_off_by_default(t1: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as caught:
        sql("select * from t1", RunContext(), t1=t1)
    assert caught.value.code == "FeatureDisabled"
    assert "DESIGNER_ENABLE_SQL" in str(caught.value)


def test_sql_default_returns_t1(t1: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(sql("select * from t1", t1=t1), t1)


def test_sql_joins_t1_and_t2_and_logs(t1: pd.DataFrame, t2: pd.DataFrame) -> None:
    ctx = RunContext(features=SQL_ON)
    out = sql(
        "select t1.id, make, price * 2 as double_price from t1 join t2 on t1.id = t2.id order by t1.id",
        ctx,
        t1=t1,
        t2=t2,
    )
    assert out.to_dict("list") == {"id": [1, 3], "make": ["audi", "bmw"], "double_price": [20.0, 60.0]}
    assert "t1, t2" in ctx.logs[0]


def test_sql_script_with_several_statements(t1: pd.DataFrame) -> None:
    out = sql(
        "create table cheap as select * from t1 where price < 25; "
        "insert into cheap values (9, 1.0); select count(*) as n from cheap",
        t1=t1,
    )
    assert out["n"].tolist() == [3]


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "create table leak as select * from read_csv_auto('/etc/passwd'); select * from leak",
        "select * from 'https://example.com/data.csv'",
        "copy t1 to '/tmp/designer-sql-leak.csv'",
        "attach '/tmp/designer-sql.db' as other; select 1",
        "install httpfs; select 1",
        "load httpfs; select 1",
        "set enable_external_access = true; select 1",
        "pragma enable_profiling; select 1",
        "export database '/tmp/designer-sql-export'; select 1",
    ],
)
def test_sql_cannot_touch_files_network_extensions_or_settings(t1: pd.DataFrame, query: str) -> None:
    with pytest.raises(ComponentError, match="Not allowed") as caught:
        sql(query, t1=t1)
    assert caught.value.code == "InvalidSQLScript"
    assert not Path("/tmp/designer-sql-leak.csv").exists()
    assert not Path("/tmp/designer-sql.db").exists()


@pytest.mark.parametrize(
    "query, message",
    [
        ("selec * from t1", "does not parse"),
        ("create table x as select * from t1", "last statement .* must be a query"),
        ("select * from t2", "failed: .*t2"),
        ("select missing_column from t1", "failed"),
    ],
)
def test_sql_errors_are_component_errors(t1: pd.DataFrame, query: str, message: str) -> None:
    with pytest.raises(ComponentError, match=message) as caught:
        sql(query, t1=t1)
    assert caught.value.code == "InvalidSQLScript"


def test_sql_timeout_interrupts_the_query(t1: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scripting, "SQL_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(ComponentError, match=r"did not finish within 0\.3 seconds"):
        sql("select count(*) from range(1000000000000) a", t1=t1)


# ---- Execute Python Script -----------------------------------------------------------------------


def test_python_is_off_by_default(t1: pd.DataFrame) -> None:
    with pytest.raises(ComponentError) as caught:
        python(ExecutePythonScriptParams().python_script, RunContext(), dataset1=t1)
    assert caught.value.code == "FeatureDisabled"
    assert "DESIGNER_ENABLE_PYTHON_SCRIPT" in str(caught.value)


def test_python_transforms_data_and_logs_prints(t1: pd.DataFrame, t2: pd.DataFrame) -> None:
    ctx = RunContext(features=PYTHON_ON)
    out = python(
        "import pandas as pd\n"
        "def azureml_main(dataframe1 = None, dataframe2 = None):\n"
        "    print('joining', len(dataframe1), 'and', len(dataframe2))\n"
        "    joined = dataframe1.merge(dataframe2, on='id')\n"
        "    joined['price'] = joined['price'] * 2\n"
        "    return joined,\n",
        ctx,
        dataset1=t1,
        dataset2=t2,
    )
    assert out["result_dataset"].to_dict("list") == {
        "id": [1, 3],
        "price": [20.0, 60.0],
        "make": ["audi", "bmw"],
    }
    assert out["result_dataset2"].empty
    assert "[script] joining 3 and 2" in ctx.logs
    assert any("separate process" in line for line in ctx.logs)


def test_python_error_reports_the_users_traceback(t1: pd.DataFrame) -> None:
    ctx = RunContext(features=PYTHON_ON)
    with pytest.raises(ComponentError) as caught:
        python(
            "def azureml_main(dataframe1 = None, dataframe2 = None):\n"
            "    print('before the error')\n"
            "    total = dataframe1['price'].sum()\n"
            "    return dataframe1['no such column'],\n",
            ctx,
            dataset1=t1,
        )
    message = str(caught.value)
    assert caught.value.code == "UserScriptError"
    assert 'File "<Python script>", line 4, in azureml_main' in message
    assert "KeyError: 'no such column'" in message
    assert "sandbox.py" not in message and "pandas" not in message
    assert "[script] before the error" in ctx.logs


def test_python_timeout_stops_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scripting, "PYTHON_TIMEOUT_SECONDS", 2.0)
    with pytest.raises(ComponentError, match="did not finish within 2 seconds") as caught:
        python("def azureml_main(dataframe1 = None, dataframe2 = None):\n    while True:\n        pass\n")
    assert caught.value.code == "UserScriptTimeout"


ESCAPES = r"""
import os, sys
import pandas as pd

def attempt(action):
    try:
        action()
    except PermissionError as exc:
        return "refused: " + str(exc)
    except BaseException as exc:
        return "failed otherwise: " + type(exc).__name__ + " " + str(exc)
    return "ALLOWED"

def connect():
    import socket
    socket.create_connection(("127.0.0.1", 9), timeout=1)

def run_subprocess():
    import subprocess
    subprocess.run(["true"])

ATTEMPTS = {
    "open /etc/passwd": lambda: open("/etc/passwd").read(),
    "open the parent's environment": lambda: open(f"/proc/{os.getppid()}/environ").read(),
    "write a file": lambda: open(TARGET, "w").write("escaped"),
    "socket to 127.0.0.1": connect,
    "socket already loaded by pandas":
        lambda: sys.modules["socket"].create_connection(("127.0.0.1", 9), timeout=1),
    "subprocess": run_subprocess,
    "subprocess already loaded by pandas":
        lambda: sys.modules["pandas._config.localization"].subprocess.run(["true"]),
    "os.system": lambda: os.system("touch " + TARGET),
    "import ctypes": lambda: __import__("ctypes"),
    "ctypes already loaded by numpy": lambda: sys.modules["numpy._core._internal"].ctypes.CDLL(None).getpid(),
    "os.fork": os.fork,
    "signal the parent": lambda: os.kill(os.getppid(), 0),
}

def azureml_main(dataframe1 = None, dataframe2 = None):
    import sklearn.linear_model  # libraries that import subprocess/ctypes still load
    rows = [(name, attempt(action)) for name, action in ATTEMPTS.items()]
    rows.append(("environment", repr(sorted(os.environ))))
    rows.append(("signing key", repr(os.environ.get("DESIGNER_ARTIFACT_SIGNING_KEY"))))
    return pd.DataFrame(rows, columns=["attempt", "outcome"]),
"""


def test_python_cannot_reach_files_network_processes_or_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESIGNER_ARTIFACT_SIGNING_KEY", "parent-secret-0123456789")
    target = tmp_path / "escaped.txt"
    script = ESCAPES.replace("TARGET", repr(str(target)))
    outcomes = dict(python(script)["result_dataset"].itertuples(index=False))
    refused = [
        name
        for name, outcome in outcomes.items()
        if outcome.startswith("refused: Execute Python Script does not allow")
    ]
    assert refused == list(outcomes)[:-2], outcomes
    assert "DESIGNER" not in outcomes["environment"]
    assert outcomes["signing key"] == "None"
    assert os.environ["DESIGNER_ARTIFACT_SIGNING_KEY"] == "parent-secret-0123456789"
    assert not target.exists()


def test_sql_runs_in_a_child_process_whose_memory_is_capped(t1: pd.DataFrame) -> None:
    """``repeat('x', 3000000000)`` took 6 GB in the worker; the child's cap stops it, not the machine."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ComponentError) as err:
        sql("select repeat('x', 3000000000) as s", t1=t1)
    assert "memory" in str(err.value) and err.value.code == "InvalidSQLScript"
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 3 * 1024**2  # KiB: under 3 GiB
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 512 * 1024  # not in this process
    ctx = RunContext(features=SQL_ON)
    assert sql("select count(*) as n from t1", ctx, t1=t1)["n"].tolist() == [3]
    assert any("separate process" in line and "rlimits" in line for line in ctx.logs)
