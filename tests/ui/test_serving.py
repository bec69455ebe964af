"""The real local host serves the designer: anonymous static files under /api/ui/, the API
still behind the key, same origin."""

from __future__ import annotations

import re

import httpx

from tests.conftest import ROOT


def test_the_local_host_serves_the_shell_and_its_assets_anonymously(host_url: str) -> None:
    with httpx.Client(base_url=host_url, timeout=30) as http:
        shell = http.get("/api/ui/")
        assert shell.status_code == 200
        assert shell.headers["content-type"].startswith("text/html")
        assert shell.headers["cache-control"] == "no-cache"
        assets = re.findall(r'(?:src|href)="(/api/ui/assets/[^"]+)"', shell.text)
        assert {a.rsplit(".", 1)[1] for a in assets} == {"js", "css"}
        for asset in assets:
            answer = http.get(asset)
            assert answer.status_code == 200
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
            kind = "text/javascript" if asset.endswith(".js") else "text/css"
            assert answer.headers["content-type"].startswith(kind)
            assert answer.content == (ROOT / "web" / "dist" / asset.removeprefix("/api/ui/")).read_bytes()

        assert http.get("/api/ui/runs/some-run").text == shell.text  # client route: the shell
        assert http.get("/api/ui").status_code == 308
        assert http.get("/api/ui/assets/app-NOPE.js").status_code == 404
        assert http.get("/api/ui/assets/..%2F..%2Ffunction_app.py").status_code == 404
        assert http.get("/api/components").status_code == 401  # the API still needs the key
