"""Errors that carry every problem found, so the HTTP layer can name each one.

A use case raises one of these; ``functions/`` maps the class to a status code and the
``problems`` list to the JSON body. Nothing has been written to storage when one is raised.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """One thing wrong with a request, located as precisely as we can."""

    code: str
    message: str
    node: str | None = None
    port: str | None = None
    parameter: str | None = None
    field: str | None = None
    column: str | None = None

    def located(self) -> str:
        where = [
            f"{k}={v}"
            for k in ("node", "port", "parameter", "field", "column")
            if (v := getattr(self, k)) is not None
        ]
        return f"{self.message} ({', '.join(where)})" if where else self.message


class DesignerError(Exception):
    """Base class: a request the service refuses, with the problems that explain why."""

    status = 400

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def to_body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": type(self).__name__,
                "message": self.message,
                "problems": [p.model_dump(exclude_none=True) for p in self.problems],
            }
        }


class InvalidRequest(DesignerError):
    status = 400


class Unauthorized(DesignerError):
    status = 401


class NotFound(DesignerError):
    status = 404


class Conflict(DesignerError):
    status = 409


class ServiceUnavailable(DesignerError):
    """Storage (or another dependency) did not answer: try again after ``retry_after`` s."""

    status = 503
    retry_after = 5


class PreconditionFailed(DesignerError):
    """An ``If-Match`` that is not the current ETag (stale or malformed): HTTP 412."""

    status = 412


def check_if_match(if_match: str | None, current: str | None, what: str) -> None:
    """Refuse a write whose ``If-Match`` names another version than the stored one.

    ``*`` or no header means "whatever is there"; the store's conditional write still
    catches a change between this check and the write.
    """
    if if_match is None or if_match.strip() == "*" or if_match == current:
        return
    raise PreconditionFailed(
        f"{what} has changed since it was read",
        [
            Problem(
                code="precondition_failed",
                field="If-Match",
                message="If-Match is not the current ETag: read it again, then retry with its ETag",
            )
        ],
    )


class ComponentError(Exception):
    """A component refused its inputs or parameters (a user error, never retried).

    ``code`` follows the designer's error numbering where one fits (0001 ColumnNotFound...).
    """

    def __init__(self, message: str, code: str = "ComponentError", column: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.column = column


class ColumnNotFound(ComponentError):
    def __init__(self, columns: list[str], available: list[str]) -> None:
        shown = ", ".join(repr(c) for c in columns)
        super().__init__(
            f"Column {shown} not found in the dataset; available columns: {', '.join(available)}",
            code="ColumnNotFound",
            column=columns[0] if columns else None,
        )
