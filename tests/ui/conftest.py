"""The designer in a real Chromium (the OS's: Playwright downloads no browser) against the
real local host and Azurite."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, expect, sync_playwright

from tests.conftest import ROOT
from tests.e2e.conftest import FUNCTION_KEY, host_clock, host_url  # noqa: F401 - the shared local host fixtures

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / ".local" / "screenshots"
# Assertions wait for the UI; on two shared cores the first sample registration alone can take
# several seconds, so allow more than Playwright's default 5 s.
expect.set_options(timeout=20_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def built_ui() -> None:
    """The bundle the host serves: built by setup.sh; built here if a checkout skipped it."""
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        npm = shutil.which("npm") or "npm"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT / "web", check=True)
        subprocess.run(["node", "build.mjs"], cwd=ROOT / "web", check=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"the UI tests need Chromium at {CHROMIUM}: run `bash scripts/test.sh` as root (it installs "
            "it) or `apt-get install -y chromium fonts-dejavu-core`",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


# Playwright's sync API keeps an event loop marked running in this thread while it is started.
# pytest-playwright starts it once per session; the suite's workers (pytest-xdist) also run
# other files after a UI file, and those call asyncio.run. So Playwright lives per UI module:
# these four replace the plugin's session fixtures of the same names with module ones.
@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts) -> Iterator[Playwright]:
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args: dict, browser_type: BrowserType) -> Callable[..., Browser]:
    return lambda **kwargs: browser_type.launch(**{**browser_type_launch_args, **kwargs})


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def browser_context_args() -> dict:
    """Every page at the size the screenshots and layouts assume (the plugin's own version
    reads device presets from the session's Playwright, which lives per module here)."""
    return {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def api(host_url: str) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(
        base_url=f"{host_url}/api", headers={"x-functions-key": FUNCTION_KEY}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def ui(host_url: str) -> str:  # noqa: F811
    """The designer's base URL; open `ui + path + key_fragment()` to arrive signed in."""
    return f"{host_url}/api/ui"


@pytest.fixture
def shot(request):
    """shot("step") saves a screenshot as .local/screenshots/<test>/<n>-<step>.png."""
    folder = SCREENSHOTS / request.node.name.replace("/", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    count = [0]

    def take(page, step: str) -> Path:
        count[0] += 1
        path = folder / f"{count[0]:02d}-{step}.png"
        page.screenshot(path=path)
        return path

    return take


@pytest.fixture
def docs_shot():
    """docs_shot(page, "canvas") writes docs/canvas.png for the README when
    UPDATE_DOCS_SCREENSHOTS=1 (the images are committed; a normal run leaves them alone)."""

    def take(page, name: str) -> None:
        if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
            (ROOT / "docs").mkdir(exist_ok=True)
            page.screenshot(path=ROOT / "docs" / f"{name}.png")

    return take


def signed_in(path: str = "/") -> str:
    return f"{path}#key={FUNCTION_KEY}"


@pytest.fixture(autouse=True)
def browser_log(request):
    """The page's console, errors and API answers, saved beside the screenshots."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    lines: list[str] = []
    page.on("console", lambda m: lines.append(f"console.{m.type}: {m.text}"))
    page.on("pageerror", lambda e: lines.append(f"pageerror: {e}"))
    page.on(
        "response",
        lambda r: lines.append(f"{r.request.method} {r.url} {r.status}") if "/api/ui" not in r.url else None,
    )
    yield
    folder = SCREENSHOTS / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "browser.log").write_text("\n".join(lines))
