"""The widget speaks the page's language, in Chromium on real builds.

A French page (front matter ``lang: fr``) on an English site and the reverse, a German
site, and a French reader's whole flow on Material: select text and Ctrl+Enter, say
what is wrong, correct the Markdown, open the prefilled issue, or send it to the
service; no English string of the widget is left anywhere the reader looks, and
axe-core finds nothing serious in each language.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser.support import (
    build_site,
    click_block,
    git_service,
    new_page,
    opened_query,
    serve,
    start_selecting,
    widget_errors,
)
from browser.test_widget_themes import MATERIAL, serious_violations
from mkdocs_erratum.report import parse_issue_body
from mkdocs_erratum.widget import STRINGS
from tests.service_support import free_port

FRENCH_PAGE = """---
lang: fr
---

# Page en français

Ce paragraphe contient une fote d'orthographe.

Un second paragraphe, sans erreur.
"""
ENGLISH_PAGE = """---
lang: en
---

# An English page

This paragraph has a speling mistake.
"""
ENGLISH = {t for t in STRINGS["en"].values() if re.search(r"[A-Za-z]{4}", t)} - {"Source"}


def widget_texts(page) -> str:
    """Everything of the widget a reader sees or hears: texts, names and descriptions."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
              '.erratum-nojs, .erratum-here, .erratum-banner, .erratum-dialog, .erratum-dialog *')]
            .flatMap(e => [e.innerText, e.getAttribute('aria-label'), e.title,
                           e.getAttribute('aria-description'), e.placeholder])
            .filter(Boolean).join('\\n')"""
    )


def english_left(page) -> list[str]:
    texts = widget_texts(page)
    return sorted(t for t in ENGLISH if re.sub(r"\{\w+\}.*", "", t).strip() in texts)


def describe_and_open(page, dialog, label: str, comment: str, button: str) -> dict[str, str]:
    """Type ``comment`` under ``label``, check the dialog (no English, axe-core), press
    ``button``; the query of the issue URL that opens."""
    dialog.get_by_label(label).fill(comment)
    assert english_left(page) == []
    assert serious_violations(page) == []
    _, query = opened_query(page.context, dialog.get_by_role("button", name=button).click)
    return query


def report_on(page, block: str) -> None:
    page.get_by_text(block).hover()
    page.locator(".erratum-here").click()


@pytest.fixture(scope="module")
def english_site(tmp_path_factory):
    site = build_site(
        tmp_path_factory.mktemp("en"), {"name": "mkdocs"}, files={"docs/fr.md": FRENCH_PAGE}
    )
    with serve(site) as base:
        yield base, site


def test_a_french_page_on_an_english_site_speaks_french(browser, english_site):
    base, site = english_site
    html = (site / "fr" / "index.html").read_text(encoding="utf-8")
    assert '<meta name="erratum-lang" content="fr">' in html
    assert '<p class="erratum-nojs" data-erratum-title="Page en français" lang="fr">' in html
    assert ">Signaler une erreur</a>" in html  # the link without JavaScript too
    context, page = new_page(browser)
    page.goto(base + "fr/")
    expect(page.locator(".erratum-button")).to_have_text("Signaler une erreur")
    report_on(page, "Ce paragraphe contient")
    dialog = page.get_by_role("dialog", name="Signaler une erreur")
    box = dialog.get_by_label("Correction proposée — docs/fr.md, ligne 7")
    expect(box).to_be_enabled()
    box.fill("Ce paragraphe contient une faute d'orthographe.")
    query = describe_and_open(
        page, dialog, "Quelle est l'erreur\u202f?", "Une faute.", "Ouvrir un ticket sur GitHub"
    )
    assert query["title"] == "Erreur sur la page «\u202fPage en français\u202f»"
    body = query["body"]
    assert body.startswith(f"Page\u202f: {base}fr/\n\n#### docs/fr.md, ligne 7\n")
    assert "Modification proposée\u202f:\n" in body
    assert "#### Quelle est l'erreur\n\n> Une faute." in body
    assert parse_issue_body(body).comment == "Une faute."
    expect(dialog.get_by_role("status")).to_have_text(
        "Le ticket s'ouvre dans un nouvel onglet\u202f: validez-le pour envoyer votre signalement."
    )
    assert english_left(page) == []

    # The site's other pages stay English.
    page.goto(base)
    expect(page.locator(".erratum-button")).to_have_text("Report an error")
    start_selecting(page, "Report an error", "Select the paragraphs that contain an error")
    assert widget_errors(page) == []
    context.close()


def test_an_english_page_on_a_french_site_speaks_english(browser, tmp_path):
    theme = {"name": "mkdocs", "locale": "fr"}
    site = build_site(tmp_path, theme, files={"docs/en.md": ENGLISH_PAGE})
    with serve(site) as base:
        context, page = new_page(browser)
        page.goto(base + "en/")
        report_on(page, "This paragraph has")
        dialog = page.get_by_role("dialog", name="Report an error")
        expect(dialog.get_by_label("Suggested correction — docs/en.md, line 7")).to_be_enabled()
        assert dialog.get_by_role("button", name="Open an issue on GitHub").is_visible()
        assert serious_violations(page) == []
        page.goto(base)
        start_selecting(
            page, "Signaler une erreur", "Sélectionnez les paragraphes qui contiennent une erreur"
        )
        assert widget_errors(page) == []
        context.close()


def test_a_german_site_speaks_german(browser, tmp_path):
    site = build_site(tmp_path, {"name": "mkdocs", "locale": "de"}, {"widget_labels": ["x"]})
    with serve(site) as base:
        context, page = new_page(browser)
        page.goto(base)
        start_selecting(
            page, "Fehler melden", "Wählen Sie die Absätze aus, die einen Fehler enthalten"
        )
        click_block(page, "The first paragraph has a speling error")
        click_block(page, "The last paragraph of the page.")
        assert serious_violations(page) == []
        page.get_by_role("button", name="Weiter (2)").click()
        dialog = page.get_by_role("dialog", name="Fehler melden")
        box = dialog.get_by_label("Korrekturvorschlag — docs/index.md, Zeilen 3–4")
        expect(box).to_be_enabled()
        query = describe_and_open(
            page, dialog, "Was ist falsch?", "Ein Tippfehler.", "Issue auf GitHub erstellen"
        )
        assert query["title"] == "Fehler auf der Seite „Field guide“"
        assert "#### docs/index.md, Zeilen 3–4\n" in query["body"]
        assert "#### Was ist falsch\n\n> Ein Tippfehler." in query["body"]
        assert widget_errors(page) == []
        context.close()


@pytest.fixture(scope="module")
def french_material(tmp_path_factory):
    """A French Material site with the correction service (git backend) running."""
    root = tmp_path_factory.mktemp("fr-material")
    port = free_port()
    theme = {**MATERIAL, "language": "fr"}
    with serve(root / "repo" / "site") as base:
        site = build_site(
            root / "repo", theme, {"service_url": f"http://127.0.0.1:{port}/"}, site_url=base
        )
        with git_service(root, site, base, port):
            yield base


def test_a_french_reader_on_material_sends_a_correction(browser, french_material):
    base = french_material
    context, page = new_page(browser)
    page.goto(base)
    box = page.get_by_text("The note body has an eror.").bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_role("dialog", name="Signaler une erreur")
    box = dialog.get_by_label("Correction proposée — docs/index.md, ligne 15")
    expect(box).to_have_value("    The note body has an eror.")
    box.fill("    The note body has an error.")
    dialog.get_by_label("Quelle est l'erreur\u202f?").fill("Faute de frappe.")
    assert english_left(page) == []
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Envoyer").click()
    status = dialog.get_by_role("status")
    expect(status).to_contain_text("Merci\u202f! Votre correction est sur la branche erratum/r-")
    assert english_left(page) == []
    expect(dialog.get_by_role("button", name="Fermer")).to_be_visible()
    assert widget_errors(page) == []
    context.close()


def test_material_instant_navigation_follows_each_pages_language(browser, tmp_path):
    """Material swaps <head> on instant navigation, not the end of <body>: the page's
    language (a <meta> in <head>) comes along, and the widget starts again in it."""
    root = tmp_path / "site"
    with serve(root / "site") as base:
        nav = [{"Home": "index.md"}, {"Français": "fr.md"}, {"Other": "other.md"}]
        build_site(root, MATERIAL, files={"docs/fr.md": FRENCH_PAGE}, site_url=base, nav=nav)
        context, page = new_page(browser)
        page.goto(base)
        page.evaluate("window.sameDocument = true")
        expect(page.locator(".erratum-button")).to_have_text("Report an error")
        page.get_by_role("link", name="Français").first.click()
        page.get_by_role("heading", name="Page en français").wait_for()
        assert page.evaluate("window.sameDocument") is True
        expect(page.locator(".erratum-button")).to_have_text("Signaler une erreur")
        assert page.locator(".erratum-button").count() == 1
        report_on(page, "Ce paragraphe contient")
        dialog = page.get_by_role("dialog", name="Signaler une erreur")
        expect(dialog.get_by_label("Correction proposée — docs/fr.md, ligne 7")).to_be_enabled()
        assert english_left(page) == []
        dialog.get_by_role("button", name="Annuler").click()
        page.get_by_role("link", name="Other").first.click()
        page.get_by_role("heading", name="Other page").wait_for()
        assert page.evaluate("window.sameDocument") is True
        expect(page.locator(".erratum-button")).to_have_text("Report an error")
        report_on(page, "This other page has one paragraph")
        dialog = page.get_by_role("dialog", name="Report an error")
        expect(dialog.get_by_label("Suggested correction — docs/other.md, line 3")).to_be_enabled()
        assert widget_errors(page) == []
        context.close()


def test_a_site_translated_with_mkdocs_static_i18n(browser, tmp_path):
    """mkdocs-static-i18n builds each language with its own theme language and
    ``<html lang>``: the French pages speak French, the plain link without JavaScript too."""
    i18n = {
        "docs_structure": "suffix",
        "languages": [
            {"locale": "en", "default": True, "name": "English", "build": True},
            {"locale": "fr", "name": "Français", "build": True},
        ],
    }
    french = "# Guide de terrain\n\nLe premier paragraphe a une fote.\n"
    site = build_site(
        tmp_path, {"name": "mkdocs"}, files={"docs/index.fr.md": french},
        plugins=[{"i18n": i18n}, {"erratum": {}}],
    )  # fmt: skip
    assert ">Signaler une erreur</a>" in (site / "fr" / "index.html").read_text(encoding="utf-8")
    with serve(site) as base:
        context, page = new_page(browser)
        page.goto(base + "fr/")
        report_on(page, "Le premier paragraphe")
        dialog = page.get_by_role("dialog", name="Signaler une erreur")
        expect(
            dialog.get_by_label("Correction proposée — docs/index.fr.md, ligne 3")
        ).to_be_enabled()
        assert english_left(page) == []
        page.goto(base)
        expect(page.locator(".erratum-button")).to_have_text("Report an error")
        assert widget_errors(page) == []
        context.close()
