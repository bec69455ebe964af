"""The HTTP side of devhost, against a real uvicorn server on a loopback port."""

import asyncio
import json
import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.devhost import sample_app
from tests.devhost.helpers import FUNCTION_KEY, wait_until

KEY = {"x-functions-key": FUNCTION_KEY}


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server.base_url, timeout=10) as client:
        yield client


def wait_for_completion(http, url):
    """GET a durable status URL until it stops answering 202 (still running)."""

    def finished():
        response = http.get(url, headers=KEY)
        return response if response.status_code != 202 else None

    return wait_until(finished)


def test_readiness_probe(http):
    response = http.get("/admin/host/status")
    assert (response.status_code, response.json()) == (200, {"state": "Running"})


def test_function_level_needs_a_key(http):
    assert http.get("/api/hello/ann").status_code == 401
    wrong = http.get("/api/hello/ann", headers={"x-functions-key": "wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "Unauthorized"
    assert http.get("/api/hello/ann", headers=KEY).status_code == 200
    assert http.get("/api/hello/ann", params={"code": FUNCTION_KEY}).status_code == 200


def test_admin_level_needs_a_key(http):
    assert http.get("/api/admin-only").status_code == 401
    assert http.get("/api/admin-only", headers=KEY).status_code == 204


def test_request_is_built_like_the_worker_builds_it(http, live_server):
    response = http.post(
        "/api/hello/ann", params={"q": "1"}, content=b"payload", headers={**KEY, "x-test-agent": "pytest"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-served-by"] == "hello"
    assert response.json() == {
        "name": "ann",
        "params": {"q": "1"},
        "method": "POST",
        "url": f"{live_server.base_url}/api/hello/ann?q=1",
        "agent": "pytest",
        "body": "payload",
        "function": "hello",
    }


def test_anonymous_async_function_returning_str(http):
    response = http.get("/api/public/ping")
    assert (response.status_code, response.text) == (200, "pong")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/items/7", "item 7"),
        ("/api/items/special", "special"),
        ("/api/items/abc", "named abc"),
        ("/api/files/a/b/c.txt", "a/b/c.txt"),
    ],
)
def test_routing(http, path, body):
    response = http.get(path)
    assert (response.status_code, response.text) == (200, body)


def test_unknown_route_and_wrong_method(http):
    missing = http.get("/api/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NotFound"
    assert http.get("/elsewhere").status_code == 404
    wrong = http.put("/api/public/ping")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET" and wrong.json()["error"]["allowed"] == ["GET"]


def test_a_failing_function_gives_500_and_the_server_keeps_serving(http):
    response = http.get("/api/boom")
    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "FunctionError",
        "message": "Exception while executing function: Functions.boom",
        "type": "ValueError",
        "detail": "kaboom",
    }
    assert http.get("/api/public/ping").text == "pong"


def test_request_body_limit(http):
    too_big = b"x" * (1024 * 1024 + 1)
    response = http.post("/api/hello/ann", content=too_big, headers=KEY)
    assert response.status_code == 413 and response.json()["error"]["code"] == "PayloadTooLarge"


def test_sync_functions_do_not_block_the_server(http, live_server):
    sample_app.SLOW_STARTED.clear()
    slow = threading.Thread(target=lambda: httpx.get(f"{live_server.base_url}/api/slow?seconds=2"))
    slow.start()
    assert sample_app.SLOW_STARTED.wait(5)
    started = time.perf_counter()
    assert http.get("/api/public/ping").text == "pong"
    assert time.perf_counter() - started < 1.0  # answered while `slow` still sleeps
    slow.join()


def test_durable_client_starts_and_queries_orchestrations(http, live_server):
    started = http.post("/api/orchestrators/fan_out", json={"items": ["a", "b"], "seconds": 0})
    assert started.status_code == 202
    links = started.json()
    instance_id = links["id"]
    status_url = links["statusQueryGetUri"]
    assert started.headers["location"] == status_url
    webhooks = f"{live_server.base_url}/runtime/webhooks/durabletask"
    assert status_url.startswith(f"{webhooks}/instances/{instance_id}?")
    assert "code" not in parse_qs(urlparse(status_url).query)
    assert FUNCTION_KEY not in started.text + str(started.headers)
    assert live_server.host.asgi.rpc_token not in started.text + str(started.headers)

    done = wait_for_completion(http, status_url)
    assert done.status_code == 200
    assert done.json()["runtimeStatus"] == "Completed"
    assert [r["item"] for r in done.json()["output"]] == ["a", "b"]

    # the public webhook needs the key; client.get_status() inside a function does not
    assert http.get(status_url.split("?")[0]).status_code == 401
    via_function = http.get(f"/api/orchestrations/{instance_id}")
    assert via_function.status_code == 200
    assert via_function.json()["runtimeStatus"] == "Completed"
    assert http.get("/api/orchestrations/unknown-id").status_code == 404


def test_durable_client_errors_surface_in_the_function(http):
    unknown = http.post("/api/orchestrators/no_such_orchestrator")
    assert unknown.status_code == 500 and "doesn't exist" in unknown.json()["error"]["detail"]

    job = {"items": ["a"], "seconds": 0.5}
    first = http.post("/api/orchestrators/fan_out", params={"instanceId": "http-fixed"}, json=job)
    assert first.status_code == 202 and first.json()["id"] == "http-fixed"
    second = http.post("/api/orchestrators/fan_out", params={"instanceId": "http-fixed"}, json=job)
    assert second.status_code == 500 and "already exists" in second.json()["error"]["detail"]
    assert wait_for_completion(http, first.json()["statusQueryGetUri"]).status_code == 200


def test_durable_client_terminates_and_lists(http):
    started = http.post("/api/orchestrators/fan_out", json={"items": ["slow"], "seconds": 1})
    instance_id = started.json()["id"]
    terminated = http.post(f"/api/orchestrations/{instance_id}/terminate", params={"reason": "stop"})
    assert terminated.status_code == 202
    status = wait_for_completion(http, started.json()["statusQueryGetUri"]).json()
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "stop")
    assert http.post("/api/orchestrations/unknown/terminate").status_code == 500  # client raised

    listed = http.get(
        "/runtime/webhooks/durabletask/instances/", headers=KEY, params={"runtimeStatus": "Terminated"}
    ).json()
    assert [s["instanceId"] for s in listed] == [instance_id]


def test_public_durable_api_accepts_plain_json_and_reports_failures(http):
    started = http.post(
        "/runtime/webhooks/durabletask/orchestrators/lets_failure_through", headers=KEY, json="ignored"
    )
    assert started.status_code == 202
    url = started.json()["statusQueryGetUri"]
    failed = wait_for_completion(http, url)
    assert failed.status_code == 200 and failed.json()["runtimeStatus"] == "Failed"
    assert failed.json()["input"] == "ignored"
    assert http.get(url + "&returnInternalServerErrorOnFailure=true", headers=KEY).status_code == 500
    history = http.get(url + "&showHistory=true", headers=KEY).json()["historyEvents"]
    assert history[0]["EventType"] == 12 and history[1]["Name"] == "lets_failure_through"


def test_rpc_endpoint_refuses_remote_callers(live_server):
    token = live_server.host.asgi.rpc_token

    async def call_as(client_address, path=f"/durabletask/{token}/instances/", headers=None):
        transport = httpx.ASGITransport(app=live_server.host.asgi, client=(client_address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:7071") as client:
            return (await client.get(path, headers=headers)).status_code

    assert asyncio.run(call_as("10.1.2.3")) == 403
    assert asyncio.run(call_as("127.0.0.1")) == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/durabletask/instances/"),
        ("GET", "/durabletask/instances/some-id"),
        ("POST", "/durabletask/orchestrators/fan_out"),
        ("POST", "/durabletask/instances/some-id/terminate?reason=x"),
        ("GET", "/durabletask/not-the-token/instances/"),
        ("GET", "/runtime/webhooks/durabletask/instances/"),
        ("POST", "/runtime/webhooks/durabletask/orchestrators/fan_out"),
    ],
)
def test_durable_routes_need_a_key_even_from_loopback(http, method, path):
    refused = http.request(method, path, json={"items": ["a"], "seconds": 0})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "Unauthorized"
    if "/not-the-token/" not in path:
        assert http.request(method, path, headers=KEY, json={"items": [], "seconds": 0}).status_code != 401


def test_the_client_binding_carries_no_function_key(live_server):
    request = type("R", (), {"origin": live_server.base_url, "server": ("127.0.0.1", 1)})()
    binding = live_server.host.asgi.durable_endpoints(request).client_binding()
    assert FUNCTION_KEY not in binding
    assert f"/durabletask/{live_server.host.asgi.rpc_token}/" in json.loads(binding)["rpcBaseUrl"]


def test_purge_over_the_durable_api(http, live_server):
    token = live_server.host.asgi.rpc_token
    started = http.post(f"/durabletask/{token}/orchestrators/fan_out", json={"items": ["a"], "seconds": 0})
    assert started.status_code == 202
    assert token not in started.text + str(started.headers)  # the rpc answer carries no key either
    url = f"/runtime/webhooks/durabletask/instances/{started.json()['id']}"
    assert wait_for_completion(http, url).status_code == 200
    purged = http.delete(url, headers=KEY)
    assert (purged.status_code, purged.json()) == (200, {"instancesDeleted": 1})
    assert http.get(url, headers=KEY).status_code == 404
    assert http.delete(url, headers=KEY).status_code == 404
