// The API's validation problems, placed on the canvas: by node, port and parameter.

/** Map node id -> its problems; problems without a node go under "". */
export function problemsByNode(problems) {
  const out = new Map();
  for (const p of problems ?? []) {
    const key = p.node ?? "";
    if (!out.has(key)) out.set(key, []);
    out.get(key).push(p);
  }
  return out;
}

/** Whether problem `p` concerns parameter field `field` (problems may name the field or its
 * designer name). */
export function concernsParameter(p, field) {
  if (!p.parameter) return false;
  const squash = (s) => String(s).toLowerCase().replace(/[^a-z0-9]+/g, "");
  return p.parameter === field.name || squash(p.parameter) === squash(field.title) || squash(p.parameter) === squash(field.name);
}

export function concernsPort(p, port) {
  return Boolean(p.port) && (p.port === port.id || p.port === port.name);
}
