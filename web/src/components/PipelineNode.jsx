// One node on the canvas: designer name, its comment, labelled typed ports, problems and, in
// the run view, its live status.
import { memo } from "react";
import { Handle, Position } from "@xyflow/react";
import { useCatalogue } from "../catalogue.js";
import { displayName } from "../lib/graph.js";
import { concernsPort } from "../lib/problems.js";
import { typeLabel } from "../lib/ports.js";
import { formatDuration } from "../lib/runs.js";

function pressToClick(e) {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    e.stopPropagation();
    e.currentTarget.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  }
}

function PipelineNodeView({ id, data, selected }) {
  const { byId } = useCatalogue();
  const entry = byId.get(data.component);
  const name = displayName({ id, data }, byId);
  const problems = data.problems ?? [];
  const run = data.run;
  const isDataset = entry?.id === "dataset";
  return (
    <div className={`node${selected ? " selected" : ""}${problems.length ? " has-problems" : ""}${run ? ` status-${run.status.replace(/ /g, "-")}` : ""}${isDataset ? " dataset" : ""}`}>
      <div className="node-head">
        <span className="node-title" title={name}>{name}</span>
      </div>
      <div className="node-sub">
        <span className="node-kind">{isDataset ? "Dataset" : entry ? entry.category : "Unknown component"}</span>
        {problems.length > 0 && <span className="badge problem" title={problems.map((p) => p.message).join("\n")}>
          {problems.length} problem{problems.length > 1 ? "s" : ""}</span>}
      </div>
      {data.comment && <div className="node-comment">{data.comment}</div>}
      <div className="ports">
        <div className="port-col">
          {(entry?.inputs ?? []).map((p) => (
            <div className={`port in${problems.some((x) => concernsPort(x, p)) ? " bad" : ""}`} key={p.id}>
              <Handle type="target" position={Position.Left} id={p.id} role="button" tabIndex={0}
                aria-label={`Input ${p.name} of ${name}`} title={`${p.name}: ${typeLabel(p.type)}${p.optional ? " (optional)" : ""}`}
                className={`handle t-${p.type}`} onKeyDown={pressToClick} />
              <span>{p.name}{p.optional ? "" : ""}</span>
            </div>
          ))}
        </div>
        <div className="port-col out">
          {(entry?.outputs ?? []).map((p) => (
            <div className="port out" key={p.id}>
              <span>{p.name}</span>
              <Handle type="source" position={Position.Right} id={p.id} role="button" tabIndex={0}
                aria-label={`Output ${p.name} of ${name}`} title={`${p.name}: ${typeLabel(p.type)}`}
                className={`handle t-${p.type}`} onKeyDown={pressToClick} />
            </div>
          ))}
        </div>
      </div>
      {run && (
        <div className="node-status">
          <span className="status-dot" aria-hidden="true" />
          <span className="status-text">{run.status}</span>
          {run.duration !== null && run.duration !== undefined && <span className="duration">{formatDuration(run.duration)}</span>}
          {run.reusedFrom && <span className="reused-from">from an earlier run</span>}
        </div>
      )}
    </div>
  );
}

export const PipelineNode = memo(PipelineNodeView);
export const nodeTypes = { component: PipelineNode };
