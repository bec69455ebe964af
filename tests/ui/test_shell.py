"""Signing in, the key kept out of the address bar, and the canvas by keyboard alone."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import FUNCTION_KEY
from tests.ui.conftest import signed_in
from tests.ui.helpers import library_entry, node_named, port


def test_the_key_is_asked_for_once_and_kept_out_of_the_address_bar(page: Page, ui: str, shot) -> None:
    page.goto(ui + "/")
    dialog = page.get_by_role("dialog", name="Sign in")
    dialog.get_by_label("Function key").fill("not-the-key")
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog.get_by_role("alert")).to_have_text("That key was refused.")
    shot(page, "refused-key")
    dialog.get_by_label("Function key").fill(FUNCTION_KEY)
    dialog.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Pipeline drafts")).to_be_visible()
    page.reload()  # kept for the tab
    expect(page.get_by_role("heading", name="Pipeline drafts")).to_be_visible()
    expect(page.get_by_role("dialog", name="Sign in")).to_have_count(0)

    fresh = page.context.new_page()
    fresh.goto(ui + signed_in("/experiments"))
    expect(fresh.get_by_role("heading", name="Experiments")).to_be_visible()
    assert "key=" not in fresh.url and FUNCTION_KEY not in fresh.url


def test_the_canvas_works_from_the_keyboard(page: Page, ui: str, api: httpx.Client, shot) -> None:
    draft_id = api.post("/pipelines", json={"name": "keyboard"}).json()["id"]
    page.goto(ui + signed_in(f"/drafts/{draft_id}"))
    expect(page.get_by_role("button", name=re.compile("^No problems|^Problems"))).to_be_visible()
    library_entry(page, "Components", "Linear Regression").press("Enter")
    expect(node_named(page, "Linear Regression")).to_have_count(1)
    library_entry(page, "Components", "Train Model").press("Enter")
    expect(node_named(page, "Train Model")).to_have_count(1)
    port(page, "Output", "Untrained model", "Linear Regression").press("Enter")
    port(page, "Input", "Untrained model", "Train Model").press("Enter")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    page.get_by_role("region", name="Canvas").click(position={"x": 20, "y": 20})
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts.get_by_role("rowheader", name="Ctrl+Z")).to_be_visible()
    shot(page, "shortcuts")
    page.keyboard.press("Escape")
    expect(shortcuts).to_have_count(0)
