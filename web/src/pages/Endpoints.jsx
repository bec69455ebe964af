// Pipeline endpoints: the list, and one endpoint's versions, default and its history, status,
// job history, a submit form generated from a version's pipeline, and the REST call to copy.
import { useCallback, useEffect, useState } from "react";
import { enc, json, request } from "../api.js";
import { useCatalogue } from "../catalogue.js";
import { CopyBox, ErrorText, Pager } from "../components/Studio.jsx";
import { formatDuration } from "../lib/runs.js";
import { azureBody, newestFirst, pageOf, pipelineInputs, restCalls, secondsBetween } from "../lib/studio.js";
import { Link } from "../router.jsx";

const PAGE = 20;
const JOBS = 10;

export function EndpointsPage() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [page, setPage] = useState(0);
  useEffect(() => { json("/pipelineendpoints").then((d) => setItems(d.value)).catch(setError); }, []);
  const shown = pageOf(newestFirst(items ?? [], "updated_at"), page, PAGE);
  return (
    <section className="padded">
      <h1>Pipeline endpoints</h1>
      <ErrorText error={error} />
      {items === null ? (!error && <p>Loading…</p>) : items.length === 0 ? <p>No endpoints yet: publish one from a finished run's page.</p> : (
        <table className="table" aria-label="Pipeline endpoints">
          <thead><tr><th scope="col">Name</th><th scope="col">Default version</th><th scope="col">Status</th><th scope="col">Updated</th><th scope="col">Description</th></tr></thead>
          <tbody>{shown.items.map((e) => (
            <tr key={e.name}>
              <td><Link to={`/endpoints/${enc(e.name)}`}>{e.name}</Link></td>
              <td>{e.default_version ?? ""}</td><td>{e.status}</td>
              <td>{new Date(e.updated_at).toLocaleString()}</td><td>{e.description}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <Pager page={shown.page} pages={shown.pages} onPage={setPage} label="Endpoint pages" />
    </section>
  );
}

export function EndpointPage({ name }) {
  const [data, setData] = useState(null);
  const [etag, setEtag] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [jobsVersion, setJobsVersion] = useState(0);
  const load = useCallback(async () => {
    try {
      const res = await request(`/pipelineendpoints/${enc(name)}`);
      setEtag(res.headers.get("etag"));
      setData(await res.json());
    } catch (err) { setError(err); }
  }, [name]);
  useEffect(() => { load(); }, [load]);
  const act = async (text, path, options) => {
    setError(null); setNotice(null);
    try { await json(path, options); setNotice(text); await load(); } catch (err) { setError(err); await load(); }
  };
  const base = `/pipelineendpoints/${enc(name)}`;
  const ifMatch = etag ? { "if-match": etag } : {};
  if (!data) return <section className="padded"><h1>Pipeline endpoint {name}</h1><ErrorText error={error} />{!error && <p>Loading…</p>}</section>;
  const disabled = data.status === "Disabled";
  return (
    <section className="padded wide">
      <p><Link to="/endpoints">Pipeline endpoints</Link></p>
      <h1>Pipeline endpoint {name}</h1>
      <p><span role="status" aria-label={`Endpoint status: ${data.status}`}>{data.status}</span> · default version <strong>{data.default_version ?? "none"}</strong>
        {" "}<button type="button" onClick={() => act(disabled ? "Endpoint enabled." : "Endpoint disabled.", `${base}/status`, { method: "PUT", body: { status: disabled ? "Active" : "Disabled" } })}>
          {disabled ? "Enable endpoint" : "Disable endpoint"}</button>
        {" "}<button type="button" disabled={data.default_history.length === 0} onClick={() => act("Rolled back to the previous default.", `${base}/rollback`, { method: "POST", headers: ifMatch })}>Roll back default</button></p>
      {notice && <p role="status" className="notice">{notice}</p>}
      <ErrorText error={error} />
      <section aria-label="Versions">
        <h2>Versions</h2>
        <table className="table">
          <thead><tr><th scope="col">Version</th><th scope="col">Description</th><th scope="col">Kind</th><th scope="col">Created</th>
            <th scope="col">By</th><th scope="col">Status</th><th scope="col">Default</th><th scope="col">Actions</th></tr></thead>
          <tbody>{[...data.versions].reverse().map((v) => {
            const isDefault = v.version === data.default_version;
            return (
              <tr key={v.version}>
                <th scope="row">Version {v.version}</th><td>{v.description}</td><td>{v.kind}</td>
                <td>{new Date(v.created_at).toLocaleString()}</td><td>{v.created_by ?? ""}</td><td>{v.status}</td>
                <td>{isDefault ? <strong>default</strong> : ""}</td>
                <td>
                  {!isDefault && <button type="button" aria-label={`Set version ${v.version} as default`}
                    onClick={() => act(`Version ${v.version} is the default.`, `${base}/default`, { method: "PUT", body: { version: v.version }, headers: ifMatch })}>Set as default</button>}
                  {" "}<button type="button" aria-label={`${v.status === "Disabled" ? "Enable" : "Disable"} version ${v.version}`}
                    onClick={() => act(`Version ${v.version} ${v.status === "Disabled" ? "enabled" : "disabled"}.`, `${base}/versions/${v.version}/status`,
                      { method: "PUT", body: { status: v.status === "Disabled" ? "Active" : "Disabled" } })}>{v.status === "Disabled" ? "Enable" : "Disable"}</button>
                </td>
              </tr>
            );
          })}</tbody>
        </table>
      </section>
      <section aria-label="Default history">
        <h2>Default history</h2>
        {data.default_history.length === 0 ? <p>The default has not changed.</p> : (
          <table className="table small">
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">From</th><th scope="col">To</th></tr></thead>
            <tbody>{data.default_history.map((h, i) => (
              <tr key={i}><td>{new Date(h.at).toLocaleString()}</td><td>{h.by ?? ""}</td><td>{h.action.replace(/_/g, " ")}</td>
                <td>{h.from_version ?? ""}</td><td>{h.to_version ?? ""}</td></tr>
            ))}</tbody>
          </table>
        )}
      </section>
      <SubmitForm name={name} versions={data.versions} defaultVersion={data.default_version}
        onSubmitted={(run) => { setNotice(`Submitted run ${run.Id.slice(0, 8)}.`); setJobsVersion((n) => n + 1); }} />
      <JobHistory name={name} refresh={jobsVersion} />
    </section>
  );
}

function SubmitForm({ name, versions, defaultVersion, onSubmitted }) {
  const cat = useCatalogue();
  const [version, setVersion] = useState(defaultVersion ?? versions.at(-1)?.version);
  const [pipeline, setPipeline] = useState(null);
  const [experiment, setExperiment] = useState(`${name}-runs`);
  const [values, setValues] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!version) return;
    setPipeline(null);
    json(`/pipelineendpoints/${enc(name)}/versions/${version}`).then((v) => { setPipeline(v.pipeline); setValues({}); }).catch(setError);
  }, [name, version]);
  const inputs = pipelineInputs(pipeline);
  const body = { ...azureBody(experiment, inputs, values), PipelineVersion: Number(version) };
  const url = `${window.location.origin}/api/pipelineendpoints/${enc(name)}/submit`;
  const calls = restCalls(url, body, { "x-functions-key": "<function key>" });
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setBusy(true);
    try { onSubmitted(await json(`/pipelineendpoints/${enc(name)}/submit`, { method: "POST", body })); } catch (err) { setError(err); }
    setBusy(false);
  };
  return (
    <section aria-label="Submit">
      <h2>Submit</h2>
      <form onSubmit={submit} aria-label="Submit to the endpoint">
        <label className="field">Version
          <select value={version ?? ""} onChange={(e) => setVersion(Number(e.target.value))}>
            {versions.map((v) => <option key={v.version} value={v.version}>Version {v.version}{v.version === defaultVersion ? " (default)" : ""}</option>)}
          </select>
        </label>
        <label className="field">Experiment <input value={experiment} required onChange={(e) => setExperiment(e.target.value)} /></label>
        {!pipeline ? <p>Loading the version's pipeline…</p> : inputs.length === 0 ? <p className="muted">This version has no pipeline parameters.</p> : inputs.map((input) => (
          input.kind === "dataset" ? (
            <label key={input.name} className="field">{input.name} (dataset)
              <select value={values[input.name] ?? ""} onChange={(e) => setValues({ ...values, [input.name]: e.target.value })}>
                <option value="">As published</option>
                {cat.datasets.map((d) => <option key={d.name} value={d.name}>{d.name}</option>)}
              </select>
            </label>
          ) : (
            <label key={input.name} className="field">{input.name}{input.description ? ` — ${input.description}` : ""}
              <input value={values[input.name] ?? ""} placeholder={input.default === undefined || input.default === null ? "" : String(input.default)}
                onChange={(e) => setValues({ ...values, [input.name]: e.target.value })} />
            </label>
          )
        ))}
        <ErrorText error={error} />
        <div className="actions"><button type="submit" className="primary" disabled={busy || !pipeline}>Submit run</button></div>
      </form>
      <CopyBox label="curl" text={calls.curl} />
      <CopyBox label="Python" text={calls.python} />
    </section>
  );
}

function JobHistory({ name, refresh }) {
  const [page, setPage] = useState(0);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    json(`/runs?endpoint=${enc(name)}&top=${JOBS}&skip=${page * JOBS}`).then(setData).catch(setError);
  }, [name, page, refresh]);
  return (
    <section aria-label="Job history">
      <h2>Job history</h2>
      <ErrorText error={error} />
      {!data ? <p>Loading…</p> : data.value.length === 0 ? <p>No runs of this endpoint yet.</p> : (
        <table className="table small">
          <thead><tr><th scope="col">Run</th><th scope="col">Version</th><th scope="col">Experiment</th><th scope="col">Status</th><th scope="col">Submitted</th><th scope="col">Duration</th><th scope="col">By</th></tr></thead>
          <tbody>{data.value.map((r) => {
            const took = secondsBetween(r.started_at, r.ended_at);
            return (
              <tr key={r.run_id}><td><Link to={`/runs/${enc(r.run_id)}`}>{r.run_id.slice(0, 8)}</Link></td><td>{r.endpoint_version}</td>
                <td>{r.experiment}</td><td>{r.status}</td><td>{new Date(r.created_at).toLocaleString()}</td>
                <td>{took === null ? "" : formatDuration(took)}</td><td>{r.submitted_by}</td></tr>
            );
          })}</tbody>
        </table>
      )}
      {data && <Pager page={page} pages={Math.max(1, Math.ceil(data.count / JOBS))} onPage={setPage} label="Job history pages" />}
    </section>
  );
}

