// The designer's home: pipeline drafts (new, open, rename, delete).
import { useEffect, useState } from "react";
import { enc, json } from "../api.js";
import { Dialog } from "../components/Dialog.jsx";
import { Link, navigate } from "../router.jsx";

export function DraftsPage() {
  const [drafts, setDrafts] = useState(null);
  const [error, setError] = useState(null);
  const [naming, setNaming] = useState(null); // {mode: "new"|"rename", draft?}
  const load = () => json("/pipelines").then((d) => setDrafts(d.value)).catch(setError);
  useEffect(() => { load(); }, []);

  const remove = async (d) => {
    if (!window.confirm(`Delete the draft "${d.name}"? This cannot be undone.`)) return;
    await json(`/pipelines/${enc(d.id)}`, { method: "DELETE" }).catch(setError);
    load();
  };
  const named = async (name) => {
    const current = naming;
    setNaming(null);
    try {
      if (current.mode === "new") {
        const draft = await json("/pipelines", { method: "POST", body: { name } });
        navigate(`/drafts/${draft.id}`);
      } else {
        await renameDraft(current.draft.id, name);
        load();
      }
    } catch (err) { setError(err); }
  };
  const sorted = [...(drafts ?? [])].sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return (
    <section className="padded">
      <div className="row">
        <h1>Pipeline drafts</h1>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => setNaming({ mode: "new" })}>New draft</button>
      </div>
      {error && <p role="alert" className="error">{error.message}</p>}
      {drafts === null ? <p>Loading…</p> : sorted.length === 0 ? (
        <p>No drafts yet. Start with <strong>New draft</strong>, then drag datasets and components onto the canvas.</p>
      ) : (
        <table className="table">
          <thead><tr><th>Name</th><th>Last changed</th><th><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {sorted.map((d) => (
              <tr key={d.id}>
                <td><Link to={`/drafts/${d.id}`}>{d.name}</Link></td>
                <td>{new Date(d.updated_at).toLocaleString()}</td>
                <td className="actions-cell">
                  <button type="button" aria-label={`Rename ${d.name}`} onClick={() => setNaming({ mode: "rename", draft: d })}>Rename</button>
                  <button type="button" aria-label={`Delete ${d.name}`} onClick={() => remove(d)}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {naming && <NameDialog title={naming.mode === "new" ? "New draft" : "Rename draft"}
        initial={naming.draft?.name ?? "Pipeline"} onDone={named} onCancel={() => setNaming(null)} />}
    </section>
  );
}

/** Rename = read the draft, write it back with the new name under its ETag. */
export async function renameDraft(id, name) {
  const draft = await json(`/pipelines/${enc(id)}`);
  return json(`/pipelines/${enc(id)}`, { method: "PUT", body: { ...draft.pipeline, name },
                                        headers: { "if-match": draft.etag } });
}

export function NameDialog({ title, initial, onDone, onCancel, label = "Name" }) {
  const [name, setName] = useState(initial);
  return (
    <Dialog title={title} onClose={onCancel}>
      <form onSubmit={(e) => { e.preventDefault(); if (name.trim()) onDone(name.trim()); }}>
        <label className="field">{label}
          <input autoFocus value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="actions">
          <button type="button" onClick={onCancel}>Cancel</button>
          <button type="submit" className="primary" disabled={!name.trim()}>OK</button>
        </div>
      </form>
    </Dialog>
  );
}
