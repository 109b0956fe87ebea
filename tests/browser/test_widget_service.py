"""The widget's service mode ("Send") in Chromium against the real service, GitHub backend.

A real build with ``service_url`` (which writes the manifest), the site on 127.0.0.1,
``erratum serve`` as a uvicorn process filing through the GitHub stand-in, and headless
Chromium solving the proof of work. What a reader sees when the service is down, when it
cannot check reports, when it refuses one, and the pull request it opens at last; the
git backend's browser test is ``tests/test_service_browser.py``.
"""

from __future__ import annotations

import json
import re

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
from mkdocs_erratum.report import Report
from tests.service_support import ServiceProcess, free_port, git
from tests.standin import GitHubStandIn

KEPT = "Your text is kept; you can try again."


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The built site, served; the GitHub stand-in on its repository; the service's config."""
    tmp = tmp_path_factory.mktemp("service")
    port = free_port()
    site = build_site(
        tmp / "repo", {"name": "mkdocs"}, {"service_url": f"http://127.0.0.1:{port}/"}
    )
    standin = GitHubStandIn(str(site.parent), REPOSITORY).start()
    try:
        with serve(site) as base:
            config = github_service_config(tmp, site, base, standin.url)
            service = ServiceProcess(config, port, tmp / "service.log")
            yield base, site, standin, service
            service.stop()
    finally:
        standin.stop()


def open_dialog(browser, base):
    context, page = new_page(browser)
    keys = []

    def record(request):
        if request.method == "POST" and request.url.endswith("/api/reports"):
            keys.append(request.headers["idempotency-key"])

    page.on("request", record)
    page.goto(base)
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The first paragraph has a speling error")
    page.get_by_role("button", name="Continue (1)").click()
    dialog = page.get_by_role("dialog", name="Report an error")
    box = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
    expect(box).to_be_enabled()
    box.fill(box.input_value().replace("speling", "spelling"))
    dialog.get_by_label("What is wrong?").fill("Typo.")
    return context, page, dialog, keys


def test_down_unavailable_then_a_pull_request(browser, world):
    base, site, standin, service = world
    manifest = site / "_erratum" / "manifest.json"
    published = manifest.read_text(encoding="utf-8")
    context, page, dialog, keys = open_dialog(browser, base)
    status = dialog.get_by_role("status")
    send = dialog.get_by_role("button", name="Send")

    # The service is down: the reader reads our words, not the browser's "Failed to fetch".
    send.click()
    expect(status).to_have_text(f"Sending failed: {KEPT}")
    expect(send).to_be_enabled()

    # Up, but it cannot check reports (no manifest yet): its own sentence, then ours.
    manifest.unlink()
    service.start()
    try:
        send.click()
        expect(status).to_have_text(
            "Sending failed: The service cannot check reports right now; please try again "
            f"later. {KEPT}"
        )
        assert dialog.get_by_label("What is wrong?").input_value() == "Typo."
        manifest.write_text(published, encoding="utf-8")

        send.click()
        expect(status).to_contain_text(
            "Thank you! Your correction is pull request #", timeout=30_000
        )
        href = status.get_by_role("link").get_attribute("href")
        assert re.fullmatch(rf"{re.escape(standin.url)}/{REPOSITORY}/pull/\d+", href)
        assert widget_errors(page) == [], page.errors
        context.close()
    finally:
        service.stop()
        manifest.write_text(published, encoding="utf-8")
    # Two POSTs reached the service, with the same key: the one report it filed.
    assert len(keys) == 2 and keys[0] == keys[1]
    (pull,) = standin.pulls()
    assert keys[0] in pull.body
    fixed = git(site.parent, "show", f"{pull.pull['head_ref']}:docs/index.md")
    assert "The first paragraph has a spelling error" in fixed


def test_a_refusal_shows_the_services_own_message(browser, world):
    base, site, standin, service = world
    manifest = site / "_erratum" / "manifest.json"
    published = manifest.read_text(encoding="utf-8")
    before = len(standin.pulls()) + len(standin.issues())
    context, page, dialog, _keys = open_dialog(browser, base)
    # The page was redeployed with other text on those lines while the reader typed.
    data = json.loads(published)
    for entry in data["pages"].values():
        for block in entry["ranges"]:
            if block[1:3] == [3, 4]:
                block[3] = "0" * 64
    manifest.write_text(json.dumps(data), encoding="utf-8")
    service.start()
    try:
        with page.expect_response(lambda r: r.url.endswith("/api/reports")) as answered:
            dialog.get_by_role("button", name="Send").click()
        answer = answered.value.json()
        assert answered.value.status == 422 and answer["error"] == "hash_mismatch"
        expect(dialog.get_by_role("status")).to_have_text(
            f"Your report was rejected: {answer['message']}"
        )
        sent = Report.from_dict(json.loads(answered.value.request.post_data)["report"])
        assert sent.comment == "Typo."
        # What the reader typed stays, and they may send again.
        assert (
            "spelling"
            in dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4").input_value()
        )
        assert dialog.get_by_role("button", name="Send").is_enabled()
        assert widget_errors(page) == [], page.errors
        context.close()
    finally:
        service.stop()
        manifest.write_text(published, encoding="utf-8")
    assert len(standin.pulls()) + len(standin.issues()) == before
