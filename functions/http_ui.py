"""The designer's static files (built into ``web/dist`` by ``scripts/setup.sh`` or the azd hook).

One anonymous GET route serves them under ``/api/ui/``: hashed assets are cached for a year,
the HTML never without revalidation, and any other path under it gets the app shell so that
client-side routes (``/api/ui/drafts/<id>``) load on refresh. The API itself needs the key.
"""

from __future__ import annotations

from pathlib import Path

import azure.functions as func

from functions.common import ROOT
from functions.openapi import api

bp = func.Blueprint()

DIST = ROOT / "web" / "dist"
UI_ROOT = "/api/ui/"
# Set here, not guessed: module scripts need a JavaScript type, and mimetypes knows no .map.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json; charset=utf-8",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HTML_HEADERS = {
    "Cache-Control": "no-cache",
    # Everything is same-origin: scripts and styles from the bundle, plots as blob: URLs.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Frame-Options": "DENY",
}


@bp.route(route="ui/{*path}", methods=["GET", "HEAD"], auth_level=func.AuthLevel.ANONYMOUS)
@api(
    "The designer's files: hashed assets, or the app shell for any other path",
    security="anonymous",
    response={"text/html": None, "text/javascript": None, "text/css": None},
    errors=(404, 503),
)
def ui(req: func.HttpRequest) -> func.HttpResponse:
    return serve(req.route_params.get("path") or "", req.url, DIST)


def serve(path: str, url: str, dist: Path) -> func.HttpResponse:
    """The file at ``path`` under ``dist``, the app shell for a client route, or 404."""
    if not path and not url.split("?", 1)[0].endswith("/"):
        return func.HttpResponse(status_code=308, headers={"Location": UI_ROOT})
    parts = tuple(p for p in path.split("/") if p)
    if any(p in ("..", ".") or "\\" in p or ":" in p for p in parts) or path.startswith("/"):
        return _not_found("Not a path under the designer")
    target = dist.joinpath(*parts) if parts else dist / "index.html"
    if parts and parts[0] == "assets":
        if not target.is_file() or not _inside(target, dist):
            return _not_found("No such asset (the UI was rebuilt: reload the page)")
        return _file(target, IMMUTABLE)
    if target.is_file() and _inside(target, dist) and target.name != "index.html":
        return _file(target, "no-cache")
    shell = dist / "index.html"
    if not shell.is_file():
        return func.HttpResponse(
            "The designer is not built: run `bash scripts/setup.sh` (or `npm run build` in web/).",
            status_code=503,
            mimetype="text/plain",
        )
    return _file(shell, "no-cache", HTML_HEADERS)


def _inside(target: Path, dist: Path) -> bool:
    return target.resolve().is_relative_to(dist.resolve())


def _file(target: Path, cache: str, extra: dict[str, str] | None = None) -> func.HttpResponse:
    content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
    headers = {**SECURITY_HEADERS, "Cache-Control": cache, **(extra or {}), "Content-Type": content_type}
    return func.HttpResponse(target.read_bytes(), status_code=200, headers=headers)


def _not_found(message: str) -> func.HttpResponse:
    return func.HttpResponse(
        message,
        status_code=404,
        mimetype="text/plain",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )
