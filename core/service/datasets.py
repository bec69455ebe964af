"""Dataset use cases: register an upload or a sample, list, look at the first rows and profiles."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from core.errors import NotFound
from core.registry import datasets
from core.registry.datasets import DatasetVersion
from core.storage.artifacts import Artifacts
from core.storage.store import Store
from core.tables import profile as table_profile


class Datasets:
    def __init__(self, store: Store, artifacts: Artifacts, samples_dir: Path | None) -> None:
        self.store, self.artifacts, self.samples_dir = store, artifacts, samples_dir

    def register_csv(self, name: str, data: bytes, description: str = "") -> DatasetVersion:
        datasets.check_name(name)
        return datasets.register(self.store, name, datasets.parse_csv(data), description=description)

    def register_sample(self, name: str) -> DatasetVersion:
        if self.samples_dir is None:
            raise NotFound("Built-in samples are not available in this deployment")
        return datasets.register_sample(self.store, name, self.samples_dir)

    def samples(self) -> list[dict[str, str]]:
        return [{"name": n, "description": d} for n, d in datasets.SAMPLES.items()]

    def latest(self) -> list[DatasetVersion]:
        """The latest version of every dataset."""
        return datasets.list_datasets(self.store)

    def versions(self, name: str) -> list[DatasetVersion]:
        """Every version, oldest first; :class:`NotFound` (with its message) when there is none."""
        found = datasets.versions(self.store, name)
        if not found:
            datasets.get(self.store, name)  # raises NotFound with the message
        return found

    def get(self, name: str, version: int | None = None) -> DatasetVersion:
        return datasets.get(self.store, name, version)

    # ---- looking at tables: first rows and column profiles, with bounded work ---------------
    def preview(self, name: str, version: int, rows: int) -> table_profile.Preview:
        df, total = head(self.artifacts, self.get(name, version).ref, rows)
        return table_profile.preview(df, total)

    def profile(self, name: str, version: int) -> table_profile.TableProfile:
        df, total = head(self.artifacts, self.get(name, version).ref, table_profile.PROFILE_ROWS)
        return table_profile.profile(df, total)


def head(artifacts: Artifacts, ref: str, rows: int) -> tuple[pd.DataFrame, int]:
    """The first ``rows`` rows of a stored Parquet table and its row count, read no further."""
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "table.parquet")
        artifacts.download_to(ref, path)
        return table_profile.read_head(path, rows)
