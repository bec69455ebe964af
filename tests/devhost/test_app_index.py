"""Indexing a v2-model app: HTTP routes, durable functions and blob triggers."""

import logging

import azure.durable_functions as df
import azure.functions as func

from devhost.app_index import AppIndex, load_app
from tests.devhost import sample_app


def test_http_functions_are_indexed_with_route_methods_auth_and_bindings(index):
    http = {f.name: f for f in index.http}
    starter = http["start_orchestration"]
    assert (starter.route, starter.methods, starter.auth_level) == (
        "orchestrators/{name}",
        frozenset({"POST"}),
        "anonymous",
    )
    assert (starter.trigger_arg, starter.durable_client_arg) == ("req", "client")
    hello = http["hello"]
    assert (hello.methods, hello.auth_level, hello.durable_client_arg) == (
        frozenset({"GET", "POST"}),
        "function",
        None,
    )
    assert http["admin_only"].auth_level == "admin"


def test_durable_functions_and_blob_triggers_are_indexed(index):
    assert {"fan_out", "with_retry", "counter"} <= set(index.orchestrators)
    assert index.activities["sleepy"].input_arg == "job"
    assert index.activities["always_fails"].input_arg == "message"
    batch, start = index.blob_triggers
    assert (batch.name, batch.container, batch.blob_pattern, batch.connection, batch.arg) == (
        "on_batch_input",
        "batch-input",
        "{endpoint}/{name}",
        "AzureWebJobsStorage",
        "blob",
    )
    assert (start.container, start.blob_pattern, start.durable_client_arg) == (
        "start-input",
        "{name}.json",
        "client",
    )


def test_an_app_can_be_indexed_again():
    first, second = AppIndex.from_app(sample_app.app), AppIndex.from_app(sample_app.app)
    assert [f.name for f in first.http] == [f.name for f in second.http]


def test_defaults_names_and_unsupported_triggers(caplog):
    bp = df.Blueprint()

    @bp.route()
    def plain(req: func.HttpRequest) -> str:
        return "x"

    @bp.activity_trigger(input_name="x", activity="renamed")
    def original(x):
        return x

    @bp.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
    def tick(timer) -> None:
        pass

    @bp.queue_trigger(arg_name="message", queue_name="work", connection="QUEUES")
    def on_message(message) -> None:
        pass

    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
    app.register_functions(bp)
    with caplog.at_level(logging.WARNING, logger="devhost.app_index"):
        index = AppIndex.from_app(app)
    (plain_fn,) = index.http
    assert (plain_fn.route, plain_fn.methods, plain_fn.auth_level) == ("plain", None, "anonymous")
    assert list(index.activities) == ["renamed"]
    assert [(t.name, t.schedule) for t in index.timer_triggers] == [("tick", "0 */5 * * * *")]
    assert "queueTrigger" in caplog.text and "'on_message'" in caplog.text


def test_load_app_accepts_module_and_attribute():
    assert load_app("tests.devhost.sample_app") is sample_app.app
    assert load_app("tests.devhost.sample_app:bp") is sample_app.bp
