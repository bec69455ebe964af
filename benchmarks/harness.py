"""What the benchmarks share: a fresh Azurite + local host per run, timing helpers, results files.

Every benchmark starts its own in-memory Azurite (free ports picked by Azurite itself) and its
own ``python -m devhost`` on a free loopback port (``--port 0``; the host prints the address it
bound), talks to them only over 127.0.0.1, and stops both at the end, whatever happens. Every
wait is bounded.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from devhost.azurite import Azurite, start_azurite, stop_azurite

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
HOST_START_TIMEOUT = 120.0
HOST_STOP_TIMEOUT = 30.0
SAMPLE_PIPELINE = ROOT / "samples" / "pipelines" / "automobile-price-training.json"
SAMPLE_DATA = ROOT / "samples" / "datasets" / "automobile-price-raw.csv"


def tutorial() -> dict[str, Any]:
    return json.loads(SAMPLE_PIPELINE.read_text())


# ---- the stack ---------------------------------------------------------------------------------


@dataclass
class Stack:
    """A running Azurite + local host."""

    url: str  # http://127.0.0.1:PORT
    connection_string: str
    function_key: str
    signing_key: str
    host: subprocess.Popen[bytes]
    azurite: Azurite
    log_path: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)

    def api(self, timeout: float = 120.0) -> httpx.Client:
        """A keep-alive client for the management API (``/api``, function key sent)."""
        return httpx.Client(
            base_url=f"{self.url}/api", headers={"x-functions-key": self.function_key}, timeout=timeout
        )

    def blobs(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)

    def store_and_artifacts(self) -> tuple[Any, Any]:
        """The product's own Store and Artifacts on this Azurite, with the host's signing key."""
        from core.settings import Settings
        from core.storage.artifacts import Artifacts
        from core.storage.azure import AzureStore

        settings = Settings(
            storage_connection_string=self.connection_string, artifact_signing_key=self.signing_key
        )
        store = AzureStore.from_settings(settings)
        return store, Artifacts(store, self.signing_key)

    def peak_rss(self) -> dict[str, Any]:
        """VmHWM (peak resident set) of the host, each of its descendants, and Azurite, in MiB.

        Read before the processes stop. The sum over the host tree is an upper bound of its
        simultaneous peak (each process's own peak may fall at a different moment)."""
        tree = {pid: _vm_hwm_mib(pid) for pid in [self.host.pid, *_descendants(self.host.pid)]}
        tree = {pid: mib for pid, mib in tree.items() if mib is not None}
        return {
            "host_tree_sum_mib": round(sum(tree.values()), 1),
            "host_process_mib": tree.get(self.host.pid),
            "per_process_mib": {str(pid): mib for pid, mib in tree.items()},
            "azurite_mib": _vm_hwm_mib(self.azurite.process.pid),
        }


@contextmanager
def local_stack(
    name: str,
    *,
    poll_interval: float | None = None,
    workers: int | None = None,
    log_level: str = "info",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """Azurite (in memory) + ``python -m devhost`` on free loopback ports; both stopped on exit."""
    azurite = start_azurite(timeout=60)
    try:
        conn = azurite.connection_string
        function_key = "bench-" + secrets.token_hex(16)
        signing_key = "bench-signing-" + secrets.token_hex(16)
        env = {
            **os.environ,
            "DESIGNER_STORAGE_CONNECTION_STRING": conn,
            "AzureWebJobsStorage": conn,
            "DESIGNER_STORAGE": conn,
            "DESIGNER_ARTIFACT_SIGNING_KEY": signing_key,
            "DEVHOST_FUNCTION_KEY": function_key,
            **(extra_env or {}),
        }
        log_path = Path(tempfile.gettempdir()) / f"designer-bench-{name}-devhost.log"
        command = [
            sys.executable,
            "-m",
            "devhost",
            "--app",
            "function_app",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--log-level",
            log_level,
        ]
        if poll_interval is not None:  # otherwise the host's own default
            command += ["--poll-interval", str(poll_interval)]
        if workers:
            command += ["--workers", str(workers)]
        with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
            host = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            url = _wait_for_host(host, log_path)
            yield Stack(
                url=url,
                connection_string=conn,
                function_key=function_key,
                signing_key=signing_key,
                host=host,
                azurite=azurite,
                log_path=log_path,
                env=env,
            )
        finally:
            stop_process(host, HOST_STOP_TIMEOUT)
    finally:
        stop_azurite(azurite)


def _wait_for_host(host: subprocess.Popen[bytes], log_path: Path) -> str:
    """The URL the host says it listens on (its output goes straight to ``log_path``)."""
    deadline = time.monotonic() + HOST_START_TIMEOUT
    url = None
    while url is None:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        if "devhost listening on " in text:
            url = text.split("devhost listening on ", 1)[1].split()[0]
        elif host.poll() is not None or time.monotonic() > deadline:
            stop_process(host, 5)
            raise RuntimeError(
                f"the local host did not start within {HOST_START_TIMEOUT:.0f} s "
                f"(exit code {host.returncode}):\n{text[-4000:]}"
            )
        else:
            time.sleep(0.1)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        if host.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the local host does not answer /api/health (log: {log_path})")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL to the process group this process leads (ours: start_new_session)."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    # Workers the process spawned and left behind share its session and group.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(5)


def _descendants(pid: int) -> list[int]:
    out, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                children = Path(f"/proc/{parent}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                out.append(child)
                frontier.append(child)
    return out


def _vm_hwm_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# ---- driving runs --------------------------------------------------------------------------------


def wait_for_run(
    api: httpx.Client, run_id: str, timeout: float = 300, interval: float = 0.05
) -> tuple[dict, float]:
    """Poll ``GET /runs/{id}`` until the run ends: the run, and the monotonic time it was seen ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/runs/{run_id}").raise_for_status().json()
        if run["status"] in ("Finished", "Failed", "Canceled"):
            return run, time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"run {run_id} did not end within {timeout} s")


def train_tutorial(api: httpx.Client, experiment: str, timeout: float = 300) -> dict:
    """Run the designer tutorial once over HTTP; the finished run."""
    submitted = api.post(f"/experiments/{experiment}/runs", json={"pipeline": tutorial()})
    run_id = submitted.raise_for_status().json()["Id"]
    run, _ = wait_for_run(api, run_id, timeout)
    if run["status"] != "Finished":
        raise RuntimeError(f"training run {run_id} ended {run['status']}: {run.get('error')}")
    return run


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ---- statistics and output ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b not in (None, 0) else None


class CpuAudit:
    """How much CPU other processes took while a benchmark ran (this machine is shared).

    ``/proc/stat`` gives the busy CPU time of the whole machine; ``os.times()`` gives this
    process's and its reaped children's (the host and its workers, Azurite, the MLflow server
    and the baseline child are all reaped before ``stop``). The difference is everyone else's.
    """

    def __init__(self) -> None:
        _become_subreaper()
        self._start_busy = _machine_busy_seconds()
        self._start_ours = _own_cpu_seconds()
        self._start_wall = time.monotonic()

    def stop(self) -> dict[str, Any]:
        _reap_orphans()
        wall = time.monotonic() - self._start_wall
        busy = _machine_busy_seconds() - self._start_busy
        ours = _own_cpu_seconds() - self._start_ours
        other = max(0.0, busy - ours)
        cpus = os.cpu_count() or 1
        return {
            "wall_s": round(wall, 1),
            "machine_busy_cpu_s": round(busy, 1),
            "our_cpu_s": round(ours, 1),
            "other_processes_cpu_s": round(other, 1),
            "other_processes_share_of_machine": round(other / (wall * cpus), 3) if wall else None,
            "loadavg_at_end": Path("/proc/loadavg").read_text().split()[:3],
        }


def _become_subreaper() -> None:
    """Orphans of our children (e.g. the uvicorn that ``mlflow models serve`` starts, once the CLI
    is gone) are re-parented to this process instead of init, so ``_reap_orphans`` can wait for
    them and their CPU time counts as ours in ``os.times()``."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap_orphans(timeout: float = 2.0) -> None:
    """Wait for adopted orphans (all our own children are stopped and waited for by now)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children left
        if pid == 0:
            time.sleep(0.05)  # a child is still running (or not yet a zombie)


def _machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_for_quiet(max_wait_s: float, threshold: float = 0.15, window_s: float = 2.0) -> dict[str, Any]:
    """Wait (bounded) until the machine is quiet: less than ``threshold`` of all CPUs busy over a
    ``window_s`` window. Other sessions' tests share this machine; a benchmark started while they
    run measures them too. Returns what was seen; never fails."""
    cpus = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait_s
    waited_from = time.monotonic()
    announced = False
    while True:
        before = _machine_busy_seconds()
        time.sleep(window_s)
        share = (_machine_busy_seconds() - before) / (window_s * cpus)
        seen = {"busy_share": round(share, 3), "waited_s": round(time.monotonic() - waited_from, 1)}
        if share < threshold:
            return {"quiet": True, **seen}
        if time.monotonic() > deadline:
            print(
                f"the machine is still busy ({share:.0%} of its CPUs) after {max_wait_s:.0f} s; "
                "measuring anyway",
                file=sys.stderr,
            )
            return {"quiet": False, **seen}
        if not announced:
            print(
                f"waiting (up to {max_wait_s:.0f} s) for a quiet machine: {share:.0%} of its CPUs are busy "
                "with other processes",
                file=sys.stderr,
            )
            announced = True


def contention_warning(audit: dict[str, Any]) -> str | None:
    share = audit.get("other_processes_share_of_machine") or 0
    if share > 0.05:
        return (
            f"other processes used {audit['other_processes_cpu_s']} CPU-s ({share:.0%} of the machine) "
            "during this run: the numbers are disturbed; run again on a quiet machine"
        )
    return None


def environment() -> dict[str, Any]:
    """What the numbers were measured on: the machine, versions, and the BLAS setup."""
    import numpy
    import pandas
    import sklearn
    from threadpoolctl import threadpool_info

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "scikit_learn": sklearn.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "blas": [
            {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for info in threadpool_info()
        ],
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    """``benchmarks/results/<name>.json`` (written to a .tmp first, then renamed); a quick run's go
    to ``<name>-quick.json``, so a smoke run never replaces the numbers of a full one."""
    if data.get("mode") == "quick":
        name = f"{name}-quick"
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"{name}.json"
    temporary = RESULTS / f"{name}.json.tmp"
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
    temporary.replace(target)
    return target


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table; floats get 3 significant decimals."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) if text else len(h) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for row in text:  # the first column left-aligned, numbers right-aligned
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def print_closing(path: Path, results: dict[str, Any], cpu_audit: dict[str, Any]) -> None:
    """The lines every benchmark ends with: BLAS caveat, contention warning, where results went."""
    note = blas_note()
    if note:
        print(f"note: {note}")
    warning = contention_warning(cpu_audit)
    if warning:
        print(f"WARNING: {warning}")
    print(f"results: {path}  ({results['elapsed_s']:.0f} s)")


def blas_note() -> str | None:
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
        return (
            "OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set (they slow a current numpy): for numbers "
            "comparable across machines run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` "
            "(see benchmarks/README.md)"
        )
    return None
