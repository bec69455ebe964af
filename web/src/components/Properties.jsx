// The properties pane, generated from the selected node's parameter schema.
import { useEffect, useId, useMemo, useState } from "react";
import { useCatalogue } from "../catalogue.js";
import { displayName } from "../lib/graph.js";
import { concernsParameter } from "../lib/problems.js";
import { fieldForKey, fromSimplePick, isVisible, parseInput, schemaToFields, simplePick } from "../lib/schema.js";

export function Properties({ node, problems, columns, onChange, onParameter, bound = {}, readOnly = false }) {
  const { byId, list, datasets, samples } = useCatalogue();
  const entry = byId.get(node.data.component);
  const fields = useMemo(() => (entry ? schemaToFields(entry.parameters) : []), [entry]);
  const values = node.data.parameters ?? {};
  const name = displayName(node, byId);
  const unknown = Object.keys(values).filter((k) => !fieldForKey(k, fields));
  const setValue = (field, value) => {
    const next = { ...values };
    if (value === undefined) delete next[field]; else next[field] = value;
    onChange({ parameters: next }, `param:${node.id}:${field}`);
  };
  const nodeProblems = problems.filter((p) => !p.parameter);
  return (
    <aside className="properties" aria-label={`Properties of ${name}`}>
      <h2>{name}</h2>
      <p className="muted">{entry ? `${entry.name} · ${entry.category}` : `Unknown component ${node.data.component}`}</p>
      {entry?.description && <p className="description">{entry.description}</p>}
      {nodeProblems.length > 0 && (
        <ul className="problem-list" aria-label="Problems of this node">
          {nodeProblems.map((p, i) => <li key={i} className="error">{p.message}</li>)}
        </ul>
      )}
      <fieldset disabled={readOnly}>
        <legend>Parameters</legend>
        {fields.length === 0 && <p className="muted">This component has no parameters.</p>}
        {fields.filter((f) => isVisible(f, values, fields)).map((f) => (
          <ParameterField key={f.name} field={f} value={values[f.name]} columns={columns} boundTo={bound[f.name]}
            problems={problems.filter((p) => concernsParameter(p, f))}
            datasets={entry?.id === "dataset" ? [...new Set([...datasets.map((d) => d.name), ...samples.map((s) => s.name)])] : null}
            onValue={(v) => setValue(f.name, v)}
            onParameter={onParameter && !readOnly ? () => onParameter(f) : null} />
        ))}
        {unknown.map((k) => (
          <div className="field" key={k}>
            <span className="label">{k}</span>
            <code className="saved">{JSON.stringify(values[k])}</code>
            {!readOnly && <button type="button" onClick={() => setValue(k, undefined)} aria-label={`Remove ${k}`}>Remove</button>}
          </div>
        ))}
      </fieldset>
      <fieldset disabled={readOnly}>
        <legend>Node</legend>
        <CommentField value={node.data.comment ?? ""} onValue={(comment) => onChange({ comment }, `comment:${node.id}`)} />
        <label className="toggle">
          <input type="checkbox" role="switch" checked={Boolean(node.data.regenerate_output)}
            onChange={(e) => onChange({ regenerate_output: e.target.checked })} />
          Regenerate output (run even when the output could be reused)
        </label>
      </fieldset>
      {list.length === 0 && <p className="muted">Loading the catalogue…</p>}
    </aside>
  );
}

function CommentField({ value, onValue }) {
  return (
    <label className="field">Comment
      <textarea rows={2} value={value} maxLength={500} onChange={(e) => onValue(e.target.value)} />
    </label>
  );
}

function ParameterField({ field, value, columns, problems, datasets, onValue, onParameter, boundTo }) {
  const id = useId();
  const shown = value === undefined ? field.default : value;
  const [text, setText] = useState(toText(shown));
  const [error, setError] = useState(null);
  useEffect(() => { setText(toText(shown)); setError(null); }, [JSON.stringify(shown)]); // eslint-disable-line
  const messages = [error, ...problems.map((p) => p.message)].filter(Boolean);
  const describedBy = messages.length ? `${id}-msg` : undefined;
  const label = `${field.title}${field.required ? " (required)" : ""}`;
  let control;
  if (field.kind === "boolean") {
    control = <input id={id} type="checkbox" role="switch" checked={Boolean(shown)} aria-describedby={describedBy}
      onChange={(e) => onValue(e.target.checked)} />;
  } else if (field.kind === "enum") {
    control = (
      <select id={id} value={shown ?? ""} aria-invalid={messages.length > 0} aria-describedby={describedBy}
        onChange={(e) => onValue(parseInput(field, e.target.value).value)}>
        {(shown === undefined || shown === null) && <option value="">(choose)</option>}
        {field.options.map((o) => <option key={String(o)} value={o}>{String(o)}</option>)}
      </select>
    );
  } else if (field.kind === "columns") {
    control = <ColumnPicker id={id} value={value} columns={columns} onValue={onValue} invalid={messages.length > 0} />;
  } else {
    const numeric = field.kind === "integer" || field.kind === "number";
    const listId = field.columnHint && columns ? `${id}-cols` : datasets ? `${id}-ds` : undefined;
    control = (
      <>
        <input id={id} type="text" inputMode={numeric ? "decimal" : undefined} value={text} list={listId}
          placeholder={field.hasDefault && field.default !== null ? `default ${toText(field.default)}` : ""}
          aria-invalid={messages.length > 0} aria-describedby={describedBy}
          onChange={(e) => {
            setText(e.target.value);
            const parsed = parseInput(field, e.target.value);
            setError(parsed.error ?? null);
            if (!parsed.error) onValue(parsed.value);
          }} />
        {listId && <datalist id={listId}>{(datasets ?? columns).map((c) => <option key={c} value={c} />)}</datalist>}
      </>
    );
  }
  return (
    <div className={`field${messages.length ? " invalid" : ""}`}>
      <div className="field-head">
        <label htmlFor={id}>{label}</label>
        {onParameter && <button type="button" className="linkish small" aria-label={`Set ${field.title} as pipeline parameter`}
          onClick={onParameter}>Set as pipeline parameter</button>}
      </div>
      {control}
      {boundTo && <span className="bound">Pipeline parameter {boundTo}: its value is set when the pipeline is submitted.</span>}
      {field.hasDefault && <span className="hint">Default: {field.default === null ? "none" : toText(field.default)}
        {boundsText(field)}</span>}
      {!field.hasDefault && boundsText(field) && <span className="hint">{boundsText(field).trim()}</span>}
      {field.description && <span className="hint">{field.description}</span>}
      {messages.length > 0 && <span id={`${id}-msg`} className="error" role="alert">{messages.join(" ")}</span>}
    </div>
  );
}

function boundsText(field) {
  const parts = [];
  if (field.minimum !== undefined) parts.push(`≥ ${field.minimum}`);
  if (field.exclusiveMinimum !== undefined) parts.push(`> ${field.exclusiveMinimum}`);
  if (field.maximum !== undefined) parts.push(`≤ ${field.maximum}`);
  if (field.exclusiveMaximum !== undefined) parts.push(`< ${field.exclusiveMaximum}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function toText(v) {
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** Pick columns by name from the upstream dataset's columns (include or exclude), or type
 * names where the columns are not known yet. */
function ColumnPicker({ id, value, columns, onValue, invalid }) {
  const pick = simplePick(value);
  const [raw, setRaw] = useState(pick ? pick.columns.join(", ") : JSON.stringify(value ?? ""));
  if (!pick) {
    return <textarea id={id} rows={3} value={raw} aria-invalid={invalid} onChange={(e) => {
      setRaw(e.target.value);
      try { onValue(JSON.parse(e.target.value)); } catch { /* keep typing */ }
    }} />;
  }
  const set = (mode, cols) => onValue(fromSimplePick(mode, cols));
  return (
    <div className="column-picker" role="group" aria-labelledby={undefined}>
      <select id={id} aria-label="Column selection mode" value={pick.mode} onChange={(e) => set(e.target.value, pick.columns)}>
        <option value="include">Include only these columns</option>
        <option value="exclude">All columns except these</option>
      </select>
      {columns ? (
        <div className="column-list" role="group" aria-label="Columns">
          {columns.map((c) => (
            <label key={c} className="check">
              <input type="checkbox" checked={pick.columns.includes(c)}
                onChange={(e) => set(pick.mode, e.target.checked ? [...pick.columns, c] : pick.columns.filter((x) => x !== c))} />
              {c}
            </label>
          ))}
        </div>
      ) : (
        <input type="text" aria-label="Column names, comma-separated" value={raw} placeholder="column names, comma-separated"
          onChange={(e) => {
            setRaw(e.target.value);
            set(pick.mode, e.target.value.split(",").map((s) => s.trim()).filter(Boolean));
          }} />
      )}
      {columns && <span className="hint">Columns of the upstream dataset.</span>}
      {!columns && <span className="hint">Connect a dataset upstream to pick from its columns.</span>}
    </div>
  );
}
