"""Storage that does not answer gives 503 with Retry-After and the error shape, not 500."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
)

from functions import common


def request() -> func.HttpRequest:
    return func.HttpRequest(method="GET", url="http://localhost/api/x", headers={}, body=b"")


def raising(error: Exception):
    @common.json_errors
    def handler(req):
        raise error

    return handler


def wrapped(error: Exception) -> Exception:
    try:
        try:
            raise error
        except Exception as inner:
            raise KeyError("datasets/x") from inner
    except KeyError as outer:
        return outer


def busy() -> HttpResponseError:
    error = HttpResponseError("server busy")
    error.status_code = 503
    return error


@pytest.mark.parametrize(
    "error",
    [
        ServiceRequestError("connection refused"),
        ServiceResponseError("connection reset"),
        ServiceRequestTimeoutError("timed out"),
        busy(),
        wrapped(ServiceRequestError("refused")),
    ],
)
def test_storage_outages_answer_503_with_retry_after(error):
    response = raising(error)(request())
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = json.loads(response.get_body())
    assert body["error"]["code"] == "ServiceUnavailable" and body["error"]["problems"] == []
    assert "refused" not in body["error"]["message"]


@pytest.mark.parametrize("error", [ResourceNotFoundError("gone"), RuntimeError("bug")])
def test_other_faults_stay_500(error):
    assert raising(error)(request()).status_code == 500


def test_async_handlers_too():
    import asyncio

    @common.json_errors
    async def handler(req):
        raise ServiceRequestError("refused")

    assert asyncio.run(handler(request())).status_code == 503
