"""The reader widget on other themes and screens: Material (instant navigation, dark
palette), readthedocs in French, a phone, the URL cap fallback, and axe-core checks."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser.support import (
    REPOSITORY,
    build_site,
    click_block,
    head_commit,
    new_page,
    opened_query,
    serve,
    start_selecting,
    wait_selecting,
    widget_errors,
)
from mkdocs_erratum.report import parse_issue_body, text_hash

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "site" / "images" / "dialog.png"
UPDATE_SCREENSHOT = "ERRATUM_UPDATE_SCREENSHOT"
"""Set to 1 to rewrite the README's picture; otherwise the test writes to a scratch file."""
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
OTHER = (Path(__file__).parent / "sites" / "guide" / "docs" / "other.md").read_text().split("\n")
ISSUE = "Open an issue on GitHub"
FIXED = "The first paragraph has no speling error\nthat spans two lines."
MATERIAL = {
    "name": "material",
    "features": ["navigation.instant"],
    "palette": [
        {"scheme": "default", "toggle": {"icon": "material/brightness-7", "name": "Dark"}},
        {"scheme": "slate", "toggle": {"icon": "material/brightness-4", "name": "Light"}},
    ],
}


@pytest.fixture(scope="module")
def material_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("material")
    # Instant navigation only follows links listed in the sitemap: site_url must match.
    with serve(root / "site") as base:
        site = build_site(root, MATERIAL, site_url=base)
        yield base, head_commit(site)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG, from its IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def png_row(data: bytes) -> list[tuple[int, int, int]]:
    """The RGB pixels of a one-row, 8-bit RGB or RGBA PNG (what a 1-pixel clip gives)."""
    chunks, at = {}, 8
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        chunks[kind] = chunks.get(kind, b"") + data[at + 8 : at + 8 + size]
        at += 12 + size
    width = int.from_bytes(chunks[b"IHDR"][:4], "big")
    depth, colour = chunks[b"IHDR"][8], chunks[b"IHDR"][9]
    assert (int.from_bytes(chunks[b"IHDR"][4:8], "big"), depth, colour in (2, 6)) == (1, 8, True)
    raw = zlib.decompress(chunks[b"IDAT"])
    step = 3 if colour == 2 else 4
    kind, line = raw[0], bytearray(raw[1 : 1 + width * step])
    for i in range(step, len(line)):  # no row above: Up is None, Paeth is Sub
        left = line[i - step]
        line[i] = (line[i] + {0: 0, 1: left, 2: 0, 3: left // 2, 4: left}[kind]) % 256
    return [tuple(line[i : i + 3]) for i in range(0, len(line), step)]


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
        and any("erratum" in str(n["html"]) for n in v["nodes"])
    ]


def test_material_instant_navigation(browser, material_site, tmp_path):
    base, commit = material_site
    context, page = new_page(browser)
    page.goto(base)
    page.evaluate("window.sameDocument = true")
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The first paragraph has a speling error")
    page.get_by_role("button", name="Continue (1)").click()
    expect(page.get_by_label("Suggested correction — docs/index.md, lines 3–4")).to_be_enabled()
    page.get_by_role("button", name="Cancel").click()

    page.get_by_role("link", name="link", exact=True).click()  # instant: no reload
    page.get_by_role("heading", name="Other page").wait_for()
    assert page.evaluate("window.sameDocument") is True
    assert page.locator(".erratum-button").count() == 1
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "This other page has one paragraph")
    page.get_by_role("button", name="Continue (1)").click()
    box = page.get_by_label("Suggested correction — docs/other.md, line 3")
    expect(box).to_have_value(OTHER[2])
    box.fill(OTHER[2].replace("a mistake", "no mistake"))
    page.get_by_label("What is wrong?").fill("The sentence contradicts the next page.")
    dialog = page.get_by_role("dialog", name="Report an error")
    dialog.get_by_role("button", name=ISSUE).focus()  # a steady picture: no text caret
    # An opaque backdrop: the page behind the rounded corners varies from run to run.
    steady = ".erratum-dialog::backdrop { background: #7f7f7f; }"
    # The tracked picture changes only when asked: a test run leaves the tree clean.
    shot = SCREENSHOT if os.environ.get(UPDATE_SCREENSHOT) == "1" else tmp_path / "dialog.png"
    dialog.screenshot(path=str(shot), caret="hide", animations="disabled", style=steady)
    assert png_size(shot) == png_size(SCREENSHOT), (
        f"the dialog's size changed: rewrite the README's picture with {UPDATE_SCREENSHOT}=1"
    )
    _, query = opened_query(context, page.get_by_role("button", name=ISSUE).click)
    assert query["title"] == "Error on page “Other page”"
    assert f"https://github.com/{REPOSITORY}/blob/{commit}/docs/other.md#L3-L3" in query["body"]
    report = parse_issue_body(query["body"])
    assert report.page_url == base + "other/"
    assert [(b.path, b.start, b.end, b.original_sha256) for b in report.blocks] == [
        ("docs/other.md", 3, 3, text_hash(OTHER[2]))
    ]
    assert widget_errors(page) == []
    context.close()


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_accessibility_in_selection_mode_and_dialog(browser, material_site, scheme):
    base, _ = material_site
    context, page = new_page(browser)
    index = 0 if scheme == "default" else 1
    palette = f"{{index: {index}, color: {{scheme: '{scheme}'}}}}"
    page.add_init_script(f"localStorage.setItem('/.__palette', JSON.stringify({palette}))")
    page.goto(base)
    assert page.evaluate("document.body.dataset.mdColorScheme") == scheme
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The first paragraph has a speling error")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Continue (1)").click()
    expect(page.get_by_label("Suggested correction — docs/index.md, lines 3–4")).to_be_enabled()
    assert serious_violations(page) == []
    background = page.locator("dialog").evaluate("d => getComputedStyle(d).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "default" else "rgb(30, 33, 41)")
    context.close()


def test_french_strings_on_readthedocs(browser, tmp_path):
    plugin = {"widget_issue_form": "erratum.yml", "widget_blocks": "p, li"}
    form = {".github/ISSUE_TEMPLATE/erratum.yml": "name: Erratum\n"}
    site = build_site(tmp_path, {"name": "readthedocs", "locale": "fr"}, plugin, files=form)
    with serve(site) as base:
        context, page = new_page(browser)
        page.goto(base)
        start_selecting(
            page, "Signaler une erreur", "Sélectionnez les paragraphes qui contiennent une erreur"
        )
        # widget_blocks "p, li": 6 paragraphs (an admonition title is one) and 2 list items.
        assert page.locator(".erratum-toggle").count() == 8
        assert page.locator("p > .erratum-toggle, li > .erratum-toggle").count() == 8
        click_block(page, "The last paragraph of the page.")
        page.get_by_role("button", name="Continuer (1)").click()
        dialog = page.get_by_role("dialog", name="Signaler une erreur")
        expect(dialog.get_by_label("Correction proposée — docs/index.md, ligne 26")).to_be_enabled()
        dialog.get_by_label("Quelle est l'erreur\u202f?").fill("Il manque un mot.")
        assert dialog.get_by_role("button", name="Annuler").is_visible()
        _, query = opened_query(
            context, dialog.get_by_role("button", name="Ouvrir un ticket sur GitHub").click
        )
        assert query["title"] == "Erreur sur la page «\u202fField guide\u202f»"
        assert query["template"] == "erratum.yml"  # an issue form: its field "report"
        assert "body" not in query
        assert "#### Quelle est l'erreur\n\n> Il manque un mot." in query["report"]
        assert query["report"].startswith(f"Page\u202f: {base}\n")  # French typography
        assert parse_issue_body(query["report"]).comment == "Il manque un mot."
        context.close()


def test_phone_viewport_with_taps(browser, material_site):
    base, _ = material_site
    context, page = new_page(
        browser, viewport={"width": 375, "height": 667}, has_touch=True, is_mobile=True
    )
    page.goto(base)
    page.get_by_role("button", name="Report an error").tap()
    wait_selecting(page)
    box = page.get_by_text("A quoted paragraph inside a blockquote.").bounding_box()
    page.touchscreen.tap(box["x"] + 10, box["y"] + box["height"] / 2)
    page.get_by_role("button", name="Continue (1)").tap()
    dialog = page.get_by_role("dialog", name="Report an error")
    expect(dialog.get_by_label("Suggested correction — docs/index.md, line 11")).to_be_enabled()
    size = dialog.bounding_box()
    assert size["x"] >= 0 and size["x"] + size["width"] <= 375
    assert size["height"] <= 667
    _, query = opened_query(context, dialog.get_by_role("button", name=ISSUE).tap)
    assert [(b.start, b.end) for b in parse_issue_body(query["body"]).blocks] == [(11, 11)]
    context.close()


def test_phone_outline_of_a_full_bleed_code_block_stays_on_screen(browser, material_site):
    """Material lets code blocks reach the screen's edges on a phone: the selected block's
    outline is drawn inside it, so that no side of it is cut off."""
    base, _ = material_site
    context, page = new_page(
        browser, viewport={"width": 375, "height": 667}, has_touch=True, is_mobile=True
    )
    page.goto(base)
    page.get_by_role("button", name="Report an error").tap()
    wait_selecting(page)
    code = page.locator(".highlight").first
    code.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
    box = code.bounding_box()
    assert box["x"] <= 0 and box["x"] + box["width"] >= 375  # full-bleed: the premise
    page.touchscreen.tap(box["x"] + 40, box["y"] + box["height"] / 2)
    toggle = code.locator(".erratum-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    # The outline's outer edge, as Chromium draws it: the box grown by width + offset.
    edges = toggle.evaluate(
        """t => { const s = getComputedStyle(t), r = t.getBoundingClientRect();
        const grow = parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);
        return [r.left - grow, r.right + grow, s.outlineStyle]; }"""
    )
    assert edges[2] == "solid" and edges[0] >= 0 and edges[1] <= 375, edges
    # And on the screen: the leftmost and rightmost columns show the orange outline.
    png = page.screenshot(clip={"x": 0, "y": box["y"] + box["height"] / 2, "width": 375,
                                "height": 1}, scale="css")  # fmt: skip
    row = png_row(png)
    for x in (0, 1, 373, 374):
        r, g, b = row[x]
        assert r > 140 and g < 140 and b < 80, (x, (r, g, b))  # #b06000
    context.close()


def test_url_cap_shortens_then_copies_to_the_clipboard(browser, tmp_path):
    site = build_site(tmp_path, {"name": "mkdocs"}, {"widget_url_cap": 2500})
    with serve(site) as base:
        context, page = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
        page.goto(base)
        page.get_by_role("button", name="Report an error").click()
        for text in ("The first paragraph", "A second paragraph", "The last paragraph"):
            click_block(page, text)
        page.get_by_role("button", name="Continue (3)").click()
        dialog = page.get_by_role("dialog", name="Report an error")
        box = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
        expect(box).to_be_enabled()
        box.fill(FIXED)

        # Fits once the quoted lines, the diff and the JSON block's originals are dropped.
        dialog.get_by_label("What is wrong?").fill("x" * 300)
        url, query = opened_query(context, dialog.get_by_role("button", name=ISSUE).click)
        assert len(url) <= 2500
        report = parse_issue_body(query["body"])
        assert [(b.start, b.end, b.original) for b in report.blocks] == [
            (3, 4, None),
            (6, 6, None),
            (26, 26, None),
        ]
        assert report.blocks[0].replacement == FIXED
        assert report.comment == "x" * 300

        # Too long for any link: the full body goes to the clipboard, a short issue opens.
        dialog.get_by_label("What is wrong?").fill("y" * 3000)
        url, query = opened_query(context, dialog.get_by_role("button", name=ISSUE).click)
        assert len(url) <= 2500
        assert query["body"].startswith("The full report did not fit in a link.")
        short = parse_issue_body(query["body"])
        assert [(b.start, b.end, b.original_sha256) for b in short.blocks] == [
            (b.start, b.end, b.original_sha256) for b in report.blocks
        ]
        full = page.evaluate("navigator.clipboard.readText()")
        complete = parse_issue_body(full)
        assert complete.comment == "y" * 3000
        assert complete.blocks[0].original == FIXED.replace("no speling", "a speling")
        assert complete.id == short.id == report.id
        expect(dialog.get_by_role("status")).to_contain_text("it is in your clipboard")
        context.close()
