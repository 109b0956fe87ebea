"""The per-paragraph link in Chromium: mouse, keyboard and touch open the dialog on
exactly the block the link sits in; more blocks can be added; nothing of the dialog is
fetched before the reader acts; ``widget_paragraph_links: false`` leaves it out."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser.support import build_site, click_block, new_page, opened_query, serve, widget_errors
from mkdocs_erratum.report import parse_issue_body

INDEX = (Path(__file__).parent / "sites" / "guide" / "docs" / "index.md").read_text().split("\n")
LINK = ".erratum-here"
DIALOG_FILES = ("erratum-dialog.js", "erratum-dialog.css", "strings.", "/src/")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(build_site(tmp_path_factory.mktemp("links"), {"name": "mkdocs"})) as base:
        yield base


def corrections(dialog) -> list[str]:
    """The labels of the dialog's correction boxes, once they are shown."""
    expect(dialog.locator("textarea").nth(1)).to_be_enabled()
    return dialog.locator("label").all_inner_texts()[1:]


def host_text(page) -> str:
    """The text of the block that holds the link (its permalink sign left out)."""
    return page.locator(LINK).evaluate(
        "l => l.parentElement.textContent.replace('\u00b6', '').trim()"
    )


def test_hover_then_the_link_opens_the_dialog_on_that_block(browser, site):
    context, page = new_page(browser)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(site)
    page.wait_for_load_state("networkidle")
    loaded = list(requests)
    assert [u for u in loaded if any(f in u for f in DIALOG_FILES)] == []

    paragraph = page.get_by_text("A second paragraph, with a")
    paragraph.hover()
    link = page.locator(LINK)
    assert host_text(page).startswith("A second paragraph")
    expect(link).to_be_visible()
    assert link.evaluate("l => getComputedStyle(l).opacity") == "1"
    # In the margin, beside the block's first line, not over its text.
    box, text = link.bounding_box(), paragraph.bounding_box()
    assert box["x"] + box["width"] <= text["x"] and abs(box["y"] - text["y"]) < text["height"]
    expect(link).to_have_accessible_name("Report this passage")
    page.wait_for_timeout(200)
    assert requests == loaded, "hovering fetched something"

    link.click()
    dialog = page.get_by_role("dialog", name="Report an error")
    assert corrections(dialog) == ["Suggested correction — docs/index.md, line 6"]
    assert [u for u in requests if "erratum-dialog.js" in u] == [
        site + "assets/erratum/erratum-dialog.js"
    ]

    # More blocks: back to the selection mode with this one chosen, what was typed kept.
    dialog.get_by_label("What is wrong?").fill("Two mistakes.")
    dialog.get_by_role("button", name="Select more paragraphs").click()
    expect(page.get_by_role("button", name="Continue (1)")).to_be_enabled()
    click_block(page, "The last paragraph of the page.")
    page.get_by_role("button", name="Continue (2)").click()
    assert corrections(dialog) == [
        "Suggested correction — docs/index.md, line 6",
        "Suggested correction — docs/index.md, line 26",
    ]
    assert dialog.get_by_label("What is wrong?").input_value() == "Two mistakes."
    _, query = opened_query(
        context, dialog.get_by_role("button", name="Open an issue on GitHub").click
    )
    report = parse_issue_body(query["body"])
    assert [(b.start, b.end, b.original) for b in report.blocks] == [
        (6, 6, INDEX[5]),
        (26, 26, INDEX[25]),
    ]
    assert report.comment == "Two mistakes."
    assert widget_errors(page) == []
    context.close()


def test_the_link_by_keyboard_is_one_tab_stop_moved_by_the_arrow_keys(browser, site):
    context, page = new_page(browser)
    page.goto(site)
    assert page.locator(LINK).count() == 1  # one for the whole page
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.className"))
        if stops[-1] == "erratum-here":
            break
    assert stops[-1] == "erratum-here", stops
    link = page.locator(LINK)
    expect(link).to_be_visible()  # shown while focused
    assert host_text(page) == "Field guide"
    for _ in range(3):  # the first paragraph, the second, the first list item
        page.keyboard.press("ArrowDown")
    expect(link).to_be_focused()
    assert host_text(page) == "A list item on one line."
    assert link.get_attribute("aria-description") == "A list item on one line."
    page.keyboard.press("ArrowUp")
    assert host_text(page).startswith("A second paragraph")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Report an error")
    assert corrections(dialog) == ["Suggested correction — docs/index.md, line 8"]
    page.keyboard.press("Escape")
    expect(link).to_be_focused()  # back where the reader was
    assert host_text(page) == "A list item on one line."
    # Tab goes on from there to the page's next stop, not to another link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") != "erratum-here"
    assert widget_errors(page) == []
    context.close()


def test_the_link_by_touch_on_a_tapped_or_long_pressed_block(browser, site):
    context, page = new_page(browser, viewport={"width": 390, "height": 740}, has_touch=True)
    page.goto(site)
    link = page.locator(LINK)
    block = page.get_by_text("A quoted paragraph inside a blockquote.")
    block.tap()
    assert host_text(page) == "A quoted paragraph inside a blockquote."
    expect(link).to_be_visible()
    assert link.evaluate("l => getComputedStyle(l).opacity") == "1"

    # A long press (touch held for 800 ms) on another block moves the link there.
    other = page.get_by_text("The last paragraph of the page.")
    other.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
    box = other.bounding_box()
    point = {"x": box["x"] + 20, "y": box["y"] + box["height"] / 2}
    cdp = context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    page.wait_for_timeout(800)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert host_text(page) == "The last paragraph of the page."
    expect(link).to_be_visible()
    link.tap()
    dialog = page.get_by_role("dialog", name="Report an error")
    assert corrections(dialog) == ["Suggested correction — docs/index.md, line 26"]
    assert widget_errors(page) == []
    context.close()


def test_paragraph_links_off(browser, tmp_path):
    site = build_site(tmp_path, {"name": "mkdocs"}, {"widget_paragraph_links": False})
    with serve(site) as base:
        context, page = new_page(browser)
        page.goto(base)
        page.get_by_text("A second paragraph, with a").hover()
        page.get_by_text("The last paragraph of the page.").click()
        assert page.locator(LINK).count() == 0
        page.get_by_role("button", name="Report an error").click()  # the rest still works
        click_block(page, "The last paragraph of the page.")
        expect(page.get_by_role("button", name="Continue (1)")).to_be_enabled()
        context.close()
