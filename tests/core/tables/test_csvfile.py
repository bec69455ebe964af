"""One CSV reader for every path: the same file gives the same table however it arrives."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest

from core.components import PortType
from core.components.dataio import READERS
from core.errors import InvalidRequest
from core.serving import batch
from core.tables import csvfile

# Empty text cells, empty number cells, a quoted comma and the usual spellings of "missing".
DATA = b'make,fuel,price\naudi,gas,100\nbmw,,200\n,diesel,\n"alfa, romeo",NA,300\nvw,gas,400\n'


def test_every_path_reads_the_same_rows_and_the_same_missing_values(service, store):
    path = f"{uuid.uuid4().hex[:8]}/cars.csv"
    store.put_blob("batch-input", path, DATA)
    uploaded = service.artifacts.get(
        service.register_csv(f"cars-{uuid.uuid4().hex[:6]}", DATA).ref, PortType.DATA
    )
    submitted = service.artifacts.get(service._import_blob(f"batch-input/{path}").ref, PortType.DATA)
    imported = READERS[".csv"](DATA)
    dropped = batch._parse_csv(
        DATA, {"make": pa.string(), "fuel": pa.string(), "price": pa.float64()}
    ).to_pandas()
    for frame in (uploaded, submitted, imported, dropped):
        assert len(frame) == 5
        assert frame.isna().sum().to_dict() == {"make": 1, "fuel": 2, "price": 1}
        assert frame["make"].iloc[3] == "alfa, romeo"


@pytest.mark.parametrize("data, field", [(b"a,b\n1,2\n3\n", "line 3"), (b"a,b\n1,2,3\n", "line 2")])
def test_ragged_rows_are_named_by_line_and_never_quoted(data, field):
    with pytest.raises(InvalidRequest) as err:
        csvfile.read_frame(data)
    assert err.value.problems[0].field == field


def test_a_value_that_does_not_fit_its_column_is_named_without_its_text():
    with pytest.raises(InvalidRequest) as err:
        csvfile.read_csv(b"hp,name\n100,a\nlots,b\n", {"hp": pa.float64()})
    problem = err.value.problems[0]
    assert (problem.field, problem.column) == ("line 3", "hp") and "lots" not in problem.message


def test_duplicate_and_unnamed_header_columns_are_refused():
    with pytest.raises(InvalidRequest) as err:
        csvfile.read_frame(b"a,a,\n1,2,3\n")
    assert {p.code for p in err.value.problems} == {"duplicate_column", "unnamed_column"}
