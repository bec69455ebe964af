"""Pipeline endpoints in the browser: publish two versions from a run's page, change the
default, roll back, read the history, and submit from the generated form."""

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
def training_run(host_url: str) -> str:
    with studio.client(host_url) as api:
        return studio.finished(api, "ui-endpoints", {"pipeline": TRAINING})


def publish(page: Page, run_id: str, endpoint: str, what: str, description: str) -> None:
    page.get_by_role("button", name="Publish", exact=True).click()
    dialog = page.get_by_role("dialog", name="Publish to a pipeline endpoint")
    dialog.get_by_label("Endpoint name").fill(endpoint)
    dialog.get_by_label(what).check()
    dialog.get_by_label("Description").fill(description)
    expect(dialog.get_by_label("Set as default version")).to_be_checked()
    dialog.get_by_role("button", name="Publish", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/api/ui/endpoints/{endpoint}$"))


def test_publish_change_default_roll_back_and_submit(page: Page, ui: str, training_run: str, shot) -> None:
    endpoint = f"ui-cars-{uuid.uuid4().hex[:6]}"
    page.goto(ui + signed_in(f"/runs/{training_run}"))
    publish(page, training_run, endpoint, "The training pipeline as it ran", "<i>first</i>")
    versions = page.get_by_role("region", name="Versions")
    first = versions.get_by_role("row", name=re.compile(r"^Version 1 "))
    expect(first.get_by_role("cell").nth(0)).to_have_text("<i>first</i>")  # user text as text
    expect(first.get_by_role("cell").nth(1)).to_have_text("training")
    expect(first.get_by_role("cell").nth(5)).to_have_text("default")

    page.go_back()
    expect(page).to_have_url(re.compile(rf"/runs/{training_run}$"))
    publish(page, training_run, endpoint, "Its batch inference pipeline", "second")
    versions = page.get_by_role("region", name="Versions")
    v1 = versions.get_by_role("row", name=re.compile(r"^Version 1 "))
    v2 = versions.get_by_role("row", name=re.compile(r"^Version 2 "))
    expect(v2.get_by_role("cell").nth(5)).to_have_text("default")
    expect(v1.get_by_role("cell").nth(5)).to_have_text("")

    page.get_by_role("button", name="Set version 1 as default").click()
    expect(page.get_by_role("status").filter(has_text="Version 1 is the default.")).to_be_visible()
    expect(v1.get_by_role("cell").nth(5)).to_have_text("default")
    page.get_by_role("button", name="Roll back default").click()
    expect(page.get_by_role("status").filter(has_text="Rolled back")).to_be_visible()
    expect(v2.get_by_role("cell").nth(5)).to_have_text("default")
    history = page.get_by_role("region", name="Default history").get_by_role("row")
    expect(history.nth(1)).to_contain_text(re.compile(r"function-key\s*rollback\s*1\s*2"))
    expect(history.nth(2)).to_contain_text(re.compile(r"set default\s*2\s*1"))

    page.get_by_role("button", name="Disable version 2").click()
    expect(v2.get_by_role("cell").nth(4)).to_have_text("Disabled")
    page.get_by_role("button", name="Enable version 2").click()
    expect(v2.get_by_role("cell").nth(4)).to_have_text("Active")
    shot(page, "endpoint")

    form = page.get_by_role("form", name="Submit to the endpoint")
    form.get_by_label("Version").select_option("1")
    fraction = form.get_by_label(re.compile("^training_fraction"))
    expect(fraction).to_have_attribute("placeholder", "0.7")
    fraction.fill("0.6")
    curl = page.get_by_role("figure", name="curl")
    expect(curl).to_contain_text('"ParameterAssignments":{"training_fraction":0.6}')
    expect(curl).to_contain_text(f"/api/pipelineendpoints/{endpoint}/submit")
    expect(page.get_by_role("figure", name="Python")).to_contain_text('"PipelineVersion": 1')
    form.get_by_role("button", name="Submit run").click()
    expect(page.get_by_role("status").filter(has_text="Submitted run")).to_be_visible()
    jobs = page.get_by_role("region", name="Job history").get_by_role("row")
    expect(jobs).to_have_count(2)
    expect(jobs.nth(1).get_by_role("cell").nth(1)).to_have_text("1")
    shot(page, "submitted")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipeline endpoints").click()
    listed = page.get_by_role("table", name="Pipeline endpoints")
    expect(listed.get_by_role("link", name=endpoint)).to_be_visible()
