"""The local host under faults: SIGKILL mid-run, storage away for a while, and idling.

Each test runs real hosts (``python -m devhost``) on an Azurite of this module that
keeps its data on disk, so it can be stopped and started again on the same ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from core.pipelines.document import Pipeline
from core.registry import runs
from core.service.facade import Service, Submission
from core.settings import Settings
from core.storage.azure import AzureStore
from devhost.activities import child_pids
from devhost.azurite import Azurite, start_azurite, stop_azurite
from tests.conftest import ROOT, SIGNING_KEY, _free_port
from tests.e2e.conftest import FUNCTION_KEY, wait_for_run

SLOW_SCRIPT = """
import time

def azureml_main(dataframe1=None, dataframe2=None):
    time.sleep({seconds})
    return dataframe1,
"""


def slow_pipeline(seconds: float) -> dict:
    return {
        "name": "slow",
        "nodes": [
            {"id": "automobile", "component": "Dataset", "parameters": {"name": "automobile-price-raw"}},
            {
                "id": "script",
                "component": "Execute Python Script",
                "parameters": {"Python Script": SLOW_SCRIPT.format(seconds=seconds)},
            },
        ],
        "edges": [{"source": "automobile.dataset", "target": "script.dataset1"}],
    }


class Storage:
    """An Azurite on fixed ports with its data on disk: stop() and start() keep the account."""

    def __init__(self, location: Path) -> None:
        self._location = location
        self._ports = (_free_port(), _free_port(), _free_port())
        self._azurite: Azurite | None = None
        self.start()
        assert self._azurite is not None
        self.connection_string = self._azurite.connection_string

    def start(self) -> None:
        self._azurite = start_azurite(location=self._location, ports=self._ports)

    def stop(self) -> None:
        if self._azurite is not None:
            stop_azurite(self._azurite)
            self._azurite = None


class Host:
    """One ``python -m devhost`` process of the function app."""

    def __init__(self, storage: Storage, task_hub: str, log: Path) -> None:
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DESIGNER_STORAGE_CONNECTION_STRING": storage.connection_string,
            "AzureWebJobsStorage": storage.connection_string,
            "DESIGNER_STORAGE": storage.connection_string,
            "DESIGNER_TASK_HUB": task_hub,
            "DESIGNER_ARTIFACT_SIGNING_KEY": SIGNING_KEY,
            "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
            "DESIGNER_ENABLE_PYTHON_SCRIPT": "true",
        }
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devhost", "--app", "function_app", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"local host did not start:\n{log.read_text()[-5000:]}")
            time.sleep(0.1)
        self.api = httpx.Client(
            base_url=f"{self.url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60
        )

    def stop(self) -> None:
        self.api.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Iterator[Storage]:
    storage = Storage(tmp_path_factory.mktemp("azurite-data"))
    yield storage
    storage.stop()


@pytest.fixture
def new_host(storage: Storage, tmp_path: Path) -> Iterator:
    hosts: list[Host] = []

    def start(task_hub: str) -> Host:
        hosts.append(Host(storage, task_hub, tmp_path / "devhost.log"))
        return hosts[-1]

    yield start
    for host in hosts:
        host.stop()


def hub() -> str:
    return f"Faults{uuid.uuid4().hex[:12]}"


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in child_pids(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"  # a zombie has ended
    except (ProcessLookupError, FileNotFoundError):
        return False


def wait_for_node(api: httpx.Client, run_id: str, node: str, status: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/runs/{run_id}").raise_for_status().json()
        if run["nodes"][node]["status"] == status:
            return
        assert run["status"] not in ("Finished", "Failed", "Canceled"), run
        time.sleep(0.2)
    raise TimeoutError(f"node {node} of run {run_id} is not {status}")


def submit(api: httpx.Client, pipeline: dict) -> str:
    submitted = api.post(f"/experiments/faults-{uuid.uuid4().hex[:8]}/runs", json={"pipeline": pipeline})
    assert submitted.status_code == 202, submitted.text
    return submitted.json()["Id"]


def test_an_idle_host_writes_almost_nothing_to_its_log(new_host):
    host = new_host(hub())
    time.sleep(2)  # start-up done
    before = host.log.stat().st_size
    time.sleep(5)
    grown = host.log.stat().st_size - before
    assert grown < 1000, host.log.read_text()[-3000:]
    text = host.log.read_text()
    assert "devhost listening on" in text and "task hub" in text  # what an operator needs


def test_a_run_survives_sigkill_of_its_host(new_host):
    task_hub = hub()
    first = new_host(task_hub)
    run_id = submit(first.api, slow_pipeline(8))
    wait_for_node(first.api, run_id, "script", "Running")
    children = descendants(first.process.pid)
    assert len(children) >= 2  # activity workers (and the script's sandbox)

    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], "processes outlived their host"

    second = new_host(task_hub)  # same storage, same task hub
    assert second.api.get(f"/runs/{run_id}").json()["status"] == "Running"
    run = wait_for_run(second.api, run_id, timeout=180)
    assert run["status"] == "Finished", run
    assert run["nodes"]["script"]["status"] == "Finished"
    log = second.log.read_text()
    assert "resuming orchestration" in log
    assert "/durabletask/" not in log and FUNCTION_KEY not in log  # nor the rpc token with it


def test_storage_away_for_a_while_gives_503_and_the_run_carries_on(new_host, storage):
    host = new_host(hub())
    run_id = submit(host.api, slow_pipeline(3))
    wait_for_node(host.api, run_id, "script", "Running")
    storage.stop()
    try:
        for path in (f"/runs/{run_id}", "/experiments"):
            response = host.api.get(path)
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["error"]["code"] == "ServiceUnavailable"
    finally:
        storage.start()
    run = wait_for_run(host.api, run_id, timeout=240)
    assert run["status"] == "Finished", run


def test_a_run_whose_orchestration_is_gone_ends_failed(new_host, storage):
    host = new_host(hub())
    run_id = submit(host.api, slow_pipeline(30))
    wait_for_node(host.api, run_id, "script", "Running")
    terminated = httpx.post(
        f"{host.url}/runtime/webhooks/durabletask/instances/{run_id}/terminate",
        params={"reason": "stopped by an operator"},
        headers={"x-functions-key": FUNCTION_KEY},
    )
    assert terminated.status_code == 202
    run = wait_for_run(host.api, run_id, timeout=30)
    assert run["status"] == "Failed"
    assert run["error"] == "The run's orchestration was terminated: stopped by an operator"
    assert run["nodes"]["script"]["status"] == "Failed"

    # a run recorded a while ago whose orchestration does not exist (purged, never started)
    settings = Settings(
        storage_connection_string=storage.connection_string,
        artifact_signing_key=SIGNING_KEY,
        enable_python_script=True,
    )  # as the host runs: the slow node is a script
    store = AzureStore.from_settings(settings)
    service = Service(store, settings, ROOT / "samples" / "datasets")
    experiment = f"faults-{uuid.uuid4().hex[:8]}"

    def orphan() -> str:
        run, _ = service.submit(
            Submission(experiment=experiment, pipeline=Pipeline.model_validate(slow_pipeline(1)))
        )
        run.created_at -= timedelta(minutes=10)
        runs.update_run(store, run, "created_at")
        return run.run_id

    gone = "The run's orchestration no longer exists (purged, or lost with its host)."
    read = orphan()
    view = host.api.get(f"/runs/{read}").json()
    assert (view["status"], view["error"]) == ("Failed", gone)
    assert view["nodes"]["script"]["note"] == "not run: the run's orchestration ended"
    listed = orphan()  # found by the list of runs too
    entries = {r["run_id"]: r for r in host.api.get(f"/experiments/{experiment}/runs").json()["value"]}
    assert (entries[listed]["status"], entries[listed]["error"]) == ("Failed", gone)
    assert "nodes" not in entries[listed]
