import { test } from "node:test";
import assert from "node:assert/strict";
import { History } from "../src/lib/history.js";

test("undo and redo walk the snapshots one action at a time", () => {
  const h = new History({ n: 0 });
  const a = { n: 1 };
  const b = { n: 2 };
  h.push(a);
  h.push(b);
  assert.equal(h.undo(), a);
  assert.equal(h.undo().n, 0);
  assert.equal(h.canUndo, false);
  assert.equal(h.redo(), a);
  assert.equal(h.redo(), b);
  assert.equal(h.canRedo, false);
});

test("a new action after undo drops the redo branch", () => {
  const h = new History("s0");
  h.push("s1");
  h.undo();
  h.push("s2");
  assert.equal(h.canRedo, false);
  assert.equal(h.undo(), "s0");
});

test("typing in one field coalesces into one step; another field starts a new one", () => {
  const h = new History("empty");
  h.push("1", "field:a");
  h.push("12", "field:a");
  h.push("123", "field:a");
  h.push("x", "field:b");
  assert.equal(h.undo(), "123");
  assert.equal(h.undo(), "empty");
});

test("coalescing stops after an undo", () => {
  const h = new History("s0");
  h.push("a", "k");
  h.undo();
  h.push("b", "k");
  assert.equal(h.past.length, 1);
});

test("the history is bounded", () => {
  const h = new History(0, { limit: 3 });
  for (let i = 1; i <= 10; i++) h.push(i);
  assert.equal(h.past.length, 3);
  assert.deepEqual(h.past, [7, 8, 9]);
});

test("reset forgets the stack", () => {
  const h = new History(0);
  h.push(1);
  h.reset(5);
  assert.equal(h.canUndo, false);
  assert.equal(h.present, 5);
});
