"""Caller identity and error mapping of the HTTP layer."""

from __future__ import annotations

import json
from types import SimpleNamespace

import azure.functions as func
import pytest

from core.errors import DesignerError, InvalidRequest, Problem
from functions import common


def request(headers: dict[str, str] | None = None, body: bytes = b"") -> func.HttpRequest:
    return func.HttpRequest(method="POST", url="http://localhost/api/x", headers=headers or {}, body=body)


@pytest.mark.parametrize("trusted, expected", [(False, "function-key"), (True, "alice@contoso.com")])
def test_the_principal_header_counts_only_behind_app_service_authentication(monkeypatch, trusted, expected):
    monkeypatch.setattr(common, "service", lambda: SimpleNamespace(trusts_client_principal=lambda: trusted))
    assert common.caller(request({"x-ms-client-principal-name": "alice@contoso.com"})) == expected


def test_refusals_become_4xx_with_every_problem_and_faults_a_bare_500():
    @common.json_errors
    def refuse(req):
        raise InvalidRequest(
            "bad", [Problem(code="a", node="n", message="m1"), Problem(code="b", field="f", message="m2")]
        )

    @common.json_errors
    def crash(req):
        raise RuntimeError("secret internals")

    refused = refuse(request())
    assert refused.status_code == 400
    assert [p["code"] for p in json.loads(refused.get_body())["error"]["problems"]] == ["a", "b"]
    crashed = crash(request())
    assert crashed.status_code == 500 and b"secret internals" not in crashed.get_body()


def test_bodies_must_be_json_objects():
    with pytest.raises(Exception) as err:
        common.parse_json(request(body=b"[1, 2]"))
    assert err.value.problems[0].field == "body"


@pytest.mark.parametrize(
    "body", [b"[" * 1000 + b"]" * 1000, b'{"a": ' + b"[" * 65 + b"]" * 65 + b"}", b"[" * 100_000]
)
def test_json_nested_deeper_than_64_levels_is_refused(body):
    with pytest.raises(DesignerError) as err:
        common.load_json(body)
    assert err.value.problems[0].code in ("json_too_deep", "invalid_json")


def test_json_64_levels_deep_is_fine_and_errors_name_no_internals():
    assert common.json_depth(common.load_json(b"[" * 64 + b"]" * 64)) == 64
    with pytest.raises(Exception) as err:
        common.load_json(b"9" * 5000)
    assert "set_int_max_str_digits" not in err.value.problems[0].message


def test_cacheable_json_answers_304_while_the_content_is_unchanged():
    first = common.cacheable_json(request(), {"status": "Running"})
    etag = first.headers["ETag"]
    assert first.status_code == 200 and json.loads(first.get_body()) == {"status": "Running"}
    same = common.cacheable_json(request({"If-None-Match": f'"other", {etag}'}), {"status": "Running"})
    assert same.status_code == 304 and same.get_body() == b"" and same.headers["ETag"] == etag
    changed = common.cacheable_json(request({"If-None-Match": etag}), {"status": "Finished"})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
