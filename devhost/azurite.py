"""Start and stop Azurite (the Azure Storage emulator) for local runs and tests.

Azurite is started with port 0 for blob, queue and table: the OS picks free ports
and Azurite prints them ("... successfully listening at http://127.0.0.1:PORT"),
so there is no window in which another process can take a port we chose.
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

log = logging.getLogger(__name__)

ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEFAULT_EXECUTABLE = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "azurite"

_LISTENING = re.compile(
    r"Azurite (Blob|Queue|Table) service is successfully listening at https?://[^:]+:(\d+)"
)


class Azurite(NamedTuple):
    """A running Azurite: unpacks as ``process, connection_string``."""

    process: subprocess.Popen[bytes]
    connection_string: str


def connection_string(host: str, blob_port: int, queue_port: int, table_port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{host}:{blob_port}/{ACCOUNT_NAME};"
        f"QueueEndpoint=http://{host}:{queue_port}/{ACCOUNT_NAME};"
        f"TableEndpoint=http://{host}:{table_port}/{ACCOUNT_NAME};"
    )


def start_azurite(
    *,
    host: str = "127.0.0.1",
    location: Path | None = None,
    executable: Path = DEFAULT_EXECUTABLE,
    timeout: float = 30.0,
    ports: tuple[int, int, int] = (0, 0, 0),
) -> Azurite:
    """Start Azurite on free ports and wait until all three services answer.

    Data is kept in memory unless ``location`` (a folder) is given. ``ports`` (blob,
    queue, table) restarts an Azurite where a stopped one was: with the same
    ``location``, clients see a storage account that was away for a while.
    """
    blob_port, queue_port, table_port = ports
    command = [
        str(executable),
        "--blobHost",
        host,
        "--blobPort",
        str(blob_port),
        "--queueHost",
        host,
        "--queuePort",
        str(queue_port),
        "--tableHost",
        host,
        "--tablePort",
        str(table_port),
        "--skipApiVersionCheck",
        "--silent",
        "--disableTelemetry",
    ]
    command += ["--location", str(location)] if location else ["--inMemoryPersistence"]
    process = subprocess.Popen(  # noqa: S603 - the argv is built here from the Azurite install
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=location or None
    )
    listening: dict[str, int] = {}  # service name -> the port the OS gave it
    output: deque[str] = deque(maxlen=20)
    ready = threading.Event()
    assert process.stdout is not None
    threading.Thread(
        target=_read_output,
        args=(process.stdout, listening, output, ready),
        daemon=True,
        name="azurite-output",
    ).start()
    try:
        if not ready.wait(timeout) or len(listening) < 3:
            raise RuntimeError(
                f"Azurite did not start within {timeout} s (exit code "
                f"{process.poll()}); its output:\n" + "\n".join(output)
            )
        deadline = time.monotonic() + timeout
        for port in listening.values():
            _wait_for_port(host, port, deadline)
    except BaseException:
        stop_azurite(Azurite(process, ""))
        raise
    return Azurite(
        process, connection_string(host, listening["Blob"], listening["Queue"], listening["Table"])
    )


def stop_azurite(azurite: Azurite, timeout: float = 10.0) -> None:
    """Terminate Azurite (it shuts down gracefully on SIGTERM), killing it if it hangs."""
    process = azurite.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_azurite(**options: object) -> Iterator[Azurite]:
    azurite = start_azurite(**options)  # type: ignore[arg-type]
    try:
        yield azurite
    finally:
        stop_azurite(azurite)


def _read_output(
    stream: IO[bytes], ports: dict[str, int], output: deque[str], ready: threading.Event
) -> None:
    """Collect the three ports, then keep draining so Azurite never blocks on a full pipe."""
    for raw_line in stream:
        line = raw_line.decode(errors="replace").rstrip()
        output.append(line)
        log.debug("azurite: %s", line)
        found = _LISTENING.search(line)
        if found:
            ports[found.group(1)] = int(found.group(2))
            if len(ports) == 3:
                ready.set()
    ready.set()  # the process ended: let start_azurite notice instead of waiting on


def _wait_for_port(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Azurite port {port} does not answer") from None
            time.sleep(0.05)
