// Compare runs: parameters side by side (differences marked in text, not colour alone), the
// Evaluate Model metrics in one table, and the two-class curves of every run in one plot.
import { useEffect, useState } from "react";
import { blobUrl, enc, json } from "../api.js";
import { ErrorText } from "../components/Studio.jsx";
import { useSearch } from "../lib/search.js";
import { shortNumber } from "../lib/studio.js";
import { Link } from "../router.jsx";

const PLOT_TITLES = { roc_curve: "ROC curves", precision_recall_curve: "Precision-recall curves" };

export function ComparePage() {
  const runs = useSearch().get("runs") ?? "";
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [onlyDiffering, setOnlyDiffering] = useState(false);
  useEffect(() => {
    setData(null); setError(null);
    json(`/compare?runs=${runs.split(",").map(enc).join(",")}`).then(setData).catch(setError);
  }, [runs]);
  const show = (v) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : shortNumber(v));
  return (
    <section className="padded wide">
      <p><Link to="/jobs">Jobs</Link></p>
      <h1>Compare runs</h1>
      <ErrorText error={error} />
      {!data ? (!error && <p>Loading the comparison…</p>) : (
        <>
          <label className="field inline"><input type="checkbox" checked={onlyDiffering} onChange={(e) => setOnlyDiffering(e.target.checked)} /> Only parameters that differ</label>
          <section aria-label="Parameters">
            <h2>Parameters</h2>
            <div className="scroll"><table className="table small">
              <thead><tr><th scope="col">Node</th><th scope="col">Parameter</th>
                {data.runs.map((r) => <th key={r.run_id} scope="col"><Link to={`/runs/${enc(r.run_id)}`}>{r.label}</Link></th>)}
                <th scope="col">Differs</th></tr></thead>
              <tbody>{data.parameters.filter((p) => !onlyDiffering || p.differs).map((p) => (
                <tr key={`${p.node}/${p.parameter}`} className={p.differs ? "differs-row" : undefined}>
                  <td>{p.node}</td><th scope="row">{p.label}</th>
                  {p.values.map((v, i) => <td key={i}>{show(v)}</td>)}
                  <td>{p.differs ? <span className="differs-tag">differs</span> : <span className="muted">same</span>}</td>
                </tr>
              ))}</tbody>
            </table></div>
          </section>
          <section aria-label="Metrics">
            <h2>Metrics</h2>
            {data.metrics.length === 0 ? <p>No Evaluate Model metrics in these runs.</p> : (
              <table className="table small">
                <thead><tr><th scope="col">Node</th><th scope="col">Metric</th>
                  {data.runs.map((r) => <th key={r.run_id} scope="col">{r.label}</th>)}<th scope="col">Differs</th></tr></thead>
                <tbody>{data.metrics.map((m) => (
                  <tr key={`${m.node}/${m.metric}`} className={m.differs ? "differs-row" : undefined}>
                    <td>{m.node}</td><th scope="row">{m.metric}</th>
                    {m.values.map((v, i) => <td key={i}>{show(v)}</td>)}
                    <td>{m.differs ? <span className="differs-tag">differs</span> : <span className="muted">same</span>}</td>
                  </tr>
                ))}</tbody>
              </table>
            )}
          </section>
          {Object.keys(data.plots ?? {}).length > 0 && (
            <section aria-label="Plots">
              <h2>Curves</h2>
              <div className="cards">{Object.entries(data.plots).map(([name, url]) => <ComparePlot key={name} name={name} url={url} />)}</div>
            </section>
          )}
        </>
      )}
    </section>
  );
}

function ComparePlot({ name, url }) {
  const [src, setSrc] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let made = null;
    blobUrl(url.replace(/^\/api/, "")).then((u) => { made = u; setSrc(u); }).catch(setError);
    return () => made && URL.revokeObjectURL(made);
  }, [url]);
  const title = PLOT_TITLES[name] ?? name.replace(/_/g, " ");
  return (
    <figure className="plot card">
      {src ? <img src={src} alt={`${title} of every run`} /> : error ? <ErrorText error={error} /> : <div className="muted">Loading {title}…</div>}
      <figcaption>{title}</figcaption>
    </figure>
  );
}
