""" "Already reported (#N)" markers and "Add to #N" in Chromium, from both sources.

Snapshot: a real build, a GitHub stand-in on the site's repository holding an open
report issue, and ``_erratum/open-reports.json`` written by the real ``erratum list
--json --output`` against it; "Add to #N" puts the report on the clipboard and opens the
issue. Service: a real ``erratum serve`` (uvicorn, GitHub backend on the stand-in);
"Add to #N" ends as a comment on that issue. In both, nothing is fetched before the
reader acts, and axe-core finds nothing serious with the markers shown. Also writes the
guide's pictures of the marker and of ``erratum list --html``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser.support import (
    REPOSITORY,
    build_site,
    click_block,
    github_service_config,
    new_page,
    serve,
    widget_errors,
)
from browser.test_widget_themes import UPDATE_SCREENSHOT, png_size, serious_violations
from mkdocs_erratum.fixer import issue_body
from mkdocs_erratum.report import Report, ReportBlock, parse_issue_body, text_hash
from tests.service_support import ServiceProcess, free_port
from tests.standin import GitHubStandIn

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "site" / "images"
TOKEN = "maintainer-token"
TYPO = "The first paragraph has a speling error\nthat spans two lines."
WATCHED = ("open-reports.json", "/api/", "erratum-dialog", "strings.")
"""What must not be fetched before the reader acts."""


def file_report(standin, base: str) -> tuple[int, str]:
    """An open report issue on docs/index.md lines 3-4 (the first paragraph)."""
    block = ReportBlock(
        "docs/index.md", 3, 4, TYPO, text_hash(TYPO), TYPO.replace("speling", "spelling")
    )
    report = Report(page_url=base, blocks=[block], comment="Typo.")
    record = standin.add_issue("Erratum", issue_body(report), labels=["erratum"])
    return record.number, f"{standin.url}/{REPOSITORY}/issues/{record.number}"


def picture(name: str, tmp_path: Path) -> Path:
    """The guide's picture when asked (ERRATUM_UPDATE_SCREENSHOT=1), else a scratch file."""
    return IMAGES / name if os.environ.get(UPDATE_SCREENSHOT) == "1" else tmp_path / name


def erratum_list(standin, root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ERRATUM_"))}
    env["GITHUB_TOKEN"] = TOKEN
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "list", "--api-url", standin.url,
         "-f", str(root / "mkdocs.yml"), *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def watch(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: any(w in r.url for w in WATCHED) and seen.append(r.url))
    return seen


def selection_with_marker(page, number: int, url: str):
    """Press the button: the selection mode starts and the first paragraph is marked."""
    page.get_by_role("button", name="Report an error").click()
    marker = page.get_by_role("link", name=f"Already reported (#{number})")
    expect(marker).to_have_count(1)
    assert marker.get_attribute("href") == url
    # On the first paragraph only, and outside its text (the toggle's name is unchanged).
    paragraph = page.locator("p", has=marker)
    assert paragraph.inner_text().startswith("The first paragraph has a speling error")
    expect(
        page.get_by_role(
            "button", name="The first paragraph has a speling error that spans two lines."
        )
    ).to_have_count(1)
    return marker


def to_dialog(page, number: int):
    click_block(page, "The first paragraph has a speling error")
    page.get_by_role("button", name="Continue (1)").click()
    dialog = page.get_by_role("dialog", name="Report an error")
    add = dialog.get_by_role("button", name=f"Add to #{number}")
    expect(add).to_be_enabled()
    expect(dialog.get_by_role("button", name="New report")).to_be_visible()
    expect(dialog.get_by_role("link", name=f"Already reported (#{number})")).to_be_visible()
    return dialog, add


@pytest.fixture(scope="module")
def snapshot_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("known")
    root = tmp / "repo"
    with serve(root / "site") as base:
        site = build_site(root, {"name": "mkdocs"}, site_url=base)
        standin = GitHubStandIn(str(root), REPOSITORY).start()
        try:
            number, url = file_report(standin, base)
            snapshot = str(site / "_erratum" / "open-reports.json")
            erratum_list(
                standin, root, "--json", "--output", snapshot, "--html", str(tmp / "triage.html")
            )
            yield base, site, standin, number, url, tmp / "triage.html"
        finally:
            standin.stop()


def test_snapshot_marker_and_add_to_copies_a_comment(browser, snapshot_site, tmp_path):
    base, site, _standin, number, url, _html = snapshot_site
    snapshot = json.loads((site / "_erratum" / "open-reports.json").read_text())
    assert snapshot["generated_at"] and snapshot["pages"][0]["page"] == base
    context, page = new_page(browser, viewport={"width": 800, "height": 600})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    seen = watch(page)
    page.goto(base)
    page.wait_for_load_state("networkidle")
    assert seen == [], seen  # nothing before the reader acts
    marker = selection_with_marker(page, number, url)
    assert any(u == base + "_erratum/open-reports.json" for u in seen), seen
    assert serious_violations(page) == []
    shot = picture("triage-marker.png", tmp_path)
    paragraph = page.locator("p", has=marker)
    box = paragraph.bounding_box()
    clip = {"x": 0, "y": max(0, box["y"] - 70), "width": 800, "height": box["height"] + 140}
    page.screenshot(path=str(shot), animations="disabled", clip=clip)
    assert png_size(shot)[0] == 800

    dialog, add = to_dialog(page, number)
    assert serious_violations(page) == []
    with context.expect_page() as opened:
        add.click()
    assert opened.value.url == url + "#new_comment_field"
    expect(dialog.get_by_role("status")).to_have_text(
        "Your report is in your clipboard: paste it as a comment on "
        f"#{number}, in the tab that opened."
    )
    pasted = page.evaluate("navigator.clipboard.readText()")
    report = parse_issue_body(pasted)
    assert report.joins == number
    assert [(b.path, b.start, b.end, b.original_sha256) for b in report.blocks] == [
        ("docs/index.md", 3, 4, text_hash(TYPO))
    ]
    assert widget_errors(page) == [], page.errors
    context.close()


def test_an_old_snapshot_shows_no_marker(browser, snapshot_site):
    base, site, _standin, number, _url, _html = snapshot_site
    path = site / "_erratum" / "open-reports.json"
    fresh = path.read_text()
    old = json.loads(fresh) | {"generated_at": "2020-01-01T00:00:00Z"}
    path.write_text(json.dumps(old))
    try:
        context, page = new_page(browser)
        page.goto(base)
        with page.expect_response(lambda r: r.url.endswith("open-reports.json")):
            page.get_by_role("button", name="Report an error").click()
        page.wait_for_load_state("networkidle")
        expect(page.locator(".erratum-known")).to_have_count(0)
        click_block(page, "The first paragraph has a speling error")
        page.get_by_role("button", name="Continue (1)").click()
        dialog = page.get_by_role("dialog", name="Report an error")
        expect(dialog.get_by_role("button", name="Open an issue on GitHub")).to_be_enabled()
        expect(dialog.get_by_role("button", name=f"Add to #{number}")).to_have_count(0)
        context.close()
    finally:
        path.write_text(fresh)


def test_the_triage_page_picture(browser, snapshot_site, tmp_path):
    _base, _site, _standin, number, _url, html = snapshot_site
    context, page = new_page(browser, viewport={"width": 800, "height": 400})
    page.set_content(html.read_text(encoding="utf-8"))
    expect(page.get_by_role("link", name=f"#{number}", exact=True)).to_be_visible()
    shot = picture("triage-list.png", tmp_path)
    page.screenshot(path=str(shot), animations="disabled")
    assert png_size(shot) == (800, 400)
    context.close()


def test_service_marker_and_add_to_joins_the_issue(browser, tmp_path):
    port = free_port()
    site = build_site(
        tmp_path / "repo", {"name": "mkdocs"}, {"service_url": f"http://127.0.0.1:{port}/"}
    )
    standin = GitHubStandIn(str(site.parent), REPOSITORY).start()
    try:
        with serve(site) as base:
            number, url = file_report(standin, base)
            config = github_service_config(
                tmp_path, site, base, standin.url,
                forge_join_duplicates=False,  # only the reader's "Add to #N" joins
            )  # fmt: skip
            service = ServiceProcess(config, port, tmp_path / "service.log").start()
            try:
                context, page = new_page(browser)
                seen = watch(page)
                page.goto(base)
                page.wait_for_load_state("networkidle")
                assert seen == [], seen
                selection_with_marker(page, number, url)
                assert any("/api/reports?page=" in u for u in seen), seen
                assert serious_violations(page) == []
                dialog, add = to_dialog(page, number)
                box = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
                box.fill(box.input_value().replace("speling", "spelling"))
                dialog.get_by_label("What is wrong?").fill("Same typo, seen again.")
                add.click()
                status = dialog.get_by_role("status")
                expect(status).to_contain_text(
                    f"Thank you! Your report was added to #{number}:", timeout=30_000
                )
                assert widget_errors(page) == [], page.errors
                context.close()
            finally:
                service.stop()
        # The one issue, now with the reader's report as a comment; nothing else opened.
        (issue,) = standin.issues()
        assert issue.number == number and standin.pulls() == []
        assert any("Same typo, seen again." in c["body"] for c in issue.comments), issue.comments
    finally:
        standin.stop()
