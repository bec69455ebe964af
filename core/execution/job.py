"""The orchestration input of a pipeline run: its id, its plan, and what was resolved at submit."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.execution.engine import RunMachine
from core.execution.executor import NodeRequest
from core.pipelines.planner import Plan


class Job(BaseModel):
    """References only: the plan, and the outputs of the nodes reused when the run was submitted."""

    run_id: str
    experiment: str
    plan: Plan
    regenerate_outputs: bool = False
    continue_on_step_failure: bool = True
    reused: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="node id -> outputs taken from an earlier run"
    )
    reuse_keys: dict[str, str] = Field(default_factory=dict, description="node id -> reuse key, of those")
    plan_key: str | None = Field(
        None, description="The plan's reuse fingerprint (see core.execution.reuse.plan_key)"
    )
    node_etags: dict[str, str] = Field(
        default_factory=dict, description="node id -> the ETag of its record as the submit wrote it"
    )

    def machine(self) -> RunMachine:
        """The run state machine of this job, with what was reused at submit already finished;
        nodes hand over inside an activity where they can (chains)."""
        return RunMachine(
            self.plan,
            continue_on_step_failure=self.continue_on_step_failure,
            resolved=self.reused,
            resolved_keys=self.reuse_keys,
            chains=True,
        )

    def node_request(self, node_id: str, inputs: dict[str, str]) -> NodeRequest:
        node = self.plan.nodes[node_id]
        return NodeRequest(
            run_id=self.run_id,
            node=node,
            inputs=inputs,
            regenerate=self.regenerate_outputs or node.regenerate,
            etag=self.node_etags.get(node_id),
        )

    def request(self, node_id: str, outputs: dict[str, dict[str, str]]) -> NodeRequest:
        """The request of a node, given every upstream node's outputs."""
        node = self.plan.nodes[node_id]
        inputs = {port: outputs[ref.node][ref.port] for port, ref in node.inputs.items()}
        return self.node_request(node_id, inputs)
