"""DevHost wiring: host.json is honoured and a busy port fails fast."""

import asyncio
import json
import socket

import httpx
import pytest

from devhost.server import DevHost, DevHostConfig, ListenError
from tests.devhost.helpers import APP_MODULE, FUNCTION_KEY


def test_a_busy_port_fails_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = DevHostConfig(app="module_that_is_never_imported", port=port, app_dir=tmp_path)
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            DevHost(config, settings={})


def test_route_prefix_and_task_hub_come_from_host_json(tmp_path):
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "extensions": {"http": {"routePrefix": "v1"}, "durableTask": {"hubName": "%HUB%"}},
            }
        )
    )
    config = DevHostConfig(
        app=APP_MODULE, port=0, workers="thread", function_key=FUNCTION_KEY, app_dir=tmp_path
    )
    host = DevHost(config, settings={"HUB": "PrefixHub"})
    try:

        async def get(path):
            transport = httpx.ASGITransport(app=host.asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.get(path)

        assert asyncio.run(get("/v1/public/ping")).text == "pong"
        assert asyncio.run(get("/api/public/ping")).status_code == 404
        assert host.task_hub == "PrefixHub"
        assert host.base_url.startswith("http://127.0.0.1:")
    finally:
        host.close()
