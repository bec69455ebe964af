// Every problem the API reports for the draft; choosing one selects its node.
import { useState } from "react";
import { useCatalogue } from "../catalogue.js";
import { displayName } from "../lib/graph.js";

export function ProblemsPanel({ problems, nodes, onSelect }) {
  const { byId } = useCatalogue();
  const [open, setOpen] = useState(true);
  const names = new Map(nodes.map((n) => [n.id, displayName(n, byId)]));
  const portName = (p) => {
    const entry = byId.get(nodes.find((n) => n.id === p.node)?.data.component);
    const port = [...(entry?.inputs ?? []), ...(entry?.outputs ?? [])].find((x) => x.id === p.port || x.name === p.port);
    return port?.name ?? p.port;
  };
  const parameterName = (p) => {
    const entry = byId.get(nodes.find((n) => n.id === p.node)?.data.component);
    return entry?.parameters?.properties?.[p.parameter]?.title ?? p.parameter;
  };
  return (
    <section className={`problems${open ? " open" : ""}`} aria-label="Problems">
      <button type="button" className="problems-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        {problems.length ? `Problems (${problems.length})` : "No problems: the pipeline can run"}
      </button>
      {open && problems.length > 0 && (
        <ul>
          {problems.map((p, i) => {
            const where = [p.node && (names.get(p.node) ?? p.node), p.port && `port ${portName(p)}`, p.parameter && `parameter ${parameterName(p)}`]
              .filter(Boolean).join(" · ");
            return (
              <li key={i}>
                <button type="button" className="problem-item" disabled={!p.node || !names.has(p.node)}
                  onClick={() => onSelect(p.node)}>
                  {where && <strong>{where}: </strong>}{p.message}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
