// Experiments and each one's run history, newest first.
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { Link } from "../router.jsx";
import { formatDuration } from "../lib/runs.js";

export function ExperimentsPage() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { json("/experiments").then((d) => setItems(d.value)).catch(setError); }, []);
  return (
    <section className="padded">
      <h1>Experiments</h1>
      {error && <p role="alert" className="error">{error.message}</p>}
      {items === null ? <p>Loading…</p> : items.length === 0 ? <p>No runs yet: submit a draft from the designer.</p> : (
        <table className="table"><thead><tr><th>Experiment</th><th>Runs</th></tr></thead>
          <tbody>{items.map((e) => <tr key={e.name}><td><Link to={`/experiments/${enc(e.name)}`}>{e.name}</Link></td><td>{e.runs}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

export function ExperimentPage({ name }) {
  const [runs, setRuns] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { json(`/experiments/${enc(name)}/runs`).then((d) => setRuns(d.value)).catch(setError); }, [name]);
  return (
    <section className="padded">
      <h1>Experiment {name}</h1>
      {error && <p role="alert" className="error">{error.message}</p>}
      {runs === null ? <p>Loading…</p> : (
        <table className="table">
          <thead><tr><th>Run</th><th>Pipeline</th><th>Status</th><th>Submitted</th><th>Took</th></tr></thead>
          <tbody>{runs.map((r) => (
            <tr key={r.run_id}>
              <td><Link to={`/runs/${r.run_id}`}>{r.run_id.slice(0, 8)}</Link></td>
              <td>{r.pipeline_name}</td><td>{r.status}</td>
              <td>{new Date(r.created_at).toLocaleString()}</td>
              <td>{r.started_at && r.ended_at ? formatDuration((Date.parse(r.ended_at) - Date.parse(r.started_at)) / 1000) : ""}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
