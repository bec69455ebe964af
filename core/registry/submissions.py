"""The Azure ML pipeline-endpoint submission body, so existing REST scripts work unchanged.

Field names are Azure ML's (``PipelineSubmissionInfo``): ``ExperimentName``,
``ParameterAssignments``, ``DataSetDefinitionValueAssignments``, ``DataPathAssignments``, and
``PipelineVersion`` (also accepted as the ``pipelineVersion`` query parameter, as the SDK sends it).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from core import names
from core.errors import Problem


class _Azure(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DataPath(_Azure):
    DataStoreName: str = Field(min_length=1, description="A container: datasets, batch-input or exports")
    RelativePath: str = Field(min_length=1)

    @property
    def path(self) -> str:
        return f"{self.DataStoreName}/{self.RelativePath.lstrip('/')}"


class SavedDataSetRef(_Azure):
    Id: str = Field(min_length=1, description="A dataset name, optionally 'name:version'")


class DataSetRef(_Azure):
    Id: str | None = None
    Name: str | None = None
    Version: str | int | None = None


class DataSetDefinitionValue(_Azure):
    """One of the three forms Azure ML accepts for a dataset input."""

    SavedDataSetReference: SavedDataSetRef | None = None
    DataSetReference: DataSetRef | None = None
    LiteralValue: DataPath | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> DataSetDefinitionValue:
        given = [x for x in (self.SavedDataSetReference, self.DataSetReference, self.LiteralValue) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of SavedDataSetReference, DataSetReference, LiteralValue")
        return self


class EndpointSubmission(_Azure):
    ExperimentName: str = Field(pattern=names.NAME)
    Description: names.Description = ""
    ParameterAssignments: Annotated[dict[str, Any], AfterValidator(names.check_assignments)] = Field(
        default_factory=dict
    )
    DataSetDefinitionValueAssignments: dict[str, DataSetDefinitionValue] = Field(default_factory=dict)
    DataPathAssignments: dict[str, DataPath] = Field(default_factory=dict)
    PipelineVersion: int | None = None
    RegenerateOutputs: bool = False
    ContinueRunOnStepFailure: bool | None = None  # unset: the service's default (continue)
    # Accepted for compatibility with Azure ML scripts; they change nothing here.
    RunSource: str | None = None
    RunType: str | None = None
    ScheduleId: str | None = None
    EnableNotification: bool | None = None
    tags: dict[str, str] | None = None
    Properties: dict[str, str] | None = None

    @field_validator("PipelineVersion", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def dataset_choice(
    param: str, value: DataSetDefinitionValue
) -> tuple[str | None, int | None, str | None, list[Problem]]:
    """(dataset name, version, blob path, problems) for one dataset assignment."""
    field = f"DataSetDefinitionValueAssignments.{param}"
    if value.LiteralValue:
        return None, None, value.LiteralValue.path, []
    if value.SavedDataSetReference:
        saved_id = value.SavedDataSetReference.Id
        name, _, version = saved_id.partition(":")
        if version and not version.isdigit():
            return (
                None,
                None,
                None,
                [
                    Problem(
                        code="invalid_dataset_reference",
                        field=field,
                        message=f"{saved_id!r}: write 'name' or 'name:version'",
                    )
                ],
            )
        return name, int(version) if version else None, None, []
    dataset = value.DataSetReference
    assert dataset is not None
    dataset_name = dataset.Name or dataset.Id
    if not dataset_name:
        return (
            None,
            None,
            None,
            [
                Problem(
                    code="invalid_dataset_reference",
                    field=field,
                    message="DataSetReference needs a Name (or Id)",
                )
            ],
        )
    number = dataset.Version
    if isinstance(number, str):
        if not number.isdigit():
            return (
                None,
                None,
                None,
                [
                    Problem(
                        code="invalid_dataset_reference",
                        field=field,
                        message=f"Version {number!r} is not a number",
                    )
                ],
            )
        number = int(number)
    return dataset_name, number, None, []
