// Run state as the run view shows it.

export const TERMINAL = new Set(["Finished", "Failed", "Canceled"]);

const STATUS_TEXT = {
  NotStarted: "not started", Queued: "queued", Running: "running", Finished: "finished",
  Failed: "failed", Canceled: "canceled", Skipped: "skipped",
};

/** The status word shown on a node (and in its accessible name). */
export function nodeStatus(node) {
  if (!node) return "not started";
  if (node.reused) return "reused";
  return STATUS_TEXT[node.status] ?? String(node.status ?? "not started").toLowerCase();
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

export function progressPercent(run) {
  const p = run?.progress;
  if (!p || !p.nodes_total) return 0;
  return Math.round((100 * p.nodes_done) / p.nodes_total);
}

/** A pandas "split" JSON frame as rows plus per-column type and missing count. */
export function previewOf(split) {
  const columns = split.columns ?? [];
  const data = split.data ?? [];
  const stats = columns.map((name, i) => {
    const values = data.map((row) => row[i]);
    const present = values.filter((v) => v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v)));
    const kinds = new Set(present.map((v) => typeof v));
    const type = kinds.size === 0 ? "empty" : kinds.size === 1 ? [...kinds][0] : "mixed";
    return { name, type, missing: values.length - present.length };
  });
  return { columns, rows: data, stats };
}
