"""Per-node run settings: the designer's per-component compute settings.

A node's ``run_settings`` bound how it runs, not what it computes, so they never enter the
step-output reuse key. They are checked like parameters: every problem is reported with the
node and the setting named, and a draft holding bad settings is still saved.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Infrastructure faults (a storage hiccup) are retried even when a node asks for no retries.
INFRASTRUCTURE_ATTEMPTS = 3
DEFAULT_BACKOFF_SECONDS = 2.0
MINI_BATCH_COMPONENTS = frozenset({"score_model", "apply_transformation", "assign_data_to_clusters"})


class RunSettings(BaseModel):
    """How one node runs; every field is optional and unset means the service's default."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: float | None = Field(
        None,
        gt=0,
        le=86_400,
        description="The longest the node may take, retries included; past it the node fails",
    )
    max_retries: int = Field(
        0, ge=0, le=10, description="How many times a failed node is tried again (its own errors included)"
    )
    retry_backoff_seconds: float = Field(
        DEFAULT_BACKOFF_SECONDS, gt=0, le=3600, description="Wait before each new attempt"
    )
    mini_batch_rows: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="Scoring nodes only: rows per mini-batch (default: the app's DESIGNER_MINI_BATCH_ROWS)",
    )

    @property
    def max_attempts(self) -> int:
        """Attempts the durable retry policy allows: the node's own, or the infrastructure floor."""
        return max(self.max_retries + 1, INFRASTRUCTURE_ATTEMPTS)


def parse(values: dict[str, Any] | None) -> RunSettings:
    """Settings of a validated node (the document's checks ran first)."""
    return RunSettings.model_validate(values or {})


def problems(node_id: str, component_id: str | None, values: dict[str, Any] | None) -> list[Any]:
    """Every problem of one node's settings, as :class:`core.errors.Problem`."""
    from core.errors import Problem  # light import; keeps this module free of the catalogue

    found: list[Problem] = []
    try:
        settings = RunSettings.model_validate(values or {})
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "run_settings"
            code = "unknown_run_setting" if err["type"] == "extra_forbidden" else "invalid_run_setting"
            found.append(
                Problem(
                    code=code,
                    node=node_id,
                    field=f"run_settings.{name}",
                    message=f"run setting {name!r}: {err['msg']}",
                )
            )
        return found
    if (
        settings.mini_batch_rows is not None
        and component_id is not None
        and component_id not in MINI_BATCH_COMPONENTS
    ):
        found.append(
            Problem(
                code="invalid_run_setting",
                node=node_id,
                field="run_settings.mini_batch_rows",
                message="run setting 'mini_batch_rows' applies only to Score Model, Apply "
                "Transformation and Assign Data to Clusters nodes",
            )
        )
    return found


def describe(component_id: str) -> dict[str, Any]:
    """The catalogue's JSON schema of the settings a node of this component takes."""
    schema = RunSettings.model_json_schema()
    if component_id not in MINI_BATCH_COMPONENTS:
        schema["properties"].pop("mini_batch_rows", None)
    return schema
