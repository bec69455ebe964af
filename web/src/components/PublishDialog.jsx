// Publish a finished run as a pipeline endpoint version: its training pipeline (a clone) or its
// batch inference pipeline, to a new endpoint or as the next version of an existing one.
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { Dialog } from "./Dialog.jsx";
import { ErrorText } from "./Studio.jsx";

export function PublishDialog({ runId, onCancel, onDone }) {
  const [endpoints, setEndpoints] = useState([]);
  const [name, setName] = useState("");
  const [what, setWhat] = useState("training");
  const [description, setDescription] = useState("");
  const [setDefault, setSetDefault] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => { json("/pipelineendpoints").then((d) => setEndpoints(d.value)).catch(() => {}); }, []);
  const existing = endpoints.find((e) => e.name === name);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const draft = what === "training"
        ? await json(`/runs/${enc(runId)}/clone`, { method: "POST" })
        : await json(`/runs/${enc(runId)}/inference-pipelines`, { method: "POST", body: { kind: "batch" } });
      const v = await json(`/pipelineendpoints/${enc(name)}/versions`, {
        method: "POST", body: { draft_id: draft.id, description, set_default: setDefault } });
      onDone(v);
    } catch (err) { setError(err); setBusy(false); }
  };
  return (
    <Dialog title="Publish to a pipeline endpoint" onClose={onCancel}>
      <form onSubmit={submit}>
        <label className="field">Endpoint name
          <input list="publish-endpoints" value={name} required onChange={(e) => setName(e.target.value)} autoFocus />
        </label>
        <datalist id="publish-endpoints">{endpoints.map((e) => <option key={e.name} value={e.name} />)}</datalist>
        <p className="muted" aria-live="polite">{name ? (existing ? `Publishes the next version of ${name} (default now: version ${existing.default_version}).` : `Creates the endpoint ${name}.`) : ""}</p>
        <fieldset><legend>Pipeline to publish</legend>
          <label><input type="radio" name="what" checked={what === "training"} onChange={() => setWhat("training")} /> The training pipeline as it ran</label>
          <label><input type="radio" name="what" checked={what === "batch"} onChange={() => setWhat("batch")} /> Its batch inference pipeline</label>
        </fieldset>
        <label className="field">Description <input value={description} onChange={(e) => setDescription(e.target.value)} /></label>
        <label><input type="checkbox" checked={setDefault} onChange={(e) => setSetDefault(e.target.checked)} /> Set as default version</label>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onCancel}>Cancel</button>
          <button type="submit" className="primary" disabled={!name || busy}>{busy ? "Publishing…" : "Publish"}</button>
        </div>
      </form>
    </Dialog>
  );
}
