"""File-drop scoring from the browser (upload, watch, download the predictions, read an error
report) and an asset's lineage."""

from __future__ import annotations

import json
import re
import uuid

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.ui import studio
from tests.ui.conftest import signed_in

TRAINING = json.loads((ROOT / "samples/pipelines/automobile-price-training.json").read_text())
CARS = pd.read_csv(ROOT / "samples/datasets/automobile-price-raw.csv")


@pytest.fixture(scope="module")
def batch_endpoint(host_url: str) -> dict:
    """A training run, its trained model registered, and its batch inference pipeline published."""
    suffix = uuid.uuid4().hex[:6]
    with studio.client(host_url) as api:
        run_id = studio.finished(api, "ui-file-drop", {"pipeline": TRAINING})
        model = f"ui-car-model-{suffix}"
        api.post(
            f"/runs/{run_id}/nodes/train/outputs/trained_model/register",
            json={"name": model, "description": "<b>price</b> model"},
        ).raise_for_status()
        draft = api.post(f"/runs/{run_id}/inference-pipelines", json={"kind": "batch"}).raise_for_status()
        draft = draft.json()
        endpoint = f"ui-drop-{suffix}"
        api.post(f"/pipelineendpoints/{endpoint}/versions", json={"draft_id": draft["id"]}).raise_for_status()
        return {"run_id": run_id, "model": model, "endpoint": endpoint}


def test_drop_a_file_and_download_its_predictions(
    page: Page, ui: str, batch_endpoint: dict, tmp_path, shot
) -> None:
    endpoint = batch_endpoint["endpoint"]
    path = tmp_path / "new-cars.csv"
    CARS.drop(columns=["price"]).head(20).to_csv(path, index=False)
    page.goto(ui + signed_in("/file-drop"))
    page.get_by_role("combobox", name="Pipeline endpoint").select_option(endpoint)
    expect(page).to_have_url(re.compile(rf"/file-drop\?endpoint={endpoint}$"))
    form = page.get_by_role("form", name="Drop a file")
    form.get_by_label("CSV or Parquet file").set_input_files(str(path))
    form.get_by_role("button", name="Upload and score").click()
    expect(page).to_have_url(re.compile(r"&file=new-cars.csv$"))
    expect(page.get_by_role("status", name="Scoring status: Finished")).to_be_visible(timeout=120000)
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download predictions").click()
    predictions = pd.read_csv(caught.value.path())
    assert len(predictions) >= 15 and "Scored Labels" in predictions.columns
    assert predictions["Scored Labels"].between(3_000, 60_000).mean() > 0.9
    files = page.get_by_role("region", name="Dropped files")
    expect(files.get_by_role("link", name="new-cars.csv")).to_have_attribute("aria-current", "true")
    shot(page, "predictions")

    bad = tmp_path / "wrong.csv"
    bad.write_text("x,y\n1,2\n")
    form.get_by_label("CSV or Parquet file").set_input_files(str(bad))
    form.get_by_role("button", name="Upload and score").click()
    expect(page.get_by_role("status", name="Scoring status: Failed")).to_be_visible(timeout=120000)
    expect(page.get_by_role("alert").filter(has_text="Error report")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("status", name="Scoring status: Finished")).to_be_visible()
    shot(page, "error-report")


def test_an_asset_shows_where_it_came_from_and_who_uses_it(
    page: Page, ui: str, batch_endpoint: dict, shot
) -> None:
    model = batch_endpoint["model"]
    page.goto(ui + signed_in("/registry"))  # /api/ui/assets/ holds the bundle's files
    page.get_by_role("table", name="Assets").get_by_role("link", name=model).click()
    expect(page).to_have_url(re.compile(rf"/registry/{model}$"))
    expect(page.get_by_role("table", name="Asset versions")).to_contain_text("<b>price</b> model")
    lineage = page.get_by_role("region", name="Lineage")
    expect(lineage.get_by_role("link", name=batch_endpoint["run_id"][:8])).to_be_visible()
    expect(lineage).to_contain_text("train (Train Model)")
    expect(lineage.get_by_role("link", name=re.compile("^automobile-price-raw"))).to_be_visible()
    user = lineage.get_by_role("listitem").filter(has_text=batch_endpoint["endpoint"])
    expect(user).to_contain_text("version 1")
    shot(page, "lineage")
    lineage.get_by_role("link", name=batch_endpoint["endpoint"]).click()
    heading = f"Pipeline endpoint {batch_endpoint['endpoint']}"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
