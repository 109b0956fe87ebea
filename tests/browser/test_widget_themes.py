"""The reader widget on other themes and screens: Material (instant navigation, dark
palette), readthedocs in French, a phone, the URL cap fallback, and axe-core checks."""

from __future__ import annotations

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
    widget_errors,
)
from mkdocs_erratum.report import parse_issue_body, text_hash

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "site" / "images" / "dialog.png"
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


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
        and any("erratum" in str(n["html"]) for n in v["nodes"])
    ]


def test_material_instant_navigation(browser, material_site):
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
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    dialog = page.get_by_role("dialog", name="Report an error")
    dialog.get_by_role("button", name=ISSUE).focus()  # a steady picture: no text caret
    # An opaque backdrop: the page behind the rounded corners varies from run to run.
    steady = ".erratum-dialog::backdrop { background: #7f7f7f; }"
    dialog.screenshot(path=str(SCREENSHOT), caret="hide", animations="disabled", style=steady)
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
    site = build_site(tmp_path, {"name": "readthedocs", "locale": "fr"}, plugin)
    with serve(site) as base:
        context, page = new_page(browser)
        page.goto(base)
        page.get_by_role("button", name="Signaler une erreur").click()
        expect(
            page.get_by_text("Sélectionnez les paragraphes qui contiennent une erreur")
        ).to_be_visible()
        # widget_blocks "p, li": 6 paragraphs (an admonition title is one) and 2 list items.
        assert page.locator(".erratum-toggle").count() == 8
        assert page.locator("p > .erratum-toggle, li > .erratum-toggle").count() == 8
        click_block(page, "The last paragraph of the page.")
        page.get_by_role("button", name="Continuer (1)").click()
        dialog = page.get_by_role("dialog", name="Signaler une erreur")
        expect(dialog.get_by_label("Correction proposée — docs/index.md, ligne 26")).to_be_enabled()
        dialog.get_by_label("Quelle est l'erreur ?").fill("Il manque un mot.")
        assert dialog.get_by_role("button", name="Annuler").is_visible()
        _, query = opened_query(
            context, dialog.get_by_role("button", name="Ouvrir une issue sur GitHub").click
        )
        assert query["title"] == "Erreur sur la page « Field guide »"
        assert query["template"] == "erratum.yml"  # an issue form: its field "report"
        assert "body" not in query
        assert "#### Quelle est l'erreur\n\n> Il manque un mot." in query["report"]
        assert parse_issue_body(query["report"]).comment == "Il manque un mot."
        context.close()


def test_phone_viewport_with_taps(browser, material_site):
    base, _ = material_site
    context, page = new_page(
        browser, viewport={"width": 375, "height": 667}, has_touch=True, is_mobile=True
    )
    page.goto(base)
    page.get_by_role("button", name="Report an error").tap()
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
