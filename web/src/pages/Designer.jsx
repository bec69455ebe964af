// The canvas page: edit a draft (library, canvas, properties, problems), autosaved with ETags.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, applyNodeChanges, applyEdgeChanges, useReactFlow } from "@xyflow/react";
import { ApiError, enc, json } from "../api.js";
import { useCatalogue } from "../catalogue.js";
import { Library } from "../components/Library.jsx";
import { nodeTypes } from "../components/PipelineNode.jsx";
import { Properties } from "../components/Properties.jsx";
import { ProblemsPanel } from "../components/ProblemsPanel.jsx";
import { Shortcuts } from "../components/Shortcuts.jsx";
import { SubmitDialog } from "../components/SubmitDialog.jsx";
import { Dialog } from "../components/Dialog.jsx";
import { NameDialog } from "./Drafts.jsx";
import { History } from "../lib/history.js";
import { copySelection, displayName, edgeId, newNodeId, pasteClip, toDocument, toFlow, upstreamColumns, NODE_TYPE } from "../lib/graph.js";
import { layout } from "../lib/layout.js";
import { connectionProblem } from "../lib/ports.js";
import { problemsByNode } from "../lib/problems.js";
import { fieldForKey, schemaToFields } from "../lib/schema.js";
import { navigate } from "../router.jsx";

const AUTOSAVE_MS = 700;
let clipboard = null; // shared by every draft open in this tab

export function DesignerPage({ id }) {
  return <ReactFlowProvider><Designer draftId={id} /></ReactFlowProvider>;
}

const strip = (nodes) => nodes.map(({ selected, dragging, ...n }) => n);

function Designer({ draftId }) {
  const cat = useCatalogue();
  const flow = useReactFlow();
  const [meta, setMeta] = useState(null);
  const [nodes, setNodes] = useState([]);
  const [edges, setEdges] = useState([]);
  const [problems, setProblems] = useState([]);
  const [loadError, setLoadError] = useState(null);
  const [save, setSave] = useState({ state: "saved" }); // saved | pending | saving | error | conflict
  const [notice, setNotice] = useState(null);
  const [dialog, setDialog] = useState(null);
  const [, setHistoryVersion] = useState(0);
  const history = useRef(null);
  const etag = useRef(null);
  const state = useRef({ nodes, edges, meta });
  state.current = { nodes, edges, meta };
  const dirty = useRef(0);
  const saving = useRef(null);
  const wrapper = useRef(null);

  // ---- load -------------------------------------------------------------------------------
  const load = useCallback(async () => {
    const draft = await json(`/pipelines/${enc(draftId)}`);
    performance.mark("designer:draft-received"); // the canvas benchmark times rendering from here
    const { nodes: doc, edges: docEdges, ...rest } = draft.pipeline;
    const { nodes: n, edges: e, unplaced } = toFlow(draft.pipeline, cat.byId);
    let placed = n;
    if (unplaced.length) { // saved positions and dagre's do not mix: lay out the whole graph
      const pos = layout(n, e);
      placed = n.map((x) => ({ ...x, position: pos.get(x.id) }));
    }
    etag.current = draft.etag;
    setMeta(rest);
    setNodes(placed);
    setEdges(e);
    setProblems(draft.problems ?? []);
    history.current = new History({ nodes: strip(placed), edges: e });
    setHistoryVersion((v) => v + 1);
    setSave({ state: "saved" });
    // React Flow queues a fit until nodes are measured: with none, it would fire on the first one added.
    if (placed.length) setTimeout(() => flow.fitView({ padding: 0.15, maxZoom: 1, minZoom: 0.5 }), 50);
  }, [draftId, cat.byId, flow]);

  const loaded = useRef(false);
  useEffect(() => {
    if (!cat.ready || loaded.current) return;
    loaded.current = true; // once per page: a later catalogue refresh must not reload the draft
    load().catch(setLoadError);
  }, [cat.ready, load]);

  // ---- saving -----------------------------------------------------------------------------
  const saveNow = useCallback(async () => {
    if (saving.current) return saving.current;
    const run = async () => {
      while (dirty.current > 0) {
        const version = dirty.current;
        const { nodes: n, edges: e, meta: m } = state.current;
        setSave({ state: "saving" });
        try {
          const answer = await json(`/pipelines/${enc(draftId)}`, {
            method: "PUT", body: toDocument(m, n, e), headers: { "if-match": etag.current ?? "*" },
          });
          etag.current = answer.etag;
          setProblems(answer.problems ?? []);
          if (dirty.current === version) dirty.current = 0;
        } catch (err) {
          if (err instanceof ApiError && (err.status === 412 || err.status === 409)) {
            setSave({ state: "conflict" });
          } else {
            setSave({ state: "error", message: err.message });
          }
          throw err;
        }
      }
      setSave({ state: "saved" });
    };
    saving.current = run().finally(() => { saving.current = null; });
    return saving.current;
  }, [draftId]);

  const timer = useRef(null);
  const markDirty = useCallback(() => {
    dirty.current += 1;
    setSave((s) => (s.state === "conflict" ? s : { state: "pending" }));
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      if (saveState.current !== "conflict") saveNow().catch(() => {});
    }, AUTOSAVE_MS);
  }, [saveNow]);
  const saveState = useRef(save.state);
  saveState.current = save.state;
  // Leaving the page saves what is pending; closing the tab with unsaved changes asks first.
  useEffect(() => {
    const warn = (e) => { if (dirty.current > 0) { e.preventDefault(); e.returnValue = ""; } };
    window.addEventListener("beforeunload", warn);
    return () => {
      window.removeEventListener("beforeunload", warn);
      clearTimeout(timer.current);
      if (dirty.current > 0 && saveState.current !== "conflict") saveNow().catch(() => {});
    };
  }, [saveNow]);

  /** Save what is pending now (before submitting, or leaving). */
  const flush = useCallback(async () => {
    clearTimeout(timer.current);
    if (saveState.current === "conflict") throw new Error("The draft was changed elsewhere: reload it first.");
    if (dirty.current > 0 || saving.current) await saveNow();
  }, [saveNow]);

  // ---- edits (each one undo step) ----------------------------------------------------------
  const commit = useCallback((nextNodes, nextEdges, coalesce = null) => {
    setNodes(nextNodes);
    setEdges(nextEdges);
    history.current?.push({ nodes: strip(nextNodes), edges: nextEdges }, coalesce);
    setHistoryVersion((v) => v + 1);
    markDirty();
  }, [markDirty]);

  const restore = (snap) => {
    setNodes(snap.nodes.map((n) => ({ ...n, selected: false })));
    setEdges(snap.edges);
    setHistoryVersion((v) => v + 1);
    markDirty();
  };
  const undo = () => history.current?.canUndo && restore(history.current.undo());
  const redo = () => history.current?.canRedo && restore(history.current.redo());

  const addNode = useCallback(async (item, screen) => {
    let entry = cat.byId.get(item.kind === "dataset" ? "dataset" : item.component);
    if (!entry) return;
    try {
      if (item.kind === "dataset" && item.sample) {
        await json(`/samples/${enc(item.name)}`, { method: "POST" });
        cat.refreshDatasets().catch(() => {});
      }
    } catch (err) {
      setNotice({ kind: "error", text: `Could not register the sample: ${err.message}` });
      return;
    }
    const { nodes: n, edges: e } = state.current;
    let position;
    if (screen) position = flow.screenToFlowPosition(screen);
    else {
      const rect = wrapper.current.getBoundingClientRect();
      position = flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 });
      position = { x: position.x + (n.length % 5) * 20, y: position.y + (n.length % 5) * 20 };
    }
    const id = newNodeId(item.kind === "dataset" ? item.name : entry.name, new Set(n.map((x) => x.id)));
    const node = {
      id, type: NODE_TYPE, position: { x: Math.round(position.x - 105), y: Math.round(position.y - 20) }, selected: true,
      data: { component: entry.id, parameters: item.kind === "dataset" ? { name: item.name } : {}, comment: "", regenerate_output: false },
    };
    commit([...n.map((x) => (x.selected ? { ...x, selected: false } : x)), node], e);
  }, [cat, flow, commit]);

  const onLibraryDrop = useCallback((item, point) => {
    const rect = wrapper.current?.getBoundingClientRect();
    if (!rect || point.x < rect.left || point.x > rect.right || point.y < rect.top || point.y > rect.bottom) return;
    addNode(item, point);
  }, [addNode]);

  const onNodesChange = useCallback((changes) => {
    // Removal goes through deleteSelection (one undo step); the rest is selection, drag, size.
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
  }, []);
  const onEdgesChange = useCallback((changes) => {
    setEdges((es) => applyEdgeChanges(changes.filter((c) => c.type === "select"), es));
  }, []);
  const onNodeDragStop = useCallback((_event, _node, dragged) => {
    const { nodes: n, edges: e } = state.current; // may lag the last move by a render: take
    const moved = new Map((dragged ?? []).map((d) => [d.id, d.position])); // the final positions
    commit(n.map((x) => (moved.has(x.id) ? { ...x, position: { ...moved.get(x.id) } } : x)), e);
  }, [commit]);

  const refuse = (text) => setNotice({ kind: "error", text: `Connection refused: ${text}` });
  const validConnection = useCallback((c) => {
    const { nodes: n, edges: e } = state.current;
    return connectionProblem(c, n, e, cat.byId) === null;
  }, [cat.byId]);
  const onConnect = useCallback((c) => {
    const { nodes: n, edges: e } = state.current;
    const problem = connectionProblem(c, n, e, cat.byId);
    if (problem) { refuse(problem); return; }
    const edge = { source: c.source, sourceHandle: c.sourceHandle, target: c.target, targetHandle: c.targetHandle };
    commit(n, [...e, { ...edge, id: edgeId(edge) }]);
    setNotice(null);
  }, [cat.byId, commit]);
  const onConnectEnd = useCallback((event, conn) => {
    if (!conn || conn.isValid || !conn.toHandle || !conn.fromHandle) return;
    const from = conn.fromHandle.type === "source" ? conn.fromHandle : conn.toHandle;
    const to = conn.fromHandle.type === "source" ? conn.toHandle : conn.fromHandle;
    const { nodes: n, edges: e } = state.current;
    const problem = to.type === from.type ? "Connect an output port to an input port."
      : connectionProblem({ source: from.nodeId, sourceHandle: from.id, target: to.nodeId, targetHandle: to.id }, n, e, cat.byId);
    if (problem) refuse(problem);
  }, [cat.byId]);

  const deleteSelection = useCallback(() => {
    const { nodes: n, edges: e } = state.current;
    const gone = new Set(n.filter((x) => x.selected).map((x) => x.id));
    const keptEdges = e.filter((x) => !x.selected && !gone.has(x.source) && !gone.has(x.target));
    if (!gone.size && keptEdges.length === e.length) return;
    commit(n.filter((x) => !gone.has(x.id)), keptEdges);
  }, [commit]);

  const copy = useCallback(() => {
    const clip = copySelection(state.current.nodes, state.current.edges);
    if (clip.nodes.length) {
      clipboard = clip;
      setNotice({ kind: "info", text: `Copied ${clip.nodes.length} node${clip.nodes.length > 1 ? "s" : ""}.` });
    }
  }, []);
  const paste = useCallback((clip = clipboard) => {
    if (!clip?.nodes.length) return;
    const { nodes: n, edges: e } = state.current;
    const added = pasteClip(clip, n.map((x) => x.id), cat.byId);
    commit([...n.map((x) => ({ ...x, selected: false })), ...added.nodes], [...e.map((x) => ({ ...x, selected: false })), ...added.edges]);
  }, [cat.byId, commit]);
  const duplicate = useCallback(() => paste(copySelection(state.current.nodes, state.current.edges)), [paste]);

  const autoLayout = useCallback(() => {
    const { nodes: n, edges: e } = state.current;
    const pos = layout(n, e);
    commit(n.map((x) => ({ ...x, position: pos.get(x.id) })), e);
    setTimeout(() => flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 }), 30);
  }, [commit, flow]);

  const updateNode = useCallback((id, patch, coalesce) => {
    const { nodes: n, edges: e } = state.current;
    commit(n.map((x) => (x.id === id ? { ...x, data: { ...x.data, ...patch } } : x)), e, coalesce ?? null);
  }, [commit]);

  const selectNode = useCallback((id) => {
    setNodes((ns) => ns.map((x) => ({ ...x, selected: x.id === id })));
    const node = state.current.nodes.find((x) => x.id === id);
    if (node) flow.setCenter(node.position.x + 120, node.position.y + 50, { zoom: Math.max(flow.getZoom(), 0.8), duration: 200 });
  }, [flow]);

  // ---- keyboard ---------------------------------------------------------------------------
  useEffect(() => {
    const onKey = (e) => {
      const t = e.target;
      const typing = t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
      if (typing || document.querySelector("dialog[open]")) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
      else if (mod && ((k === "z" && e.shiftKey) || k === "y")) { e.preventDefault(); redo(); }
      else if (mod && k === "c") { e.preventDefault(); copy(); }
      else if (mod && k === "v") { e.preventDefault(); paste(); }
      else if (mod && k === "d") { e.preventDefault(); duplicate(); }
      else if (mod && k === "a") { e.preventDefault(); setNodes((ns) => ns.map((x) => ({ ...x, selected: true }))); }
      else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); deleteSelection(); }
      else if (e.key === "?") { e.preventDefault(); setDialog({ kind: "shortcuts" }); }
      else if (!mod && k === "l") { autoLayout(); }
      else if (!mod && k === "f") { flow.fitView({ padding: 0.2, duration: 200 }); }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  // ---- derived ----------------------------------------------------------------------------
  const byNode = useMemo(() => problemsByNode(problems), [problems]);
  // Each canvas node is decorated once per change of that node (or of the problems): a drag
  // then re-renders only the dragged node, not all of a 200-node draft.
  const decorated = useRef(new WeakMap());
  const shownNodes = useMemo(() => nodes.map((n) => {
    const ps = byNode.get(n.id);
    const hit = decorated.current.get(n);
    if (hit && hit.ps === ps && hit.byId === cat.byId) return hit.out;
    const name = displayName(n, cat.byId);
    const entry = cat.byId.get(n.data.component);
    const label = `${name}: ${entry?.name ?? n.data.component}${ps ? `, ${ps.length} problem${ps.length > 1 ? "s" : ""}` : ""}`;
    const out = { ...n, ariaLabel: label, domAttributes: { "data-problems": ps ? String(ps.length) : "0" },
                  data: ps ? { ...n.data, problems: ps } : n.data };
    decorated.current.set(n, { ps, byId: cat.byId, out });
    return out;
  }), [nodes, byNode, cat.byId]);
  const selected = nodes.filter((n) => n.selected);
  const one = selected.length === 1 ? selected[0] : null;
  const columns = useMemo(() => (one ? upstreamColumns(one.id, nodes, edges, cat.byId, cat.columns) : null),
    [one, nodes, edges, cat.byId, cat.columns]);

  if (loadError) return <section className="padded"><h1>Draft not available</h1><p role="alert" className="error">{loadError.message}</p></section>;
  if (!meta) return <section className="padded"><p>Loading the draft…</p></section>;

  const setAsParameter = async (field) => {
    setDialog({ kind: "parameter", field, node: one });
  };
  const addParameter = async (name) => {
    const { field, node } = dialog;
    setDialog(null);
    try {
      await flush();
      const value = node.data.parameters?.[field.name];
      const body = { name, node: node.id, parameter: field.name };
      if (value !== undefined) body.default = value;
      const answer = await json(`/pipelines/${enc(draftId)}/parameters`, { method: "POST", body, headers: { "if-match": etag.current } });
      etag.current = answer.etag;
      const { nodes: _n, edges: _e, ...rest } = answer.pipeline;
      setMeta(rest);
      setProblems(answer.problems ?? []);
      setNotice({ kind: "info", text: `${field.title} is now the pipeline parameter ${name}.` });
    } catch (err) {
      setNotice({ kind: "error", text: err.problems?.length ? err.problems.map((p) => p.message).join(" ") : err.message });
    }
  };
  const rename = async (name) => {
    setDialog(null);
    setMeta((m) => ({ ...m, name }));
    state.current.meta = { ...state.current.meta, name };
    markDirty();
  };

  return (
    <div className="designer">
      <div className="toolbar" role="toolbar" aria-label="Canvas tools">
        <h1 className="draft-name" title={meta.name}>{meta.name}</h1>
        <button type="button" onClick={() => setDialog({ kind: "rename" })}>Rename</button>
        <SaveStatus save={save} />
        <span className="sep" />
        <button type="button" onClick={undo} disabled={!history.current?.canUndo} title="Ctrl+Z">Undo</button>
        <button type="button" onClick={redo} disabled={!history.current?.canRedo} title="Ctrl+Shift+Z">Redo</button>
        <button type="button" onClick={copy} disabled={!selected.length} title="Ctrl+C">Copy</button>
        <button type="button" onClick={() => paste()} title="Ctrl+V">Paste</button>
        <button type="button" onClick={duplicate} disabled={!selected.length} title="Ctrl+D">Duplicate</button>
        <button type="button" onClick={deleteSelection} disabled={!selected.length && !edges.some((e) => e.selected)} title="Delete">Delete</button>
        <button type="button" onClick={autoLayout} title="L">Auto-layout</button>
        <button type="button" onClick={() => flow.fitView({ padding: 0.2, duration: 200 })} title="F">Fit view</button>
        <button type="button" onClick={() => setDialog({ kind: "shortcuts" })} aria-label="Keyboard shortcuts" title="?">?</button>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => setDialog({ kind: "submit" })}>Submit</button>
      </div>
      {notice && (
        <div className={`notice ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"}>
          <span>{notice.text}</span>
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => setNotice(null)}>×</button>
        </div>
      )}
      <div className="workspace">
        <Library onAdd={addNode} onDrop={onLibraryDrop} />
        <div className="canvas-column">
          <div className="canvas" ref={wrapper} aria-label="Canvas" role="region">
            <ReactFlow nodes={shownNodes} edges={edges} nodeTypes={nodeTypes}
              onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
              onConnect={onConnect} onConnectEnd={onConnectEnd} isValidConnection={validConnection}
              onNodeDragStop={onNodeDragStop} deleteKeyCode={null} selectionKeyCode="Shift"
              multiSelectionKeyCode={["Shift", "Meta", "Control"]} onlyRenderVisibleElements={nodes.length > 60}
              minZoom={0.1} maxZoom={2}
              proOptions={{ hideAttribution: true }}>
              <Background gap={20} />
              <MiniMap pannable zoomable ariaLabel="Minimap" style={{ width: 160, height: 100 }} />
              <Controls aria-label="Zoom controls" showInteractive={false} />
            </ReactFlow>
            {nodes.length === 0 && (
              <div className="empty-hint">Drag a dataset and components here from the library, then connect output ports to input ports.</div>
            )}
          </div>
          <ProblemsPanel problems={problems} nodes={nodes} onSelect={selectNode} />
        </div>
        {one ? (
          <Properties node={one} problems={byNode.get(one.id) ?? []} columns={columns}
            bound={Object.fromEntries((meta.parameters ?? []).flatMap((p) => p.bindings
              .filter((b) => b.node === one.id).map((b) => [fieldNameOf(one, b.parameter, cat.byId), p.name])))}
            onChange={(patch, coalesce) => updateNode(one.id, patch, coalesce)} onParameter={setAsParameter} />
        ) : (
          <PipelinePane meta={meta} count={selected.length} />
        )}
      </div>
      {dialog?.kind === "shortcuts" && <Shortcuts onClose={() => setDialog(null)} />}
      {dialog?.kind === "rename" && <NameDialog title="Rename draft" initial={meta.name} onDone={rename} onCancel={() => setDialog(null)} />}
      {dialog?.kind === "parameter" && <NameDialog title={`Set ${dialog.field.title} as pipeline parameter`} label="Parameter name"
        initial={dialog.field.name} onDone={addParameter} onCancel={() => setDialog(null)} />}
      {dialog?.kind === "submit" && <SubmitDialog draftId={draftId} meta={meta} flush={flush} onClose={() => setDialog(null)}
        onSubmitted={(runId) => navigate(`/runs/${runId}`)} />}
      {save.state === "conflict" && (
        <Dialog title="This draft was changed elsewhere" onClose={null}>
          <p>Someone (or another tab) saved this draft after you opened it. Your latest changes were
            not saved, and nothing was overwritten.</p>
          <div className="actions">
            <button type="button" className="primary" onClick={() => { dirty.current = 0; load().catch(setLoadError); }}>Reload the draft</button>
          </div>
        </Dialog>
      )}
    </div>
  );
}

/** The field a binding names (bindings may use the field name or the designer name). */
function fieldNameOf(node, parameter, catalogue) {
  const entry = catalogue.get(node.data.component);
  return (entry && fieldForKey(parameter, schemaToFields(entry.parameters))?.name) ?? parameter;
}

function SaveStatus({ save }) {
  const text = { saved: "All changes saved", pending: "Unsaved changes", saving: "Saving…",
                 error: `Not saved: ${save.message}`, conflict: "Conflict: not saved" }[save.state];
  return <span className={`save-status ${save.state}`} role="status" aria-live="polite">{text}</span>;
}

function PipelinePane({ meta, count }) {
  return (
    <aside className="properties" aria-label="Pipeline">
      <h2>{count > 1 ? `${count} nodes selected` : "Pipeline"}</h2>
      {count <= 1 && <p className="muted">Select a node to see its parameters.</p>}
      {meta.description && <p className="description">{meta.description}</p>}
      <h3>Pipeline parameters</h3>
      {meta.parameters?.length ? (
        <ul className="plain">
          {meta.parameters.map((p) => (
            <li key={p.name}><strong>{p.name}</strong>{p.default !== undefined && p.default !== null ? ` = ${JSON.stringify(p.default)}` : ""}
              <span className="muted"> → {p.bindings.map((b) => `${b.node}.${b.parameter}`).join(", ")}</span></li>
          ))}
        </ul>
      ) : <p className="muted">None. Use "Set as pipeline parameter" on a node's parameter.</p>}
      {meta.kind && meta.kind !== "training" && <p className="muted">{meta.kind.startsWith("realtime") ? "A real-time" : "A batch"} inference pipeline.</p>}
    </aside>
  );
}
