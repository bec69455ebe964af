"""Editing on the canvas: refused connections, undo/redo, an autosave conflict, problems on
nodes, markup shown as text."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import signed_in
from tests.ui.helpers import connect, library_entry, node_named, saved


def draft(api: httpx.Client, name: str, nodes: list[dict], edges: list[dict] | None = None) -> str:
    answer = api.post("/pipelines", json={"name": name, "nodes": nodes, "edges": edges or []})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def at(x: int, y: int) -> dict:
    return {"x": x, "y": y}


def open_draft(page: Page, ui: str, draft_id: str) -> None:
    page.goto(ui + signed_in(f"/drafts/{draft_id}"))
    expect(page.get_by_role("toolbar", name="Canvas tools")).to_be_visible()
    expect(page.locator(".react-flow__node").first).to_be_visible()


def edges(page: Page):
    return page.locator(".react-flow__edge")


def test_a_refused_connection_says_why(page: Page, ui: str, api: httpx.Client, shot) -> None:
    draft_id = draft(
        api,
        "refused",
        [
            {"id": "linear_regression", "component": "Linear Regression", "position": at(40, 60)},
            {"id": "split_data", "component": "Split Data", "position": at(340, 60)},
        ],
    )
    open_draft(page, ui, draft_id)
    connect(page, "Untrained model", "Linear Regression", "Dataset", "Split Data")
    alert = page.get_by_role("alert").filter(has_text="Connection refused")
    expect(alert).to_contain_text("Untrained model (untrained model) cannot connect to Dataset (dataset)")
    expect(edges(page)).to_have_count(0)
    shot(page, "refused")


def test_undo_and_redo_an_add_a_connect_and_a_paste(page: Page, ui: str, api: httpx.Client, shot) -> None:
    draft_id = draft(
        api,
        "undo",
        [
            {"id": "linear_regression", "component": "Linear Regression", "position": at(30, 40)},
            {
                "id": "train_model",
                "component": "Train Model",
                "parameters": {"label_column": "price"},
                "position": at(330, 40),
            },
        ],
    )
    open_draft(page, ui, draft_id)
    nodes = page.locator(".react-flow__node")
    expect(nodes).to_have_count(2)

    library_entry(page, "Components", "Score Model").dblclick()  # an add
    expect(node_named(page, "Score Model")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(node_named(page, "Score Model")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(node_named(page, "Score Model")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(nodes).to_have_count(2)
    shot(page, "add-undone")

    connect(page, "Untrained model", "Linear Regression", "Untrained model", "Train Model")  # a connect
    expect(edges(page)).to_have_count(1)
    page.get_by_role("button", name="Undo").click()
    expect(edges(page)).to_have_count(0)
    page.get_by_role("button", name="Redo").click()
    expect(edges(page)).to_have_count(1)
    shot(page, "connect-redone")

    page.get_by_role("region", name="Canvas").click(position={"x": 600, "y": 400})  # focus the canvas
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")  # a paste of two nodes and their connection
    expect(nodes).to_have_count(4)
    expect(edges(page)).to_have_count(2)
    expect(node_named(page, "Train Model 2")).to_be_visible()
    shot(page, "pasted")
    page.keyboard.press("Control+z")  # one step undoes the whole paste
    expect(nodes).to_have_count(2)
    expect(edges(page)).to_have_count(1)
    page.keyboard.press("Control+y")
    expect(nodes).to_have_count(4)
    expect(edges(page)).to_have_count(2)
    saved(page)
    saved_doc = api.get(f"/pipelines/{draft_id}").json()["pipeline"]
    assert len(saved_doc["nodes"]) == 4 and len(saved_doc["edges"]) == 2
    assert all(n["position"] for n in saved_doc["nodes"])


def test_an_autosave_conflict_from_a_second_tab_offers_a_reload(
    page: Page, ui: str, api: httpx.Client, shot
) -> None:
    draft_id = draft(
        api,
        "conflict",
        [{"id": "linear_regression", "component": "Linear Regression", "position": at(40, 40)}],
    )
    open_draft(page, ui, draft_id)
    second = page.context.new_page()
    open_draft(second, ui, draft_id)
    library_entry(second, "Components", "Split Data").dblclick()
    saved(second)
    second.close()

    library_entry(page, "Components", "Score Model").dblclick()  # saved on a stale ETag
    dialog = page.get_by_role("dialog", name="This draft was changed elsewhere")
    expect(dialog).to_be_visible(timeout=15000)
    shot(page, "conflict")
    stored = api.get(f"/pipelines/{draft_id}").json()["pipeline"]["nodes"]
    assert {n["component"] for n in stored} == {"linear_regression", "split_data"}  # nothing overwritten
    dialog.get_by_role("button", name="Reload the draft").click()
    expect(node_named(page, "Split Data")).to_have_count(1)
    expect(node_named(page, "Score Model")).to_have_count(0)


def test_a_draft_with_problems_shows_each_on_its_node(page: Page, ui: str, api: httpx.Client, shot) -> None:
    draft_id = draft(
        api,
        "<img src=x onerror=alert(1)> problems",
        [
            {"id": "split_data", "component": "Split Data", "position": at(40, 40)},
            {
                "id": "train_model",
                "component": "Train Model",
                "position": at(340, 40),
                "comment": "<b>not bold</b>",
            },
            {
                "id": "nope",
                "component": "Dataset",
                "parameters": {"name": "no-such-dataset"},
                "position": at(40, 220),
            },
        ],
    )
    problems = api.get(f"/pipelines/{draft_id}").json()["problems"]
    assert {p["node"] for p in problems if p.get("node")} >= {"split_data", "train_model"}
    open_draft(page, ui, draft_id)
    expect(page.get_by_role("heading", name="<img src=x onerror=alert(1)> problems")).to_be_visible()
    expect(page.get_by_text("<b>not bold</b>")).to_be_visible()  # markup shown as text
    for node_id, name in (("split_data", "Split Data"), ("train_model", "Train Model")):
        count = sum(1 for p in problems if p.get("node") == node_id)
        plural = "problem" if count == 1 else "problems"
        expect(node_named(page, name)).to_have_attribute("aria-label", re.compile(rf", {count} {plural}$"))
        expect(node_named(page, name).get_by_text(f"{count} {plural}")).to_be_visible()
    panel = page.get_by_role("region", name="Problems")
    listed = panel.get_by_role("listitem")
    expect(listed).to_have_count(len(problems))
    shot(page, "problems")
    panel.get_by_role("button", name=re.compile("Train Model.*label", re.I)).first.click()
    pane = page.get_by_role("complementary", name="Properties of Train Model")
    expect(pane).to_be_visible()
    expect(pane.get_by_role("alert")).to_contain_text("label")
    shot(page, "problem-selected")
