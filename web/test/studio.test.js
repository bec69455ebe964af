import { test } from "node:test";
import assert from "node:assert/strict";
import { histogramBars, newestFirst, pageOf, parseValue, restCalls, secondsBetween, shellQuote, shortNumber } from "../src/lib/studio.js";

test("pageOf clamps the page and counts pages", () => {
  const items = Array.from({ length: 45 }, (_, i) => i);
  assert.deepEqual(pageOf(items, 2, 20), { items: [40, 41, 42, 43, 44], page: 2, pages: 3 });
  assert.equal(pageOf(items, 9, 20).page, 2);
  assert.deepEqual(pageOf([], 0, 20), { items: [], page: 0, pages: 1 });
});

test("histogram bars scale to the tallest bin and keep empty bins flat", () => {
  const bars = histogramBars({ edges: [0, 1, 2, 3], counts: [5, 0, 10] }, 90, 30);
  assert.equal(bars.length, 3);
  assert.deepEqual(bars.map((b) => b.h), [15, 0, 30]);
  assert.deepEqual(bars.map((b) => b.x), [0, 30, 60]);
  assert.deepEqual([bars[2].from, bars[2].to], [2, 3]);
  assert.deepEqual(histogramBars(null, 10, 10), []);
});

test("durations and numbers", () => {
  assert.equal(secondsBetween("2026-01-01T00:00:00Z", "2026-01-01T00:01:30Z"), 90);
  assert.equal(secondsBetween(null, "2026-01-01T00:00:00Z"), null);
  assert.equal(shortNumber(0.123456), "0.1235");
  assert.equal(shortNumber(12345.678), "12,345.68");
  assert.equal(shortNumber(null), "");
  assert.equal(shortNumber("x"), "x");
});

test("copyable calls quote what the shell and Python need", () => {
  assert.equal(shellQuote("it's"), `'it'"'"'s'`);
  const { curl, python } = restCalls("http://h/api/x", { a: true, b: null, n: "o'k", s: "true" }, { "x-functions-key": "K" });
  assert.match(curl, /^curl -X POST 'http:\/\/h\/api\/x'/);
  assert.match(curl, /-H 'x-functions-key: K'/);
  assert.match(curl, /-d '\{"a":true,"b":null,"n":"o'"'"'k","s":"true"\}'/);
  assert.match(python, /"s": "true"/);
  assert.match(python, /"a": True/);
  assert.match(python, /"b": None/);
  assert.match(python, /requests.post\(url, headers=headers, json=body/);
});

test("form text becomes a value of the parameter's kind", () => {
  assert.equal(parseValue("", "number"), undefined);
  assert.equal(parseValue("0.5", "number"), 0.5);
  assert.equal(parseValue("true", "boolean"), true);
  assert.equal(parseValue("abc", "string"), "abc");
});

test("a pipeline's parameters become value and dataset inputs, and Azure ML's body", async () => {
  const { azureBody, pipelineInputs } = await import("../src/lib/studio.js");
  const pipeline = {
    nodes: [{ id: "data", component: "Dataset" }, { id: "split", component: "Split Data" }],
    parameters: [
      { name: "input_data", bindings: [{ node: "data", parameter: "name" }] },
      { name: "fraction", default: 0.7, description: "share", bindings: [{ node: "split", parameter: "fraction" }] },
    ],
  };
  const inputs = pipelineInputs(pipeline);
  assert.deepEqual(inputs.map((i) => [i.name, i.kind, i.type]), [["input_data", "dataset", "string"], ["fraction", "value", "number"]]);
  assert.deepEqual(azureBody("exp", inputs, { fraction: "0.6", input_data: "cars:2" }), {
    ExperimentName: "exp", ParameterAssignments: { fraction: 0.6 },
    DataSetDefinitionValueAssignments: { input_data: { SavedDataSetReference: { Id: "cars:2" } } },
  });
  assert.deepEqual(azureBody("exp", inputs, { fraction: "" }), { ExperimentName: "exp", ParameterAssignments: {} });
  assert.deepEqual(pipelineInputs(null), []);
});

test("the Test tab finds its sample dataset and types the form's row", async () => {
  const { rowFromForm, schemaDataset } = await import("../src/lib/studio.js");
  const pipeline = {
    nodes: [{ id: "cars", component: "Dataset", parameters: { name: "cars", version: 2 } },
      { id: "in", component: "web_service_input" }, { id: "other", component: "Dataset", parameters: { name: "x" } }],
    edges: [{ source: "other.dataset", target: "score.dataset" }, { source: "cars.dataset", target: "in.dataset" }],
  };
  assert.deepEqual(schemaDataset(pipeline), { name: "cars", version: 2 });
  assert.equal(schemaDataset({ nodes: [], edges: [] }), null);
  const schema = [{ name: "a", type: "number" }, { name: "b", type: "string" }, { name: "c", type: "integer" }];
  assert.deepEqual(rowFromForm(schema, { a: "1.5", b: "x", c: "" }), { a: 1.5, b: "x", c: null });
});


test("lists put the newest first", () => {
  const items = [{ n: "a", created_at: "2026-01-01T00:00:00" }, { n: "b", created_at: "2026-03-01T00:00:00" }];
  assert.deepEqual(newestFirst(items).map((i) => i.n), ["b", "a"]);
  assert.deepEqual(items.map((i) => i.n), ["a", "b"]);
});
