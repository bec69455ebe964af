// The asset library: datasets (registered and samples) and the component catalogue by
// category, filtered as you type. Drag an entry onto the canvas, double-click it, or press
// Enter on it to add a node.
import { memo, useMemo, useRef, useState } from "react";
import { useCatalogue } from "../catalogue.js";

const HIDDEN = new Set(["dataset"]);

export const Library = memo(function Library({ onAdd, onDrop }) {
  const { list, datasets, samples } = useCatalogue();
  const [tab, setTab] = useState("datasets");
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const hit = (...texts) => !q || texts.some((t) => String(t ?? "").toLowerCase().includes(q));

  const datasetEntries = useMemo(() => {
    const registered = new Set(datasets.map((d) => d.name));
    return [
      ...datasets.map((d) => ({ kind: "dataset", name: d.name, description: d.description, detail: `v${d.version} · ${d.rows} rows` })),
      ...samples.filter((s) => !registered.has(s.name))
        .map((s) => ({ kind: "dataset", name: s.name, description: s.description, sample: true, detail: "sample" })),
    ];
  }, [datasets, samples]);
  const groups = useMemo(() => {
    const out = new Map();
    for (const c of list) {
      if (HIDDEN.has(c.id)) continue;
      if (!out.has(c.category)) out.set(c.category, []);
      out.get(c.category).push(c);
    }
    return [...out.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [list]);

  const shownDatasets = datasetEntries.filter((d) => hit(d.name, d.description));
  const shownGroups = groups.map(([cat, cs]) => [cat, cs.filter((c) => hit(c.name, c.description, cat))])
    .filter(([, cs]) => cs.length);

  return (
    <aside className="library" aria-label="Asset library">
      <input type="search" className="search" placeholder="Search"
        aria-label="Search the asset library" value={query} onChange={(e) => setQuery(e.target.value)} />
      <div role="tablist" aria-label="Asset kinds" className="tabs">
        <button type="button" role="tab" aria-selected={tab === "datasets"} onClick={() => setTab("datasets")}>Datasets</button>
        <button type="button" role="tab" aria-selected={tab === "components"} onClick={() => setTab("components")}>Components</button>
      </div>
      <div role="tabpanel" className="library-list" aria-label={tab === "datasets" ? "Datasets" : "Components"}>
        {tab === "datasets" ? (
          shownDatasets.length ? shownDatasets.map((d) => (
            <Entry key={d.name} item={d} label={d.name} detail={d.detail} description={d.description} onAdd={onAdd} onDrop={onDrop} />
          )) : <p className="muted">No dataset matches.</p>
        ) : shownGroups.length ? shownGroups.map(([cat, cs]) => (
          <section key={cat} aria-label={cat}>
            <h3 className="category">{cat}</h3>
            {cs.map((c) => (
              <Entry key={c.id} item={{ kind: "component", component: c.id }} label={c.name}
                description={c.description} onAdd={onAdd} onDrop={onDrop} />
            ))}
          </section>
        )) : <p className="muted">No component matches.</p>}
      </div>
    </aside>
  );
});

/** One library entry. Dragging uses pointer events (a ghost follows the pointer), so the same
 * code serves mouse, pen and touch, and a real mouse drag in tests is a real drag here. */
function Entry({ item, label, detail, description, onAdd, onDrop }) {
  const drag = useRef(null);
  const onPointerDown = (e) => {
    if (e.button !== 0) return;
    drag.current = { x: e.clientX, y: e.clientY, ghost: null };
    const move = (ev) => {
      const d = drag.current;
      if (!d) return;
      if (!d.ghost && Math.hypot(ev.clientX - d.x, ev.clientY - d.y) > 4) {
        d.ghost = document.createElement("div");
        d.ghost.className = "drag-ghost";
        d.ghost.textContent = label;
        document.body.append(d.ghost);
      }
      if (d.ghost) d.ghost.style.transform = `translate(${ev.clientX + 8}px, ${ev.clientY + 8}px)`;
    };
    const up = (ev) => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      const d = drag.current;
      drag.current = null;
      if (d?.ghost) {
        d.ghost.remove();
        onDrop(item, { x: ev.clientX, y: ev.clientY });
      }
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };
  return (
    <div role="button" tabIndex={0} className="entry" aria-label={label}
      aria-description={`${description ? description + " " : ""}Drag to the canvas, double-click or press Enter to add.`}
      title={description} onPointerDown={onPointerDown} onDoubleClick={() => onAdd(item)}
      onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); onAdd(item); } }}>
      <span className="entry-name">{label}</span>
      {detail && <span className="entry-detail">{detail}</span>}
    </div>
  );
}
