"""The widget sends a correction through a running service (git backend) in Chromium.

A real build with ``service_url`` (which also writes the manifest), the site served on
127.0.0.1, ``erratum serve`` as a uvicorn process on the site's own repository, and
headless Chromium solving the proof of work: the dialog ends on the branch the service
created, and that branch changes exactly the reported lines.
"""

from __future__ import annotations

import json

import pytest
from browser.support import (
    build_site,
    click_block,
    git_service,
    headless_chromium,
    new_page,
    sent_to_branch,
    serve,
    widget_errors,
)
from playwright.sync_api import expect

from tests.service_support import free_port, git


@pytest.fixture(scope="module")
def chromium():
    with headless_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """A built site served on 127.0.0.1 and ``erratum serve`` (git backend) for it."""
    tmp = tmp_path_factory.mktemp("service-site")
    service_port = free_port()
    service_url = f"http://127.0.0.1:{service_port}/"
    site = build_site(tmp / "repo", {"name": "mkdocs"}, {"service_url": service_url})
    assert (site / "_erratum" / "manifest.json").exists()
    with serve(site) as base, git_service(tmp, site, base, service_port):
        yield site, base


def open_dialog(chromium, base):
    context, page = new_page(chromium)
    page.goto(base)
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The first paragraph has a speling error")
    page.get_by_role("button", name="Continue (1)").click()
    dialog = page.get_by_role("dialog", name="Report an error")
    box = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
    box.fill(box.input_value().replace("speling", "spelling"))
    dialog.get_by_label("What is wrong?").fill("Typo, ping @octocat")
    return context, page, dialog


def test_widget_sends_a_correction_and_shows_the_branch(chromium, running):
    site, base = running
    repo = site.parent
    commit = git(repo, "rev-parse", "HEAD")
    context, page, dialog = open_dialog(chromium, base)
    branch = sent_to_branch(page, dialog)
    context.close()
    assert git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/erratum/") == branch
    assert git(repo, "rev-parse", f"{branch}^") == commit
    diff = git(repo, "diff", "-U0", commit, branch)
    assert "@@ -3 +3 @@" in diff
    assert (
        "-The first paragraph has a speling error\n+The first paragraph has a spelling error"
        in (diff)
    )
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert "Typo, ping @\u200boctocat" in message


def test_widget_shows_why_the_service_refused(chromium, running):
    site, base = running
    manifest = site / "_erratum" / "manifest.json"
    published = manifest.read_text(encoding="utf-8")
    before = git(site.parent, "for-each-ref", "refs/heads/erratum/")
    context, page, dialog = open_dialog(chromium, base)
    # The site is redeployed from another commit while the reader types.
    data = json.loads(published)
    data["commit"] = "0" * 40
    manifest.write_text(json.dumps(data), encoding="utf-8")
    try:
        dialog.get_by_role("button", name="Send").click()
        expect(dialog.get_by_role("status")).to_contain_text(
            "Your report was rejected: The page was built from another version of the site",
            timeout=30_000,
        )
        # What the reader typed is still there.
        box = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
        assert "spelling" in box.input_value()
        assert widget_errors(page) == [], page.errors
        context.close()
    finally:
        manifest.write_text(published, encoding="utf-8")
    assert git(site.parent, "for-each-ref", "refs/heads/erratum/") == before
