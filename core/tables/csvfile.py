"""The one way CSV text becomes a table: dataset uploads, file-drop scoring and data paths.

One reader, so the same file gives the same rows whichever way it arrives: an empty cell is
a missing value in every column (text columns too), and so are the usual spellings of
"missing" (``NA``, ``NaN``, ``null``...). A row with more or fewer values than the header is
refused, never shifted or cut: the problems name its line. A value that does not fit a
column's type names its line and column. Problems never quote the cells: what an upload
holds is the uploader's data, not an error message's.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from core.errors import InvalidRequest, Problem

MAX_NAMED = 10  # problems named in one answer; the message says how many more there are

_TEXTUAL = (pa.types.is_date, pa.types.is_timestamp, pa.types.is_time)


class CsvError(InvalidRequest):
    """The CSV text cannot be read as a table; ``problems`` name the lines and columns."""


def read_csv(
    data: bytes,
    column_types: Mapping[str, pa.DataType] | None = None,
    *,
    first_line: int = 2,
    label: str = "line",
) -> pa.Table:
    """CSV bytes (header line first) to an Arrow table, or :class:`CsvError` saying where.

    ``column_types`` fixes the type of some columns (file-drop ranges share the types of the
    whole file). ``first_line`` is the number of the first data row in the caller's file (a
    ``label``, "line" by default), so problems name the lines the uploader sees. Dates stay
    text, as they were typed.
    """
    if data.count(b'"') % 2:  # quotes come in pairs, escaped ones too: one is never closed
        raise CsvError(
            "The text is not a readable CSV file",
            [
                Problem(
                    code="invalid_csv",
                    field="body",
                    message="A quoted value is not closed: a '\"' is missing",
                )
            ],
        )
    ragged: list[tuple[int, int, int]] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        ragged.append((row.number or 0, row.expected_columns, row.actual_columns))
        return "skip"

    parse = pacsv.ParseOptions(invalid_row_handler=on_invalid_row, newlines_in_values=True)
    convert = pacsv.ConvertOptions(strings_can_be_null=True, column_types=dict(column_types or {}))
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as exc:
        if column_types and "conversion error" in str(exc).lower():
            raise CsvError(
                "Some values do not fit their column's type",
                _bad_cells(data, column_types, first_line, label),
            ) from None
        raise CsvError(
            "The text is not a readable CSV file",
            [Problem(code="invalid_csv", field="body", message=_reason(exc))],
        ) from None
    if ragged:
        raise CsvError(
            _count("row", len(ragged)) + " do not have one value per column",
            [
                Problem(
                    code="ragged_row",
                    field=f"{label} {first_line + number - 2}",
                    message=f"{label.capitalize()} {first_line + number - 2} has {actual} value(s); "
                    f"the header has {expected}",
                )
                for number, expected, actual in ragged[:MAX_NAMED]
            ],
        )
    return _dates_as_text(table)


def read_frame(data: bytes) -> pd.DataFrame:
    """:func:`read_csv` as pandas, with the checks every registered table needs."""
    table = read_csv(data)
    problems = [
        Problem(
            code="unnamed_column",
            field="header",
            column=f"column {i + 1}",
            message=f"Column {i + 1} has no name in the header row",
        )
        for i, name in enumerate(table.column_names)
        if not name.strip()
    ]
    seen: set[str] = set()
    for name in table.column_names:
        if name in seen and name.strip():
            problems.append(
                Problem(
                    code="duplicate_column",
                    field="header",
                    column=name,
                    message=f"Column {name!r} appears more than once in the header row",
                )
            )
        seen.add(name)
    if not table.num_columns or not table.num_rows:
        problems.append(Problem(code="no_rows", field="body", message="The CSV has a header but no rows"))
    if problems:
        raise CsvError("The CSV cannot be read as a table", problems)
    return table.to_pandas()


def _dates_as_text(table: pa.Table) -> pa.Table:
    for index, field in enumerate(table.schema):
        if any(test(field.type) for test in _TEXTUAL):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table


def _bad_cells(
    data: bytes, column_types: Mapping[str, pa.DataType], first_line: int, label: str
) -> list[Problem]:
    """Which cells failed to convert: read everything as text, then try each typed column."""
    text = pacsv.read_csv(
        io.BytesIO(data),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in column_types}, strings_can_be_null=True
        ),
    )
    problems: list[Problem] = []
    for name, kind in column_types.items():
        if name not in text.column_names:
            continue
        if pa.types.is_string(kind):
            continue
        values = text.column(name).to_pylist()
        bad = [row for row, v in enumerate(values) if v is not None and not _fits(v, kind)]
        for row in bad[: MAX_NAMED - len(problems)]:
            line = first_line + row
            problems.append(
                Problem(
                    code="invalid_value",
                    field=f"{label} {line}",
                    column=name,
                    message=f"{label.capitalize()} {line}, column {name!r}: the value is not "
                    f"{_kind_name(kind)}",
                )
            )
        if len(problems) >= MAX_NAMED:
            break
    return problems or [
        Problem(code="invalid_value", field="body", message="A value does not fit its column's type")
    ]


def _fits(value: str, kind: pa.DataType) -> bool:
    try:
        pa.array([value], pa.string()).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _kind_name(kind: pa.DataType) -> str:
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return "a number"
    if pa.types.is_boolean(kind):
        return "true or false"
    return f"of type {kind}"


def _reason(exc: Exception) -> str:
    """Arrow's reason without the row text it quotes."""
    message = str(exc).split(":", 1)[0].strip()
    return f"The CSV could not be parsed ({message})" if message else "The CSV could not be parsed"


def _count(noun: str, n: int) -> str:
    return (
        f"{n} {noun}{'s' if n != 1 else ''}" if n <= MAX_NAMED else f"{n} {noun}s (first {MAX_NAMED} named)"
    )
