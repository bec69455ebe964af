"""Save a fitted scikit-learn pipeline as an MLflow model; run with .venv-bench's Python, not .venv's.

    .venv-bench/bin/python benchmarks/mlflow_peer.py MODEL.joblib ROWS.json OUT_DIR

MODEL.joblib holds a plain scikit-learn estimator (no project classes), dumped by
benchmarks/realtime_latency.py from the TrainedModel artifact; both venvs have the same
scikit-learn, so this is the very fitted model the endpoint serves. ROWS.json holds the rows that
will be sent; they become the input example (MLflow infers the signature from it). Prints the
versions and the model's predictions for those rows as JSON, so the caller can check that the
peer predicts what the endpoint does.
"""

from __future__ import annotations

import json
import sys


def main(model_path: str, rows_path: str, out_dir: str) -> int:
    import joblib
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    import sklearn

    model = joblib.load(model_path)
    with open(rows_path) as f:
        rows = pd.DataFrame.from_records(json.load(f))
    mlflow.sklearn.save_model(
        model, out_dir, input_example=rows.head(5), pip_requirements=[f"scikit-learn=={sklearn.__version__}"]
    )
    print(
        json.dumps(
            {
                "mlflow": mlflow.__version__,
                "scikit_learn": sklearn.__version__,
                "pandas": pd.__version__,
                "predictions": [float(v) for v in model.predict(rows)],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
