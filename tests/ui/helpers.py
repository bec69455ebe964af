"""Real mouse gestures on the canvas, and finding things by role and name."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


def centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box, f"{locator} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page: Page, source: Locator, to: tuple[float, float] | Locator, steps: int = 12) -> None:
    """Press on `source`, move in steps, release over `to` (a point or an element)."""
    x, y = centre(source)
    tx, ty = centre(to) if isinstance(to, Locator) else to
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 6, y + 6, steps=2)
    page.mouse.move(tx, ty, steps=steps)
    page.mouse.up()


def canvas(page: Page) -> Locator:
    return page.get_by_role("region", name="Canvas")


def canvas_point(page: Page, dx: float, dy: float) -> tuple[float, float]:
    box = canvas(page).bounding_box()
    return box["x"] + dx, box["y"] + dy


def library_entry(page: Page, tab: str, name: str) -> Locator:
    page.get_by_role("tab", name=tab).click()
    search = page.get_by_role("searchbox", name="Search the asset library")
    search.fill(name)
    return page.get_by_role("complementary", name="Asset library").get_by_role(
        "button", name=name, exact=True
    )


def add_from_library(page: Page, tab: str, name: str, dx: float, dy: float) -> Locator:
    """Drag a library entry onto the canvas at (dx, dy) from its top left; the new node."""
    before = node_named(page, name).count()
    drag(page, library_entry(page, tab, name), canvas_point(page, dx, dy))
    page.get_by_role("searchbox", name="Search the asset library").fill("")
    expect(node_named(page, name)).to_have_count(before + 1)
    return node_named(page, name).last


def node_named(page: Page, component_or_name: str) -> Locator:
    """Nodes whose accessible name is '<name>: <component>[, ...]' for this name or component."""
    pattern = re.compile(rf"(^{re.escape(component_or_name)}: )|(: {re.escape(component_or_name)}(,|$))")
    return page.get_by_role("group", name=pattern)


def port(page: Page, direction: str, port_name: str, node_name: str) -> Locator:
    return page.get_by_role("button", name=f"{direction} {port_name} of {node_name}", exact=True)


def connect(page: Page, out_port: str, out_node: str, in_port: str, in_node: str) -> None:
    drag(page, port(page, "Output", out_port, out_node), port(page, "Input", in_port, in_node))


def saved(page: Page) -> None:
    expect(page.get_by_role("status").filter(has_text=re.compile("All changes saved"))).to_be_visible(
        timeout=15000
    )
