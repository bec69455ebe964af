"""Real-time endpoints in the browser: deploy from a real-time inference draft, keys shown once,
regenerate one, score the prefilled sample row from the Test tab, copy calls from Consume."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.ui import studio
from tests.ui.conftest import signed_in

TRAINING = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())


@pytest.fixture(scope="module")
def realtime_draft(host_url: str) -> str:
    with studio.client(host_url) as api:
        run_id = studio.finished(api, "ui-realtime", {"pipeline": TRAINING})
        draft = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "realtime"})
        assert draft.status_code == 201, draft.text
        return draft.json()["id"]


def test_deploy_and_score_a_row_from_the_test_tab(page: Page, ui: str, realtime_draft: str, shot) -> None:
    name = f"ui-cars-{uuid.uuid4().hex[:6]}"
    page.goto(ui + signed_in(f"/realtime?draft={realtime_draft}"))
    form = page.get_by_role("form", name="Deploy a real-time endpoint")
    form.get_by_label("Endpoint name").fill(name)
    expect(form.get_by_role("combobox", name="Draft")).to_have_value(realtime_draft)
    form.get_by_role("button", name="Deploy").click()
    expect(page).to_have_url(re.compile(rf"/api/ui/realtime/{name}$"), timeout=60000)
    keys = page.get_by_role("region", name="Keys")
    expect(keys.locator(".secret")).to_have_count(2)
    first_primary = keys.locator(".secret").first.inner_text()
    assert len(first_primary) >= 20
    schema = page.get_by_role("region", name="Input schema")
    expect(schema.get_by_role("rowheader", name="make")).to_be_visible()
    page.get_by_role("button", name="Regenerate primary key").click()
    fresh = page.get_by_role("status").filter(has_text="New primary key")
    expect(fresh).to_be_visible()
    assert first_primary not in fresh.inner_text()
    shot(page, "details")

    page.get_by_role("tab", name="Test").click()
    expect(page).to_have_url(re.compile(r"\?tab=test$"))
    test = page.get_by_role("form", name="Test the endpoint")
    expect(test.get_by_text("Prefilled with the first row")).to_be_visible()
    expect(test.get_by_label(re.compile("^make"))).not_to_have_value("")
    test.get_by_role("button", name="Score").click()
    answer = page.get_by_role("region", name="Answer")
    label = answer.get_by_role("row", name=re.compile("^Scored Labels")).get_by_role("cell")
    expect(label).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
    assert 3_000 < float(label.inner_text()) < 60_000
    shot(page, "scored")

    page.get_by_role("tab", name="Test").press("ArrowRight")  # tabs by keyboard
    expect(page.get_by_role("tab", name="Consume")).to_be_focused()
    expect(page.get_by_role("figure", name="curl, MLflow format")).to_contain_text("dataframe_records")
    expect(page.get_by_role("figure", name="Python, designer format")).to_contain_text('"Inputs"')
    designer = page.get_by_role("figure", name="curl, designer format")
    expect(designer).to_contain_text(f"/api/realtime/{name}/score")
    page.go_back()
    expect(page.get_by_role("tab", name="Test")).to_have_attribute("aria-selected", "true")
    page.reload()  # keys are not shown again
    expect(page.get_by_role("heading", name=f"Real-time endpoint {name}")).to_be_visible()
    expect(page.get_by_role("region", name="Keys")).to_have_count(0)
