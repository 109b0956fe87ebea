"""``/admin`` in Chromium against a real ``erratum serve``: sign in, approve a held report.

The service runs as a uvicorn process (git backend, ``moderation = true``); the report
is sent over HTTP as the widget sends it, then a maintainer signs in through the page's
form and approves it. Chromium sends the page's own ``Origin`` on those form POSTs only
when the page's Referrer-Policy lets it (with ``no-referrer`` it sends ``Origin: null``,
which the service must refuse). Also writes the guide's picture of the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.sync_api import expect

from browser.support import new_page
from browser.test_widget_themes import UPDATE_SCREENSHOT, png_size
from tests.service_support import branches, live_service, make_report, post, wait_done

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "site" / "images" / "admin.png"
TOKEN = "a-long-admin-token-for-tests"


def test_a_maintainer_signs_in_and_approves_a_held_report(browser, tmp_path):
    with (
        live_service(tmp_path, moderation=True, admin_token=TOKEN) as live,
        httpx.Client(base_url=live.url) as client,
    ):
        report = make_report(live.commit, replacement="Le concert a eu lieu le 2 mars.")
        answer = post(client, report)
        assert answer.status_code == 202 and answer.json()["state"] == "held", answer.text
        context, page = new_page(browser, viewport={"width": 800, "height": 600})
        posts = []
        page.on("request", lambda r: r.method == "POST" and posts.append(r.headers.get("origin")))
        page.goto(live.url + "/admin")
        page.get_by_label("Admin token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Held reports")).to_be_visible()
        expect(page.get_by_text("+Le concert a eu lieu le 2 mars.")).to_be_visible()
        shot = SCREENSHOT if os.environ.get(UPDATE_SCREENSHOT) == "1" else tmp_path / "admin.png"
        page.screenshot(path=str(shot), full_page=True, animations="disabled")
        assert png_size(shot)[0] == 800
        page.get_by_role("checkbox").first.check()
        page.get_by_role("button", name="Approve selected").click()
        expect(page.get_by_text("1 approved")).to_be_visible()
        assert wait_done(client, report.id)["state"] == "branch_created"
        assert branches(live.repo) == [f"erratum/{report.id}"]
        # Both form POSTs carried the page's own origin, not "null".
        assert posts == [live.url.rstrip("/")] * 2, posts
        context.close()
