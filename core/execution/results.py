"""What activities answer, as models: the orchestrator validates every answer into one of these.

Only references travel here (artifact names, blob paths), never data.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.registry.runs import RunStatus


class NodeResult(BaseModel):
    """A node's run (or the join of its mini-batches): finished, failed, or split."""

    node_id: str
    status: RunStatus
    outputs: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    reused: bool = False
    attempts: int = 1
    cache_key: str | None = Field(None, description="The reuse key of a deterministic node's outputs")
    chunks: list[str] = Field(default_factory=list, description="Mini-batches to fan out")
    followers: list[NodeResult] = Field(
        default_factory=list,
        description="A chained run step's followers that ran after this node, in chain order",
    )


class ChunkOutcome(BaseModel):
    """One scored mini-batch of a pipeline node (``error`` set when it could not be scored)."""

    index: int
    outputs: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
