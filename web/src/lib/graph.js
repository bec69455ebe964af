// The pipeline document (what the API stores) and the canvas graph (React Flow's nodes and
// edges), and the edits on the graph that are pure: new ids, copy/paste, upstream columns.

import { normaliseParameters, schemaToFields } from "./schema.js";

export const NODE_TYPE = "component";

/** Resolve a component reference (id or designer name) to its catalogue entry. */
export function findComponent(ref, catalogue) {
  if (catalogue.has(ref)) return catalogue.get(ref);
  for (const c of catalogue.values()) if (c.name === ref) return c;
  return null;
}

function portId(ref, ports) {
  return ports.find((p) => p.id === ref || p.name === ref)?.id ?? ref;
}

function splitRef(ref) {
  if (typeof ref === "string") {
    const at = ref.indexOf(".");
    return { node: ref.slice(0, at), port: ref.slice(at + 1) };
  }
  return ref;
}

export function edgeId(e) {
  return `${e.source}.${e.sourceHandle}->${e.target}.${e.targetHandle}`;
}

/** Canvas nodes and edges of a pipeline document. Nodes without a saved position get null
 * positions in `unplaced` so the caller can lay them out. */
export function toFlow(doc, catalogue) {
  const unplaced = [];
  const nodes = (doc.nodes ?? []).map((n, i) => {
    const entry = findComponent(n.component, catalogue);
    const fields = entry ? schemaToFields(entry.parameters) : [];
    if (!n.position) unplaced.push(n.id);
    return {
      id: n.id,
      type: NODE_TYPE,
      position: n.position ? { x: n.position.x, y: n.position.y } : { x: 0, y: i * 120 },
      data: {
        component: entry ? entry.id : n.component,
        parameters: normaliseParameters(n.parameters, fields),
        comment: n.comment ?? "",
        regenerate_output: Boolean(n.regenerate_output),
        version: n.version ?? null,
      },
    };
  });
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = (doc.edges ?? []).map((e) => {
    const s = splitRef(e.source);
    const t = splitRef(e.target);
    const from = catalogue.get(byId.get(s.node)?.data.component);
    const to = catalogue.get(byId.get(t.node)?.data.component);
    const edge = {
      source: s.node, sourceHandle: from ? portId(s.port, from.outputs) : s.port,
      target: t.node, targetHandle: to ? portId(t.port, to.inputs) : t.port,
    };
    return { ...edge, id: edgeId(edge) };
  });
  return { nodes, edges, unplaced };
}

/** The pipeline document for a canvas graph; `meta` keeps the document's other fields. */
export function toDocument(meta, nodes, edges) {
  return {
    ...meta,
    nodes: nodes.map((n) => {
      const node = {
        id: n.id,
        component: n.data.component,
        parameters: n.data.parameters ?? {},
        regenerate_output: Boolean(n.data.regenerate_output),
        position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      };
      if (n.data.comment) node.comment = n.data.comment;
      if (n.data.version) node.version = n.data.version;
      return node;
    }),
    edges: edges.map((e) => ({ source: `${e.source}.${e.sourceHandle}`, target: `${e.target}.${e.targetHandle}` })),
  };
}

/** A node id from a name, unique among `taken` (a Set): split_data, split_data_2, ... */
export function newNodeId(name, taken) {
  const base = String(name).toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40) || "node";
  const stem = /^[a-z_]/.test(base) ? base : `n_${base}`;
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

/** What a node is called on the canvas and by assistive technology: a dataset node by its
 * dataset, others by component, with the id where it is not the component's own slug. */
export function displayName(node, catalogue) {
  const entry = catalogue.get(node.data.component);
  if (entry?.id === "dataset" && node.data.parameters?.name) return String(node.data.parameters.name);
  const name = entry?.name ?? node.data.component;
  const slug = newNodeId(name, new Set());
  if (node.id === slug) return name;
  const m = node.id.match(new RegExp(`^${slug}_(\\d+)$`));
  return m ? `${name} ${m[1]}` : `${name} (${node.id})`;
}

/** The selected nodes with the edges between them (edges to the outside are left behind). */
export function copySelection(nodes, edges) {
  const picked = nodes.filter((n) => n.selected);
  const ids = new Set(picked.map((n) => n.id));
  return {
    nodes: picked.map((n) => ({ id: n.id, type: n.type, position: { ...n.position }, data: structuredClone(n.data) })),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target))
      .map(({ source, sourceHandle, target, targetHandle }) => ({ source, sourceHandle, target, targetHandle })),
  };
}

/** Nodes and edges to add for a paste: fresh ids, shifted by `offset`, selected (and the
 * existing nodes deselected by the caller). */
export function pasteClip(clip, existingIds, catalogue, offset = { x: 40, y: 40 }) {
  const taken = new Set(existingIds);
  const rename = new Map();
  const nodes = clip.nodes.map((n) => {
    const entry = catalogue.get(n.data.component);
    const id = newNodeId(entry?.id === "dataset" ? n.data.parameters?.name ?? "dataset" : entry?.name ?? n.id, taken);
    taken.add(id);
    rename.set(n.id, id);
    return { ...n, id, selected: true, data: structuredClone(n.data),
             position: { x: n.position.x + offset.x, y: n.position.y + offset.y } };
  });
  const edges = clip.edges.map((e) => {
    const edge = { ...e, source: rename.get(e.source), target: rename.get(e.target) };
    return { ...edge, id: edgeId(edge) };
  });
  return { nodes, edges };
}

/** Columns known to flow into `nodeId`'s first dataset input, from the dataset node upstream
 * (`datasetColumns`: Map dataset name -> column names), through Select Columns by name; null
 * when unknown. */
export function upstreamColumns(nodeId, nodes, edges, catalogue, datasetColumns, seen = new Set()) {
  if (seen.has(nodeId)) return null;
  seen.add(nodeId);
  const node = nodes.find((n) => n.id === nodeId);
  const entry = node && catalogue.get(node.data.component);
  if (!entry) return null;
  const dataInput = entry.inputs.find((p) => p.type === "DataFrameDirectory");
  const edge = dataInput && edges.find((e) => e.target === nodeId && e.targetHandle === dataInput.id);
  if (!edge) return null;
  return outputColumns(edge.source, nodes, edges, catalogue, datasetColumns, seen);
}

function outputColumns(nodeId, nodes, edges, catalogue, datasetColumns, seen) {
  const node = nodes.find((n) => n.id === nodeId);
  const entry = node && catalogue.get(node.data.component);
  if (!entry) return null;
  if (entry.id === "dataset") return datasetColumns.get(node.data.parameters?.name) ?? null;
  const columns = upstreamColumns(nodeId, nodes, edges, catalogue, datasetColumns, seen);
  if (!columns || entry.id !== "select_columns_in_dataset") return columns;
  const sel = node.data.parameters?.select_columns;
  if (!sel || typeof sel !== "object" || Array.isArray(sel)) return columns;
  let kept = sel.start === "all" ? [...columns] : [];
  for (const rule of sel.rules ?? []) {
    if ((rule.by ?? "name") !== "name") return columns;
    if ((rule.action ?? "include") === "include") kept = [...new Set([...kept, ...rule.values])];
    else kept = kept.filter((c) => !rule.values.includes(c));
  }
  return columns.filter((c) => kept.includes(c));
}
