"""Schedules over HTTP on the local host, with the host's clock moved by the test.

The host reads the time for schedules from the file ``host_clock``; its timer trigger is
fired through the host's admin API (``POST /admin/functions/schedule_tick``), twice at once
where the test checks that a due time starts one run only.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from azure.storage.blob import BlobServiceClient

from tests.core.schedules.helpers import DOC
from tests.e2e.conftest import FUNCTION_KEY, wait_for_run

T0 = datetime(2032, 5, 3, 10, 0, 30, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def at(host_clock):
    def move(moment: datetime) -> None:
        host_clock.write_text(moment.isoformat())

    move(T0)
    yield move
    host_clock.write_text("")


def fire_timer(host_url: str, times: int = 2) -> None:
    """The timer trigger, ``times`` calls at once (as several instances would)."""

    def call(_: int) -> int:
        return httpx.post(
            f"{host_url}/admin/functions/schedule_tick",
            json={"input": ""},
            headers={"x-functions-key": FUNCTION_KEY},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(times) as pool:
        assert set(pool.map(call, range(times))) == {202}


def endpoint_with_a_version(api: httpx.Client) -> str:
    dataset = unique("sched")
    api.post(f"/datasets/{dataset}", content=b"a,b,c\n1,2,3\n4,5,6\n").raise_for_status()
    doc = eval(str(DOC).replace("PLACEHOLDER", dataset))  # noqa: S307 - our own literal
    draft = api.post("/pipelines", json=doc).raise_for_status().json()
    endpoint = unique("sched-ep")
    api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft["id"]}).raise_for_status()
    return endpoint


def submitted(view: dict) -> list[dict]:
    return [f for f in view["last_runs"] if f["outcome"] == "Submitted"]


def test_a_recurrence_runs_once_per_due_time_and_pauses_with_its_endpoint(api, host_url, at):
    endpoint = endpoint_with_a_version(api)
    experiment = unique("nightly")
    created = api.post(
        f"/pipelineendpoints/{endpoint}/schedules",
        json={
            "name": "hourly",
            "submission": {"ExperimentName": experiment},
            "recurrence": {"frequency": "Hour", "interval": 1, "start_time": "2032-05-03T09:00:00Z"},
        },
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    url = f"/pipelineendpoints/{endpoint}/schedules/{schedule['id']}"
    assert schedule["next_due"] == "2032-05-03T11:00:00+00:00" and schedule["last_runs"] == []

    fire_timer(host_url)
    assert api.get(url).json()["last_runs"] == []  # never at creation

    at(datetime(2032, 5, 3, 11, 0, 5, tzinfo=UTC))
    fire_timer(host_url)
    fire_timer(host_url)
    view = api.get(url).json()
    assert [f["due"] for f in submitted(view)] == ["2032-05-03T11:00:00Z"]
    run = wait_for_run(api, view["last_runs"][0]["run_id"])
    assert run["status"] == "Finished" and run["experiment"] == experiment and run["endpoint"] == endpoint
    assert api.get(url).json()["last_runs"][0]["run_status"] == "Finished"

    api.put(f"/pipelineendpoints/{endpoint}/status", json={"status": "Disabled"}).raise_for_status()
    at(datetime(2032, 5, 3, 12, 0, 5, tzinfo=UTC))
    fire_timer(host_url)
    view = api.get(url).json()
    assert view["paused"] and "disabled" in view["paused_reason"] and len(submitted(view)) == 1

    api.put(f"/pipelineendpoints/{endpoint}/status", json={"status": "Active"}).raise_for_status()
    fire_timer(host_url)
    view = api.get(url).json()
    assert not view["paused"] and [f["due"][11:16] for f in submitted(view)] == ["12:00", "11:00"]
    assert view["next_due"] == "2032-05-03T13:00:00+00:00"
    assert api.get(f"/pipelineendpoints/{endpoint}/schedules").json()["value"][0]["id"] == schedule["id"]


def test_a_data_change_schedule_runs_once_per_new_blob_with_its_path(api, host_url, at, azurite):
    endpoint = endpoint_with_a_version(api)
    prefix = f"{unique('drop')}/"
    exports = BlobServiceClient.from_connection_string(azurite).get_container_client("exports")
    exports.upload_blob(f"{prefix}before.csv", b"a,b,c\n0,0,0\n")
    created = (
        api.post(
            f"/pipelineendpoints/{endpoint}/schedules",
            json={
                "name": "on new files",
                "submission": {"ExperimentName": unique("files")},
                "max_concurrent_runs": 4,
                "data_change": {
                    "datastore": "exports",
                    "path_on_datastore": prefix,
                    "polling_interval": 5,
                    "data_path_parameter_name": "input_data",
                },
            },
        )
        .raise_for_status()
        .json()
    )
    url = f"/pipelineendpoints/{endpoint}/schedules/{created['id']}"
    fire_timer(host_url)
    assert api.get(url).json()["last_runs"] == []  # the blob that was there is not new
    exports.upload_blob(f"{prefix}a.csv", b"a,b,c\n1,2,3\n")
    exports.upload_blob(f"{prefix}b.csv", b"a,b,c\n4,5,6\n")
    at(datetime(2032, 5, 3, 10, 6, tzinfo=UTC))
    fire_timer(host_url, times=3)
    view = api.get(url).json()
    assert sorted(f["blob"] for f in submitted(view)) == [f"{prefix}a.csv", f"{prefix}b.csv"]
    for firing in submitted(view):
        run = wait_for_run(api, firing["run_id"])
        assert run["status"] == "Finished"
        output = api.get(f"/runs/{firing['run_id']}/nodes/select/outputs/results_dataset").json()
        expected = [[1, 2]] if firing["blob"].endswith("a.csv") else [[4, 5]]
        assert output["data"] == expected  # the run read the very blob it was started for


def test_schedule_crud_and_refusals(api, at):
    endpoint = endpoint_with_a_version(api)
    base = f"/pipelineendpoints/{endpoint}/schedules"
    bad = api.post(
        base,
        json={"name": "x", "submission": {"ExperimentName": "e"}, "recurrence": {"frequency": "Fortnight"}},
    )
    assert bad.status_code == 400 and any(
        "recurrence.frequency" in p["field"] for p in bad.json()["error"]["problems"]
    )
    both = api.post(
        base,
        json={
            "name": "x",
            "submission": {"ExperimentName": "e"},
            "recurrence": {"cron": "0 2 * * *"},
            "data_change": {"datastore": "exports", "data_path_parameter_name": "input_data"},
        },
    )
    assert both.status_code == 400
    assert (
        api.post(
            f"/pipelineendpoints/{unique('none')}/schedules",
            json={"name": "x", "submission": {"ExperimentName": "e"}, "recurrence": {"cron": "0 2 * * *"}},
        ).status_code
        == 404
    )
    made = api.post(
        base,
        json={
            "name": "nightly",
            "submission": {"ExperimentName": "e"},
            "recurrence": {"cron": "0 2 * * *", "time_zone": "Europe/Paris"},
        },
    ).json()
    url = f"{base}/{made['id']}"
    assert made["next_due"] == "2032-05-04T00:00:00+00:00"  # 02:00 in Paris (summer time)
    replaced = api.put(
        url,
        json={
            "name": "weekly",
            "submission": {"ExperimentName": "e"},
            "recurrence": {"frequency": "Week", "week_days": ["Friday"], "time_of_day": "06:00"},
        },
    ).json()
    assert replaced["name"] == "weekly" and replaced["next_due"] == "2032-05-07T06:00:00+00:00"
    disabled = api.post(f"{url}/disable").json()
    assert disabled["status"] == "Disabled" and disabled["next_due"] is None
    assert api.post(f"{url}/enable").json()["next_due"] == "2032-05-07T06:00:00+00:00"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert api.get(base).json()["value"] == []
