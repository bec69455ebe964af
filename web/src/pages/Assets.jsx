// Assets: registered models and transformations, their versions, where each came from (run,
// node, datasets it was trained on) and which endpoint versions and deployments use it.
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { ErrorText, Pager } from "../components/Studio.jsx";
import { pageOf } from "../lib/studio.js";
import { Link } from "../router.jsx";

const PAGE = 20;

export function AssetsPage() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [page, setPage] = useState(0);
  useEffect(() => { json("/assets").then((d) => setItems(d.value)).catch(setError); }, []);
  const shown = pageOf(items ?? [], page, PAGE);
  return (
    <section className="padded">
      <h1>Assets</h1>
      <ErrorText error={error} />
      {items === null ? (!error && <p>Loading…</p>) : items.length === 0 ? <p>No assets yet: register a trained model from a run's node.</p> : (
        <table className="table" aria-label="Assets">
          <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Latest version</th><th scope="col">Created</th><th scope="col">Description</th></tr></thead>
          <tbody>{shown.items.map((a) => (
            <tr key={a.name}><td><Link to={`/registry/${enc(a.name)}`}>{a.name}</Link></td><td>{a.kind}</td><td>{a.version}</td>
              <td>{new Date(a.created_at).toLocaleString()}</td><td>{a.description}</td></tr>
          ))}</tbody>
        </table>
      )}
      <Pager page={shown.page} pages={shown.pages} onPage={setPage} label="Asset pages" />
    </section>
  );
}

export function AssetPage({ name, version }) {
  const [data, setData] = useState(null);
  const [lineage, setLineage] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { json(`/assets/${enc(name)}`).then(setData).catch(setError); }, [name]);
  const chosen = version ? Number(version) : data?.version;
  useEffect(() => {
    if (!chosen) return;
    setLineage(null);
    json(`/lineage?asset=${enc(name)}&version=${chosen}`).then(setLineage).catch(setError);
  }, [name, chosen]);
  const origin = lineage?.origin;
  const used = lineage?.used_by;
  return (
    <section className="padded">
      <p><Link to="/registry">Assets</Link></p>
      <h1>Asset {name}</h1>
      <ErrorText error={error} />
      {data && (
        <table className="table" aria-label="Asset versions">
          <thead><tr><th scope="col">Version</th><th scope="col">Kind</th><th scope="col">Created</th><th scope="col">By</th><th scope="col">Description</th></tr></thead>
          <tbody>{[...data.versions].reverse().map((v) => (
            <tr key={v.version} aria-current={v.version === chosen ? "true" : undefined}>
              <td><Link to={`/registry/${enc(name)}/versions/${v.version}`}>Version {v.version}</Link></td><td>{v.kind}</td>
              <td>{new Date(v.created_at).toLocaleString()}</td><td>{v.created_by ?? ""}</td><td>{v.description}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
      {lineage && (
        <section aria-label="Lineage">
          <h2>Lineage of version {chosen}</h2>
          <dl className="facts">
            <dt>Made by run</dt><dd>{origin?.run_id ? <Link to={`/runs/${enc(origin.run_id)}`}>{origin.run_id.slice(0, 8)}</Link> : "unknown"}
              {origin?.experiment ? ` in ${origin.experiment}` : ""}</dd>
            <dt>Node</dt><dd>{origin?.node ?? ""}{origin?.component ? ` (${origin.component})` : ""}{origin?.port ? `, output ${origin.port}` : ""}</dd>
            <dt>Pipeline</dt><dd>{origin?.pipeline_name ?? ""}</dd>
            <dt>Trained on</dt><dd>{origin?.trained_on?.length ? origin.trained_on.map((d, i) => (
              <span key={i}>{i > 0 && ", "}<Link to={`/datasets/${enc(d.name)}${d.version ? `/versions/${d.version}` : ""}`}>{d.name}{d.version ? ` v${d.version}` : ""}</Link></span>
            )) : "—"}</dd>
          </dl>
          <h3>Used by</h3>
          {!used?.endpoint_versions?.length && !used?.realtime_endpoints?.length ? <p>No endpoint uses it.</p> : (
            <ul>
              {used.endpoint_versions.map((u) => <li key={`p${u.pipeline_endpoint}${u.version}`}>Pipeline endpoint <Link to={`/endpoints/${enc(u.pipeline_endpoint)}`}>{u.pipeline_endpoint}</Link> version {u.version} ({u.uses.join(", ")})</li>)}
              {used.realtime_endpoints.map((u) => <li key={`r${u.realtime_endpoint}`}>Real-time endpoint <Link to={`/realtime/${enc(u.realtime_endpoint)}`}>{u.realtime_endpoint}</Link> deployment {u.deployment} ({u.uses.join(", ")})</li>)}
            </ul>
          )}
        </section>
      )}
    </section>
  );
}
