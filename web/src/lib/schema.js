// From a component's parameter JSON schema (pydantic's, by field name) to form fields, and
// the checks the properties pane applies as the user types.

/** Form field descriptors, in schema order. */
export function schemaToFields(schema) {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  return Object.entries(props).map(([name, prop]) => fieldOf(name, prop, required.has(name), schema));
}

function fieldOf(name, prop, required, root) {
  let base = prop;
  let nullable = false;
  if (Array.isArray(prop.anyOf)) {
    const kinds = prop.anyOf.filter((p) => p.type !== "null");
    nullable = kinds.length < prop.anyOf.length;
    base = kinds.length === 1 ? { ...kinds[0] } : { anyOf: kinds };
  }
  const ref = base.$ref ?? prop.$ref;
  const refName = ref ? ref.split("/").pop() : null;
  const field = {
    name,
    title: prop.title ?? base.title ?? name,
    description: prop.description ?? base.description ?? "",
    required,
    nullable,
    default: "default" in prop ? prop.default : undefined,
    hasDefault: "default" in prop,
    visibleWhen: prop["x-visible-when"] ?? null,
    kind: "json",
  };
  if (refName === "ColumnSelection") return { ...field, kind: "columns" };
  if (refName && root?.$defs?.[refName]?.enum) {
    return { ...field, kind: "enum", options: root.$defs[refName].enum };
  }
  if (Array.isArray(base.enum)) return { ...field, kind: "enum", options: base.enum };
  if (base.type === "boolean") return { ...field, kind: "boolean" };
  if (base.type === "integer" || base.type === "number") {
    return {
      ...field, kind: base.type,
      minimum: base.minimum, maximum: base.maximum,
      exclusiveMinimum: base.exclusiveMinimum, exclusiveMaximum: base.exclusiveMaximum,
    };
  }
  if (base.type === "string") {
    return { ...field, kind: "string", minLength: base.minLength, maxLength: base.maxLength,
             columnHint: /column/i.test(name) };
  }
  return field;
}

/** Whether a field shows, given the node's current values: every `x-visible-when` entry must
 * hold (the other field's value, or its default, is one of the allowed values). */
export function isVisible(field, values, fields) {
  if (!field.visibleWhen) return true;
  return Object.entries(field.visibleWhen).every(([other, allowed]) => {
    const spec = fields.find((f) => f.name === other);
    const value = other in values ? values[other] : spec?.default;
    return allowed.includes(value);
  });
}

/** Parse what the user typed into a field: `{value}` to store (undefined = remove the key, so
 * the default applies) or `{error}` to show without storing. */
export function parseInput(field, raw) {
  if (field.kind === "boolean") return { value: Boolean(raw) };
  if (field.kind === "enum") return raw === "" ? { value: undefined } : { value: raw };
  const text = typeof raw === "string" ? raw.trim() : raw;
  if (text === "" || text === null || text === undefined) {
    if (field.required && !field.hasDefault) return { error: `${field.title} is required.` };
    return { value: field.nullable && !field.hasDefault ? null : undefined };
  }
  if (field.kind === "integer" || field.kind === "number") {
    const n = Number(text);
    if (!Number.isFinite(n)) return { error: `${field.title} must be a number.` };
    if (field.kind === "integer" && !Number.isInteger(n)) return { error: `${field.title} must be a whole number.` };
    const bound = boundsProblem(field, n);
    return bound ? { error: bound } : { value: n };
  }
  if (field.kind === "string") {
    if (field.minLength && text.length < field.minLength) return { error: `${field.title} is required.` };
    if (field.maxLength && text.length > field.maxLength) {
      return { error: `${field.title} takes at most ${field.maxLength} characters.` };
    }
    return { value: text };
  }
  if (field.kind === "json") {
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { error: `${field.title} must be valid JSON.` };
    }
  }
  return { value: text };
}

export function boundsProblem(field, n) {
  if (field.minimum !== undefined && n < field.minimum) return `${field.title} must be at least ${field.minimum}.`;
  if (field.maximum !== undefined && n > field.maximum) return `${field.title} must be at most ${field.maximum}.`;
  if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) {
    return `${field.title} must be more than ${field.exclusiveMinimum}.`;
  }
  if (field.exclusiveMaximum !== undefined && n >= field.exclusiveMaximum) {
    return `${field.title} must be less than ${field.exclusiveMaximum}.`;
  }
  return null;
}

const squash = (s) => String(s).toLowerCase().replace(/[^a-z0-9]+/g, "");

/** The field a saved parameter key names: documents may use the field name or the designer
 * name. Returns null when no field matches (the key is kept and shown as saved). */
export function fieldForKey(key, fields) {
  const exact = fields.find((f) => f.name === key)
    ?? fields.find((f) => squash(f.title) === squash(key) || squash(f.name) === squash(key));
  if (exact) return exact;
  // The schema carries field names and titles, not the designer's longer names ("Fraction of
  // rows in the first output dataset" for "Fraction"): take a title that starts the key, if one.
  const lower = String(key).toLowerCase();
  const prefixed = fields.filter((f) => lower.startsWith(`${String(f.title).toLowerCase()} `));
  return prefixed.length === 1 ? prefixed[0] : null;
}

/** Parameters with every recognised key under its field name (unrecognised keys kept). */
export function normaliseParameters(parameters, fields) {
  const out = {};
  for (const [key, value] of Object.entries(parameters ?? {})) {
    const field = fieldForKey(key, fields);
    out[field ? field.name : key] = value;
  }
  return out;
}

/** A column picker value in its full form: {start, rules} (shorthands expanded). */
export function columnSelection(value) {
  if (value === undefined || value === null) return { start: "none", rules: [] };
  if (typeof value === "string") return { start: "none", rules: [{ action: "include", by: "name", values: [value] }] };
  if (Array.isArray(value)) return { start: "none", rules: [{ action: "include", by: "name", values: value }] };
  return { start: value.start ?? "none", rules: value.rules ?? [] };
}

/** The simple picker's view of a selection: mode include/exclude and the named columns, or
 * null when the selection uses rules the simple picker cannot show (by type or index). */
export function simplePick(value) {
  const sel = columnSelection(value);
  if (sel.rules.some((r) => (r.by ?? "name") !== "name")) return null;
  if (sel.start === "all" && sel.rules.every((r) => r.action === "exclude")) {
    return { mode: "exclude", columns: sel.rules.flatMap((r) => r.values) };
  }
  if (sel.start === "none" && sel.rules.every((r) => (r.action ?? "include") === "include")) {
    return { mode: "include", columns: sel.rules.flatMap((r) => r.values) };
  }
  return null;
}

export function fromSimplePick(mode, columns) {
  if (mode === "exclude") {
    return { start: "all", rules: columns.length ? [{ action: "exclude", by: "name", values: columns }] : [] };
  }
  return { start: "none", rules: columns.length ? [{ action: "include", by: "name", values: columns }] : [] };
}
