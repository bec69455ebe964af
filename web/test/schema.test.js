import { test } from "node:test";
import assert from "node:assert/strict";
import { columnSelection, fieldForKey, fromSimplePick, isVisible, normaliseParameters, parseInput, schemaToFields, simplePick } from "../src/lib/schema.js";

// Shapes as pydantic's model_json_schema(by_alias=False) gives them (see GET /api/components).
const SCHEMA = {
  $defs: { ColumnSelection: { type: "object", properties: { start: {}, rules: {} } } },
  properties: {
    solution_method: { default: "Ordinary Least Squares", enum: ["Ordinary Least Squares", "Online Gradient Descent"], title: "Solution Method", type: "string" },
    create_trainer_mode: { default: "SingleParameter", enum: ["SingleParameter", "ParameterRange"], title: "Create Trainer Mode", type: "string" },
    learning_rate: { default: 0.1, exclusiveMinimum: 0, title: "Learning Rate", type: "number",
                     "x-visible-when": { create_trainer_mode: ["SingleParameter"] } },
    range_for_learning_rate: { default: "0.025; 0.05", title: "Range For Learning Rate", type: "string",
                               "x-visible-when": { create_trainer_mode: ["ParameterRange"] } },
    number_of_epochs: { default: 10, minimum: 1, title: "Number Of Epochs", type: "integer" },
    include_intercept_term: { default: true, title: "Include Intercept Term", type: "boolean" },
    random_number_seed: { anyOf: [{ maximum: 4294967295, minimum: 0, type: "integer" }, { type: "null" }], default: null, title: "Random Number Seed" },
    label_column: { minLength: 1, title: "Label Column", type: "string" },
    select_columns: { $ref: "#/$defs/ColumnSelection" },
  },
  required: ["label_column", "select_columns"],
};
const fields = schemaToFields(SCHEMA);
const f = (name) => fields.find((x) => x.name === name);

test("kinds: enums as selects, booleans as toggles, numbers with bounds, column pickers", () => {
  assert.equal(f("solution_method").kind, "enum");
  assert.deepEqual(f("solution_method").options, ["Ordinary Least Squares", "Online Gradient Descent"]);
  assert.equal(f("include_intercept_term").kind, "boolean");
  assert.equal(f("number_of_epochs").kind, "integer");
  assert.equal(f("number_of_epochs").minimum, 1);
  assert.equal(f("select_columns").kind, "columns");
  assert.equal(f("label_column").columnHint, true);
  assert.equal(f("label_column").required, true);
});

test("a nullable integer keeps its bounds and its null default", () => {
  const seed = f("random_number_seed");
  assert.equal(seed.kind, "integer");
  assert.equal(seed.nullable, true);
  assert.equal(seed.maximum, 4294967295);
  assert.equal(seed.default, null);
  assert.deepEqual(parseInput(seed, ""), { value: undefined });
  assert.match(parseInput(seed, "-1").error, /at least 0/);
});

test("bounds are enforced as you type", () => {
  assert.deepEqual(parseInput(f("number_of_epochs"), "12"), { value: 12 });
  assert.match(parseInput(f("number_of_epochs"), "0").error, /at least 1/);
  assert.match(parseInput(f("number_of_epochs"), "1.5").error, /whole number/);
  assert.match(parseInput(f("learning_rate"), "0").error, /more than 0/);
  assert.match(parseInput(f("learning_rate"), "abc").error, /must be a number/);
  assert.match(parseInput(f("label_column"), " ").error, /required/);
  assert.deepEqual(parseInput(f("label_column"), "price"), { value: "price" });
});

test("visibility conditions hide a field until the other field holds an allowed value", () => {
  assert.equal(isVisible(f("learning_rate"), {}, fields), true); // default SingleParameter
  assert.equal(isVisible(f("range_for_learning_rate"), {}, fields), false);
  assert.equal(isVisible(f("range_for_learning_rate"), { create_trainer_mode: "ParameterRange" }, fields), true);
  assert.equal(isVisible(f("learning_rate"), { create_trainer_mode: "ParameterRange" }, fields), false);
  assert.equal(isVisible(f("number_of_epochs"), {}, fields), true); // no condition: always
});

test("saved parameters named by designer name map to their fields", () => {
  assert.equal(fieldForKey("Label column", fields).name, "label_column");
  assert.equal(fieldForKey("Number of epochs", fields).name, "number_of_epochs");
  assert.equal(fieldForKey("nothing like it", fields), null);
  assert.equal(fieldForKey("Learning rate for the online solver", fields).name, "learning_rate");
  assert.deepEqual(normaliseParameters({ "Label column": "price", odd: 1 }, fields), { label_column: "price", odd: 1 });
});

test("column selections: shorthands expand, the simple picker round-trips", () => {
  assert.deepEqual(columnSelection("price"), { start: "none", rules: [{ action: "include", by: "name", values: ["price"] }] });
  const exclude = { start: "all", rules: [{ action: "exclude", by: "name", values: ["normalized-losses"] }] };
  assert.deepEqual(simplePick(exclude), { mode: "exclude", columns: ["normalized-losses"] });
  assert.deepEqual(fromSimplePick("exclude", ["normalized-losses"]), exclude);
  assert.equal(simplePick({ start: "none", rules: [{ action: "include", by: "type", values: ["numeric"] }] }), null);
});
