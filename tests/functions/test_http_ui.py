"""The designer's static files: content types, caching, the app shell, refusals."""

from __future__ import annotations

from pathlib import Path

import azure.functions as func
import pytest

from functions import http_ui
from functions.http_ui import serve

SHELL = b"<!doctype html><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(SHELL)
    (tmp_path / "assets" / "app-ABC123.js").write_text("export {};")
    (tmp_path / "assets" / "app-ABC123.js.map").write_text("{}")
    (tmp_path / "assets" / "app-DEF456.css").write_text("body{}")
    (tmp_path / "assets" / "logo-1A2B.svg").write_text("<svg/>")
    (tmp_path / "assets" / "shot-9Z.png").write_bytes(b"\x89PNG")
    (tmp_path.parent / "secret.txt").write_text("no")
    return tmp_path


def get(dist: Path, path: str) -> func.HttpResponse:
    return serve(path, f"http://127.0.0.1/api/ui/{path}", dist)


@pytest.mark.parametrize(
    "name, content_type",
    [
        ("app-ABC123.js", "text/javascript; charset=utf-8"),
        ("app-ABC123.js.map", "application/json; charset=utf-8"),
        ("app-DEF456.css", "text/css; charset=utf-8"),
        ("logo-1A2B.svg", "image/svg+xml"),
        ("shot-9Z.png", "image/png"),
    ],
)
def test_hashed_assets_have_their_type_and_are_cached_for_a_year(dist, name, content_type):
    r = get(dist, f"assets/{name}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == content_type
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.get_body() == (dist / "assets" / name).read_bytes()


@pytest.mark.parametrize("path", ["", "index.html", "drafts/abc", "runs/r1", "experiments/x/y"])
def test_the_shell_answers_the_root_and_client_routes_without_caching(dist, path):
    r = get(dist, path)
    assert r.status_code == 200
    assert r.get_body() == SHELL
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_a_missing_hashed_asset_is_404_not_the_shell(dist):
    r = get(dist, "assets/app-OLD.js")
    assert r.status_code == 404
    assert r.get_body() != SHELL


@pytest.mark.parametrize(
    "path", ["../secret.txt", "assets/../../secret.txt", "a/./b", "assets\\..\\x", "/etc/passwd", "C:/x"]
)
def test_path_traversal_is_refused(dist, path):
    r = get(dist, path)
    assert r.status_code == 404
    assert r.get_body() != b"no"


def test_the_bare_prefix_redirects_to_the_slash(dist):
    r = serve("", "http://127.0.0.1/api/ui", dist)
    assert r.status_code == 308
    assert r.headers["Location"] == "/api/ui/"


def test_an_unbuilt_ui_says_how_to_build_it(tmp_path):
    r = serve("", "http://127.0.0.1/api/ui/", tmp_path)
    assert r.status_code == 503
    assert b"setup.sh" in r.get_body()


def test_the_function_is_anonymous_get_on_a_catch_all_route():
    [fn] = [f for f in http_ui.bp._function_builders]
    built = fn.build()
    trigger = next(b for b in built.get_bindings() if b.type == "httpTrigger")
    assert trigger.route == "ui/{*path}"
    assert trigger.auth_level == func.AuthLevel.ANONYMOUS
    assert {str(m) for m in trigger.methods} <= {"GET", "HEAD", "HttpMethod.GET", "HttpMethod.HEAD"}
