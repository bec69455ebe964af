"""The designer tutorial from an empty canvas, entirely in the browser: build, set
parameters, save, submit, watch, inspect Evaluate Model, create the real-time pipeline."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.ui.conftest import signed_in
from tests.ui.helpers import add_from_library, connect, node_named, saved

# (library tab, entry, x, y on the canvas): a grid clear of the minimap and of the canvas edges,
# where dragging a connection would pan the view.
NODES = [
    ("Datasets", "automobile-price-raw", 115, 50),
    ("Components", "Select Columns in Dataset", 335, 50),
    ("Components", "Clean Missing Data", 555, 50),
    ("Components", "Split Data", 115, 190),
    ("Components", "Linear Regression", 335, 190),
    ("Components", "Train Model", 555, 190),
    ("Components", "Score Model", 115, 330),
    ("Components", "Evaluate Model", 335, 330),
]


def test_build_and_run_the_tutorial(page: Page, ui: str, shot, docs_shot) -> None:
    page.goto(ui + signed_in("/"))
    page.get_by_role("button", name="New draft").click()
    dialog = page.get_by_role("dialog", name="New draft")
    dialog.get_by_label("Name").fill("Automobile price tutorial")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", name="Automobile price tutorial")).to_be_visible()
    shot(page, "empty-canvas")

    for tab, entry, x, y in NODES:
        add_from_library(page, tab, entry, x, y)
    shot(page, "nodes-added")

    car = "automobile-price-raw"
    connect(page, "Dataset", car, "Dataset", "Select Columns in Dataset")
    connect(page, "Results dataset", "Select Columns in Dataset", "Dataset", "Clean Missing Data")
    connect(page, "Cleaned dataset", "Clean Missing Data", "Dataset", "Split Data")
    connect(page, "Untrained model", "Linear Regression", "Untrained model", "Train Model")
    connect(page, "Results dataset1", "Split Data", "Dataset", "Train Model")
    connect(page, "Trained model", "Train Model", "Trained model", "Score Model")
    connect(page, "Results dataset2", "Split Data", "Dataset", "Score Model")
    connect(page, "Scored dataset", "Score Model", "Scored dataset", "Evaluate Model")
    shot(page, "connected")
    expect(page.locator(".react-flow__edge")).to_have_count(8)

    # Parameters in the properties pane.
    node_named(page, "Select Columns in Dataset").click()
    pane = page.get_by_role("complementary", name="Properties of Select Columns in Dataset")
    pane.get_by_role("combobox", name="Column selection mode").select_option("exclude")
    pane.get_by_role("checkbox", name="normalized-losses").check()
    node_named(page, "Clean Missing Data").click()
    page.get_by_role("complementary", name="Properties of Clean Missing Data").get_by_label(
        re.compile("^Cleaning mode", re.I)
    ).select_option("Remove entire row")
    node_named(page, "Split Data").click()
    split = page.get_by_role("complementary", name="Properties of Split Data")
    fraction = split.get_by_role("textbox", name=re.compile("^Fraction", re.I))
    fraction.fill("1.5")
    expect(split.get_by_role("alert")).to_contain_text("at most 1")  # bounds enforced as you type
    fraction.fill("0.7")
    split.get_by_role("textbox", name=re.compile("^Random seed", re.I)).fill("0")
    node_named(page, "Train Model").click()
    train = page.get_by_role("complementary", name="Properties of Train Model")
    train.get_by_role("combobox", name=re.compile("^Label column", re.I)).fill("price")
    saved(page)
    expect(page.get_by_role("button", name=re.compile("No problems"))).to_be_visible()
    shot(page, "parameters-set")
    docs_shot(page, "canvas")

    page.get_by_role("button", name="Submit", exact=True).click()
    submit = page.get_by_role("dialog", name="Submit the pipeline")
    submit.get_by_role("combobox", name=re.compile("Experiment")).fill("ui-tutorial")
    # other tests of the session may have run these steps already: run every node here
    submit.get_by_role("switch", name=re.compile("Regenerate all outputs")).check()
    submit.get_by_role("button", name="Submit", exact=True).click()
    expect(page).to_have_url(re.compile(r"/api/ui/runs/\w+"))
    expect(page.get_by_role("status", name="Run status: Finished")).to_be_visible(timeout=120000)
    for _, entry, _, _ in NODES:
        expect(node_named(page, entry)).to_have_attribute("data-status", "finished")
    expect(page.get_by_role("progressbar", name="Run progress")).to_have_attribute("aria-valuenow", "100")
    shot(page, "run-finished")

    node_named(page, "Evaluate Model").click()
    details = page.get_by_role("complementary", name="Details of Evaluate Model")
    metrics = details.get_by_role("region", name="Metrics")
    expect(metrics.get_by_role("rowheader", name="Coefficient of Determination")).to_be_visible()
    r2 = float(
        metrics.get_by_role("row", name=re.compile("Coefficient of Determination"))
        .get_by_role("cell")
        .inner_text()
    )
    assert 0.5 < r2 <= 1
    plot = details.get_by_role("img", name=re.compile("^Plot: "))
    expect(plot.first).to_be_visible()
    assert plot.first.evaluate("img => img.naturalWidth") > 100
    shot(page, "evaluate-details")
    docs_shot(page, "run")

    page.get_by_role("button", name="Create real-time inference pipeline").click()
    expect(page).to_have_url(re.compile(r"/api/ui/drafts/\w+"))
    expect(node_named(page, "Web Service Input")).to_be_visible()
    expect(node_named(page, "Web Service Output")).to_be_visible()
    shot(page, "realtime-pipeline")
