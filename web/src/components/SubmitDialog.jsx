// Submit: experiment (pick or create), pipeline parameter values, regenerate all outputs.
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { Dialog } from "./Dialog.jsx";

export function SubmitDialog({ draftId, meta, flush, onClose, onSubmitted }) {
  const [experiments, setExperiments] = useState([]);
  const [experiment, setExperiment] = useState("");
  const [values, setValues] = useState({});
  const [regenerate, setRegenerate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    json("/experiments").then((d) => {
      setExperiments(d.value);
      setExperiment((e) => e || d.value[0]?.name || slug(meta.name));
    }).catch(() => setExperiment(slug(meta.name)));
  }, [meta.name]);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await flush();
      const assignments = {};
      for (const p of meta.parameters ?? []) {
        const raw = values[p.name];
        if (raw === undefined || raw === "") continue;
        const n = Number(raw);
        assignments[p.name] = typeof p.default === "number" && Number.isFinite(n) ? n : raw;
      }
      const answer = await json(`/experiments/${enc(experiment.trim())}/runs`, {
        method: "POST", body: { draft_id: draftId, parameter_assignments: assignments, regenerate_outputs: regenerate },
      });
      onSubmitted(answer.Id);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title="Submit the pipeline" onClose={onClose}>
      <form onSubmit={submit}>
        <label className="field">Experiment (pick one or type a new name)
          <input list="experiment-list" value={experiment} required pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*"
            onChange={(e) => setExperiment(e.target.value)} />
          <datalist id="experiment-list">{experiments.map((x) => <option key={x.name} value={x.name}>{`${x.runs} runs`}</option>)}</datalist>
        </label>
        {(meta.parameters ?? []).length > 0 && (
          <fieldset>
            <legend>Pipeline parameters</legend>
            {meta.parameters.map((p) => (
              <label className="field" key={p.name}>{p.name}{p.description ? ` (${p.description})` : ""}
                <input value={values[p.name] ?? ""} placeholder={p.default === null || p.default === undefined ? "" : `default ${JSON.stringify(p.default)}`}
                  onChange={(e) => setValues({ ...values, [p.name]: e.target.value })} />
              </label>
            ))}
          </fieldset>
        )}
        <label className="toggle">
          <input type="checkbox" role="switch" checked={regenerate} onChange={(e) => setRegenerate(e.target.checked)} />
          Regenerate all outputs (run every node, reuse nothing)
        </label>
        {error && (
          <div role="alert" className="error">
            <p>{error.message}</p>
            {error.problems?.length > 0 && <ul>{error.problems.map((p, i) => <li key={i}>{p.node ? `${p.node}: ` : ""}{p.message}</li>)}</ul>}
          </div>
        )}
        <div className="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={busy || !experiment.trim()}>{busy ? "Submitting…" : "Submit"}</button>
        </div>
      </form>
    </Dialog>
  );
}

function slug(name) {
  return String(name).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "experiment";
}
