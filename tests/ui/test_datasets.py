"""Datasets in the browser: upload a CSV (picked, then dropped), its versions, first rows, profile."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.ui.conftest import signed_in

CSV = "age,city,income\n" + "".join(
    f"{20 + i % 40},{'<b>Paris</b>' if i % 3 else 'Oslo'},{1000 + 37 * i}\n" for i in range(300)
)


def drop_file(page: Page, target, name: str, text: str) -> None:
    """A real drop event carrying a File, as the OS hands one to the page."""
    data = page.evaluate_handle(
        """([name, text]) => { const dt = new DataTransfer();
        dt.items.add(new File([text], name, { type: "text/csv" })); return dt; }""",
        [name, text],
    )
    target.dispatch_event("drop", {"dataTransfer": data})


def test_upload_a_dataset_and_see_its_profile(page: Page, ui: str, tmp_path, shot) -> None:
    name = f"people-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    page.goto(ui + signed_in("/datasets"))
    form = page.get_by_role("form", name="Upload a CSV")
    form.get_by_label("CSV file").set_input_files(str(path))
    form.get_by_label("Dataset name").fill(name)
    form.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(rf"/api/ui/datasets/{name}/versions/1$"))
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row", name=re.compile(r"Version 1 300 3"))).to_be_visible()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_text("20 of 300 rows.")).to_be_visible()
    expect(preview.get_by_role("cell", name="<b>Paris</b>").first).to_be_visible()  # user text as text
    profile = page.get_by_role("region", name="Profile")
    age = profile.get_by_role("row", name=re.compile("^age"))
    expect(age.get_by_role("cell").nth(0)).to_have_text("Numeric")
    expect(age.get_by_role("cell").nth(3)).to_have_text("20")  # min
    expect(age.get_by_role("img", name="Histogram of age: 10 bins")).to_be_visible()
    assert age.locator("rect").count() == 10
    city = profile.get_by_role("row", name=re.compile("^city"))
    expect(city).to_contain_text("<b>Paris</b> (200)")
    shot(page, "profile")

    page.get_by_role("link", name="Datasets", exact=True).first.click()
    listed = page.get_by_role("table", name="Registered datasets")
    expect(listed.get_by_role("link", name=name)).to_be_visible()
    form = page.get_by_role("form", name="Upload a CSV")
    drop_file(page, form.locator(".dropzone"), "more.csv", "age,city,income\n1,A,2\n")
    expect(form.get_by_text("Chosen: more.csv")).to_be_visible()
    form.get_by_label("Dataset name").fill(name)
    form.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(rf"/datasets/{name}/versions/2$"))
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row", name=re.compile(r"Version 2 1 3"))).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/api/ui/datasets$"))
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/datasets/{name}/versions/1$"))
    expect(page.get_by_role("region", name="Preview").get_by_text("20 of 300 rows.")).to_be_visible()
