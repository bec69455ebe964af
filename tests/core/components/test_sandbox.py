"""The sandbox's own mechanics: the audit hook's rules, the kernel layers, limits and the wire.

What a script may and may not do, end to end, is proved in
tests/core/components/test_scripting.py through Execute Python Script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.components import sandbox

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def hook() -> Any:
    """The audit hook as a plain function: called directly, never installed in this process."""
    return sandbox._make_audit_hook(tuple(sandbox._readable_roots()))


class TrickyPath(str):
    """A path whose methods lie, to check the hook looks at the real characters."""

    def startswith(self, *args: Any) -> bool:
        return True

    def split(self, *args: Any) -> list[str]:
        return [sys.prefix]


def test_hook_allows_reading_the_python_installation(hook: Any) -> None:
    hook("open", (os.__file__, "r", os.O_RDONLY))
    hook("open", (Path(pd.__file__), "rb", os.O_RDONLY))
    hook("os.listdir", (os.path.dirname(os.__file__),))
    hook("compile", (b"", "<x>"))


@pytest.mark.parametrize(
    "args",
    [
        ("/etc/passwd", "r", os.O_RDONLY),
        ("etc/passwd", "r", os.O_RDONLY),
        (sys.prefix + "/../../../../../etc/passwd", "r", os.O_RDONLY),
        (b"/proc/1/environ", "rb", os.O_RDONLY),
        (TrickyPath("/etc/passwd"), "r", os.O_RDONLY),
        (os.__file__, "w", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (os.__file__, None, os.O_RDWR),
        (os.__file__, "a", os.O_WRONLY | os.O_APPEND),
        (3, "rb", os.O_RDONLY),
    ],
)
def test_hook_refuses_other_reads_and_every_write(hook: Any, args: tuple[Any, ...]) -> None:
    with pytest.raises(PermissionError, match="Execute Python Script does not allow"):
        hook("open", args)


@pytest.mark.parametrize(
    "event, args",
    [
        ("socket.connect", (None, ("127.0.0.1", 80))),
        ("subprocess.Popen", ("sh", [], None, None)),
        ("os.system", (b"ls",)),
        ("os.exec", ("/bin/sh", [], None)),
        ("os.fork", ()),
        ("os.posix_spawn", ("/bin/sh", [], None)),
        ("ctypes.dlopen", ("libc.so.6",)),
        ("ctypes.call_function", (0, ())),
        ("os.remove", ("/tmp/x", -1)),
        ("shutil.rmtree", ("/tmp",)),
        ("urllib.Request", ("http://x", None, {}, "GET")),
        ("sys.settrace", ()),
        ("gc.get_objects", ()),
        ("os.listdir", ("/",)),
        ("os.kill", (1, 9)),
        ("mmap.__new__", (5, 10, 0, 0)),
    ],
)
def test_hook_refuses_dangerous_events(hook: Any, event: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(PermissionError):
        hook(event, args)


def test_hook_refuses_imports_from_the_script_but_not_from_libraries(hook: Any) -> None:
    with pytest.raises(PermissionError, match="importing 'ctypes'"):
        hook("import", ("ctypes", None, [], [], []))
    with pytest.raises(PermissionError, match=r"importing 'urllib\.request'"):
        hook("import", ("urllib.request", None, [], [], []))
    hook("import", ("urllib.parse", None, [], [], []))
    # called from code under the installation (as a library would), subprocess is fine...
    library = compile("hook('import', ('subprocess', None, [], [], []))", os.__file__, "exec")
    exec(library, {"hook": hook})  # noqa: S102
    # ...but the unaudited fork primitive is refused whoever asks
    refused = compile("hook('import', ('x._posixsubprocess', None, [], [], []))", os.__file__, "exec")
    with pytest.raises(PermissionError, match="_posixsubprocess"):
        exec(refused, {"hook": hook})  # noqa: S102


def test_seccomp_program_resolves_every_jump() -> None:
    program = sandbox._seccomp_program(1234)
    assert program[0] == (0x20, 0, 0, 4)  # load the architecture first
    for index, (op, jt, jf, _) in enumerate(program):
        if op in (0x15, 0x35, 0x45):
            assert 0 <= jt < 256 and 0 <= jf < 256
            assert index + 1 + max(jt, jf) < len(program)
    assert program[-1][0] == 0x06  # ends on a return


KERNEL_PROBE = """
import os, socket, sys
sys.path.insert(0, {root!r})
from core.components import sandbox
layers = sandbox._kernel_confinement(sandbox._readable_roots())
print("layers:", layers)
def attempt(name, action):
    try:
        action()
        print(name, "ALLOWED")
    except OSError as exc:
        print(name, "refused", exc.errno)
attempt("read", lambda: open("/etc/hostname").read())
attempt("write", lambda: open({target!r}, "w"))
attempt("socket", lambda: socket.socket())
attempt("fork", lambda: os.fork())
attempt("signal", lambda: os.kill(os.getppid(), 0))
attempt("stdlib", lambda: open(os.__file__).close())
print("system", os.system("true"))
"""


def test_kernel_layers_refuse_without_the_audit_hook(tmp_path: Path) -> None:
    """Landlock and seccomp hold on their own, for code that gets past the audit hook."""
    target = tmp_path / "written-by-child.txt"
    code = KERNEL_PROBE.format(root=str(ROOT), target=str(target))
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=30, env={}, check=False
    ).stdout
    assert "'seccomp'" in out
    for action in ("write", "socket", "fork", "signal"):
        assert f"{action} refused" in out
    assert "stdlib ALLOWED" in out
    assert "system 0" not in out  # the shell could not be started
    if "Landlock ABI" in out:
        assert "read refused" in out
    assert not target.exists()


def test_results_prints_and_truncated_output() -> None:
    script = (
        "import pandas as pd\n"
        "def azureml_main(dataframe1 = None, dataframe2 = None):\n"
        "    print('rows', len(dataframe1))\n"
        "    print('x' * 100_000)\n"
        "    return dataframe1.assign(b=dataframe1['a'] * 2), pd.DataFrame({1: ['y']})\n"
    )
    frame = pd.DataFrame({"a": [1, 2]})
    frame.attrs["label"] = "a"
    result = sandbox.run_script(script, [frame, None])
    assert result.frames[0]["b"].tolist() == [2, 4]
    assert result.frames[0].attrs == {}
    assert list(result.frames[1].columns) == ["1"]
    assert result.log.startswith("rows 2\n")
    assert result.log_truncated and len(result.log) <= sandbox.MAX_LOG_BYTES
    assert "audit hook" in result.confinement and "seccomp" in result.confinement


def test_timeout_kills_the_process() -> None:
    start = time.monotonic()
    with pytest.raises(sandbox.ScriptTimeout, match="within 2 seconds") as caught:
        sandbox.run_script(
            "def azureml_main(a=None, b=None):\n    print('spinning')\n    while True:\n        pass\n",
            [],
            timeout=2,
        )
    assert time.monotonic() - start < 10
    assert caught.value.log == "spinning\n"


def test_memory_cap_is_reported_as_a_script_error() -> None:
    with pytest.raises(sandbox.ScriptError, match="MemoryError"):
        sandbox.run_script(
            "def azureml_main(a=None, b=None):\n    block = bytearray(2 * 1024**3)\n",
            [],
            memory_bytes=256 * 1024**2,
        )


def test_wire_format_round_trip() -> None:
    packed = sandbox._pack({"outputs": [3, None, 2]}, [b"abc", b"de"])
    header, blobs = sandbox._unpack(packed, "outputs")
    assert sandbox._assign(header["outputs"], blobs) == [b"abc", None, b"de"]
    with pytest.raises(ValueError):
        sandbox._unpack(packed + b"extra", "outputs")
