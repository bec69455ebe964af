// Pure helpers of the studio pages: paging, durations, histogram geometry, copyable calls.

/** The slice of `items` on page `page` (0-based) of `size`, and how many pages there are. */
export function pageOf(items, page, size) {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const at = Math.min(Math.max(0, page), pages - 1);
  return { items: items.slice(at * size, at * size + size), page: at, pages };
}

/** Seconds between two ISO times, or null when either is missing. */
export function secondsBetween(start, end) {
  if (!start || !end) return null;
  return (Date.parse(end) - Date.parse(start)) / 1000;
}

/** Bars of an SVG histogram `width` x `height`: {x, y, w, h, count, from, to} per bin. */
export function histogramBars(histogram, width, height) {
  const counts = histogram?.counts ?? [];
  const edges = histogram?.edges ?? [];
  if (!counts.length) return [];
  const most = Math.max(...counts, 1);
  const w = width / counts.length;
  return counts.map((count, i) => {
    const h = count === 0 ? 0 : Math.max(1, (count / most) * height);
    return { x: i * w, y: height - h, w: Math.max(1, w - 1), h, count, from: edges[i], to: edges[i + 1] };
  });
}

/** A number shown briefly (profiles, metrics). */
export function shortNumber(v) {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en");
  return Math.abs(v) >= 1000 ? v.toLocaleString("en", { maximumFractionDigits: 2 }) : String(Number(v.toPrecision(4)));
}

/** Shell-quote for a POSIX shell: single quotes, embedded ones closed and reopened. */
export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'"'"'`)}'`;
}

/** A curl call and a Python (requests) call for POST `url` with a JSON `body` and `headers`. */
export function restCalls(url, body, headers) {
  const curl = [`curl -X POST ${shellQuote(url)}`,
    ...Object.entries({ "Content-Type": "application/json", ...headers }).map(([k, v]) => `  -H ${shellQuote(`${k}: ${v}`)}`),
    `  -d ${shellQuote(JSON.stringify(body))}`].join(" \\\n");
  const py = ["import requests", "", `url = ${JSON.stringify(url)}`,
    `headers = ${JSON.stringify({ "Content-Type": "application/json", ...headers })}`,
    `body = ${pyLiteral(body, "")}`,
    "", "answer = requests.post(url, headers=headers, json=body, timeout=60)",
    "answer.raise_for_status()", "print(answer.json())"].join("\n");
  return { curl, python: py };
}

/** Form text back to a value of the parameter's kind ("" means: leave it out). */
export function parseValue(text, type) {
  if (text === "") return undefined;
  if (type === "number" || type === "integer" || type === "float" || type === "int") {
    const n = Number(text);
    return Number.isNaN(n) ? text : n;
  }
  if (type === "boolean" || type === "bool") return text === "true";
  return text;
}

/** A JSON value as Python source (True/False/None; strings as JSON strings, valid Python too). */
export function pyLiteral(value, indent = "") {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value !== "object") return JSON.stringify(value);
  const inner = indent + "    ";
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return `[\n${value.map((v) => inner + pyLiteral(v, inner)).join(",\n")},\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (!entries.length) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(v, inner)}`).join(",\n")},\n${indent}}`;
}

/** A published pipeline's inputs for a submit form: pipeline parameters bound only to Dataset
 * nodes are dataset inputs; the others are values with their defaults. */
export function pipelineInputs(pipeline) {
  const component = new Map((pipeline?.nodes ?? []).map((n) => [n.id, n.component]));
  return (pipeline?.parameters ?? []).map((p) => {
    const dataset = p.bindings.length > 0 && p.bindings.every((b) => sameComponent(component.get(b.node), "Dataset"));
    const type = typeof p.default === "number" ? "number" : typeof p.default === "boolean" ? "boolean" : "string";
    return { name: p.name, description: p.description ?? "", kind: dataset ? "dataset" : "value", type, default: p.default };
  });
}

/** Azure ML's submit body from form values ({name: text}); empty values keep the defaults. */
export function azureBody(experiment, inputs, values) {
  const params = {};
  const data = {};
  for (const input of inputs) {
    const text = values[input.name] ?? "";
    if (text === "") continue;
    if (input.kind === "dataset") data[input.name] = { SavedDataSetReference: { Id: text } };
    else params[input.name] = parseValue(text, input.type);
  }
  const body = { ExperimentName: experiment, ParameterAssignments: params };
  if (Object.keys(data).length) body.DataSetDefinitionValueAssignments = data;
  return body;
}

/** Documents name components by display name ("Web Service Input") or id ("web_service_input"). */
export const sameComponent = (a, b) => norm(a) === norm(b);
const norm = (c) => String(c ?? "").toLowerCase().replace(/[\s-]+/g, "_");

const nodeOf = (end) => (typeof end === "string" ? end.split(".")[0] : end?.node);

/** The dataset feeding Web Service Input ({name, version}), whose first row prefills the Test tab. */
export function schemaDataset(pipeline) {
  const nodes = new Map((pipeline?.nodes ?? []).map((n) => [n.id, n]));
  const input = (pipeline?.nodes ?? []).find((n) => sameComponent(n.component, "Web Service Input"));
  if (!input) return null;
  for (const e of pipeline.edges ?? []) {
    const source = nodes.get(nodeOf(e.source));
    if (nodeOf(e.target) === input.id && sameComponent(source?.component, "Dataset") && source.parameters?.name) {
      return { name: source.parameters.name, version: source.parameters.version ?? null };
    }
  }
  return null;
}

/** The Test tab's row: form text per schema column back to typed values (empty: null). */
export function rowFromForm(schema, values) {
  return Object.fromEntries(schema.map((c) => {
    const text = values[c.name] ?? "";
    if (text === "") return [c.name, null];
    if (c.type === "integer" || c.type === "number" || c.type === "float" || c.type === "double") {
      const n = Number(text);
      return [c.name, Number.isNaN(n) ? text : n];
    }
    if (c.type === "boolean") return [c.name, text === "true"];
    return [c.name, text];
  }));
}


/** Newest first by a timestamp field, so what a user just made is on the first page. */
export function newestFirst(items, field = "created_at") {
  return [...items].sort((a, b) => String(b[field] ?? "").localeCompare(String(a[field] ?? "")));
}
