"""Jobs and run comparison: two german credit runs with different split fractions."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.ui import studio
from tests.ui.conftest import signed_in


@pytest.fixture(scope="module")
def two_runs(host_url: str) -> tuple[str, str, str]:
    experiment = f"ui-jobs-{uuid.uuid4().hex[:6]}"
    with studio.client(host_url) as api:
        first = studio.finished(api, experiment, {"pipeline": studio.german(0.7)})
        second = studio.finished(api, experiment, {"pipeline": studio.german(0.5)})
    return experiment, first, second


def test_jobs_list_filters_and_opens_a_run(page: Page, ui: str, two_runs, shot) -> None:
    experiment, first, second = two_runs
    page.goto(ui + signed_in("/jobs"))
    runs = page.get_by_role("table", name="Runs")
    rows = runs.get_by_role("row").filter(has_text=experiment)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(second[:8])  # newest first
    expect(rows.nth(1)).to_contain_text(first[:8])
    expect(rows.nth(0)).to_contain_text("Finished")
    expect(rows.nth(0).get_by_role("cell").nth(6)).to_have_text(re.compile(r"\d+(\.\d)? (s|ms)|min"))
    page.get_by_label("Status").select_option("Failed")
    expect(page).to_have_url(re.compile(r"/jobs\?status=Failed$"))
    expect(page.get_by_role("row").filter(has_text=experiment)).to_have_count(0)
    page.go_back()
    runs = page.get_by_role("table", name="Runs")
    expect(runs.get_by_role("row").filter(has_text=experiment)).to_have_count(2)
    page.get_by_role("combobox", name="Experiment").select_option(experiment)
    expect(page).to_have_url(re.compile(rf"/jobs\?experiment={experiment}$"))
    expect(runs.get_by_role("row")).to_have_count(3)  # the header and its two runs
    page.get_by_role("link", name=first[:8]).click()
    expect(page).to_have_url(re.compile(rf"/runs/{first}$"))
    expect(page.get_by_role("status", name="Run status: Finished")).to_be_visible()
    shot(page, "opened-run")


def test_compare_two_runs(page: Page, ui: str, two_runs, shot) -> None:
    _, first, second = two_runs
    page.goto(ui + signed_in("/jobs"))
    compare = page.get_by_role("button", name="Compare selected")
    page.get_by_role("checkbox", name=f"Select run {first[:8]}").check()
    expect(compare).to_be_disabled()
    page.get_by_role("checkbox", name=f"Select run {second[:8]}").check()
    compare.click()
    expect(page).to_have_url(re.compile(rf"/compare\?runs={first},{second}$"))  # in the order picked
    params = page.get_by_role("region", name="Parameters")
    fraction = params.get_by_role("row", name=re.compile("Fraction of rows"))
    expect(fraction).to_contain_text("differs")
    expect(fraction.get_by_role("cell").nth(1)).to_have_text("0.7")
    expect(fraction.get_by_role("cell").nth(2)).to_have_text("0.5")
    seed = params.get_by_role("row", name=re.compile("Random seed"))
    expect(seed).to_contain_text("same")
    page.get_by_label("Only parameters that differ").check()
    expect(params.get_by_role("row")).to_have_count(2)  # the header and the fraction
    auc = page.get_by_role("region", name="Metrics").get_by_role("row", name=re.compile("^evaluate AUC"))
    expect(auc).to_contain_text("differs")
    roc = page.get_by_role("img", name="ROC curves of every run")
    expect(roc).to_be_visible()
    assert roc.evaluate("img => img.naturalWidth") > 100
    expect(page.get_by_role("img", name="Precision-recall curves of every run")).to_be_visible()
    shot(page, "compare")
