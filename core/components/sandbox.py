"""Run a user's Python script in a separate, locked-down process (Execute Python Script).

Why a separate process: a script in the app's own process could read the app's secrets (its
environment, its storage credentials), block the worker, or crash it. A child process gets an
empty environment, its own memory, a wall-clock deadline after which its whole process group is
killed, and restrictions that cannot be lifted once set. Data goes in and out as Parquet bytes
over stdin/stdout, never through files.

What the child does before the first line of user code (``_confine``), in this order:

1. rlimits: address space (``RLIMIT_AS``: what is mapped after start-up plus ``memory_bytes``),
   CPU seconds (twice the wall-clock limit, a backstop if the parent dies), no core dumps, files
   written capped at 0 bytes (``RLIMIT_FSIZE``), few open files (``RLIMIT_NOFILE``). Dies with
   the parent (``PR_SET_PDEATHSIG``).
2. Landlock (Linux 5.13+, when the kernel offers it): the file system becomes read-only and only
   the Python installation is readable (``sys.prefix``/``base_prefix``, the site-packages
   directories, the time-zone database); TCP bind/connect and signals to other processes are
   denied where the kernel's Landlock ABI covers them.
3. seccomp (x86-64): system calls that create processes (fork/vfork/clone without
   ``CLONE_THREAD``, execve), sockets, file creation/removal/renames/permissions, mounts,
   namespaces, ptrace, io_uring, kernel keys/modules, raising rlimits, and signalling or
   reprioritising other processes fail with ``EPERM``; ``open`` with any write flag fails too.
   Threads still work. (The child may run as root: these also deny what root could do.)
4. An audit hook (``sys.addaudithook``; it cannot be removed) refuses, with a readable
   ``PermissionError``: opening any file for writing, opening file descriptors, reading a file
   outside the roots above, listing directories outside them, sockets, subprocesses,
   ``os.system``/``exec*``/``spawn*``/``fork``/``posix_spawn``, calling anything through ctypes,
   removing/renaming/creating files and directories, ``chmod``/``chown``, ``shutil``,
   ``urllib``/``http.client`` and other network clients, ``sqlite3``, ``tempfile``, signals,
   tracing/profiling hooks, ``gc`` object walks, sub-interpreters and rlimit changes.
   ``_posixsubprocess.fork_exec`` forks without an audit event, so it is replaced by a refusal
   wherever it is referenced and loading a fresh copy of that module is refused.
5. Imports: the script's own import of ``ctypes``, ``socket``, ``ssl``, ``subprocess``,
   ``multiprocessing``, ``pty``, ``urllib.request``, ``http.client`` and similar is refused
   (the import statement is checked, so it holds even when a library loaded the module first).
   Libraries may import them (scikit-learn imports subprocess, multiprocessing and ctypes):
   imports are not the boundary, every use of these modules is refused as above.

Why all of these: the audit hook gives clear errors and needs nothing from the kernel, but it is
not a security boundary (PEP 578 says so: a crafted code object, e.g. from ``marshal``, or a
memory-corruption bug gets past it); rlimits bound resource use; Landlock and seccomp are
enforced by the kernel and hold even if the interpreter is subverted. The child reports which
layers it could install and the component logs them.

Residual risk: without Landlock (old kernels, or a host that disables it) reading files relies
on the audit hook alone, and a script that subverts the interpreter could read what the app's
user can read, e.g. ``/proc/<parent>/environ`` with the app's secrets; without seccomp (another
CPU architecture, or a host that forbids it) the same holds for processes and sockets. Pre-existing
symlinks inside the readable roots are followed by the audit hook's lexical check (not by
Landlock). ``RLIMIT_NPROC`` is not used: root ignores it and it counts threads for other users;
seccomp blocks process creation instead. CPU time and memory are bounded, not shared fairly:
several scripts running at once each get the full limits. Execute Python Script is therefore off
unless ``DESIGNER_ENABLE_PYTHON_SCRIPT`` is set. Libraries that use ctypes, subprocesses or
temporary files (e.g. joblib with several processes, threadpoolctl) do not work in scripts.

Apply SQL Transformation runs in the same kind of child (:func:`run_sql`): DuckDB's own
``memory_limit`` does not bound everything a query allocates (``repeat('x', 3000000000)`` took
6 GB), the child's address-space limit does. The connection is opened before the confinement
(DuckDB reads ``/proc/self/cgroup`` then), and the script runs after it.

This file is also the child's entry point (``python -I this_file``): it imports nothing from the
project, and pandas only once the child knows the parent's import path.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import io
    from types import FrameType

    import pandas as pd

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MEMORY_BYTES = 2 * 1024**3
MAX_LOG_BYTES = 64 * 1024
MAX_RESULT_BYTES = 512 * 1024**2
MAX_OPEN_FILES = 64
SCRIPT_FILENAME = "<Python script>"
ENTRY_POINT = "azureml_main"

_SIZE = struct.Struct(">Q")


class SandboxError(Exception):
    """The script did not produce a result; ``log`` holds what it printed before that."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class ScriptError(SandboxError):
    """The script raised (or returned something unusable); the message is its traceback."""


class ScriptTimeout(SandboxError):
    """The script ran past the wall-clock limit and its process was killed."""


class SandboxFailure(SandboxError):
    """The child process died (a resource limit, a signal) or answered nonsense."""


@dataclass(frozen=True)
class ScriptResult:
    frames: list[pd.DataFrame | None]
    log: str
    log_truncated: bool
    confinement: tuple[str, ...]


# ---- parent side -----------------------------------------------------------------------------


def run_script(
    script: str,
    frames: Sequence[pd.DataFrame | None],
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> ScriptResult:
    """Run ``azureml_main(*frames)`` from ``script`` in a confined child process.

    ``timeout`` is wall-clock seconds from the child's start (loading pandas included);
    ``memory_bytes`` is how much the child's address space may grow once it has started.
    """
    blobs = [None if f is None else _to_parquet(f) for f in frames]
    roots = _readable_roots()
    header = {
        "script": script,
        "inputs": [None if b is None else len(b) for b in blobs],
        "path": [p for p in sys.path if _under(os.path.realpath(p), roots)],
        "roots": roots,
        "timeout": timeout,
        "memory": memory_bytes,
    }
    return _run_child(_pack(header, [b for b in blobs if b is not None]), timeout, "The Python script")


def run_sql(
    script: str,
    tables: dict[str, pd.DataFrame],
    *,
    allowed: Sequence[str],
    config: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> ScriptResult:
    """Run a DuckDB script over ``tables`` in a confined child; its last statement's result comes back.

    ``allowed`` names the statement types the script may hold (checked again in the child);
    ``config`` is the locked DuckDB configuration.
    """
    names = list(tables)
    blobs = [_to_parquet(tables[n]) for n in names]
    roots = _readable_roots()
    header = {
        "sql": script,
        "tables": names,
        "inputs": [len(b) for b in blobs],
        "allowed": list(allowed),
        "config": config,
        "path": [p for p in sys.path if _under(os.path.realpath(p), roots)],
        "roots": roots,
        "timeout": timeout,
        "memory": memory_bytes,
    }
    # Few malloc arenas: DuckDB's threads would each reserve one out of the address-space limit.
    return _run_child(_pack(header, blobs), timeout, "The SQL query script", {"MALLOC_ARENA_MAX": "2"})


def _run_child(request: bytes, timeout: float, what: str, env: dict[str, str] | None = None) -> ScriptResult:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter running this very file
        [sys.executable, "-I", "-B", "-X", "utf8", os.path.abspath(__file__)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env or {},
        cwd="/",
        start_new_session=True,
        close_fds=True,
    )
    pipes = _Pipes(proc, request)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        pipes.join()
        raise ScriptTimeout(
            f"{what} did not finish within {timeout:g} seconds and was stopped", pipes.log()
        ) from None
    finally:
        _kill(proc)
    pipes.join()
    return _decode_reply(proc.returncode, pipes)


def _readable_roots() -> list[str]:
    """The Python installation and its packages: all a script may read."""
    import zoneinfo

    candidates = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        *(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")),
        *zoneinfo.TZPATH,
    }
    return sorted({os.path.realpath(c) for c in candidates if os.path.isabs(c) and os.path.exists(c)})


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


class _Pipes:
    """Feeds the request and drains both outputs concurrently, keeping bounded amounts."""

    def __init__(self, proc: subprocess.Popen[bytes], request: bytes) -> None:
        self.reply, self.stderr = bytearray(), bytearray()
        self.reply_overflow, self.stderr_overflow = threading.Event(), threading.Event()
        self._threads = [
            threading.Thread(target=_feed, args=(proc.stdin, request), daemon=True),
            threading.Thread(
                target=_drain,
                args=(proc.stdout, MAX_RESULT_BYTES, self.reply, self.reply_overflow),
                daemon=True,
            ),
            threading.Thread(
                target=_drain,
                args=(proc.stderr, MAX_LOG_BYTES, self.stderr, self.stderr_overflow),
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(10)

    def log(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def _feed(stream: Any, data: bytes) -> None:
    try:
        stream.write(data)
        stream.close()
    except OSError:  # the child died or stopped reading; its exit status tells why
        pass


def _drain(stream: Any, limit: int, sink: bytearray, overflow: threading.Event) -> None:
    while chunk := stream.read1(1 << 16):
        room = limit - len(sink)
        if room > 0:
            sink += chunk[:room]
        if len(chunk) > room:
            overflow.set()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _decode_reply(returncode: int, pipes: _Pipes) -> ScriptResult:
    log = pipes.log()
    if pipes.reply_overflow.is_set():
        raise SandboxFailure(f"The script's results are larger than {MAX_RESULT_BYTES // 1024**2} MiB", log)
    if returncode != 0:
        raise SandboxFailure(_death_reason(returncode), log)
    try:
        header, blobs = _unpack(bytes(pipes.reply), "outputs")
        if not header.get("ok"):
            raise ScriptError(str(header.get("error")), log)
        frames = [None if b is None else _from_parquet(b) for b in _assign(header["outputs"], blobs)]
    except SandboxError:
        raise
    except Exception as exc:
        raise SandboxFailure(f"The script process returned an unreadable reply ({exc})", log) from None
    return ScriptResult(
        frames=frames,
        log=log,
        log_truncated=pipes.stderr_overflow.is_set(),
        confinement=tuple(header.get("confinement", ())),
    )


def _death_reason(returncode: int) -> str:
    if returncode > 0:
        return f"The script process exited with status {returncode}"
    reasons: dict[int, str] = {
        signal.SIGXCPU: "it used up its CPU time limit",
        signal.SIGKILL: "it was killed (usually: out of memory)",
        signal.SIGSYS: "it made a forbidden system call",
        signal.SIGSEGV: "it crashed (segmentation fault)",
    }
    return f"The script process stopped: {reasons.get(-returncode, f'signal {-returncode}')}"


# ---- wire format: size-prefixed JSON header, then the blobs it lists -------------------------


def _pack(header: dict[str, Any], blobs: Sequence[bytes]) -> bytes:
    head = json.dumps(header).encode()
    return b"".join([_SIZE.pack(len(head)), head, *blobs])


def _unpack(data: bytes, sizes_key: str) -> tuple[dict[str, Any], list[bytes]]:
    (size,) = _SIZE.unpack_from(data)
    header = json.loads(data[_SIZE.size : _SIZE.size + size])
    offset, blobs = _SIZE.size + size, []
    for length in header.get(sizes_key) or ():
        if length is not None:
            blobs.append(data[offset : offset + length])
            offset += length
    if offset != len(data):
        raise ValueError("size mismatch")
    return header, blobs


def _assign(sizes: Sequence[int | None], blobs: list[bytes]) -> list[bytes | None]:
    remaining = iter(blobs)
    return [None if size is None else next(remaining) for size in sizes]


def _to_parquet(df: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _from_parquet(data: bytes) -> pd.DataFrame:
    import io

    import pandas as pd

    df = pd.read_parquet(io.BytesIO(data))
    df.attrs = {}
    return df


# ---- child side -------------------------------------------------------------------------------


class _UserProblem(Exception):
    """A mistake in the script the user should see (no traceback of ours)."""


def _child_main() -> None:
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # prints of the script (and of C libraries) go to the captured stderr
    cast("io.TextIOWrapper", sys.stdout).reconfigure(line_buffering=True)
    header, blobs = _unpack(sys.stdin.buffer.read(), "inputs")
    sys.path.extend(p for p in header["path"] if p not in sys.path)
    if "sql" in header:
        _sql_child(header, blobs, reply_fd)
    frames = [None if b is None else _from_parquet(b) for b in _assign(header["inputs"], blobs)]
    _warm_up()
    confinement = _confine(header["roots"], header["timeout"], header["memory"])
    try:
        outputs = [
            None if f is None else _to_parquet_checked(f, i)
            for i, f in enumerate(_call_script(header["script"], frames))
        ]
        reply = _pack(
            {
                "ok": True,
                "outputs": [None if o is None else len(o) for o in outputs],
                "confinement": confinement,
            },
            [o for o in outputs if o is not None],
        )
    except BaseException as exc:
        reply = _pack({"ok": False, "error": _describe(exc), "confinement": confinement}, [])
    sys.stdout.flush()
    sys.stderr.flush()
    _write_all(reply_fd, reply)
    os._exit(0)


def _sql_child(header: dict[str, Any], blobs: list[bytes], reply_fd: int) -> None:
    import duckdb

    frames = [_from_parquet(b) for b in blobs]
    _warm_up()
    con = duckdb.connect(":memory:", config=header["config"])  # before Landlock: it reads /proc/self
    confinement = _confine(header["roots"], header["timeout"], header["memory"])
    try:
        for name, frame in zip(header["tables"], frames, strict=True):
            con.register(name, frame)
        statements = con.extract_statements(header["sql"])
        refused = [st for st in statements if st.type.name not in header["allowed"]]
        if refused or not statements:
            raise _UserProblem(f"Not allowed: {refused[0].type.name}" if refused else "The script is empty")
        for statement in statements[:-1]:
            con.execute(statement)
        result = con.execute(statements[-1]).df()
        outputs = [_to_parquet_checked(result, 0)]
        reply = _pack({"ok": True, "outputs": [len(outputs[0])], "confinement": confinement}, outputs)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, _UserProblem) else f"{type(exc).__name__}: {exc}"
        reply = _pack({"ok": False, "error": message, "confinement": confinement}, [])
    sys.stdout.flush()
    sys.stderr.flush()
    _write_all(reply_fd, reply)
    os._exit(0)


def _warm_up() -> None:
    """Load what writing Parquet needs while imports are still unrestricted."""
    import pandas as pd

    _to_parquet(pd.DataFrame({"a": [1.0], "b": ["x"]}))


def _call_script(script: str, frames: list[pd.DataFrame | None]) -> list[pd.DataFrame | None]:
    import builtins
    import linecache

    import pandas as pd

    linecache.cache[SCRIPT_FILENAME] = (len(script), None, script.splitlines(True), SCRIPT_FILENAME)
    namespace: dict[str, Any] = {"__name__": "azureml_script", "__builtins__": builtins}
    exec(compile(script, SCRIPT_FILENAME, "exec"), namespace)  # noqa: S102 - the point of the sandbox
    entry = namespace.get(ENTRY_POINT)
    if not callable(entry):
        raise _UserProblem(f"The script must define {ENTRY_POINT}(dataframe1 = None, dataframe2 = None)")
    result = entry(*(frames + [None] * (2 - len(frames))))
    if isinstance(result, pd.DataFrame):
        result = (result,)
    if (
        not isinstance(result, (tuple, list))
        or len(result) > 2
        or not all(r is None or isinstance(r, pd.DataFrame) for r in result)
    ):
        raise _UserProblem(
            f"{ENTRY_POINT} must return a pandas DataFrame or a tuple of up to two "
            f"DataFrames, not {type(result).__name__}"
        )
    return list(result)


def _to_parquet_checked(df: pd.DataFrame, index: int) -> bytes:
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    try:
        return _to_parquet(df)
    except Exception as exc:
        raise _UserProblem(
            f"Result Dataset{'' if index == 0 else index + 1} cannot be stored as a table: {exc}"
        ) from None


def _describe(exc: BaseException) -> str:
    """The user's traceback: frames of the script only, then the exception."""
    import traceback

    try:
        if isinstance(exc, _UserProblem):
            return str(exc)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_FILENAME]
        head = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
        return "".join(head + traceback.format_exception_only(type(exc), exc)).rstrip()
    except BaseException:
        return f"The script raised {type(exc).__name__}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _confine(roots: list[str], timeout: float, memory_bytes: int) -> list[str]:
    import resource

    layers = ["process", "empty environment", _limit_resources(resource, timeout, memory_bytes)]
    layers += _kernel_confinement(roots)
    clean_roots = tuple(r.rstrip("/") or "/" for r in roots)
    _disarm_fork_exec()
    _guard_script_imports(clean_roots)
    sys.addaudithook(_make_audit_hook(clean_roots))
    return [*layers, "audit hook"]


def _limit_resources(resource: Any, timeout: float, memory_bytes: int) -> str:
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = math.ceil(used.ru_utime + used.ru_stime + 2 * timeout) + 1
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file write then fails with EFBIG
    for limit, value in (
        (resource.RLIMIT_AS, mapped + memory_bytes),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_NOFILE, MAX_OPEN_FILES),
    ):
        resource.setrlimit(limit, (value, value))
    return f"rlimits (memory +{memory_bytes // 1024**2} MiB, cpu {cpu} s)"


# Kernel layers, through ctypes (which the audit hook forbids once it is installed).

_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_NR_SECCOMP, _NR_LANDLOCK_CREATE, _NR_LANDLOCK_ADD_RULE, _NR_LANDLOCK_RESTRICT = 317, 444, 445, 446


def _kernel_confinement(roots: list[str]) -> list[str]:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return ["no kernel confinement (prctl refused)"]
    return [_landlock(ctypes, libc, roots), _seccomp(ctypes, libc)]


def _landlock(ctypes: Any, libc: Any, roots: list[str]) -> str:
    abi = libc.syscall(_NR_LANDLOCK_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return f"no Landlock ({os.strerror(ctypes.get_errno())})"
    handled_fs = (1 << 13) - 1 | (abi >= 2) << 13 | (abi >= 3) << 14 | (abi >= 5) << 15
    fields = [handled_fs, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0]  # fs, tcp, scopes
    size = 8 * (1 if abi < 4 else 2 if abi < 6 else 3)
    attr = (ctypes.c_uint64 * 3)(*fields)
    ruleset = libc.syscall(_NR_LANDLOCK_CREATE, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        return f"no Landlock ({os.strerror(ctypes.get_errno())})"
    try:
        for root in roots:
            _landlock_allow_read(ctypes, libc, ruleset, root)
        if libc.syscall(_NR_LANDLOCK_RESTRICT, ruleset, 0) != 0:
            return f"no Landlock ({os.strerror(ctypes.get_errno())})"
    except OSError as exc:
        return f"no Landlock ({exc})"
    finally:
        os.close(ruleset)
    return f"Landlock ABI {abi}"


def _landlock_allow_read(ctypes: Any, libc: Any, ruleset: int, root: str) -> None:
    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))

    read_access = (1 << 2) | (1 << 3)  # READ_FILE | READ_DIR
    fd = os.open(root, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = PathBeneath(read_access if os.path.isdir(root) else 1 << 2, fd)
        if libc.syscall(_NR_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({root})")
    finally:
        os.close(fd)


_SYS_CLONE, _SYS_OPEN, _SYS_OPENAT, _SYS_KILL, _SYS_TGKILL = 56, 2, 257, 62, 234
_ENOSYS_CALLS = (435, 437)  # clone3 and openat2 take structs seccomp cannot read: glibc falls back
_DENIED_CALLS = (
    41,
    42,
    43,
    49,
    50,
    53,
    288,  # socket connect accept bind listen socketpair accept4
    57,
    58,
    59,
    322,  # fork vfork execve execveat
    200,
    101,
    310,
    311,
    424,
    438,  # tkill ptrace process_vm_readv/writev pidfd_send_signal pidfd_getfd
    85,
    76,
    82,
    83,
    84,
    86,
    87,
    88,
    90,
    91,
    92,
    93,
    94,
    133,
    259,
    258,
    260,
    261,
    263,
    264,
    265,
    266,
    268,
    280,
    316,
    452,
    132,
    235,  # creating, removing, renaming, linking, chmod/chown, utime
    165,
    166,
    155,
    161,
    272,
    308,
    304,
    303,
    442,
    429,
    428,
    430,
    431,
    432,
    433,  # mounts, namespaces
    175,
    313,
    176,
    246,
    320,
    169,
    167,
    168,
    163,  # modules, kexec, reboot, swap, acct
    321,
    298,
    323,
    250,
    248,
    249,
    425,
    426,
    427,  # bpf perf userfaultfd keys io_uring
    135,
    105,
    106,
    113,
    114,
    117,
    119,
    116,
    122,
    123,
    126,  # personality, set*id, capset
    173,
    172,
    170,
    171,
    164,
    227,
    159,
    305,
    179,
    443,
    103,
    153,  # ioperm iopl host/time/quota/syslog
    160,
    302,
    141,
    251,
    256,
    279,
    312,
    440,
    300,
)  # rlimits, other processes' priority/memory, fanotify
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _seccomp(ctypes: Any, libc: Any) -> str:
    if os.uname().machine != "x86_64":
        return f"no seccomp (no system call table for {os.uname().machine})"
    program = _seccomp_program(os.getpid())

    class SockFilter(ctypes.Structure):
        _fields_ = (
            ("code", ctypes.c_uint16),
            ("jt", ctypes.c_uint8),
            ("jf", ctypes.c_uint8),
            ("k", ctypes.c_uint32),
        )

    class SockFprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter)))

    # A Structure class times n is its array type; mypy sees only a class on an Any base here.
    filters = (cast(Any, SockFilter) * len(program))(*(SockFilter(*i) for i in program))
    prog = SockFprog(len(program), filters)
    # SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_TSYNC: every thread, not just this one
    if libc.syscall(_NR_SECCOMP, 1, 1, ctypes.byref(prog)) != 0:
        return f"no seccomp ({os.strerror(ctypes.get_errno())})"
    return "seccomp"


def _seccomp_program(pid: int) -> list[tuple[int, int, int, int]]:
    """A classic BPF filter; jumps are written as labels and resolved at the end."""
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, deny, enosys, kill = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38, 0x80000000
    code: list[tuple[Any, ...]] = [  # instructions, and (label,) markers
        (ld, 0, 0, 4),
        (jeq, 0, "kill", 0xC000003E),  # AUDIT_ARCH_X86_64, else kill
        (ld, 0, 0, 0),
        (jge, "deny", 0, 0x40000000),  # x32 system calls
        (jeq, "clone", 0, _SYS_CLONE),
        (jeq, "open", 0, _SYS_OPEN),
        (jeq, "openat", 0, _SYS_OPENAT),
        (jeq, "signal", 0, _SYS_KILL),
        (jeq, "signal", 0, _SYS_TGKILL),
        *((jeq, "enosys", 0, nr) for nr in _ENOSYS_CALLS),
        *((jeq, "deny", 0, nr) for nr in _DENIED_CALLS),
        (ret, 0, 0, allow),
        ("clone",),
        (ld, 0, 0, 16),
        (jset, "allow", "deny", 0x00010000),  # CLONE_THREAD
        ("open",),
        (ld, 0, 0, 24),
        (jset, "deny", "allow", _WRITE_FLAGS),
        ("openat",),
        (ld, 0, 0, 32),
        (jset, "deny", "allow", _WRITE_FLAGS),
        ("signal",),
        (ld, 0, 0, 16),
        (jeq, "allow", "deny", pid),
        ("allow",),
        (ret, 0, 0, allow),
        ("deny",),
        (ret, 0, 0, deny),
        ("enosys",),
        (ret, 0, 0, enosys),
        ("kill",),
        (ret, 0, 0, kill),
    ]
    labels: dict[str, int] = {}
    program: list[tuple[int, Any, Any, int]] = []
    for item in code:
        if len(item) == 1:
            labels[item[0]] = len(program)
        else:
            program.append(item)
    return [(op, _jump(jt, labels, i), _jump(jf, labels, i), k) for i, (op, jt, jf, k) in enumerate(program)]


def _jump(target: Any, labels: dict[str, int], index: int) -> int:
    return labels[target] - index - 1 if isinstance(target, str) else target


# The audit hook.

# Refused whoever imports them: primitives that raise no audit event when used.
_ALWAYS_BLOCKED_MODULES = frozenset(
    {
        "_posixsubprocess",
        "_xxsubinterpreters",
        "_xxinterpchannels",
        "_interpreters",
        "_interpchannels",
        "_interpqueues",
    }
)
# Refused when the script imports them (directly, through importlib or exec). Libraries may:
# scikit-learn imports subprocess, multiprocessing and ctypes; every use of those is refused.
_SCRIPT_BLOCKED_MODULES = frozenset(
    {
        "ctypes",
        "_ctypes",
        "socket",
        "_socket",
        "ssl",
        "_ssl",
        "subprocess",
        "multiprocessing",
        "_multiprocessing",
        "pty",
        "urllib.request",
        "http.client",
        "ftplib",
        "smtplib",
        "poplib",
        "imaplib",
        "nntplib",
        "telnetlib",
        "webbrowser",
        "sqlite3",
        "_sqlite3",
    }
)
_REFUSED_EVENTS = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.kill",
    "os.killpg",
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.chflags",
    "os.lchflags",
    "os.lchmod",
    "os.link",
    "os.symlink",
    "os.truncate",
    "os.utime",
    "os.chdir",
    "os.chroot",
    "os.setxattr",
    "os.removexattr",
    "os.startfile",
    "shutil.",
    "ctypes.",
    "urllib.Request",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
    "webbrowser.",
    "sqlite3.",
    "glob.",
    "tempfile.",
    "resource.",
    "sys.addaudithook",
    "sys.settrace",
    "sys.setprofile",
    "sys._setprofileallthreads",
    "sys._settraceallthreads",
    "sys._current_frames",
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "cpython.PyInterpreterState_New",
    "winreg.",
)


def _disarm_fork_exec() -> None:
    """``_posixsubprocess.fork_exec`` forks and execs without an audit event: replace it everywhere.

    The module stays loaded (so a library importing it gets this copy) and loading a fresh copy
    is refused by the audit hook.
    """
    posix_subprocess = sys.modules.get("_posixsubprocess")
    if posix_subprocess is None:
        return
    original = posix_subprocess.fork_exec
    for module in list(sys.modules.values()):  # e.g. subprocess._fork_exec
        for attribute, value in list(getattr(module, "__dict__", {}).items()):
            if value is original:
                setattr(module, attribute, _refuse_fork_exec)


def _refuse_fork_exec(*args: Any, **kwargs: Any) -> None:
    raise PermissionError("Execute Python Script does not allow starting processes")


def _guard_script_imports(roots: tuple[str, ...]) -> None:
    """Refuse the script's own ``import ctypes`` even when a library has loaded ctypes already.

    Modules already loaded never reach the audit hook's import event, so the import statement
    itself is checked. This is a clear early answer, not a boundary: every use of these modules
    is refused anyway.
    """
    import builtins

    original = builtins.__import__

    def guarded_import(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        caller = sys._getframe(1).f_code.co_filename
        if (
            level == 0
            and _names_module_in(name, _SCRIPT_BLOCKED_MODULES)
            and not (caller.startswith("/") and _under(os.path.normpath(caller), roots))
        ):
            raise PermissionError(f"Execute Python Script does not allow importing {name!r}")
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import


def _names_module_in(name: str, modules: frozenset[str]) -> bool:
    parts = name.split(".")
    return any(p in modules or ".".join(parts[: i + 1]) in modules for i, p in enumerate(parts))


def _make_audit_hook(roots: tuple[str, ...]) -> Any:
    """The hook and everything it uses are bound here, so the script cannot patch them.

    It looks up no global or builtin name when called, turns str/bytes subclasses into exact
    strings before looking at them, and fails closed: any exception in it refuses the event.
    """
    import importlib

    refused_events, always, by_script = _REFUSED_EVENTS, _ALWAYS_BLOCKED_MODULES, _SCRIPT_BLOCKED_MODULES
    write_flags, str_, bytes_, isinstance_, fspath = _WRITE_FLAGS, str, bytes, isinstance, os.fspath
    everything, error, getframe = slice(None), PermissionError, sys._getframe
    import_machinery = ("<frozen importlib", os.path.dirname(importlib.__file__) + "/", __file__)

    def exact(value: Any) -> Any:
        if isinstance_(value, str_):
            return str_.__getitem__(value, everything)
        if isinstance_(value, bytes_):
            return bytes_.decode(bytes_.__getitem__(value, everything), "utf-8", "surrogateescape")
        return None

    def readable(path: Any) -> bool:
        text = exact(path) if isinstance_(path, (str_, bytes_)) else exact(fspath(path))
        if text is None or not text.startswith("/"):
            return False
        parts: list[str] = []
        for part in text.split("/"):
            if part == "..":
                parts = parts[:-1]
            elif part not in ("", "."):
                parts = [*parts, part]
        clean = "/" + "/".join(parts)
        return any(clean == root or clean.startswith(root + "/") or root == "/" for root in roots)

    def imported_by_script() -> bool:
        """The nearest frame outside importlib (and our import guard) is not library code."""
        frame: FrameType | None = getframe(3)  # 0 this, 1 check_import, 2 hook, 3 whoever raised the event
        while frame is not None:
            filename = frame.f_code.co_filename
            if not filename.startswith(import_machinery):
                return not readable(filename)
            frame = frame.f_back
        return True

    def check_import(name: Any) -> None:
        prefix = ""
        for part in exact(name).split("."):
            prefix = part if prefix == "" else prefix + "." + part
            if (
                part in always
                or prefix in always
                or ((part in by_script or prefix in by_script) and imported_by_script())
            ):
                raise error(f"Execute Python Script does not allow importing {prefix!r}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "ctypes.dlopen" and args[0] is None:
            return  # what importing ctypes does; calling anything through it stays refused
        if event.startswith(refused_events):
            raise error(f"Execute Python Script does not allow {event}")
        if event == "open":
            path, mode, flags = args
            if isinstance_(path, int):
                raise error("Execute Python Script does not allow opening file descriptors")
            if (isinstance_(flags, int) and flags & write_flags) or (
                isinstance_(mode, str_) and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
            ):
                raise error(f"Execute Python Script does not allow writing files ({path!r})")
            if not readable(path):
                raise error(f"Execute Python Script does not allow reading {path!r}")
        elif event in ("os.listdir", "os.scandir") and not readable(args[0]):
            raise error(f"Execute Python Script does not allow listing {args[0]!r}")
        elif event == "import":
            check_import(args[0])
        elif event == "mmap.__new__" and args[0] != -1:
            raise error("Execute Python Script does not allow mapping files")

    return hook


if __name__ == "__main__":
    _child_main()
