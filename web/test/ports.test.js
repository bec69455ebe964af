import { test } from "node:test";
import assert from "node:assert/strict";
import { connectionProblem, isValidConnection } from "../src/lib/ports.js";
import { CATALOGUE, edge, node } from "./fixtures.js";

const nodes = [node("cars", "dataset", { name: "cars" }), node("split", "split_data"),
  node("lr", "linear_regression"), node("train", "train_model")];

test("an output connects to an input of the same type", () => {
  const c = { source: "cars", sourceHandle: "dataset", target: "split", targetHandle: "dataset" };
  assert.equal(connectionProblem(c, nodes, [], CATALOGUE), null);
  assert.equal(isValidConnection(c, nodes, [], CATALOGUE), true);
});

test("port types that differ are refused with both types named", () => {
  const c = { source: "lr", sourceHandle: "untrained_model", target: "train", targetHandle: "dataset" };
  const reason = connectionProblem(c, nodes, [], CATALOGUE);
  assert.match(reason, /Untrained model \(untrained model\) cannot connect to Dataset \(dataset\)/);
});

test("an input takes one connection", () => {
  const edges = [edge("cars", "dataset", "split", "dataset")];
  const c = { source: "split", sourceHandle: "results_dataset1", target: "train", targetHandle: "dataset" };
  assert.equal(connectionProblem(c, nodes, edges, CATALOGUE), null);
  const again = { source: "cars", sourceHandle: "dataset", target: "split", targetHandle: "dataset" };
  assert.match(connectionProblem(again, nodes, edges, CATALOGUE), /already has a connection/);
});

test("self loops and cycles are refused", () => {
  const two = [...nodes, node("split2", "split_data")];
  assert.match(connectionProblem({ source: "split", sourceHandle: "results_dataset1", target: "split", targetHandle: "dataset" }, two, [], CATALOGUE), /itself/);
  const edges = [edge("split", "results_dataset1", "split2", "dataset")];
  const back = { source: "split2", sourceHandle: "results_dataset1", target: "split", targetHandle: "dataset" };
  assert.match(connectionProblem(back, two, edges, CATALOGUE), /cycle/);
});

test("an input port as source is refused", () => {
  const c = { source: "split", sourceHandle: "dataset", target: "train", targetHandle: "dataset" };
  assert.match(connectionProblem(c, nodes, [], CATALOGUE), /output port to an input port/);
});
