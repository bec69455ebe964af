// Every problem the API reports for the draft; choosing one selects its node.
import { useState } from "react";
import { useCatalogue } from "../catalogue.js";
import { displayName } from "../lib/graph.js";

export function ProblemsPanel({ problems, nodes, onSelect }) {
  const { byId } = useCatalogue();
  const [open, setOpen] = useState(true);
  const names = new Map(nodes.map((n) => [n.id, displayName(n, byId)]));
  return (
    <section className={`problems${open ? " open" : ""}`} aria-label="Problems">
      <button type="button" className="problems-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        {problems.length ? `Problems (${problems.length})` : "No problems: the pipeline can run"}
      </button>
      {open && problems.length > 0 && (
        <ul>
          {problems.map((p, i) => {
            const where = [p.node && (names.get(p.node) ?? p.node), p.port && `port ${p.port}`, p.parameter && `parameter ${p.parameter}`]
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
