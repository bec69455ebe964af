// Which connections the catalogue's port types allow, and why one is refused.

/** The reason a connection from `source` (node id + output port id) to `target` is refused,
 * or null when it may be made. `nodes` are canvas nodes ({id, data: {component}}), `edges`
 * canvas edges ({source, sourceHandle, target, targetHandle}), `catalogue` a Map id -> entry. */
export function connectionProblem(connection, nodes, edges, catalogue) {
  const { source, sourceHandle, target, targetHandle } = connection;
  if (!source || !target) return "Drop the connection on a port.";
  if (source === target) return "A node cannot be connected to itself.";
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const from = catalogue.get(byId.get(source)?.data.component);
  const to = catalogue.get(byId.get(target)?.data.component);
  if (!from || !to) return "Unknown component.";
  const out = from.outputs.find((p) => p.id === sourceHandle);
  const inp = to.inputs.find((p) => p.id === targetHandle);
  if (!out || !inp) return "Connect an output port to an input port.";
  if (out.type !== inp.type) {
    return `${out.name} (${typeLabel(out.type)}) cannot connect to ${inp.name} (${typeLabel(inp.type)}).`;
  }
  if (edges.some((e) => e.target === target && e.targetHandle === targetHandle)) {
    return `${inp.name} already has a connection: an input takes one.`;
  }
  if (reaches(target, source, edges)) return "This connection would make a cycle.";
  return null;
}

export function isValidConnection(connection, nodes, edges, catalogue) {
  return connectionProblem(connection, nodes, edges, catalogue) === null;
}

const TYPE_LABELS = {
  DataFrameDirectory: "dataset",
  UntrainedModelDirectory: "untrained model",
  UntrainedClusterModelDirectory: "untrained clustering model",
  ModelDirectory: "trained model",
  ClusterModelDirectory: "trained clustering model",
  TransformationDirectory: "transformation",
};

export function typeLabel(type) {
  return TYPE_LABELS[type] ?? type;
}

/** Whether `to` can be reached from `from` along `edges`. */
function reaches(from, to, edges) {
  const seen = new Set([from]);
  const stack = [from];
  while (stack.length) {
    const id = stack.pop();
    if (id === to) return true;
    for (const e of edges) {
      if (e.source === id && !seen.has(e.target)) {
        seen.add(e.target);
        stack.push(e.target);
      }
    }
  }
  return false;
}
