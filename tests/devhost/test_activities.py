"""Activity worker processes end with their host, however the host ends."""

import os
import signal
import subprocess
import sys

from devhost.activities import child_pids
from tests.devhost.helpers import APP_MODULE, wait_until

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A stand-in host: a process pool of two workers running a sleepy activity and an idle one.
HOST = f"""
import json, sys, time
from devhost.activities import ActivityPool
from devhost.app_index import AppIndex
from tests.devhost import sample_app
pool = ActivityPool(AppIndex.from_app(sample_app.app).activities, kind="process", size=2,
                    app_ref={APP_MODULE!r})
pool.submit("sleepy", json.dumps({{"item": "a", "seconds": 60}}))
print("ready", flush=True)
time.sleep(120)
"""


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def test_workers_exit_when_their_host_is_killed():
    host = subprocess.Popen(
        [sys.executable, "-c", HOST],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": REPO_ROOT},
    )
    try:
        assert host.stdout.readline().strip() == "ready"
        workers = wait_until(lambda: [p for p in child_pids(host.pid) if running(p)], timeout=30)
        assert len(workers) >= 2  # two workers (and multiprocessing's resource tracker)
        host.send_signal(signal.SIGKILL)
        host.wait(10)
        wait_until(lambda: not any(running(p) for p in workers), timeout=10)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
