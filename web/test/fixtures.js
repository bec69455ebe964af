// A small catalogue in the API's shape (taken from GET /api/components).
const data = (id, name, optional = false) => ({ id, name, type: "DataFrameDirectory", optional });

export const COMPONENTS = [
  { id: "dataset", name: "Dataset", category: "Datasets", inputs: [], outputs: [data("dataset", "Dataset")],
    parameters: { properties: { name: { type: "string", minLength: 1, title: "Name" } }, required: ["name"] } },
  { id: "split_data", name: "Split Data", category: "Data Transformation", inputs: [data("dataset", "Dataset")],
    outputs: [data("results_dataset1", "Results dataset1"), data("results_dataset2", "Results dataset2")],
    parameters: { properties: { fraction: { type: "number", minimum: 0, maximum: 1, default: 0.5, title: "Fraction" } } } },
  { id: "select_columns_in_dataset", name: "Select Columns in Dataset", category: "Data Transformation",
    inputs: [data("dataset", "Dataset")], outputs: [data("results_dataset", "Results dataset")],
    parameters: { properties: { select_columns: { $ref: "#/$defs/ColumnSelection" } }, required: ["select_columns"] } },
  { id: "linear_regression", name: "Linear Regression", category: "Regression", inputs: [],
    outputs: [{ id: "untrained_model", name: "Untrained model", type: "UntrainedModelDirectory", optional: false }],
    parameters: { properties: {} } },
  { id: "train_model", name: "Train Model", category: "Model Training",
    inputs: [{ id: "untrained_model", name: "Untrained model", type: "UntrainedModelDirectory", optional: false }, data("dataset", "Dataset")],
    outputs: [{ id: "trained_model", name: "Trained model", type: "ModelDirectory", optional: false }],
    parameters: { properties: { label_column: { type: "string", minLength: 1, title: "Label Column" } }, required: ["label_column"] } },
];

export const CATALOGUE = new Map(COMPONENTS.map((c) => [c.id, c]));

export const node = (id, component, parameters = {}, extra = {}) =>
  ({ id, type: "component", position: { x: 0, y: 0 }, data: { component, parameters, comment: "" }, ...extra });
export const edge = (source, sourceHandle, target, targetHandle) =>
  ({ id: `${source}.${sourceHandle}->${target}.${targetHandle}`, source, sourceHandle, target, targetHandle });
