"""Canvas speed in headless Chromium: a 200-node draft against the tutorial (8 nodes) and an empty one.

    python -m benchmarks.canvas [--quick]

For each draft, in a fresh page each time: the time from navigation to a rendered,
interactive canvas (every node of the draft in the DOM and measured, then two animation frames;
also from the moment the draft's JSON arrived, which leaves the API's own time out),
and the frame intervals while a node is dragged and while the canvas is panned with real mouse
moves, at the zoom the draft opens with and, for the large draft, zoomed out until all of its
nodes are in view (the worst case). The ratios compare the 200-node draft with the tutorial and
the empty canvas measured in the same run, on the same browser and host.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from typing import Any

from benchmarks.harness import (
    CpuAudit,
    environment,
    local_stack,
    percentile,
    print_closing,
    ratio,
    summary,
    table,
    tutorial,
    wait_for_quiet,
    write_results,
)

NAME = "canvas"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Where the tutorial's nodes sit in one copy; copies tile a 5-wide grid.
GRID = {
    "automobile": (0, 0),
    "select": (240, 0),
    "clean": (480, 0),
    "split": (0, 150),
    "learner": (240, 150),
    "train": (480, 150),
    "score": (0, 300),
    "evaluate": (240, 300),
}

# Frame timestamps from requestAnimationFrame, recorded in the page while a gesture runs.
FRAME_RECORDER = """() => { window.__frames = []; window.__recording = true;
  const tick = (t) => {
    if (!window.__recording) return; window.__frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
FRAME_STOP = "() => { window.__recording = false; return window.__frames; }"
# Ready: the draft is on the canvas, every node React Flow renders is laid out (a large draft
# opens at a readable zoom, so only the nodes in view are in the DOM).
READY = """(n) => { const nodes = document.querySelectorAll('.react-flow__node');
  if (n === 0) return document.querySelector('.empty-hint') !== null
    && document.querySelector('.react-flow__pane') !== null;
  return nodes.length > 0 && [...nodes].every((e) => e.offsetWidth > 0)
    && document.querySelector('.react-flow__viewport').style.transform !== ''; }"""


def copies(count: int) -> dict[str, Any]:
    """``count`` copies of the tutorial pipeline (8 nodes each), laid out on a grid."""
    base = tutorial()
    nodes, edges = [], []
    for k in range(count):
        ox, oy = (k % 5) * 760, (k // 5) * 470
        for n in base["nodes"]:
            x, y = GRID[n["id"]]
            nodes.append({**n, "id": f"{n['id']}_{k}", "position": {"x": ox + x, "y": oy + y}})
        for e in base["edges"]:
            s, _, sp = e["source"].partition(".")
            t, _, tp = e["target"].partition(".")
            edges.append({"source": f"{s}_{k}.{sp}", "target": f"{t}_{k}.{tp}"})
    return {"name": f"{len(nodes)} nodes", "nodes": nodes, "edges": edges}


def frame_stats(stamps: list[float]) -> dict[str, float]:
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    if not gaps:
        return {"frames": len(stamps)}
    return {
        "frames": len(stamps),
        "p50_ms": percentile(gaps, 50),
        "p95_ms": percentile(gaps, 95),
        "max_ms": max(gaps),
        "over_50ms": sum(g > 50 for g in gaps),
    }


def gesture(page, start: tuple[float, float], end: tuple[float, float], steps: int) -> dict[str, float]:
    """A real mouse drag from ``start`` to ``end`` in ``steps`` moves, frames recorded meanwhile."""
    page.mouse.move(*start)
    page.evaluate(FRAME_RECORDER)
    t0 = time.perf_counter()
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(
            start[0] + (end[0] - start[0]) * i / steps, start[1] + (end[1] - start[1]) * i / steps
        )
    page.mouse.up()
    page.wait_for_timeout(100)
    stats = frame_stats(page.evaluate(FRAME_STOP))
    stats["gesture_s"] = time.perf_counter() - t0
    return stats


def measure(browser, url: str, nodes: int, steps: int) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(url)
        page.wait_for_function(READY, arg=nodes, timeout=60000, polling="raf")
        ready_ms = page.evaluate(
            "() => new Promise((r) => requestAnimationFrame(() => "
            "requestAnimationFrame(() => r(performance.now()))))"
        )
        received = page.evaluate(
            "() => performance.getEntriesByName('designer:draft-received')[0]?.startTime ?? null"
        )
        rendered = page.locator(".react-flow__node").count()
        box = page.locator(".react-flow__pane").bounding_box()
        pan = gesture(
            page,
            (box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.9),
            (box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6),
            steps,
        )
        drag = None
        if nodes:
            node = page.locator(".react-flow__node").first.bounding_box()
            start = (node["x"] + node["width"] / 2, node["y"] + 6)
            drag = gesture(page, start, (start[0] + 200, start[1] + 120), steps)
        result = {
            "ready_ms": ready_ms,
            "render_ms": ready_ms - received if received is not None else None,
            "nodes_in_dom": rendered,
            "pan": pan,
            "drag": drag,
        }
        if nodes > 8:  # the worst case: zoomed out until every node is in view (and in the DOM)
            page.get_by_role("button", name="Fit view", exact=True).click()
            page.wait_for_function(
                "(n) => document.querySelectorAll('.react-flow__node').length === n", arg=nodes, timeout=60000
            )
            page.wait_for_timeout(400)
            box = page.locator(".react-flow__pane").bounding_box()
            result["all_in_view"] = {
                "pan": gesture(
                    page,
                    (box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.97),
                    (box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.8),
                    steps,
                )
            }
            node = page.locator(".react-flow__node").first.bounding_box()
            start = (node["x"] + node["width"] / 2, node["y"] + 2)
            result["all_in_view"]["drag"] = gesture(page, start, (start[0] + 120, start[1] + 80), steps)
        return result
    finally:
        page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.canvas", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (2 repetitions)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="page loads per draft (default 7; quick: 2)"
    )
    parser.add_argument("--nodes", type=int, default=200, help="nodes of the large draft (a multiple of 8)")
    parser.add_argument(
        "--max-wait-quiet",
        type=float,
        default=None,
        help="seconds to wait for other processes to go quiet first (default 300; quick: 30)",
    )
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    quiet = wait_for_quiet(
        args.max_wait_quiet if args.max_wait_quiet is not None else 30 if args.quick else 300
    )
    repeats = args.repeats or (2 if args.quick else 7)
    steps = 30 if args.quick else 60
    began = time.monotonic()
    audit = CpuAudit()
    drafts = {
        "empty": {"name": "empty", "nodes": [], "edges": []},
        "tutorial": copies(1),
        "large": copies(max(1, args.nodes // 8)),
    }
    measured: dict[str, list[dict[str, Any]]] = {k: [] for k in drafts}
    with local_stack(NAME, log_level="warning") as stack, stack.api() as api, sync_playwright() as pw:
        api.post("/samples/automobile-price-raw").raise_for_status()
        ids = {k: api.post("/pipelines", json=d).raise_for_status().json()["id"] for k, d in drafts.items()}
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            fragment = f"#key={stack.function_key}"
            for name in drafts:  # one warm-up load each: the bundle and the catalogue in cache
                measure(
                    browser, f"{stack.url}/api/ui/drafts/{ids[name]}{fragment}", len(drafts[name]["nodes"]), 5
                )
            for i in range(repeats):
                for name, doc in drafts.items():
                    measured[name].append(
                        measure(
                            browser,
                            f"{stack.url}/api/ui/drafts/{ids[name]}{fragment}",
                            len(doc["nodes"]),
                            steps,
                        )
                    )
                print(
                    f"  {i + 1}/{repeats}: "
                    + ", ".join(f"{k} {v[-1]['ready_ms']:.0f} ms" for k, v in measured.items()),
                    file=sys.stderr,
                )
        finally:
            browser.close()
        rss = stack.peak_rss()

    def agg(name: str, key: str, stat: str) -> float | None:
        values = [m[key][stat] for m in measured[name] if m.get(key) and stat in m[key]]
        return summary(values)["median"] if values else None

    ready = {k: summary([m["ready_ms"] for m in v]) for k, v in measured.items()}
    render = {k: summary([m["render_ms"] for m in v]) for k, v in measured.items()}
    frames = {
        k: {
            g: {s: agg(k, g, s) for s in ("p50_ms", "p95_ms", "max_ms", "over_50ms", "frames")}
            for g in ("pan", "drag")
        }
        for k in measured
    }
    zoomed_out = [m["all_in_view"] for m in measured["large"] if "all_in_view" in m]
    frames["large_all_in_view"] = (
        {
            g: {
                s: summary([z[g][s] for z in zoomed_out if s in z[g]])["median"]
                for s in ("p50_ms", "p95_ms", "max_ms", "over_50ms", "frames")
            }
            for g in ("pan", "drag")
        }
        if zoomed_out
        else None
    )
    cpu = audit.stop()
    results = {
        "benchmark": NAME,
        "mode": "quick" if args.quick else "full",
        "repeats": repeats,
        "mouse_steps": steps,
        "nodes": {k: len(d["nodes"]) for k, d in drafts.items()},
        "environment": {**environment(), "chromium": _chromium_version()},
        "ready_ms": ready,
        "render_after_draft_received_ms": render,
        "frames_median": frames,
        "ratios": {
            "ready_large_over_tutorial": ratio(ready["large"]["median"], ready["tutorial"]["median"]),
            "ready_large_over_empty": ratio(ready["large"]["median"], ready["empty"]["median"]),
            "render_large_over_tutorial": ratio(render["large"]["median"], render["tutorial"]["median"]),
            "pan_p95_large_over_tutorial": ratio(
                frames["large"]["pan"]["p95_ms"], frames["tutorial"]["pan"]["p95_ms"]
            ),
            "pan_p95_large_over_empty": ratio(
                frames["large"]["pan"]["p95_ms"], frames["empty"]["pan"]["p95_ms"]
            ),
            "drag_p95_large_over_tutorial": ratio(
                frames["large"]["drag"]["p95_ms"], frames["tutorial"]["drag"]["p95_ms"]
            ),
            "drag_p95_large_all_in_view_over_tutorial": ratio(
                (frames["large_all_in_view"] or {}).get("drag", {}).get("p95_ms"),
                frames["tutorial"]["drag"]["p95_ms"],
            ),
            "pan_p95_large_all_in_view_over_tutorial": ratio(
                (frames["large_all_in_view"] or {}).get("pan", {}).get("p95_ms"),
                frames["tutorial"]["pan"]["p95_ms"],
            ),
        },
        "runs": measured,
        "peak_rss": rss,
        "cpu_audit": cpu,
        "quiet_at_start": quiet,
        "elapsed_s": time.monotonic() - began,
    }
    path = write_results(NAME, results)
    n = results["nodes"]
    print(f"\nCanvas in headless Chromium at 1280x800, {repeats} loads per draft, medians\n")
    print(
        table(
            ["draft", "nodes", "ready ms", "render ms", "pan p50/p95 ms", "drag p50/p95 ms", "drag max ms"],
            [
                [
                    k,
                    n[k],
                    ready[k]["median"],
                    render[k]["median"],
                    _pair(frames[k]["pan"]),
                    _pair(frames[k]["drag"]),
                    frames[k]["drag"]["max_ms"],
                ]
                for k in drafts
            ]
            + (
                [
                    [
                        f"large, all {n['large']} in view",
                        n["large"],
                        None,
                        None,
                        _pair(frames["large_all_in_view"]["pan"]),
                        _pair(frames["large_all_in_view"]["drag"]),
                        frames["large_all_in_view"]["drag"]["max_ms"],
                    ]
                ]
                if frames["large_all_in_view"]
                else []
            ),
        )
    )
    print()
    print(table(["ratio", "value"], [[k, v] for k, v in results["ratios"].items()]))
    print_closing(path, results, cpu)
    return 0


def _pair(stats: dict[str, float | None]) -> str:
    if stats.get("p50_ms") is None:
        return "-"
    return f"{stats['p50_ms']:.1f} / {stats['p95_ms']:.1f}"


def _chromium_version() -> str | None:
    import subprocess

    try:
        return subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
