"""Components that run user code: Apply SQL Transformation and Execute Python Script.

Both are off unless the service's administrator turns them on (``DESIGNER_ENABLE_SQL``,
``DESIGNER_ENABLE_PYTHON_SCRIPT``): whoever can edit a pipeline can then run code on the
service's machine. SQL runs in a DuckDB database that can touch nothing but the input tables, and
Python runs, both in a confined child process with a memory cap (see :mod:`core.components.sandbox`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd
from pydantic import Field

from core.components import sandbox
from core.components.base import Component, Params, Port, PortType, RunContext
from core.errors import ComponentError

SQL_TIMEOUT_SECONDS = 60.0
SQL_MEMORY_LIMIT = "2GB"
SQL_MEMORY_BYTES = 2 * 1024**3 + 512 * 1024**2  # the child's cap: DuckDB's 2 GB and the query's own
SQL_THREADS = 2
PYTHON_TIMEOUT_SECONDS = sandbox.DEFAULT_TIMEOUT_SECONDS
PYTHON_MEMORY_BYTES = sandbox.DEFAULT_MEMORY_BYTES
MAX_LOGGED_LINES = 200


def _require_feature(ctx: RunContext, feature: str, setting: str, component: str) -> None:
    if not ctx.features.get(feature):
        raise ComponentError(
            f"{component} is turned off on this service: it runs user code. An "
            f"administrator can turn it on with the app setting {setting}=true",
            code="FeatureDisabled",
        )


# ---- Apply SQL Transformation ------------------------------------------------------------------

# Statements a script may contain. Whatever reads or writes outside the database (COPY, ATTACH,
# INSTALL/LOAD, EXPORT, SET, PRAGMA, CALL) is refused by type before it runs, and refused again
# by the locked configuration if it hides inside a query (read_csv('/etc/passwd')).
_ALLOWED_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.CREATE,
        duckdb.StatementType.INSERT,
        duckdb.StatementType.UPDATE,
        duckdb.StatementType.DELETE,
        duckdb.StatementType.DROP,
        duckdb.StatementType.ALTER,
        duckdb.StatementType.MERGE_INTO,
    }
)

# No file system, no network, no extensions, no Python variables by name, no spilling to disk;
# locked, so the script cannot SET any of it back.
_LOCKED_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
    "temp_directory": "",
    "lock_configuration": True,
}


class ApplySqlTransformationParams(Params):
    sql_query_script: str = Field("select * from t1", min_length=1, alias="SQL query script")


class ApplySqlTransformation(Component):
    """The designer ran SQLite; this runs DuckDB, whose SQL is a superset for such scripts.

    The inputs are the tables ``t1``, ``t2`` and ``t3``; a script may hold several statements
    (e.g. a CREATE TABLE, then a SELECT) and its last statement must be a query, whose result is
    the output. Column metadata (label, features) does not survive SQL.
    """

    id = "apply_sql_transformation"
    name = "Apply SQL Transformation"
    category = "Data Transformation"
    version = "1.0"
    description = "Query up to three datasets (tables t1, t2, t3) with SQL."
    inputs = (
        Port("t1", "t1", PortType.DATA),
        Port("t2", "t2", PortType.DATA, optional=True),
        Port("t3", "t3", PortType.DATA, optional=True),
    )
    outputs = (Port("result_dataset", "Result_dataset", PortType.DATA),)
    Parameters = ApplySqlTransformationParams
    deterministic = False  # user code: random(), now() and the like
    feature = ("enable_sql", "DESIGNER_ENABLE_SQL")

    def run(
        self, inputs: Mapping[str, Any], params: ApplySqlTransformationParams, ctx: RunContext
    ) -> dict[str, Any]:
        _require_feature(ctx, "enable_sql", "DESIGNER_ENABLE_SQL", self.name)
        con = duckdb.connect(":memory:", config=_LOCKED_CONFIG)  # no data: only to check the script
        try:
            statements = _parse(con, params.sql_query_script)
        finally:
            con.close()
        tables = {t: inputs[t] for t in ("t1", "t2", "t3") if inputs.get(t) is not None}
        result = _execute(params.sql_query_script, tables)
        frame = result.frames[0]
        if frame is None:  # the child answers the last statement's table, never nothing
            raise ComponentError("The SQL query script returned no table", code="InvalidSQLScript")
        ctx.log(
            f"ran {len(statements)} SQL statement(s) on {', '.join(tables)} in a separate process "
            f"({', '.join(result.confinement)}): {len(frame)} row(s), "
            f"{frame.shape[1]} column(s)"
        )
        return {"result_dataset": frame}


def _parse(con: duckdb.DuckDBPyConnection, script: str) -> list[Any]:
    try:
        statements = con.extract_statements(script)
    except duckdb.Error as exc:
        raise ComponentError(f"The SQL query script does not parse: {exc}", code="InvalidSQLScript") from None
    refused = [s for s in statements if s.type not in _ALLOWED_STATEMENTS]
    if refused:
        raise ComponentError(
            f"Not allowed in Apply SQL Transformation: {refused[0].query.strip()[:80]!r} "
            f"({refused[0].type.name}); scripts may only query and change the input "
            "tables, not files, extensions or settings",
            code="InvalidSQLScript",
        )
    if not statements or statements[-1].type != duckdb.StatementType.SELECT:
        raise ComponentError(
            "The last statement of the SQL query script must be a query (SELECT); its result is the output",
            code="InvalidSQLScript",
        )
    return statements


def _execute(script: str, tables: dict[str, pd.DataFrame]) -> sandbox.ScriptResult:
    """The script in a child process whose address space is capped, as Execute Python Script's.

    DuckDB's ``memory_limit`` governs its buffers, not every allocation a query makes; the
    child's limit holds for all of them, and a runaway query takes only the child down.
    """
    try:
        return sandbox.run_sql(
            script,
            tables,
            allowed=[t.name for t in _ALLOWED_STATEMENTS],
            config={**_LOCKED_CONFIG, "memory_limit": SQL_MEMORY_LIMIT, "threads": SQL_THREADS},
            timeout=SQL_TIMEOUT_SECONDS,
            memory_bytes=SQL_MEMORY_BYTES,
        )
    except sandbox.ScriptTimeout:
        raise ComponentError(
            f"The SQL query script did not finish within {SQL_TIMEOUT_SECONDS:g} seconds and was stopped",
            code="InvalidSQLScript",
        ) from None
    except sandbox.SandboxFailure as exc:
        raise ComponentError(
            f"The SQL query script was stopped: {exc} (limit {SQL_MEMORY_LIMIT})", code="InvalidSQLScript"
        ) from None
    except sandbox.ScriptError as exc:
        raise ComponentError(_sql_failure(str(exc)), code="InvalidSQLScript") from None


def _sql_failure(reason: str) -> str:
    kind, _, detail = reason.partition(": ")
    if kind == "PermissionException":
        return (
            f"Not allowed in Apply SQL Transformation: {detail}. Scripts can only use the input "
            "tables t1, t2, t3"
        )
    if kind in ("OutOfMemoryException", "MemoryError"):
        return f"The SQL query script needs more memory than the {SQL_MEMORY_LIMIT} it may use"
    return f"The SQL query script failed: {detail or reason}"


# ---- Execute Python Script -----------------------------------------------------------------------

DEFAULT_PYTHON_SCRIPT = """\
# The script MUST contain a function named azureml_main,
# which is the entry point for this component.

# Imports up here can be used in the entry point function.
import pandas as pd


# The entry point function MUST have two input arguments.
# If an input port is not connected, the corresponding
# dataframe argument is None.
#   Param<dataframe1>: a pandas.DataFrame
#   Param<dataframe2>: a pandas.DataFrame
def azureml_main(dataframe1 = None, dataframe2 = None):

    # Execution logic goes here
    print(f'Input pandas.DataFrame #1: {dataframe1}')

    # Return value must be a sequence of pandas.DataFrame
    # E.g.
    #   -  Single return value: return dataframe1,
    #   -  Two return values: return dataframe1, dataframe2
    return dataframe1,
"""


class ExecutePythonScriptParams(Params):
    python_script: str = Field(DEFAULT_PYTHON_SCRIPT, min_length=1, alias="Python Script")


class ExecutePythonScript(Component):
    """``azureml_main(dataframe1, dataframe2)`` in a confined child process.

    Differences from the designer: no Script Bundle port (no zip artifacts here) and no Python
    Version parameter (scripts run on the service's Python, with its packages); the second
    output is a dataset (the docs' "Result Dataset2"), not the classic "Python Device". An
    output the script does not return is an empty dataset, and outputs carry no column metadata
    (label, features). Scripts cannot read or write files, use the network or start processes,
    so libraries that need those fail (e.g. scikit-learn's KMeans, which limits thread pools
    through ctypes); what scripts print is added to the run's logs. The time limit counts from
    the start of the script's process, which takes a second or two to load pandas.
    """

    id = "execute_python_script"
    name = "Execute Python Script"
    category = "Python Language"
    version = "1.1"
    description = "Run a Python function on up to two datasets and return up to two datasets."
    inputs = (
        Port("dataset1", "Dataset1", PortType.DATA, optional=True),
        Port("dataset2", "Dataset2", PortType.DATA, optional=True),
    )
    outputs = (
        Port("result_dataset", "Result Dataset", PortType.DATA),
        Port("result_dataset2", "Result Dataset2", PortType.DATA),
    )
    Parameters = ExecutePythonScriptParams
    deterministic = False  # user code: it may draw random numbers or read the clock
    feature = ("enable_python_script", "DESIGNER_ENABLE_PYTHON_SCRIPT")

    def run(
        self, inputs: Mapping[str, Any], params: ExecutePythonScriptParams, ctx: RunContext
    ) -> dict[str, Any]:
        _require_feature(ctx, "enable_python_script", "DESIGNER_ENABLE_PYTHON_SCRIPT", self.name)
        frames = [inputs.get("dataset1"), inputs.get("dataset2")]
        try:
            result = sandbox.run_script(
                params.python_script, frames, timeout=PYTHON_TIMEOUT_SECONDS, memory_bytes=PYTHON_MEMORY_BYTES
            )
        except sandbox.ScriptTimeout as exc:
            _log_output(ctx, exc.log, truncated=False)
            raise ComponentError(str(exc), code="UserScriptTimeout") from None
        except sandbox.SandboxError as exc:
            _log_output(ctx, exc.log, truncated=False)
            raise ComponentError(f"The Python script failed:\n{exc}", code="UserScriptError") from None
        ctx.log(f"ran the script in a separate process ({', '.join(result.confinement)})")
        _log_output(ctx, result.log, result.log_truncated)
        out = [f if f is not None else pd.DataFrame() for f in [*result.frames, None, None]]
        return {"result_dataset": out[0], "result_dataset2": out[1]}


def _log_output(ctx: RunContext, text: str, truncated: bool) -> None:
    lines = text.splitlines()
    for line in lines[:MAX_LOGGED_LINES]:
        ctx.log(f"[script] {line}")
    if truncated or len(lines) > MAX_LOGGED_LINES:
        ctx.log("[script] ... (output truncated)")


COMPONENTS = (ApplySqlTransformation, ExecutePythonScript)
