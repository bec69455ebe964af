"""Run the designer tutorial over HTTP: register the automobile sample, submit, watch, print metrics.

python -m samples.run_tutorial --url http://127.0.0.1:7071 --key <function key>
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

PIPELINE = Path(__file__).resolve().parent / "pipelines" / "automobile-price-training.json"
# Where the designer shows the tutorial's nodes (layout only: validation and reuse ignore it).
POSITIONS = {
    "automobile": (0, 0),
    "select": (240, 0),
    "clean": (480, 0),
    "split": (0, 150),
    "learner": (240, 150),
    "train": (480, 150),
    "score": (0, 300),
    "evaluate": (240, 300),
}


def laid_out(pipeline: dict) -> dict:
    nodes = [
        {**n, "position": {"x": POSITIONS[n["id"]][0], "y": POSITIONS[n["id"]][1]}}
        if n["id"] in POSITIONS and "position" not in n
        else n
        for n in pipeline["nodes"]
    ]
    return {**pipeline, "nodes": nodes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7071")
    parser.add_argument("--key", required=True, help="function key (x-functions-key)")
    parser.add_argument("--experiment", default="automobile-price")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--ui",
        action="store_true",
        help="finish with the designer's address of the run (the key in its fragment)",
    )
    args = parser.parse_args(argv)

    with httpx.Client(base_url=f"{args.url}/api", headers={"x-functions-key": args.key}, timeout=60) as api:
        sample = api.post("/samples/automobile-price-raw").raise_for_status().json()
        print(
            f"dataset {sample['name']} v{sample['version']}: {sample['rows']} rows x "
            f"{len(sample['columns'])} columns"
        )

        draft = (
            api.post("/pipelines", json=laid_out(json.loads(PIPELINE.read_text()))).raise_for_status().json()
        )
        print(f"draft {draft['id']} '{draft['name']}' valid={draft['valid']}")

        submitted = api.post(f"/experiments/{args.experiment}/runs", json={"draft_id": draft["id"]})
        if submitted.status_code != 202:
            print(json.dumps(submitted.json(), indent=2), file=sys.stderr)
            return 1
        run_id = submitted.json()["Id"]
        print(f"run {run_id} submitted to experiment '{args.experiment}'")
        run = wait(api, run_id, args.timeout)

    print()
    for node_id, node in run["nodes"].items():
        took = f"{node['duration_seconds']:.2f}s" if node["duration_seconds"] is not None else "-"
        print(f"  {node_id:<11} {node['status']:<10} {took:>7}  {node.get('error') or ''}")
    if run["status"] != "Finished":
        print(f"\nrun {run['status']}: {run.get('error')}", file=sys.stderr)
        return 1
    print("\nEvaluate Model:")
    for name, value in run["metrics"]["evaluate"].items():
        print(f"  {name:<30} {value:,.4f}")
    if args.ui:
        print(
            f"\nThe designer, with this run open (its draft is under Designer):\n"
            f"  {args.url}/api/ui/runs/{run_id}#key={args.key}\n"
            f"  draft: {args.url}/api/ui/drafts/{draft['id']}"
        )
    return 0


def wait(api: httpx.Client, run_id: str, timeout: float) -> dict:
    """Poll the run, printing a line whenever progress changes."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        run = api.get(f"/runs/{run_id}").raise_for_status().json()
        running = [n for n, v in run["nodes"].items() if v["status"] == "Running"]
        line = (
            f"  {run['status']:<10} {run['progress']['nodes_done']}/{run['progress']['nodes_total']} nodes"
            f"{'  running: ' + ', '.join(running) if running else ''}"
        )
        if line != last:
            print(line, flush=True)
            last = line
        if run["status"] in ("Finished", "Failed", "Canceled"):
            return run
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} did not finish in {timeout:.0f}s")


if __name__ == "__main__":
    sys.exit(main())
