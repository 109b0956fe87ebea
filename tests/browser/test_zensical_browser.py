"""The reader widget in Chromium on a site built by `zensical build` + `erratum assets`.

The fixture of ``tests/test_zensical.py`` (front matter, admonitions, tabs, snippets),
built by Zensical 0.0.73 in a fresh git repository, served on 127.0.0.1: a reader
selects blocks, describes the error and opens the prefilled issue; with ``service_url``
the same report goes through ``erratum serve`` (git backend, a uvicorn process), which
creates a branch changing exactly the reported lines.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from browser.support import click_block, git_service, new_page, sent_to_branch, serve, widget_errors
from mkdocs_erratum.report import parse_issue_body
from tests.service_support import free_port, git

pytest.importorskip("zensical", reason="Zensical needs Python 3.11+")

FIXTURE = Path(__file__).resolve().parent.parent / "sites" / "zensical"
INDEX = (FIXTURE / "docs" / "index.md").read_text().split("\n")
SHARED = (FIXTURE / "includes" / "shared.md").read_text().split("\n")


def zensical_site(root: Path, options: str = "") -> Path:
    """The fixture in a new repository (``options`` added to the extension's table),
    built by Zensical, then ``erratum assets``; returns the site folder."""
    shutil.copytree(FIXTURE, root)
    config = root / "zensical.toml"
    table = "[project.markdown_extensions.erratum_sourcemap]\n"
    config.write_text(config.read_text().replace(table, table + options))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "site")
    for command in (["zensical", "build"], ["mkdocs_erratum.cli", "assets", "site"]):
        proc = subprocess.run(
            [sys.executable, "-m", *command], cwd=root, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "site"


@pytest.fixture(scope="module")
def issue_site(tmp_path_factory):
    site = zensical_site(tmp_path_factory.mktemp("zensical") / "repo")
    with serve(site) as base:
        yield base, git(site.parent, "rev-parse", "HEAD")


def select_and_describe(page, base: str):
    page.goto(base)
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "This site is built by Zensical")
    click_block(page, "A paragraph that lives in an included file")
    page.get_by_role("button", name="Continue (2)").click()
    dialog = page.get_by_role("dialog", name="Report an error")
    own = dialog.get_by_label("Suggested correction — docs/index.md, lines 9–10")
    expect(own).to_have_value("\n".join(INDEX[8:10]))
    included = dialog.get_by_label("Suggested correction — includes/shared.md, line 1")
    expect(included).to_have_value(SHARED[0])
    own.fill(own.input_value().replace("same\nMarkdown", "very same\nMarkdown"))
    included.fill("A paragraph that lives in a file of its own.")
    dialog.get_by_label("What is wrong?").fill("Say it is the very same.")
    return dialog


def test_select_describe_and_open_the_prefilled_issue(browser, issue_site):
    base, commit = issue_site
    context, page = new_page(browser)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(base)
    page.wait_for_load_state("networkidle")
    # Zero requests of ours before the reader acts: the settings are in the page.
    assert [r for r in requests if "/assets/erratum/" in r and not r.endswith(".css")] == [
        base + "assets/erratum/erratum.js"
    ]
    dialog = select_and_describe(page, base)
    with context.expect_page() as opened:
        dialog.get_by_role("button", name="Open an issue on GitHub").click()
    url = opened.value.url
    assert url.startswith("https://github.com/acme/fixture/issues/new?")
    body = parse_qs_body(url)
    assert f"https://github.com/acme/fixture/blob/{commit}/docs/index.md#L9-L10" in body
    assert f"https://github.com/acme/fixture/blob/{commit}/includes/shared.md#L1-L1" in body
    report = parse_issue_body(body)
    assert report.commit == commit and report.comment == "Say it is the very same."
    assert [(b.path, b.start, b.end) for b in report.blocks] == [
        ("docs/index.md", 9, 10),
        ("includes/shared.md", 1, 1),
    ]
    assert "very same" in report.blocks[0].replacement
    assert report.blocks[1].replacement == "A paragraph that lives in a file of its own."
    assert [r for r in requests if "/src/" in r] == [
        base + "assets/erratum/src/docs/index.md.json",
        base + "assets/erratum/src/includes/shared.md.json",
    ]
    assert widget_errors(page) == [], page.errors
    context.close()


def test_the_french_page_speaks_french(browser, issue_site):
    base, _commit = issue_site
    context, page = new_page(browser)
    page.goto(base + "fr/")
    page.get_by_role("button", name="Signaler une erreur").click()
    expect(
        page.get_by_text("Sélectionnez les paragraphes qui contiennent une erreur")
    ).to_be_visible()
    assert widget_errors(page) == [], page.errors
    context.close()


def parse_qs_body(url: str) -> str:
    return parse_qs(urlsplit(url).query)["body"][0]


def test_send_through_the_service(browser, tmp_path):
    port = free_port()
    site = zensical_site(tmp_path / "repo", f'service_url = "http://127.0.0.1:{port}/"\n')
    repo = site.parent
    commit = git(repo, "rev-parse", "HEAD")
    with serve(site) as base, git_service(tmp_path, site, base, port):
        context, page = new_page(browser)
        dialog = select_and_describe(page, base)
        branch = sent_to_branch(page, dialog)
        context.close()
    assert git(repo, "rev-parse", f"{branch}^") == commit
    diff = git(repo, "diff", "-U0", commit, branch, "--", "docs/index.md")
    assert "@@ -9 +9 @@" in diff
    assert "+This site is built by Zensical and by MkDocs from the very same" in diff
    # The included file's line is corrected in that file.
    diff = git(repo, "diff", "-U0", commit, branch, "--", "includes/shared.md")
    assert "@@ -1 +1 @@" in diff
    assert "+A paragraph that lives in a file of its own." in diff
