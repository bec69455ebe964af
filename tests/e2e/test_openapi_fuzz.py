"""Schemathesis over every route of GET /api/openapi.json, against the local host.

Generated requests, valid and not, must never meet a server error, and every answer must match
the document: its status is documented for the route, its body fits the schema. Bounded (a few
examples per route, no shrinking) so it adds a minute or two on two cores.

The routes are collected from the document the app builds (collection comes before the host
starts); the first test checks that the host serves exactly that document.
"""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

import function_app  # noqa: F401 - registers every blueprint, as the host does
from functions import openapi
from tests.e2e.conftest import FUNCTION_KEY

EXAMPLES_PER_ROUTE = 12
# Not checked: rules a JSON schema cannot say (exactly one of two fields, "nothing to roll back")
# refuse some schema-valid requests with a 400 that names the rule; and pydantic's lax parsing
# accepts "1" for 1 as the Azure ML clients send it, which the schema does not spell out.
NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]
KEY = {"x-functions-key": FUNCTION_KEY}

# Not fuzzed: the UI's static files (anonymous, ``ui/{*path}``). Their paths name files, not API
# resources, and each answers in its file's own media type (HTML, JavaScript, CSS, images), which
# a single documented answer cannot list; the UI tests cover them.
STATIC_FILES = r"^/ui(/|$)"

schema = schemathesis.openapi.from_dict(openapi.document("")).exclude(path_regex=STATIC_FILES)


def test_the_host_serves_the_document_that_is_fuzzed(host_url: str):
    served = httpx.get(f"{host_url}/api/openapi.json", headers=KEY).raise_for_status().json()
    assert served == openapi.document(host_url)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_route_answers_as_documented_and_never_fails(case, host_url: str):
    case.call_and_validate(base_url=f"{host_url}/api", headers=KEY, excluded_checks=NOT_CHECKED)


def test_a_real_time_endpoint_answers_as_its_own_document(host_url: str):
    """The endpoint's swagger.json describes its scoring route: fuzz that route with its key."""
    from hypothesis import given

    from tests.e2e.test_realtime import TUTORIAL, wait_for_run

    with httpx.Client(base_url=f"{host_url}/api", headers=KEY, timeout=60) as api:
        run_id = api.post("/experiments/fuzz-realtime/runs", json={"pipeline": TUTORIAL}).json()["Id"]
        assert wait_for_run(api, run_id)["status"] == "Finished"
        draft = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "realtime"}).json()
        deployed = api.post("/realtime", json={"name": f"fuzz-{run_id[:6]}", "draft_id": draft["id"]}).json()
    key = {"api-key": deployed["keys"]["primary"]}
    own = httpx.get(f"{host_url}{deployed['swagger_uri']}", headers=key).raise_for_status().json()
    operation = schemathesis.openapi.from_dict(own)[deployed["scoring_uri"]]["POST"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def score(case):
        case.call_and_validate(base_url=host_url, headers=key, excluded_checks=NOT_CHECKED)

    score()
