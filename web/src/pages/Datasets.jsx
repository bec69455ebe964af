// Datasets: the registered datasets and the samples, uploads with progress, a dataset's versions,
// and a version's first rows and column profile (the designer's "Visualize").
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { useCatalogue } from "../catalogue.js";
import { ErrorText, FilePicker, Pager, Progress } from "../components/Studio.jsx";
import { histogramBars, newestFirst, pageOf, shortNumber } from "../lib/studio.js";
import { upload } from "../lib/upload.js";
import { Link, navigate } from "../router.jsx";

const PAGE = 20;

export function DatasetsPage() {
  const cat = useCatalogue();
  const [page, setPage] = useState(0);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const shown = pageOf(newestFirst(cat.datasets), page, PAGE);
  const registered = new Set(cat.datasets.map((d) => d.name));
  const registerSample = async (name) => {
    setError(null);
    setBusy(name);
    try { await json(`/samples/${enc(name)}`, { method: "POST" }); await cat.refreshDatasets(); } catch (e) { setError(e); }
    setBusy(null);
  };
  return (
    <section className="padded">
      <h1>Datasets</h1>
      <ErrorText error={error ?? cat.error} />
      <UploadForm onDone={async (d) => { await cat.refreshDatasets(); navigate(`/datasets/${enc(d.name)}/versions/${d.version}`); }} />
      <h2>Registered datasets</h2>
      {cat.datasets.length === 0 ? <p>No datasets yet: upload a CSV or register a sample.</p> : (
        <table className="table" aria-label="Registered datasets">
          <thead><tr><th scope="col">Name</th><th scope="col">Latest version</th><th scope="col">Rows</th><th scope="col">Columns</th><th scope="col">Created</th></tr></thead>
          <tbody>{shown.items.map((d) => (
            <tr key={d.name}>
              <td><Link to={`/datasets/${enc(d.name)}`}>{d.name}</Link></td>
              <td>{d.version}</td><td>{d.rows.toLocaleString("en")}</td><td>{d.columns.length}</td>
              <td>{new Date(d.created_at).toLocaleString()}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <Pager page={shown.page} pages={shown.pages} onPage={setPage} label="Dataset pages" />
      <h2>Samples</h2>
      <table className="table" aria-label="Samples">
        <thead><tr><th scope="col">Sample</th><th scope="col">Description</th><th scope="col"><span className="sr-only">Action</span></th></tr></thead>
        <tbody>{cat.samples.map((s) => (
          <tr key={s.name}>
            <td>{registered.has(s.name) ? <Link to={`/datasets/${enc(s.name)}`}>{s.name}</Link> : s.name}</td>
            <td>{s.description}</td>
            <td><button type="button" disabled={busy === s.name} aria-label={`Register sample ${s.name}`}
              onClick={() => registerSample(s.name)}>{registered.has(s.name) ? "Register again" : "Register"}</button></td>
          </tr>
        ))}</tbody>
      </table>
    </section>
  );
}

function UploadForm({ onDone }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const choose = (f) => { setFile(f); if (!name) setName(f.name.replace(/\.csv$/i, "").replace(/[^A-Za-z0-9_-]+/g, "-")); };
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setProgress(0);
    try {
      const q = description ? `?description=${enc(description)}` : "";
      const d = await upload(`/datasets/${enc(name)}${q}`, file, setProgress);
      setProgress(null);
      await onDone(d);
    } catch (err) { setError(err); setProgress(null); }
  };
  return (
    <form className="card" aria-label="Upload a CSV" onSubmit={submit}>
      <h2>Upload a CSV</h2>
      <FilePicker label="CSV file" accept=".csv,text/csv" onFile={choose} file={file} />
      <label className="field">Dataset name <input value={name} onChange={(e) => setName(e.target.value)} required /></label>
      <label className="field">Description <input value={description} onChange={(e) => setDescription(e.target.value)} /></label>
      {progress !== null && <Progress label="Upload progress" fraction={progress} />}
      <ErrorText error={error} />
      <div className="actions"><button type="submit" className="primary" disabled={!file || !name || progress !== null}>Upload</button></div>
    </form>
  );
}

export function DatasetPage({ name, version }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { json(`/datasets/${enc(name)}`).then(setData).catch(setError); }, [name]);
  const chosen = version ? Number(version) : null;
  return (
    <section className="padded">
      <p><Link to="/datasets">Datasets</Link></p>
      <h1>Dataset {name}</h1>
      <ErrorText error={error} />
      {data === null ? (!error && <p>Loading…</p>) : (
        <>
          {data.description && <p>{data.description}</p>}
          <table className="table" aria-label="Versions">
            <thead><tr><th scope="col">Version</th><th scope="col">Rows</th><th scope="col">Columns</th><th scope="col">Source</th><th scope="col">Created</th></tr></thead>
            <tbody>{[...data.versions].reverse().map((v) => (
              <tr key={v.version} aria-current={chosen === v.version ? "true" : undefined}>
                <td><Link to={`/datasets/${enc(name)}/versions/${v.version}`}>Version {v.version}</Link></td>
                <td>{v.rows.toLocaleString("en")}</td><td>{v.columns.length}</td><td>{v.source}</td>
                <td>{new Date(v.created_at).toLocaleString()}</td>
              </tr>
            ))}</tbody>
          </table>
          {chosen ? <VersionView name={name} version={chosen} /> : <p className="muted">Open a version to see its first rows and its profile.</p>}
        </>
      )}
    </section>
  );
}

function VersionView({ name, version }) {
  const [preview, setPreview] = useState(null);
  const [profile, setProfile] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const base = `/datasets/${enc(name)}/versions/${version}`;
    json(`${base}/preview?rows=20`).then(setPreview).catch(setError);
    json(`${base}/profile`).then(setProfile).catch(setError);
  }, [name, version]);
  return (
    <>
      <ErrorText error={error} />
      <section aria-label="Preview">
        <h2>First rows of version {version}</h2>
        {!preview ? <p>Loading the preview…</p> : (
          <>
            <p className="muted">{preview.data.length} of {preview.rows.toLocaleString("en")} rows.</p>
            <div className="scroll"><table className="table small">
              <thead><tr>{preview.columns.map((c, i) => <th key={c} scope="col">{c}<br /><span className="muted">{preview.dtypes[i]}</span></th>)}</tr></thead>
              <tbody>{preview.data.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{v === null ? "" : String(v)}</td>)}</tr>)}</tbody>
            </table></div>
          </>
        )}
      </section>
      <section aria-label="Profile">
        <h2>Profile</h2>
        {!profile ? <p>Profiling…</p> : (
          <>
            <p className="muted">{profile.profiled_rows.toLocaleString("en")} of {profile.rows.toLocaleString("en")} rows profiled.</p>
            <table className="table small">
              <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Missing</th><th scope="col">Unique</th>
                <th scope="col">Min</th><th scope="col">Max</th><th scope="col">Mean</th><th scope="col">Median</th><th scope="col">Std</th><th scope="col">Distribution</th></tr></thead>
              <tbody>{profile.columns.map((c) => (
                <tr key={c.name}>
                  <th scope="row">{c.name}</th><td>{c.kind}</td><td>{c.missing}</td><td>{c.unique}</td>
                  <td>{shortNumber(c.min)}</td><td>{shortNumber(c.max)}</td><td>{shortNumber(c.mean)}</td>
                  <td>{shortNumber(c.median)}</td><td>{shortNumber(c.std)}</td>
                  <td>{c.histogram ? <Histogram column={c.name} histogram={c.histogram} />
                    : c.top_values?.length ? <span>{c.top_values.slice(0, 3).map((t) => `${t.value} (${t.count})`).join(", ")}</span> : null}</td>
                </tr>
              ))}</tbody>
            </table>
          </>
        )}
      </section>
    </>
  );
}

function Histogram({ column, histogram }) {
  const bars = histogramBars(histogram, 120, 32);
  return (
    <svg className="hist" width="120" height="32" role="img" aria-label={`Histogram of ${column}: ${bars.length} bins`}>
      {bars.map((b, i) => (
        <rect key={i} x={b.x} y={b.y} width={b.w} height={b.h}>
          <title>{`${shortNumber(b.from)} to ${shortNumber(b.to)}: ${b.count}`}</title>
        </rect>
      ))}
    </svg>
  );
}
