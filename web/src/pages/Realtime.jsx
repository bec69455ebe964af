// Real-time endpoints: deploy from a real-time inference draft or a published version; an
// endpoint's details (keys shown once), a Test tab scoring a form row, a Consume tab to copy.
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { CopyBox, ErrorText } from "../components/Studio.jsx";
import { navigateWith, useSearch } from "../lib/search.js";
import { restCalls, rowFromForm, schemaDataset } from "../lib/studio.js";
import { Link, navigate } from "../router.jsx";

// Keys from a deployment or a regeneration: kept in memory only, shown once, then forgotten.
const freshKeys = new Map();

export function RealtimeListPage() {
  const search = useSearch();
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { json("/realtime").then((d) => setItems(d.value)).catch(setError); }, []);
  return (
    <section className="padded">
      <h1>Real-time endpoints</h1>
      <ErrorText error={error} />
      {items === null ? (!error && <p>Loading…</p>) : items.length === 0 ? <p>No real-time endpoints yet.</p> : (
        <table className="table" aria-label="Real-time endpoints">
          <thead><tr><th scope="col">Name</th><th scope="col">Source</th><th scope="col">Serving</th><th scope="col">Updated</th></tr></thead>
          <tbody>{items.map((e) => (
            <tr key={e.name}><td><Link to={`/realtime/${enc(e.name)}`}>{e.name}</Link></td><td>{e.source}</td>
              <td>{e.serving?.path ?? ""}</td><td>{new Date(e.updated_at).toLocaleString()}</td></tr>
          ))}</tbody>
        </table>
      )}
      <DeployForm initialDraft={search.get("draft") ?? ""} />
    </section>
  );
}

function DeployForm({ initialDraft }) {
  const [drafts, setDrafts] = useState([]);
  const [endpoints, setEndpoints] = useState([]);
  const [from, setFrom] = useState("draft");
  const [name, setName] = useState("");
  const [draft, setDraft] = useState(initialDraft);
  const [endpoint, setEndpoint] = useState("");
  const [version, setVersion] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    json("/pipelines").then((d) => setDrafts(d.value)).catch(() => {});
    json("/pipelineendpoints").then((d) => setEndpoints(d.value)).catch(() => {});
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    const body = from === "draft" ? { name, draft_id: draft }
      : { name, pipeline_endpoint: endpoint, ...(version ? { pipeline_version: Number(version) } : {}) };
    try {
      const d = await json("/realtime", { method: "POST", body });
      freshKeys.set(d.name, d.keys);
      navigate(`/realtime/${enc(d.name)}`);
    } catch (err) { setError(err); setBusy(false); }
  };
  return (
    <form className="card" aria-label="Deploy a real-time endpoint" onSubmit={submit}>
      <h2>Deploy a real-time endpoint</h2>
      <label className="field">Endpoint name <input value={name} required onChange={(e) => setName(e.target.value)} /></label>
      <fieldset><legend>Deploy from</legend>
        <label><input type="radio" name="from" checked={from === "draft"} onChange={() => setFrom("draft")} /> A real-time inference draft</label>
        <label><input type="radio" name="from" checked={from === "endpoint"} onChange={() => setFrom("endpoint")} /> A published pipeline endpoint version</label>
      </fieldset>
      {from === "draft" ? (
        <label className="field">Draft
          <select aria-label="Draft" value={draft} required onChange={(e) => setDraft(e.target.value)}>
            <option value="">Choose a draft</option>
            {drafts.map((d) => <option key={d.id} value={d.id}>{d.name} ({d.id.slice(0, 8)})</option>)}
          </select>
        </label>
      ) : (
        <>
          <label className="field">Pipeline endpoint
            <select aria-label="Pipeline endpoint" value={endpoint} required onChange={(e) => setEndpoint(e.target.value)}>
              <option value="">Choose an endpoint</option>
              {endpoints.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
            </select>
          </label>
          <label className="field">Version (empty: the default) <input inputMode="numeric" value={version} onChange={(e) => setVersion(e.target.value)} /></label>
        </>
      )}
      {busy && <p role="status">Deploying: compiling and checking the pipeline…</p>}
      <ErrorText error={error} />
      <div className="actions"><button type="submit" className="primary" disabled={busy || !name}>Deploy</button></div>
    </form>
  );
}

const TABS = [["details", "Details"], ["test", "Test"], ["consume", "Consume"]];

export function RealtimePage({ name }) {
  const tab = useSearch().get("tab") ?? "details";
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [keys] = useState(() => { const k = freshKeys.get(name); freshKeys.delete(name); return k ?? null; });
  useEffect(() => { json(`/realtime/${enc(name)}`).then(setData).catch(setError); }, [name]);
  const open = (id) => navigateWith(`/realtime/${enc(name)}`, { tab: id === "details" ? "" : id });
  return (
    <section className="padded wide">
      <p><Link to="/realtime">Real-time endpoints</Link></p>
      <h1>Real-time endpoint {name}</h1>
      <ErrorText error={error} />
      {keys && <KeysOnce keys={keys} />}
      <div role="tablist" aria-label="Endpoint" className="tabs" onKeyDown={(e) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
        if (!step) return;
        const at = TABS.findIndex(([id]) => id === tab);
        const [next] = TABS[(at + step + TABS.length) % TABS.length];
        open(next);
        setTimeout(() => document.getElementById(`tab-${next}`)?.focus(), 0);
      }}>
        {TABS.map(([id, label]) => (
          <button key={id} type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1} onClick={() => open(id)}>{label}</button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {!data ? (!error && <p>Loading…</p>) : tab === "test" ? <TestTab endpoint={data} />
          : tab === "consume" ? <ConsumeTab endpoint={data} /> : <Details endpoint={data} />}
      </div>
    </section>
  );
}

function KeysOnce({ keys }) {
  return (
    <div className="card" role="region" aria-label="Keys">
      <h2>Keys</h2>
      <p>Copy them now: they are shown only once (stored hashed).</p>
      <dl className="facts">{Object.entries(keys).map(([k, v]) => <div key={k}><dt>{k}</dt><dd className="secret">{v}</dd></div>)}</dl>
    </div>
  );
}

function Details({ endpoint }) {
  const [fresh, setFresh] = useState(null);
  const [error, setError] = useState(null);
  const regenerate = async (keyType) => {
    setError(null);
    try { setFresh(await json(`/realtime/${enc(endpoint.name)}/keys/regenerate`, { method: "POST", body: { keyType } })); } catch (err) { setError(err); }
  };
  return (
    <>
      <dl className="facts">
        <dt>Status</dt><dd role="status" aria-label="Endpoint status">{endpoint.status ?? "Deployed"} (deployment {endpoint.deployment})</dd>
        <dt>Source</dt><dd>{endpoint.source}</dd>
        <dt>Serving</dt><dd>{endpoint.serving?.path}{endpoint.serving?.reason ? `: ${endpoint.serving.reason}` : ""}</dd>
        <dt>Acceleration</dt><dd>{Object.entries(endpoint.acceleration ?? {}).map(([n, a]) => `${n}: ${a}`).join("; ") || "none"}</dd>
        <dt>Scoring URI</dt><dd><code>{window.location.origin}{endpoint.scoring_uri}</code></dd>
        <dt>Updated</dt><dd>{new Date(endpoint.updated_at).toLocaleString()}{endpoint.created_by ? ` · created by ${endpoint.created_by}` : ""}</dd>
      </dl>
      <section aria-label="Input schema">
        <h2>Input schema ({endpoint.input_name})</h2>
        <table className="table small">
          <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Nullable</th></tr></thead>
          <tbody>{endpoint.input_schema.map((c) => (
            <tr key={c.name}><th scope="row">{c.name}</th><td>{c.type}</td><td>{c.required ? "yes" : "no"}</td><td>{c.nullable ? "yes" : "no"}</td></tr>
          ))}</tbody>
        </table>
      </section>
      <section aria-label="Key management">
        <h2>Keys</h2>
        <p>Regenerate one key at a time: move callers to the other key first.</p>
        <button type="button" onClick={() => regenerate("primary")}>Regenerate primary key</button>{" "}
        <button type="button" onClick={() => regenerate("secondary")}>Regenerate secondary key</button>
        <ErrorText error={error} />
        {fresh && <p role="status">New {fresh.keyType} key (shown once): <span className="secret">{fresh.key}</span></p>}
      </section>
    </>
  );
}

function useSampleRow(endpoint) {
  const [row, setRow] = useState(undefined);
  useEffect(() => {
    (async () => {
      const m = /^draft (\w+)$/.exec(endpoint.source) ?? [];
      const p = /^pipeline endpoint (\S+) version (\d+)$/.exec(endpoint.source);
      const doc = m[1] ? (await json(`/pipelines/${enc(m[1])}`)).pipeline
        : p ? (await json(`/pipelineendpoints/${enc(p[1])}/versions/${p[2]}`)).pipeline : null;
      const found = schemaDataset(doc);
      if (!found) return setRow(null);
      const version = found.version ?? (await json(`/datasets/${enc(found.name)}`)).version;
      const preview = await json(`/datasets/${enc(found.name)}/versions/${version}/preview?rows=1`);
      setRow(Object.fromEntries(preview.columns.map((c, i) => [c, preview.data[0]?.[i]])));
    })().catch(() => setRow(null));
  }, [endpoint.source]);
  return row;
}

function TestTab({ endpoint }) {
  const sample = useSampleRow(endpoint);
  const [values, setValues] = useState(null);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (sample === undefined || values) return;
    setValues(Object.fromEntries(endpoint.input_schema.map((c) => [c.name, sample?.[c.name] === null || sample?.[c.name] === undefined ? "" : String(sample[c.name])])));
  }, [sample, values, endpoint.input_schema]);
  if (!values) return <p>Loading a sample row…</p>;
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null); setAnswer(null);
    try {
      const body = { Inputs: { [endpoint.input_name]: [rowFromForm(endpoint.input_schema, values)] } };
      setAnswer(await json(`/realtime/${enc(endpoint.name)}/test`, { method: "POST", body }));
    } catch (err) { setError(err); }
    setBusy(false);
  };
  const result = answer?.Results?.[endpoint.output_name]?.[0];
  return (
    <form aria-label="Test the endpoint" onSubmit={submit}>
      <p className="muted">{sample ? "Prefilled with the first row of the training dataset." : "No sample row found: fill in the columns."}</p>
      <div className="cards">{endpoint.input_schema.map((c) => (
        <label key={c.name} className="field">{c.name} <span className="muted">({c.type}{c.required ? "" : ", unused"})</span>
          <input value={values[c.name]} onChange={(e) => setValues({ ...values, [c.name]: e.target.value })} />
        </label>
      ))}</div>
      <div className="actions"><button type="submit" className="primary" disabled={busy}>{busy ? "Scoring…" : "Score"}</button></div>
      <ErrorText error={error} />
      {answer && (
        <section aria-label="Answer">
          <h2>Answer</h2>
          {result && <table className="table small"><tbody>{Object.entries(result).filter(([k]) => !(k in values)).map(([k, v]) => (
            <tr key={k}><th scope="row">{k}</th><td>{v === null ? "" : String(v)}</td></tr>
          ))}</tbody></table>}
          {answer.dropped_rows && <p role="alert">The pipeline dropped this row: {JSON.stringify(answer.dropped_rows)}</p>}
          <pre>{JSON.stringify(answer, null, 2)}</pre>
        </section>
      )}
    </form>
  );
}

function ConsumeTab({ endpoint }) {
  const sample = useSampleRow(endpoint);
  if (sample === undefined) return <p>Loading…</p>;
  const row = Object.fromEntries(endpoint.input_schema.map((c) => [c.name, sample?.[c.name] ?? null]));
  const url = `${window.location.origin}${endpoint.scoring_uri}`;
  const headers = { Authorization: "Bearer <endpoint key>" };
  const designer = restCalls(url, { Inputs: { [endpoint.input_name]: [row] }, GlobalParameters: {} }, headers);
  const mlflow = restCalls(url, { dataframe_records: [row] }, headers);
  return (
    <>
      <p>Score with one of the endpoint's keys (<code>Authorization: Bearer</code> or <code>api-key</code>). Its OpenAPI
        document: <code>{window.location.origin}{endpoint.swagger_uri}</code>.</p>
      <h2>Designer request format</h2>
      <CopyBox label="curl, designer format" text={designer.curl} />
      <CopyBox label="Python, designer format" text={designer.python} />
      <h2>MLflow request format</h2>
      <CopyBox label="curl, MLflow format" text={mlflow.curl} />
      <CopyBox label="Python, MLflow format" text={mlflow.python} />
    </>
  );
}
