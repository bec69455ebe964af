// The run view: the pipeline's graph, read-only, with live per-node status (polled about once
// a second with If-None-Match), node details, and the run's actions.
import { useEffect, useMemo, useRef, useState } from "react";
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, applyNodeChanges, useReactFlow } from "@xyflow/react";
import { blobUrl, download, enc, json, request } from "../api.js";
import { useCatalogue } from "../catalogue.js";
import { nodeTypes } from "../components/PipelineNode.jsx";
import { NameDialog } from "./Drafts.jsx";
import { PublishDialog } from "../components/PublishDialog.jsx";
import { displayName, findComponent, toFlow } from "../lib/graph.js";
import { layout } from "../lib/layout.js";
import { TERMINAL, formatDuration, nodeStatus, previewOf, progressPercent } from "../lib/runs.js";
import { Link, navigate } from "../router.jsx";

const POLL_MS = 1000;

export function RunPage({ id }) {
  return <ReactFlowProvider><RunView runId={id} /></ReactFlowProvider>;
}

/** Poll GET /runs/{id} until the run ends; a 304 (same ETag) changes nothing. */
function useRun(runId) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    let etag = null;
    let timer = null;
    const tick = async () => {
      try {
        const res = await request(`/runs/${enc(runId)}`, { headers: etag ? { "if-none-match": etag } : {} });
        if (res.status !== 304) {
          etag = res.headers.get("etag");
          const next = await res.json();
          if (!stop) setRun(next);
          if (TERMINAL.has(next.status)) return;
        }
      } catch (err) {
        if (!stop) setError(err);
        if (err.status === 404 || err.status === 401) return;
      }
      if (!stop) timer = setTimeout(tick, POLL_MS);
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, [runId]);
  return { run, error };
}

function RunView({ runId }) {
  const cat = useCatalogue();
  const flow = useReactFlow();
  const { run, error } = useRun(runId);
  const [graph, setGraph] = useState(null);
  const [nodes, setNodes] = useState([]);
  const [notice, setNotice] = useState(null);
  const [dialog, setDialog] = useState(null);

  // The graph: the pipeline document that ran (GET /runs/{id}/pipeline), never the draft's
  // current graph, which may have changed since.
  const fetching = useRef(false);
  useEffect(() => {
    if (!run || graph || !cat.ready || fetching.current) return;
    fetching.current = true;
    (async () => {
      let doc = await json(`/runs/${enc(runId)}/pipeline`).catch(() => null);
      const fromDraft = false;
      if (!doc || !Object.keys(run.nodes).every((n) => doc.nodes.some((x) => x.id === n))) {
        doc = { nodes: Object.values(run.nodes).map((n) => ({ id: n.node_id, component: n.component })), edges: [] };
        doc.nodes = doc.nodes.map((n) => ({ ...n, position: null }));
      }
      const keep = new Set(Object.keys(run.nodes));
      const f = toFlow({ ...doc, nodes: doc.nodes.filter((n) => keep.has(n.id)) }, cat.byId);
      const edges = f.edges.filter((e) => keep.has(e.source) && keep.has(e.target));
      let placed = f.nodes;
      if (f.unplaced.length) {
        const pos = layout(f.nodes, edges);
        placed = f.nodes.map((n) => ({ ...n, position: pos.get(n.id) }));
      }
      setGraph({ edges, doc, fromDraft });
      setNodes(placed.map((n) => ({ ...n, draggable: false, connectable: false })));
      // React Flow queues a fit until nodes are measured: with none, it would fire on the first one added.
    if (placed.length) setTimeout(() => flow.fitView({ padding: 0.15, maxZoom: 1, minZoom: 0.5 }), 50);
    })();
  }, [run, graph, cat.ready, cat.byId, flow, runId]);

  const shownNodes = useMemo(() => nodes.map((n) => {
    const r = run?.nodes[n.id];
    const status = nodeStatus(r);
    const name = displayName(n, cat.byId);
    const entry = cat.byId.get(n.data.component);
    return {
      ...n, ariaLabel: `${name}: ${entry?.name ?? n.data.component}, ${status}`,
      domAttributes: { "data-status": status },
      data: { ...n.data, run: { status, duration: r?.duration_seconds, reusedFrom: r?.reused_from } },
    };
  }), [nodes, run, cat.byId]);

  if (error && !run) return <section className="padded"><h1>Run not available</h1><p role="alert" className="error">{error.message}</p></section>;
  if (!run) return <section className="padded"><p>Loading the run…</p></section>;

  const selected = nodes.find((n) => n.selected);
  const pct = progressPercent(run);
  const act = async (what) => {
    setNotice(null);
    try {
      if (what === "cancel") {
        await json(`/runs/${enc(runId)}/cancel`, { method: "POST" });
        setNotice({ kind: "info", text: "Cancel requested: unfinished nodes end Canceled." });
      } else if (what === "clone") {
        const d = await json(`/runs/${enc(runId)}/clone`, { method: "POST" });
        navigate(`/drafts/${d.id}`);
      } else {
        const d = await json(`/runs/${enc(runId)}/inference-pipelines`, { method: "POST", body: { kind: what } });
        navigate(`/drafts/${d.id}`);
      }
    } catch (err) {
      setNotice({ kind: "error", text: err.problems?.length ? err.problems.map((p) => p.message).join(" ") : err.message });
    }
  };
  const finished = run.status === "Finished";
  return (
    <div className="designer run">
      <div className="toolbar" role="toolbar" aria-label="Run actions">
        <h1 className="draft-name" title={`${run.pipeline_name}, run ${runId}`}>{run.pipeline_name}</h1>
        <span className={`run-status s-${run.status}`} role="status" aria-label={`Run status: ${run.status}`}>{run.status}</span>
        <div className="progress" role="progressbar" aria-label="Run progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}
          aria-valuetext={`${run.progress?.nodes_done ?? 0} of ${run.progress?.nodes_total ?? 0} nodes`}>
          <div className="bar" style={{ width: `${pct}%` }} />
        </div>
        <span className="muted">{run.progress?.nodes_done}/{run.progress?.nodes_total}</span>
        <span className="spacer" />
        <Link to={`/experiments/${enc(run.experiment)}`}>Experiment history</Link>
        {!TERMINAL.has(run.status) && <button type="button" onClick={() => act("cancel")}>Cancel run</button>}
        <button type="button" onClick={() => act("clone")}>Clone to draft</button>
        <span className="muted">Create:</span>
        <button type="button" onClick={() => act("realtime")} disabled={!finished} aria-label="Create real-time inference pipeline">Real-time inference pipeline</button>
        <button type="button" onClick={() => act("batch")} disabled={!finished} aria-label="Create batch inference pipeline">Batch inference pipeline</button>
        <button type="button" onClick={() => setDialog({ publish: true })} disabled={!finished}>Publish</button>
      </div>
      {notice && <div className={`notice ${notice.kind}`} role="alert"><span>{notice.text}</span>
        <button type="button" className="icon" aria-label="Dismiss" onClick={() => setNotice(null)}>×</button></div>}
      {run.error && (run.status === "Canceled"
        ? <div className="notice info" role="status">{run.error}</div>
        : <div className="notice error" role="alert">Run failed{run.failed_node ? ` at ${run.failed_node}` : ""}: {run.error}</div>)}
      <div className="workspace">
        <div className="canvas-column">
          <div className="canvas" role="region" aria-label="Run graph">
            <ReactFlow nodes={shownNodes} edges={graph?.edges ?? []} nodeTypes={nodeTypes}
              onNodesChange={(c) => setNodes((ns) => applyNodeChanges(c.filter((x) => x.type === "select" || x.type === "dimensions"), ns))}
              nodesDraggable={false} nodesConnectable={false} deleteKeyCode={null} minZoom={0.1}
              proOptions={{ hideAttribution: true }}>
              <Background gap={20} />
              <MiniMap pannable zoomable ariaLabel="Minimap" style={{ width: 160, height: 100 }} />
              <Controls aria-label="Zoom controls" showInteractive={false} />
            </ReactFlow>
          </div>
        </div>
        {selected ? (
          <NodeDetails key={selected.id} runId={runId} node={selected} record={run.nodes[selected.id]} doc={graph?.doc}
            fromDraft={graph?.fromDraft}
            onNotice={setNotice} onRegister={(port) => setDialog({ port, node: selected.id })} />
        ) : (
          <aside className="properties" aria-label="Run">
            <h2>Run</h2>
            <dl className="facts">
              <dt>Experiment</dt><dd>{run.experiment}</dd>
              <dt>Status</dt><dd>{run.status}</dd>
              <dt>Submitted by</dt><dd>{run.submitted_by}</dd>
              <dt>Created</dt><dd>{new Date(run.created_at).toLocaleString()}</dd>
              {run.ended_at && run.started_at && <><dt>Took</dt><dd>{formatDuration((Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000)}</dd></>}
            </dl>
            {run.draft_id && <p><Link to={`/drafts/${run.draft_id}`}>Open the draft</Link></p>}
            <p className="muted">Select a node to see its parameters, logs, outputs, metrics and plots.</p>
          </aside>
        )}
      </div>
      {dialog?.publish && <PublishDialog runId={runId} onCancel={() => setDialog(null)}
        onDone={(v) => { setDialog(null); navigate(`/endpoints/${enc(v.endpoint)}`); }} />}
      {dialog?.port && <NameDialog title={`Register ${dialog.port} as an asset`} label="Asset name" initial={`${dialog.node}-${dialog.port}`.replace(/_/g, "-")}
        onCancel={() => setDialog(null)} onDone={async (name) => {
          setDialog(null);
          try {
            const a = await json(`/runs/${enc(runId)}/nodes/${enc(dialog.node)}/outputs/${enc(dialog.port)}/register`, { method: "POST", body: { name } });
            setNotice({ kind: "info", text: `Registered ${a.name ?? name}${a.version ? ` version ${a.version}` : ""}.` });
          } catch (err) { setNotice({ kind: "error", text: err.message }); }
        }} />}
    </div>
  );
}

function NodeDetails({ runId, node, record, doc, fromDraft, onRegister }) {
  const cat = useCatalogue();
  const entry = cat.byId.get(node.data.component) ?? findComponent(record?.component, cat.byId);
  const name = displayName(node, cat.byId);
  const status = nodeStatus(record);
  const params = doc?.nodes.find((n) => n.id === node.id)?.parameters ?? node.data.parameters;
  return (
    <aside className="properties details" aria-label={`Details of ${name}`}>
      <h2>{name}</h2>
      <p className="muted">{entry?.name} · <span data-status={status}>{status}</span>
        {record?.duration_seconds !== null && record?.duration_seconds !== undefined ? ` · ${formatDuration(record.duration_seconds)}` : ""}</p>
      {record?.error && <div className="node-error" role="alert"><strong>Error</strong><pre>{record.error}</pre></div>}
      {record?.reused && <p>Reused: its outputs come from {record.reused_from
        ? <Link to={`/runs/${record.reused_from}`}>run {record.reused_from.slice(0, 8)}</Link> : "an earlier run"}.</p>}
      <details open={Object.keys(params ?? {}).length > 0 && Object.keys(params ?? {}).length < 6}>
        <summary>{fromDraft ? "Parameters (as in the draft now)" : "Parameters used"}</summary>
        {Object.keys(params ?? {}).length ? (
          <table className="table small"><tbody>
            {Object.entries(params).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td><code>{JSON.stringify(v)}</code></td></tr>)}
          </tbody></table>
        ) : <p className="muted">Defaults only.</p>}
      </details>
      {record && Object.keys(record.metrics ?? {}).length > 0 && (
        <section aria-label="Metrics">
          <h3>Metrics</h3>
          <table className="table small"><tbody>
            {Object.entries(record.metrics).map(([k, v]) => <tr key={k}><th scope="row">{k.replace(/_/g, " ")}</th><td>{formatMetric(v)}</td></tr>)}
          </tbody></table>
        </section>
      )}
      {record && Object.keys(record.plots ?? {}).length > 0 && (
        <section aria-label="Plots">
          <h3>Plots</h3>
          {Object.keys(record.plots).map((p) => <Plot key={p} runId={runId} node={node.id} name={p} />)}
        </section>
      )}
      {entry && record?.status === "Finished" && entry.outputs.length > 0 && (
        <section aria-label="Outputs">
          <h3>Outputs</h3>
          {entry.outputs.map((port) => (
            <Output key={port.id} runId={runId} node={node.id} port={port} available={port.id in (record.outputs ?? {})} onRegister={onRegister} />
          ))}
        </section>
      )}
      <details open={Boolean(record?.logs?.length)}>
        <summary>Logs</summary>
        {record?.logs?.length ? <pre className="logs">{record.logs.join("\n")}</pre> : <p className="muted">No log lines.</p>}
      </details>
    </aside>
  );
}

function formatMetric(v) {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return v.toLocaleString();
    return Math.abs(v) >= 1000 ? v.toLocaleString(undefined, { maximumFractionDigits: 2 }) : v.toPrecision(4);
  }
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function Plot({ runId, node, name }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    let made = null;
    blobUrl(`/runs/${enc(runId)}/nodes/${enc(node)}/plots/${enc(name)}`).then((u) => { made = u; setUrl(u); }).catch(() => {});
    return () => made && URL.revokeObjectURL(made);
  }, [runId, node, name]);
  const title = name.replace(/_/g, " ");
  return (
    <figure className="plot">
      {url ? <img src={url} alt={`Plot: ${title}`} /> : <div className="muted">Loading {title}…</div>}
      <figcaption>{title}</figcaption>
    </figure>
  );
}

function Output({ runId, node, port, available, onRegister }) {
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  const isData = port.type === "DataFrameDirectory";
  const base = `/runs/${enc(runId)}/nodes/${enc(node)}/outputs/${enc(port.id)}`;
  const show = async () => {
    try { setPreview(previewOf(await json(`${base}?format=json&rows=50`))); } catch (err) { setError(err.message); }
  };
  return (
    <div className="output">
      <div className="row">
        <strong>{port.name}</strong>
        <span className="spacer" />
        {isData && available && <button type="button" onClick={show} aria-label={`Preview ${port.name}`}>Preview</button>}
        {isData && available && <button type="button" aria-label={`Download ${port.name} as CSV`}
          onClick={() => download(`${base}?format=csv`, `${node}-${port.id}.csv`).catch((e) => setError(e.message))}>CSV</button>}
        {available && <button type="button" aria-label={`Register ${port.name}`} onClick={() => onRegister(port.id)}>Register</button>}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {preview && <Preview preview={preview} name={port.name} />}
    </div>
  );
}

function Preview({ preview, name }) {
  return (
    <div className="preview" role="region" aria-label={`Preview of ${name}`}>
      <p className="muted">First {preview.rows.length} rows; types and missing values counted over these rows.</p>
      <div className="scroll">
        <table className="table small">
          <thead>
            <tr>{preview.stats.map((s) => <th key={s.name} scope="col">{s.name}<br /><span className="muted">{s.type}{s.missing ? ` · ${s.missing} missing` : ""}</span></th>)}</tr>
          </thead>
          <tbody>
            {preview.rows.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{v === null ? "" : String(v)}</td>)}</tr>)}
          </tbody>
        </table>
      </div>
    </div>
  );
}
