// Jobs: runs of every experiment, newest first, filtered by status and paged by the API; pick
// two to five to compare.
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { ErrorText } from "../components/Studio.jsx";
import { formatDuration } from "../lib/runs.js";
import { navigateWith, useSearch } from "../lib/search.js";
import { secondsBetween } from "../lib/studio.js";
import { Link, navigate } from "../router.jsx";

const PAGE = 25;
const STATUSES = ["NotStarted", "Running", "Finished", "Failed", "Canceled"];

export function JobsPage() {
  const search = useSearch();
  const status = search.get("status") ?? "";
  const experiment = search.get("experiment") ?? "";
  const page = Number(search.get("page") ?? 0) || 0;
  const [experiments, setExperiments] = useState([]);
  useEffect(() => { json("/experiments").then((d) => setExperiments(d.value)).catch(() => {}); }, []);
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [picked, setPicked] = useState([]);
  useEffect(() => {
    setData(null);
    const q = new URLSearchParams({ top: String(PAGE), skip: String(page * PAGE) });
    if (status) q.set("status", status);
    if (experiment) q.set("experiment", experiment);
    json(`/runs?${q}`).then(setData).catch(setError);
  }, [status, experiment, page]);
  const pages = data ? Math.max(1, Math.ceil(data.count / PAGE)) : 1;
  const toggle = (id) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const canCompare = picked.length >= 2 && picked.length <= 5;
  return (
    <section className="padded">
      <h1>Jobs</h1>
      <div className="row">
        <label className="field inline">Status
          <select value={status} onChange={(e) => navigateWith("/jobs", { status: e.target.value, experiment })}>
            <option value="">Any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label className="field inline">Experiment
          <select value={experiment} onChange={(e) => navigateWith("/jobs", { status, experiment: e.target.value })}>
            <option value="">All</option>
            {experiments.map((x) => <option key={x.name} value={x.name}>{x.name} ({x.runs})</option>)}
          </select>
        </label>
        <span className="spacer" />
        <span className="muted" aria-live="polite">{picked.length} selected (2 to 5 to compare)</span>
        <button type="button" className="primary" disabled={!canCompare}
          onClick={() => navigate(`/compare?runs=${picked.map(enc).join(",")}`)}>Compare selected</button>
      </div>
      <ErrorText error={error} />
      {data === null ? (!error && <p>Loading…</p>) : data.value.length === 0 ? <p>No runs{status ? ` with status ${status}` : ""}.</p> : (
        <table className="table" aria-label="Runs">
          <thead><tr><th scope="col"><span className="sr-only">Select</span></th><th scope="col">Run</th><th scope="col">Experiment</th>
            <th scope="col">Pipeline</th><th scope="col">Status</th><th scope="col">Submitted</th><th scope="col">Duration</th>
            <th scope="col">Submitted by</th><th scope="col">Endpoint</th></tr></thead>
          <tbody>{data.value.map((r) => {
            const took = secondsBetween(r.started_at, r.ended_at);
            return (
              <tr key={r.run_id}>
                <td><input type="checkbox" aria-label={`Select run ${r.run_id.slice(0, 8)}`} checked={picked.includes(r.run_id)}
                  onChange={() => toggle(r.run_id)} disabled={!picked.includes(r.run_id) && picked.length >= 5} /></td>
                <td><Link to={`/runs/${enc(r.run_id)}`}>{r.run_id.slice(0, 8)}</Link></td>
                <td><Link to={`/experiments/${enc(r.experiment)}`}>{r.experiment}</Link></td>
                <td>{r.pipeline_name}</td>
                <td><span className={`run-status s-${r.status}`}>{r.status}</span></td>
                <td>{new Date(r.created_at).toLocaleString()}</td>
                <td>{took === null ? "" : formatDuration(took)}</td>
                <td>{r.submitted_by}</td>
                <td>{r.endpoint ? <Link to={`/endpoints/${enc(r.endpoint)}`}>{r.endpoint} v{r.endpoint_version}</Link> : ""}</td>
              </tr>
            );
          })}</tbody>
        </table>
      )}
      {data && pages > 1 && (
        <nav className="pager" aria-label="Run pages">
          <button type="button" disabled={page === 0} onClick={() => navigateWith("/jobs", { status, experiment, page: page - 1 })}>Previous page</button>
          <span>Page {page + 1} of {pages} ({data.count} runs)</span>
          <button type="button" disabled={page >= pages - 1} onClick={() => navigateWith("/jobs", { status, experiment, page: page + 1 })}>Next page</button>
        </nav>
      )}
    </section>
  );
}
