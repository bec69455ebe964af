"""App settings and host configuration, read the way ``func start`` reads them.

``local.settings.json`` ``Values`` become environment variables unless the
environment already has them (the environment wins, as with Core Tools), and
``host.json`` provides the HTTP route prefix, the durable task hub name and how
many activities may run at once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

LOCAL_SETTINGS = "local.settings.json"
HOST_JSON = "host.json"


def apply_local_settings(app_dir: Path, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Copy ``Values`` of ``app_dir/local.settings.json`` into ``environ`` (default
    ``os.environ``) where not already set; return the values that were applied."""
    environ = os.environ if environ is None else environ
    path = app_dir / LOCAL_SETTINGS
    if not path.is_file():
        return {}
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("IsEncrypted"):
        raise ValueError(f"{path} is encrypted; devhost reads only plain-text settings")
    applied = {}
    for name, value in (document.get("Values") or {}).items():
        if name not in environ:
            applied[name] = environ[name] = "" if value is None else str(value)
    return applied


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    task_hub: str = "DevHostHub"
    max_concurrent_activities: int | None = None


def read_host_config(app_dir: Path, settings: Mapping[str, str]) -> HostConfig:
    """What devhost uses from host.json: ``extensions.http.routePrefix``,
    ``extensions.durableTask.hubName`` (``%SETTING%`` references resolved from the app
    settings, as the host does) and ``maxConcurrentActivityFunctions``."""
    path = app_dir / HOST_JSON
    if not path.is_file():
        return HostConfig()
    extensions = json.loads(path.read_text(encoding="utf-8")).get("extensions") or {}
    http, durable = extensions.get("http") or {}, extensions.get("durableTask") or {}
    defaults = HostConfig()
    hub = re.sub(r"%(\w+)%", lambda m: settings.get(m.group(1), ""), durable.get("hubName") or "")
    return HostConfig(
        route_prefix=http.get("routePrefix", defaults.route_prefix),
        task_hub=hub or defaults.task_hub,
        max_concurrent_activities=durable.get("maxConcurrentActivityFunctions"),
    )
