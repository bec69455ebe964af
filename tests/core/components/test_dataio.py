"""Enter Data Manually, Import Data, Export Data and Convert to CSV, with a dictionary for storage."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from core.components.base import RunContext
from core.components.dataio import (
    ConvertToCsv,
    EnterDataManually,
    EnterDataManuallyParams,
    ExportData,
    ExportDataParams,
    ImportData,
    ImportDataParams,
)
from core.errors import ComponentError, NotFound


class FakeDataAccess:
    """Registered datasets and blobs in dictionaries, like the executor's StoreDataAccess."""

    def __init__(self) -> None:
        self.datasets: dict[tuple[str, int], pd.DataFrame] = {}
        self.blobs: dict[str, bytes] = {}

    def read_dataset(self, name: str, version: int | None) -> pd.DataFrame:
        versions = sorted(v for n, v in self.datasets if n == name)
        if not versions or (version is not None and version not in versions):
            raise NotFound(
                f"No dataset named {name!r}" if not versions else f"{name!r} has no version {version}"
            )
        return self.datasets[(name, version or versions[-1])]

    def read_blob(self, path: str) -> bytes:
        if path not in self.blobs:
            raise ComponentError(f"No blob at {path!r}", code="InvalidDataset")
        return self.blobs[path]

    def write_blob(self, path: str, data: bytes) -> str:
        self.blobs[path] = data
        return path


@pytest.fixture
def storage() -> FakeDataAccess:
    return FakeDataAccess()


@pytest.fixture
def cars() -> pd.DataFrame:
    return pd.DataFrame({"make": ["audi", "bmw"], "price": [13950.0, 16430.0]})


def enter(**params: Any) -> pd.DataFrame:
    params_model = EnterDataManuallyParams.model_validate(params)
    return EnterDataManually().run({}, params_model, RunContext())["dataset"]


def import_data(storage: FakeDataAccess, ctx: RunContext | None = None, **params: Any) -> pd.DataFrame:
    ctx = ctx or RunContext()
    ctx.data = storage
    return ImportData().run({}, ImportDataParams.model_validate(params), ctx)["results_dataset"]


def export(storage: FakeDataAccess, df: pd.DataFrame, ctx: RunContext | None = None, **params: Any) -> None:
    ctx = ctx or RunContext()
    ctx.data = storage
    assert ExportData().run({"dataset": df}, ExportDataParams.model_validate(params), ctx) == {}


def test_catalogue_entries() -> None:
    for component in (EnterDataManually, ImportData, ExportData, ConvertToCsv):
        assert component.describe()["id"] == component.id
    assert ImportData.needs_data_access and ExportData.needs_data_access
    assert not ImportData.deterministic and not ExportData.deterministic
    assert ExportData.outputs == () and EnterDataManually.inputs == ()
    defaults = EnterDataManuallyParams.model_validate({"Data": "a\n1"})
    assert (defaults.data_format, defaults.has_header) == ("CSV", True)
    assert ExportDataParams.model_validate({"Path": "x"}).file_format == "CSV"
    for model, bad in (
        (EnterDataManuallyParams, {}),
        (EnterDataManuallyParams, {"Data": "a", "DataFormat": "JSON"}),
        (ImportDataParams, {"Data source": "URL via HTTP"}),
        (ImportDataParams, {"Dataset version": 0}),
        (ExportDataParams, {"Path": ""}),
        (ExportDataParams, {"Path": "x", "File format": "xlsx"}),
    ):
        with pytest.raises(ValidationError):
            model.model_validate(bad)


# ---- Enter Data Manually -------------------------------------------------------------------------


def test_enter_csv_with_header() -> None:
    df = enter(Data="make,price\naudi,13950\nbmw,16430\n")
    assert df.to_dict("list") == {"make": ["audi", "bmw"], "price": [13950, 16430]}


def test_enter_tsv_without_header() -> None:
    df = enter(DataFormat="TSV", HasHeader=False, Data="audi\t13950\nbmw\t16430")
    assert list(df.columns) == ["Col1", "Col2"] and df["Col2"].tolist() == [13950, 16430]


def test_enter_arff() -> None:
    df = enter(
        DataFormat="ARFF",
        Data=(
            "% cars\n@relation cars\n@attribute 'make name' {audi,bmw}\n@attribute price numeric\n"
            "@attribute note string\n@data\naudi,13950,'very fast'\nbmw,?,?\n"
        ),
    )
    assert list(df.columns) == ["make name", "price", "note"]
    assert df["price"].tolist()[0] == 13950 and pd.isna(df["price"].tolist()[1])
    assert df["note"].tolist()[0] == "very fast" and pd.isna(df["note"].tolist()[1])
    assert df.attrs["categorical"] == ["make name"]


def test_enter_svmlight() -> None:
    df = enter(DataFormat="SvmLight", Data="1 1:0.5 3:2\n-1 2:1\n")
    assert df.to_dict("list") == {"Label": [1.0, -1.0], "f1": [0.5, 0.0], "f2": [0.0, 1.0], "f3": [2.0, 0.0]}
    assert df.attrs["label"] == "Label"


@pytest.mark.parametrize(
    "data_format, data",
    [
        ("CSV", "   \n"),
        ("CSV", 'a,b\n1,"unterminated\n'),
        ("ARFF", "just text"),
        ("ARFF", "@attribute x numeric\n@data\nabc\n"),
        ("SvmLight", "x y z"),
    ],
)
def test_enter_refuses_unreadable_data(data_format: str, data: str) -> None:
    with pytest.raises(ComponentError, match="'Data'") as caught:
        enter(DataFormat=data_format, Data=data)
    assert caught.value.code in ("NullOrEmpty", "ParameterParsing")


# ---- Import Data ---------------------------------------------------------------------------------


def test_import_registered_dataset_latest_or_pinned(storage: FakeDataAccess, cars: pd.DataFrame) -> None:
    storage.datasets[("cars", 1)] = cars.head(1)
    storage.datasets[("cars", 2)] = cars
    ctx = RunContext()
    pd.testing.assert_frame_equal(import_data(storage, ctx, **{"Dataset name": "cars"}), cars)
    assert ctx.logs == ["imported 2 row(s) and 2 column(s) from dataset 'cars' (latest version)"]
    pinned = import_data(storage, **{"Dataset name": "cars", "Dataset version": 1})
    pd.testing.assert_frame_equal(pinned, cars.head(1))


def test_import_unknown_dataset_is_a_component_error(storage: FakeDataAccess) -> None:
    with pytest.raises(ComponentError, match="No dataset named 'nope'") as caught:
        import_data(storage, **{"Dataset name": "nope"})
    assert caught.value.code == "InvalidDataset"
    with pytest.raises(ComponentError, match="'Dataset name'") as empty:
        import_data(storage)
    assert empty.value.code == "NullOrEmpty"


@pytest.mark.parametrize("path", ["exports/cars.csv", "exports/cars.parquet", "exports/cars.TSV"])
def test_import_blob_by_extension(storage: FakeDataAccess, cars: pd.DataFrame, path: str) -> None:
    if path.endswith(".parquet"):
        buffer = io.BytesIO()
        cars.to_parquet(buffer, index=False)
        storage.blobs[path] = buffer.getvalue()
    else:
        storage.blobs[path] = cars.to_csv(index=False, sep="," if path.endswith(".csv") else "\t").encode()
    df = import_data(storage, **{"Data source": "Blob path", "Path": path})
    pd.testing.assert_frame_equal(df, cars)


def test_import_blob_refusals(storage: FakeDataAccess) -> None:
    storage.blobs["exports/bad.parquet"] = b"not parquet"
    cases = [
        ({"Path": "exports/cars.xlsx"}, "NotSupported"),
        ({}, "NullOrEmpty"),
        ({"Path": "exports/bad.parquet"}, "InvalidDataset"),
        ({"Path": "exports/missing.csv"}, "InvalidDataset"),
    ]
    for params, code in cases:
        with pytest.raises(ComponentError) as caught:
            import_data(storage, **{"Data source": "Blob path", **params})
        assert caught.value.code == code


# ---- Export Data ---------------------------------------------------------------------------------


def test_export_csv_under_exports(storage: FakeDataAccess, cars: pd.DataFrame) -> None:
    ctx = RunContext()
    export(storage, cars, ctx, Path="reports/cars")
    assert list(storage.blobs) == ["exports/reports/cars.csv"]
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(storage.blobs["exports/reports/cars.csv"])), cars)
    assert ctx.logs == ["exported 2 row(s) and 2 column(s) as CSV to exports/reports/cars.csv"]


def test_export_parquet_keeps_a_given_prefix_and_extension(
    storage: FakeDataAccess, cars: pd.DataFrame
) -> None:
    export(storage, cars, **{"Path": "/exports/cars.parquet", "File format": "Parquet"})
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(storage.blobs["exports/cars.parquet"])), cars)


@pytest.mark.parametrize("path", ["../secrets/x.csv", "exports/", "a/../../b.csv", "./x"])
def test_export_refuses_paths_outside_exports(storage: FakeDataAccess, cars: pd.DataFrame, path: str) -> None:
    with pytest.raises(ComponentError, match="'Path'") as caught:
        export(storage, cars, Path=path)
    assert caught.value.code == "InvalidPath"
    assert storage.blobs == {}


# ---- Convert to CSV ------------------------------------------------------------------------------


def test_convert_to_csv_tags_the_same_table(cars: pd.DataFrame) -> None:
    cars.attrs["label"] = "price"
    out = ConvertToCsv().run({"dataset": cars}, None, RunContext())["results_dataset"]
    pd.testing.assert_frame_equal(out, cars)
    assert out.attrs == {"label": "price", "format": "csv"}
    assert cars.attrs == {"label": "price"}
