"""The reader widget in headless Chromium on real builds: mouse, keyboard, Ctrl+Enter.

Every test asserts on the decoded query of the GitHub URL the widget opens (the tab is
answered by a local stub, nothing leaves 127.0.0.1) and feeds the issue body to the
Python report parser.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from browser.support import (
    REPOSITORY,
    build_site,
    click_block,
    head_commit,
    new_page,
    serve,
    wait_selecting,
    widget_errors,
)
from mkdocs_erratum.report import Report, format_report_block, parse_issue_body, text_hash
from mkdocs_erratum.text_rules import neutralise

INDEX = (Path(__file__).parent / "sites" / "guide" / "docs" / "index.md").read_text().split("\n")


# Markup, a mention, a reference, a tab, a quote and non-ASCII text: same JSON both sides.
COMMENT = 'Typo <b>@octocat</b> see #12\t"café" — ✓'


def lines(a: int, b: int) -> str:
    return "\n".join(INDEX[a - 1 : b])


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory):
    site = build_site(
        tmp_path_factory.mktemp("plain"), {"name": "mkdocs"}, {"widget_labels": ["erratum"]}
    )
    with serve(site) as base:
        yield base, head_commit(site)


def submit(context, page, name="Open an issue on GitHub") -> dict[str, str]:
    with context.expect_page() as opened:
        page.get_by_role("button", name=name).click()
    url = opened.value.url
    assert url.startswith(f"https://github.com/{REPOSITORY}/issues/new?")
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_mouse_flow_opens_prefilled_issue(browser, plain_site):
    base, commit = plain_site
    context, page = new_page(browser)
    requests: list[str] = []
    page.goto(base)
    page.wait_for_load_state("networkidle")
    page.on("request", lambda r: requests.append(r.url))
    page.wait_for_timeout(300)
    assert requests == [], "the widget fetched something before the button was pressed"

    page.get_by_role("button", name="Report an error").click()
    expect(page.get_by_text("Select the paragraphs that contain an error")).to_be_visible()
    click_block(page, "The first paragraph has a speling error")
    click_block(page, "Another item, which mentions")
    click_block(page, "alpha")  # a cell: reported as its row
    assert page.get_by_role("button", name="Continue (3)").is_enabled()
    page.get_by_role("button", name="Continue (3)").click()

    dialog = page.get_by_role("dialog", name="Report an error")
    first = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
    expect(first).to_have_value(lines(3, 4))
    expect(dialog.get_by_label("Suggested correction — docs/index.md, line 19")).to_have_value(
        lines(19, 19)
    )
    assert [r for r in requests if "/src/" in r] == [base + "assets/erratum/src/docs/index.md.json"]
    first.fill(lines(3, 4).replace("speling", "spelling"))
    dialog.get_by_label("What is wrong?").fill(COMMENT)

    query = submit(context, page)
    assert query["title"] == "Error on page “Field guide”"
    assert query["labels"] == "erratum"
    body = query["body"]
    for a, b in [(3, 4), (9, 9), (19, 19)]:
        assert f"https://github.com/{REPOSITORY}/blob/{commit}/docs/index.md#L{a}-L{b}\n" in body
    assert (
        "-The first paragraph has a speling error\n+The first paragraph has a spelling error"
        in body
    )
    assert f"> {neutralise(COMMENT)}" in body  # the widget follows text_rules' rules
    assert "> Typo &lt;b>@\u200boctocat&lt;/b> see #\u200b12" in body
    assert "<b>" not in body.split("```json erratum-report")[0]

    report = parse_issue_body(body)
    assert isinstance(report, Report)
    assert (report.repository, report.commit, report.branch) == (REPOSITORY, commit, "main")
    assert report.page_url == base
    assert report.comment == COMMENT
    got = [
        (b.path, b.start, b.end, b.original, b.original_sha256, b.replacement)
        for b in report.blocks
    ]
    assert got == [
        (
            "docs/index.md",
            3,
            4,
            lines(3, 4),
            text_hash(lines(3, 4)),
            lines(3, 4).replace("speling", "spelling"),
        ),
        ("docs/index.md", 9, 9, lines(9, 9), text_hash(lines(9, 9)), None),
        ("docs/index.md", 19, 19, lines(19, 19), text_hash(lines(19, 19)), None),
    ]
    assert body.endswith("\n" + format_report_block(report))  # the same bytes as Python's
    assert (
        page.get_by_role("dialog").get_by_role("status").inner_text().startswith("The issue opens")
    )
    assert widget_errors(page) == []
    context.close()


def test_selection_mode_starts_with_the_blocks_links_out_of_the_tab_order(browser, plain_site):
    """The first press imports the dialog's module, and the selection mode starts once it
    has: the links the toggles cover are out of the Tab order in the same turn as the
    toggles appear, so that a Tab never reaches one behind a toggle (a fast Tab once
    followed the second paragraph's link, while the module was still loading). Leaving
    puts them back."""
    base, _ = plain_site
    context, page = new_page(browser)
    page.goto(base)
    # Read in the same turn as the first toggle appears, before any key can be handled.
    page.evaluate(
        """() => new MutationObserver((_, o) => {
          if (!document.querySelector('.erratum-toggle')) return;
          o.disconnect();
          window.links = [...document.querySelectorAll('.erratum-block a[href]')];
          window.seen = window.links.map((a) => a.tabIndex);
        }).observe(document.body, { childList: true, subtree: true })"""
    )
    page.locator(".erratum-button").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # at once, while the module may still be loading
    wait_selecting(page)
    seen = page.evaluate("window.seen")
    assert seen and set(seen) == {-1}, seen
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "erratum-toggle"
    page.keyboard.press("Escape")
    restored = page.evaluate("window.links.map((a) => a.getAttribute('tabindex'))")
    assert restored == [None] * len(seen)
    context.close()


def test_keyboard_only_flow(browser, plain_site):
    base, _ = plain_site
    context, page = new_page(browser)
    page.goto(base)

    def tab_to(selector: str, limit: int = 200) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to(".erratum-button")
    page.keyboard.press("Enter")
    wait_selecting(page)
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Field guide"  # the first block, the page title
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the first paragraph
    assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # pressed twice: selected then unselected
    page.keyboard.press("Tab")  # "A list item on one line."
    page.keyboard.press("Enter")
    tab_to(".erratum-continue")
    assert page.evaluate("document.activeElement.textContent") == "Continue (2)"
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Suggested correction — docs/index.md, line 8")).to_be_enabled()
    assert page.evaluate("document.activeElement.id") == "erratum-comment"
    page.keyboard.type("Two errors here.")
    page.keyboard.press("Escape")  # closes the dialog, focus returns to the button
    expect(dialog).to_be_hidden()
    expect(page.locator(".erratum-button")).to_be_focused()

    page.keyboard.press("Enter")  # selection mode again; Escape leaves it
    wait_selecting(page)
    assert page.locator(".erratum-toggle").count() > 5
    page.keyboard.press("Escape")
    assert page.locator(".erratum-toggle").count() == 0
    expect(page.locator(".erratum-button")).to_be_focused()

    # Reopening the same blocks restores what the reader typed.
    page.keyboard.press("Enter")
    wait_selecting(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Control+Enter")  # shortcut for Continue
    expect(dialog.get_by_label("Suggested correction — docs/index.md, line 8")).to_be_enabled()
    assert dialog.get_by_label("What is wrong?").input_value() == "Two errors here."
    tab_to(".erratum-primary")
    with context.expect_page() as opened:
        page.keyboard.press("Enter")
    body = parse_qs(urlsplit(opened.value.url).query)["body"][0]
    report = parse_issue_body(body)
    assert [(b.start, b.end) for b in report.blocks] == [(3, 4), (8, 8)]
    assert report.comment == "Two errors here."
    assert widget_errors(page) == []
    context.close()


def test_ctrl_enter_on_a_text_selection(browser, plain_site):
    base, _ = plain_site
    context, page = new_page(browser)
    page.goto(base)
    box = page.get_by_text("The note body has an eror.").bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)  # drag to select words
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    selected = page.evaluate("getSelection().toString()")
    assert "body has an" in selected
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_role("dialog")
    box = dialog.get_by_label("Suggested correction — docs/index.md, line 15")
    expect(box).to_have_value("    The note body has an eror.")
    assert dialog.get_by_label("What is wrong?").input_value() == f"> {selected.strip()}\n\n"
    box.fill("    The note body has an error.")
    query = submit(context, page)
    report = parse_issue_body(query["body"])
    assert [(b.start, b.end, b.replacement) for b in report.blocks] == [
        (15, 15, "    The note body has an error.")
    ]
    context.close()


def test_without_javascript_one_link_per_page(browser, plain_site):
    base, commit = plain_site
    context, page = new_page(browser, java_script_enabled=False)
    page.goto(base + "other/")
    link = page.get_by_role("link", name="Report an error")
    href = link.get_attribute("href")
    query = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    assert query["title"] == "Error on page “Other page”"
    assert "Page: /other/" in query["body"]
    assert f"https://github.com/{REPOSITORY}/blob/{commit}/docs/other.md" in query["body"]
    assert link.is_visible()
    context.close()


def test_source_that_fails_to_load_is_retried_and_typing_is_kept(browser, plain_site):
    base, _ = plain_site
    context, page = new_page(browser)
    page.route("**/assets/erratum/src/**", lambda r: r.fulfill(status=503))
    page.goto(base)
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The last paragraph of the page.")
    page.get_by_role("button", name="Continue (1)").click()
    dialog = page.get_by_role("dialog", name="Report an error")
    expect(dialog.get_by_role("status")).to_have_text(
        "The original text could not be loaded. Please try again later."
    )
    assert dialog.get_by_role("button", name="Open an issue on GitHub").is_disabled()
    dialog.get_by_label("What is wrong?").fill("Kept across attempts.")
    dialog.get_by_role("button", name="Cancel").click()

    page.unroute("**/assets/erratum/src/**")
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The last paragraph of the page.")
    page.get_by_role("button", name="Continue (1)").click()
    box = dialog.get_by_label("Suggested correction — docs/index.md, line 26")
    expect(box).to_have_value(lines(26, 26))
    assert dialog.get_by_label("What is wrong?").input_value() == "Kept across attempts."
    assert widget_errors(page) == []
    context.close()


def test_plain_http_origin_keeps_the_plain_link(browser, plain_site):
    """Without a secure context (no SubtleCrypto) the widget steps aside for the link."""
    base, _ = plain_site
    context, page = new_page(browser)
    context.route("http://guide.test/**", lambda r: r.fulfill(response=r.fetch(
        url=r.request.url.replace("http://guide.test/", base))))  # fmt: skip
    page.goto("http://guide.test/")
    assert page.evaluate("isSecureContext") is False
    page.wait_for_load_state("networkidle")
    link = page.get_by_role("link", name="Report an error")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith("https://github.com/acme/guide/issues/new?")
    assert page.locator(".erratum-button").count() == 0
    assert widget_errors(page) == []
    context.close()


def test_a_selector_the_browser_refuses_leaves_every_block_selectable(browser, tmp_path):
    """widget_blocks passes the build's parser (soupsieve knows ``:-soup-contains``) but not
    Chromium's: the widget warns in the console and keeps working, with every block."""
    plugin = {"widget_blocks": "p:-soup-contains(speling), li"}
    with serve(build_site(tmp_path, {"name": "mkdocs"}, plugin)) as base:
        context, page = new_page(browser)
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.goto(base)
        parses = "s => { try { document.querySelector(s); return true; } catch { return false; } }"
        assert page.evaluate(parses, plugin["widget_blocks"]) is False
        page.get_by_role("button", name="Report an error").click()
        wait_selecting(page)
        assert page.locator(".erratum-toggle").count() > 8  # more than the p and li alone
        click_block(page, "The last paragraph of the page.")
        expect(page.get_by_role("button", name="Continue (1)")).to_be_enabled()
        assert any(m.startswith("warning: erratum: invalid widget_blocks") for m in console)
        assert widget_errors(page) == []
        context.close()


def test_the_widget_and_the_plain_link_name_a_page_alike(browser, tmp_path):
    """Both use the page's first heading, not the title given in ``nav``."""
    nav = [{"Start here": "index.md"}, {"Elsewhere": "other.md"}]
    with serve(build_site(tmp_path, {"name": "mkdocs"}, nav=nav)) as base:
        context, page = new_page(browser, java_script_enabled=False)
        page.goto(base)
        href = page.locator(".erratum-nojs a").get_attribute("href")
        plain = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
        context.close()
        context, page = new_page(browser)
        page.goto(base)
        page.get_by_role("button", name="Report an error").click()
        click_block(page, "The last paragraph of the page.")
        page.get_by_role("button", name="Continue (1)").click()
        query = submit(context, page)
        assert query["title"] == plain["title"] == "Error on page “Field guide”"
        context.close()
