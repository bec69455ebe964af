// One-click auto-layout: dagre's layered layout, left to right in data-flow order.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 100;

/** New positions (Map id -> {x, y}) for `nodes` so edges flow left to right. */
export function layout(nodes, edges, { direction = "LR" } = {}) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: direction, nodesep: 30, ranksep: 60, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    g.setNode(n.id, { width: n.measured?.width ?? NODE_WIDTH, height: n.measured?.height ?? NODE_HEIGHT });
  }
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out = new Map();
  for (const n of nodes) {
    const p = g.node(n.id);
    const w = n.measured?.width ?? NODE_WIDTH;
    const h = n.measured?.height ?? NODE_HEIGHT;
    out.set(n.id, { x: Math.round(p.x - w / 2), y: Math.round(p.y - h / 2) });
  }
  return out;
}
