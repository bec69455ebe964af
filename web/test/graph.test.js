import { test } from "node:test";
import assert from "node:assert/strict";
import { copySelection, displayName, newNodeId, pasteClip, toDocument, toFlow, upstreamColumns } from "../src/lib/graph.js";
import { layout } from "../src/lib/layout.js";
import { problemsByNode } from "../src/lib/problems.js";
import { keyFromHash } from "../src/lib/auth.js";
import { compile, match } from "../src/lib/routes.js";
import { nodeStatus, previewOf, progressPercent } from "../src/lib/runs.js";
import { CATALOGUE, edge, node } from "./fixtures.js";

const DOC = {
  name: "t", nodes: [
    { id: "cars", component: "Dataset", parameters: { name: "cars" }, position: { x: 10, y: 20 } },
    { id: "split", component: "Split Data", parameters: { Fraction: 0.7 } },
  ],
  edges: [{ source: "cars.Dataset", target: "split.dataset" }],
};

test("a document becomes canvas nodes and edges (components and ports by name resolved to ids)", () => {
  const { nodes, edges, unplaced } = toFlow(DOC, CATALOGUE);
  assert.equal(nodes[0].data.component, "dataset");
  assert.equal(nodes[1].data.component, "split_data");
  assert.deepEqual(nodes[1].data.parameters, { fraction: 0.7 });
  assert.deepEqual(unplaced, ["split"]);
  assert.equal(edges[0].sourceHandle, "dataset");
  assert.equal(edges[0].targetHandle, "dataset");
  const doc = toDocument({ name: "t" }, nodes, edges);
  assert.deepEqual(doc.edges, [{ source: "cars.dataset", target: "split.dataset" }]);
  assert.deepEqual(doc.nodes[0].position, { x: 10, y: 20 });
});

test("node ids are unique and readable", () => {
  assert.equal(newNodeId("Split Data", new Set()), "split_data");
  assert.equal(newNodeId("Split Data", new Set(["split_data"])), "split_data_2");
  assert.equal(newNodeId("2 things", new Set()), "n_2_things");
});

test("display names: dataset by name, second copy numbered, odd ids shown", () => {
  assert.equal(displayName(node("cars", "dataset", { name: "cars" }), CATALOGUE), "cars");
  assert.equal(displayName(node("split_data", "split_data"), CATALOGUE), "Split Data");
  assert.equal(displayName(node("split_data_3", "split_data"), CATALOGUE), "Split Data 3");
  assert.equal(displayName(node("split", "split_data"), CATALOGUE), "Split Data (split)");
});

test("copy keeps the inner connections only; paste gives fresh ids, shifted, selected", () => {
  const nodes = [node("a", "split_data", {}, { selected: true }), node("b", "split_data", {}, { selected: true }), node("c", "split_data")];
  const edges = [edge("a", "results_dataset1", "b", "dataset"), edge("b", "results_dataset1", "c", "dataset")];
  const clip = copySelection(nodes, edges);
  assert.equal(clip.nodes.length, 2);
  assert.equal(clip.edges.length, 1);
  const pasted = pasteClip(clip, nodes.map((n) => n.id), CATALOGUE);
  assert.deepEqual(pasted.nodes.map((n) => n.id), ["split_data", "split_data_2"]);
  assert.deepEqual(pasted.nodes[0].position, { x: 40, y: 40 });
  assert.ok(pasted.nodes.every((n) => n.selected));
  assert.equal(pasted.edges[0].source, "split_data");
  assert.equal(pasted.edges[0].target, "split_data_2");
});

test("upstream columns come from the dataset, through Select Columns", () => {
  const nodes = [node("cars", "dataset", { name: "cars" }),
    node("sel", "select_columns_in_dataset", { select_columns: { start: "all", rules: [{ action: "exclude", by: "name", values: ["b"] }] } }),
    node("train", "train_model")];
  const edges = [edge("cars", "dataset", "sel", "dataset"), edge("sel", "results_dataset", "train", "dataset")];
  const cols = new Map([["cars", ["a", "b", "price"]]]);
  assert.deepEqual(upstreamColumns("sel", nodes, edges, CATALOGUE, cols), ["a", "b", "price"]);
  assert.deepEqual(upstreamColumns("train", nodes, edges, CATALOGUE, cols), ["a", "price"]);
  assert.equal(upstreamColumns("train", nodes, [], CATALOGUE, cols), null);
});

test("auto-layout puts each node right of its source", () => {
  const nodes = [node("a", "split_data"), node("b", "split_data"), node("c", "split_data")];
  const pos = layout(nodes, [edge("a", "results_dataset1", "b", "dataset"), edge("b", "results_dataset1", "c", "dataset")]);
  assert.ok(pos.get("a").x < pos.get("b").x && pos.get("b").x < pos.get("c").x);
});

test("problems group by node", () => {
  const by = problemsByNode([{ node: "a", message: "x" }, { node: "a", message: "y" }, { message: "z" }]);
  assert.equal(by.get("a").length, 2);
  assert.equal(by.get("").length, 1);
});

test("the key comes from the fragment and the rest of the fragment is kept", () => {
  assert.deepEqual(keyFromHash("#key=abc%2F1"), { key: "abc/1", rest: "" });
  assert.deepEqual(keyFromHash("#x=1&key=k"), { key: "k", rest: "x=1" });
  assert.equal(keyFromHash("#nothing"), null);
  assert.equal(keyFromHash(""), null);
});

test("routes match under the base path", () => {
  const routes = [{ pattern: "/", match: compile("/") }, { pattern: "/runs/:id", match: compile("/runs/:id") }];
  assert.deepEqual(match(routes, "/api/ui/runs/r1", "/api/ui").params, { id: "r1" });
  assert.equal(match(routes, "/api/ui/", "/api/ui").route.pattern, "/");
  assert.equal(match(routes, "/api/ui/nope/x", "/api/ui"), null);
});

test("run state: statuses, progress, previews with types and missing counts", () => {
  assert.equal(nodeStatus({ status: "Finished", reused: true }), "reused");
  assert.equal(nodeStatus({ status: "NotStarted" }), "not started");
  assert.equal(nodeStatus(undefined), "not started");
  assert.equal(progressPercent({ progress: { nodes_done: 3, nodes_total: 4 } }), 75);
  const p = previewOf({ columns: ["a", "b"], data: [[1, null], [2, "x"]] });
  assert.deepEqual(p.stats, [{ name: "a", type: "number", missing: 0 }, { name: "b", type: "string", missing: 1 }]);
});
