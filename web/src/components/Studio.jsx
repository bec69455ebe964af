// Small parts the studio pages share: a pager, a progress bar, a copy box, a file picker with drop.
import { useState } from "react";

export function Pager({ page, pages, onPage, label }) {
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>Previous page</button>
      <span>Page {page + 1} of {pages}</span>
      <button type="button" disabled={page >= pages - 1} onClick={() => onPage(page + 1)}>Next page</button>
    </nav>
  );
}

export function Progress({ label, fraction, text }) {
  const pct = Math.round(100 * (fraction ?? 0));
  return (
    <div className="progress-row">
      <div className="progress wide" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100}
        aria-valuenow={pct} aria-valuetext={text ?? `${pct}%`}>
        <div className="bar" style={{ width: `${pct}%` }} />
      </div>
      <span className="muted">{text ?? `${pct}%`}</span>
    </div>
  );
}

export function CopyBox({ label, text }) {
  const [copied, setCopied] = useState(false);
  return (
    <figure className="copybox">
      <figcaption>{label}
        <button type="button" aria-label={`Copy ${label}`} onClick={async () => {
          try { await navigator.clipboard.writeText(text); setCopied(true); } catch { setCopied(false); }
        }}>{copied ? "Copied" : "Copy"}</button>
      </figcaption>
      <pre tabIndex={0} aria-label={label}>{text}</pre>
    </figure>
  );
}

/** A file input that also takes a dropped file. */
export function FilePicker({ label, accept, onFile, file }) {
  const [over, setOver] = useState(false);
  return (
    <div className={`dropzone${over ? " over" : ""}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); const f = e.dataTransfer.files?.[0]; if (f) onFile(f); }}>
      <label className="field">{label}
        <input type="file" accept={accept} onChange={(e) => e.target.files?.[0] && onFile(e.target.files[0])} />
      </label>
      <p className="muted">{file ? `Chosen: ${file.name} (${file.size.toLocaleString("en")} bytes)` : "…or drop a file here."}</p>
    </div>
  );
}

export function ErrorText({ error }) {
  if (!error) return null;
  const problems = error.problems?.length ? error.problems.map((p) => p.message).join(" ") : "";
  return <p role="alert" className="error">{error.message}{problems && problems !== error.message ? ` ${problems}` : ""}</p>;
}
