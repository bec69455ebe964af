// File-drop scoring: pick a pipeline endpoint, upload a CSV or Parquet file (it lands in
// batch-input/{endpoint}/), watch its run, download the predictions or read the error report.
import { useEffect, useState } from "react";
import { download, enc, json } from "../api.js";
import { ErrorText, FilePicker, Progress } from "../components/Studio.jsx";
import { TERMINAL } from "../lib/runs.js";
import { navigateWith, useSearch } from "../lib/search.js";
import { upload } from "../lib/upload.js";
import { Link } from "../router.jsx";

const POLL_MS = 1000;

export function FileDropPage() {
  const search = useSearch();
  const endpoint = search.get("endpoint") ?? "";
  const file = search.get("file") ?? "";
  const [endpoints, setEndpoints] = useState([]);
  const [files, setFiles] = useState(null); // file names
  const [error, setError] = useState(null);
  useEffect(() => { json("/pipelineendpoints").then((d) => setEndpoints(d.value)).catch(setError); }, []);
  useEffect(() => {
    setFiles(null);
    if (endpoint) json(`/pipelineendpoints/${enc(endpoint)}/files`).then((d) => setFiles(d.value)).catch(setError);
  }, [endpoint, file]);
  return (
    <section className="padded">
      <h1>File-drop scoring</h1>
      <ErrorText error={error} />
      <label className="field">Pipeline endpoint
        <select aria-label="Pipeline endpoint" value={endpoint} onChange={(e) => navigateWith("/file-drop", { endpoint: e.target.value })}>
          <option value="">Choose an endpoint</option>
          {endpoints.map((e) => <option key={e.name} value={e.name}>{e.name}</option>)}
        </select>
      </label>
      {endpoint && <DropForm endpoint={endpoint} onDropped={(f) => navigateWith("/file-drop", { endpoint, file: f.file })} />}
      {endpoint && file && <Watch key={`${endpoint}/${file}`} endpoint={endpoint} file={file} />}
      {endpoint && (
        <section aria-label="Dropped files">
          <h2>Files dropped on {endpoint}</h2>
          {files === null ? <p>Loading…</p> : files.length === 0 ? <p>None yet.</p> : (
            <ul>{files.slice(0, 100).map((f) => (
              <li key={f}><Link to={`/file-drop?endpoint=${enc(endpoint)}&file=${enc(f)}`}
                aria-current={f === file ? "true" : undefined}>{f}</Link></li>
            ))}</ul>
          )}
        </section>
      )}
    </section>
  );
}

function DropForm({ endpoint, onDropped }) {
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setProgress(0);
    const parquet = /\.parquet$/i.test(file.name);
    try {
      const d = await upload(`/pipelineendpoints/${enc(endpoint)}/files/${enc(file.name)}`, file, setProgress,
        { method: "PUT", contentType: parquet ? "application/octet-stream" : "text/csv" });
      setProgress(null);
      onDropped(d);
    } catch (err) { setError(err); setProgress(null); }
  };
  return (
    <form className="card" aria-label="Drop a file" onSubmit={submit}>
      <FilePicker label="CSV or Parquet file" accept=".csv,.parquet,text/csv" onFile={setFile} file={file} />
      {progress !== null && <Progress label="Upload progress" fraction={progress} />}
      <ErrorText error={error} />
      <div className="actions"><button type="submit" className="primary" disabled={!file || progress !== null}>Upload and score</button></div>
    </form>
  );
}

function Watch({ endpoint, file }) {
  const [state, setState] = useState(null);
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    let timer = null;
    const tick = async () => {
      try {
        const s = await json(`/pipelineendpoints/${enc(endpoint)}/files/${enc(file)}`);
        if (stop) return;
        setState(s);
        if (s.run_id) {
          const r = await json(`/runs/${enc(s.run_id)}`).catch(() => null);
          if (!stop && r) setRun(r);
        }
        if (TERMINAL.has(s.status)) return;
      } catch (err) { if (!stop) setError(err); if (err.status === 404) return; }
      if (!stop) timer = setTimeout(tick, POLL_MS);
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, [endpoint, file]);
  const done = run?.progress?.nodes_done ?? 0;
  const total = run?.progress?.nodes_total ?? 0;
  return (
    <section aria-label="Scoring" className="card">
      <h2>{file}</h2>
      <ErrorText error={error} />
      {!state ? <p>Waiting for the run…</p> : (
        <>
          <p><span role="status" aria-label={`Scoring status: ${state.status}`}>{state.status}</span>
            {state.run_id && <> · <Link to={`/runs/${enc(state.run_id)}`}>run {state.run_id.slice(0, 8)}</Link></>}</p>
          {!TERMINAL.has(state.status) && <Progress label="Scoring progress" fraction={total ? done / total : 0} text={`${done} of ${total} nodes`} />}
          {state.predictions_url && (
            <button type="button" className="primary"
              onClick={() => download(state.predictions_url.replace(/^\/api/, ""), `${file.replace(/\.\w+$/, "")}-predictions.csv`).catch(setError)}>
              Download predictions</button>
          )}
          {(state.error || state.error_report) && (
            <div role="alert" className="node-error"><strong>Error report</strong>
              {state.error && <p>{state.error}</p>}
              {state.error_report && <pre>{JSON.stringify(state.error_report, null, 2)}</pre>}
            </div>
          )}
        </>
      )}
    </section>
  );
}
