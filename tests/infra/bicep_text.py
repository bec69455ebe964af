"""Small, dependency-free readers for the Bicep files in infra/.

The main test venv has no Bicep tooling (pycep lives in .venv-iac), so the
contract tests read the few structures they need straight from the text:
the top-level keys of an object variable and the declared parameters.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"

_KEY_RE = re.compile(r"^\s*(?:'([^']+)'|([A-Za-z_][A-Za-z0-9_]*))\s*:")
_PARAM_RE = re.compile(r"^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+(\w+)(\s*=)?", re.MULTILINE)


def strip_comments(source: str) -> str:
    """Remove // line comments and /* */ blocks, leaving strings intact."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "'":
            j = i + 1
            while j < n and source[j] != "'":
                j += 2 if source[j] == "\\" else 1
            out.append(source[i:j + 1])
            i = j + 1
        elif source.startswith("//", i):
            while i < n and source[i] != "\n":
                i += 1
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def object_body(source: str, var_name: str) -> str:
    """The text between the braces of ``var <var_name> = { ... }``."""
    text = strip_comments(source)
    match = re.search(rf"^var\s+{re.escape(var_name)}\s*=\s*\{{", text, re.MULTILINE)
    if not match:
        raise KeyError(f"no object variable {var_name!r}")
    depth, i = 1, match.end()
    start = i
    in_string = False
    while i < len(text) and depth:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == "'":
                in_string = False
        elif ch == "'":
            in_string = True
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        i += 1
    return text[start:i - 1]


def object_keys(source: str, var_name: str) -> list[str]:
    """Top-level keys of ``var <var_name> = { ... }`` in declaration order."""
    body = object_body(source, var_name)
    keys: list[str] = []
    depth = 0
    in_string = False
    line_start = True
    line = []
    for ch in body + "\n":
        if ch == "\n":
            if depth == 0:
                m = _KEY_RE.match("".join(line))
                if m and line_start:
                    keys.append(m.group(1) or m.group(2))
            line = []
            line_start = depth == 0
            continue
        if depth == 0:
            line.append(ch)
        if in_string:
            if ch == "'":
                in_string = False
            continue
        if ch == "'":
            in_string = True
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
    return keys


def params(source: str) -> dict[str, bool]:
    """Declared parameters -> whether each has a default value."""
    text = strip_comments(source)
    return {m.group(1): bool(m.group(3)) for m in _PARAM_RE.finditer(text)}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def all_bicep_sources() -> dict[Path, str]:
    return {p: read(p) for p in sorted(INFRA.rglob("*.bicep"))}
