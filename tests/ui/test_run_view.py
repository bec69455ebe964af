"""The run view draws the pipeline that ran (not the draft as it is now) and cancels a run."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.ui import studio
from tests.ui.conftest import signed_in
from tests.ui.helpers import node_named


@pytest.fixture(scope="module")
def edited_draft_run(host_url: str) -> tuple[str, str]:
    """A finished run of a draft, after which the draft lost its Evaluate Model node."""
    with studio.client(host_url) as api:
        doc = studio.german(0.7)
        draft = api.post("/pipelines", json=doc)
        assert draft.status_code == 201, draft.text
        draft_id = draft.json()["id"]
        run_id = studio.finished(
            api, f"ui-run-{uuid.uuid4().hex[:6]}", {"draft_id": draft_id, "regenerate_outputs": True}
        )
        current = api.get(f"/pipelines/{draft_id}")
        edited = {
            **doc,
            "nodes": [n for n in doc["nodes"] if n["id"] != "evaluate"],
            "edges": [e for e in doc["edges"] if not e["target"].startswith("evaluate.")],
        }
        put = api.put(f"/pipelines/{draft_id}", json=edited, headers={"if-match": current.headers["etag"]})
        assert put.status_code == 200, put.text
        return run_id, draft_id


def test_the_run_view_draws_the_pipeline_that_ran(page: Page, ui: str, edited_draft_run, shot) -> None:
    run_id, _ = edited_draft_run
    page.goto(ui + signed_in(f"/runs/{run_id}"))
    expect(page.get_by_role("status", name="Run status: Finished")).to_be_visible()
    expect(node_named(page, "Evaluate Model")).to_have_count(1)  # gone from the draft, not from the run
    expect(node_named(page, "Evaluate Model")).to_have_attribute("data-status", "finished")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    shot(page, "run-as-it-ran")


def test_a_running_run_is_canceled_from_its_view(page: Page, ui: str, api: httpx.Client, shot) -> None:
    # nothing reused, so it is still running when the button is clicked
    body = {"pipeline": studio.german(0.7, cross_validate=True), "regenerate_outputs": True}
    run_id = studio.submit(api, f"ui-cancel-{uuid.uuid4().hex[:6]}", body)
    page.goto(ui + signed_in(f"/runs/{run_id}"))
    page.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_role("status", name="Run status: Canceled")).to_be_visible(timeout=60000)
    nodes = page.get_by_role("group", name=re.compile(r", (canceled|skipped|finished|not started)$"))
    expect(nodes.first).to_be_visible()  # the graph is drawn from the run's document, read apart
    statuses = set(nodes.evaluate_all("els => els.map(e => e.getAttribute('data-status'))"))
    assert "canceled" in statuses or "skipped" in statuses, statuses
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    # a cancel is what the user asked for, not a failure
    expect(page.get_by_role("status").filter(has_text="Canceled by")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Run failed")).to_have_count(0)
    shot(page, "canceled")
