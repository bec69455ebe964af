"""Runs made over the API for the studio's pages, shared by a test module's tests."""

from __future__ import annotations

import json
from copy import deepcopy

import httpx

from tests.conftest import ROOT
from tests.e2e.conftest import FUNCTION_KEY, wait_for_run

GERMAN = json.loads((ROOT / "samples" / "pipelines" / "german-credit-classification.json").read_text())


def client(host_url: str) -> httpx.Client:
    return httpx.Client(base_url=f"{host_url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60)


def german(fraction: float = 0.7, cross_validate: bool = False) -> dict:
    """The german credit sample with this split fraction (Cross Validate dropped unless asked)."""
    doc = deepcopy(GERMAN)
    next(n for n in doc["nodes"] if n["id"] == "split")["parameters"][
        "Fraction of rows in the first output dataset"
    ] = fraction
    if not cross_validate:
        doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "cross_validate"]
        doc["edges"] = [e for e in doc["edges"] if not e["target"].startswith("cross_validate.")]
    return doc


def submit(api: httpx.Client, experiment: str, body: dict) -> str:
    answer = api.post(f"/experiments/{experiment}/runs", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()["Id"]


def finished(api: httpx.Client, experiment: str, body: dict) -> str:
    run = wait_for_run(api, submit(api, experiment, body), timeout=240)
    assert run["status"] == "Finished", run
    return run["run_id"]
