"""The widget's service mode ("Send") against a small stand-in of the erratum service.

The stand-in speaks the HTTP API of the service (challenge, reports, status) on another
port than the site, with CORS, and really verifies the ALTCHA proof of work with the
``altcha`` package; the real service has its own end-to-end browser test.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import altcha
import pytest
from playwright.sync_api import expect

from browser.support import build_site, click_block, new_page, serve, widget_errors
from mkdocs_erratum.report import Report, text_hash

HMAC_KEY = "stand-in secret"
PREFIX = "/errata"
STALE = "The text no longer matches the published page."
INDEX = (Path(__file__).parent / "sites" / "guide" / "docs" / "index.md").read_text().split("\n")


class StandIn(http.server.ThreadingHTTPServer):
    """Records what it receives; answers like the service (see the API in the README)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posts: list[dict] = []
        self.polls: dict[str, int] = {}
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, data: dict | None = None) -> None:
        body = json.dumps(data).encode() if data is not None else b""
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        self._send(204)

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        path = self.path.removeprefix(PREFIX)
        if path == "/api/challenge":
            challenge = altcha.create_challenge_v1(hmac_key=HMAC_KEY, max_number=20_000)
            return self._send(200, challenge.to_dict())
        report_id = path.removeprefix("/api/reports/")
        count = self.server.polls[report_id] = self.server.polls.get(report_id, 0) + 1
        if count < 2:
            return self._send(200, {"id": report_id, "state": "queued", "number": None,
                                    "url": None, "branch": None, "reason": None})  # fmt: skip
        return self._send(200, {
            "id": report_id, "state": "pull_request_opened", "number": 7,
            "url": "https://github.com/acme/guide/pull/7", "branch": "erratum/7", "reason": None,
        })  # fmt: skip

    def do_POST(self) -> None:
        self.server.paths.append(self.path)
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok, _ = altcha.verify_solution_v1(payload["altcha"], HMAC_KEY)
        report = Report.from_dict(payload["report"])  # raises on a schema mismatch
        self.server.posts.append(
            {"payload": payload, "key": self.headers["Idempotency-Key"], "altcha_ok": ok}
        )
        if "DOWN" in report.comment:
            return self._send(503, {"error": "unavailable", "message": "Try again later."})
        if "STALE" in report.comment:
            return self._send(422, {"error": "unknown_hash", "message": STALE})
        status_url = f"/api/reports/{report.id}"
        self._send(202, {"id": report.id, "state": "queued", "status_url": status_url})


@pytest.fixture(scope="module")
def service_site(tmp_path_factory):
    standin = StandIn()
    threading.Thread(target=standin.serve_forever, daemon=True).start()
    plugin = {"service_url": standin.url + PREFIX}  # a service behind a path prefix
    site = build_site(tmp_path_factory.mktemp("service"), {"name": "mkdocs"}, plugin)
    with serve(site) as base:
        yield base, standin
    standin.shutdown()
    standin.server_close()


def open_dialog(browser, base):
    context, page = new_page(browser)
    page.goto(base)
    page.get_by_role("button", name="Report an error").click()
    click_block(page, "The first paragraph has a speling error")
    page.get_by_role("button", name="Continue (1)").click()
    dialog = page.get_by_role("dialog", name="Report an error")
    box = dialog.get_by_label("Suggested correction — docs/index.md, lines 3–4")
    expect(box).to_be_enabled()
    return context, page, dialog, box


def test_send_solves_the_challenge_and_shows_the_pull_request(browser, service_site):
    base, standin = service_site
    context, page, dialog, box = open_dialog(browser, base)
    assert dialog.get_by_role("button", name="Open an issue on GitHub").count() == 0
    box.fill(box.input_value().replace("speling", "spelling"))

    # A failure keeps the text; the retry carries the same idempotency key.
    dialog.get_by_label("What is wrong?").fill("Typo. DOWN")
    dialog.get_by_role("button", name="Send").click()
    status = dialog.get_by_role("status")
    expect(status).to_have_text(
        "Sending failed: Try again later. Your text is kept; you can try again."
    )
    assert dialog.get_by_label("What is wrong?").input_value() == "Typo. DOWN"
    dialog.get_by_label("What is wrong?").fill("Typo.")
    dialog.get_by_role("button", name="Send").click()
    expect(status).to_contain_text("Thank you! Your correction is pull request #7:", timeout=20_000)
    expect(status.get_by_role("link")).to_have_attribute(
        "href", "https://github.com/acme/guide/pull/7"
    )

    first, second = standin.posts[-2:]
    assert first["altcha_ok"] and second["altcha_ok"]
    report = Report.from_dict(second["payload"]["report"])
    assert first["key"] == second["key"] == report.id
    assert second["payload"]["honeypot"] == ""
    assert report.comment == "Typo."
    original = "\n".join(INDEX[2:4])
    assert [(b.path, b.start, b.end, b.original_sha256, b.replacement) for b in report.blocks] == [
        ("docs/index.md", 3, 4, text_hash(original), original.replace("speling", "spelling"))
    ]
    assert report.page_url == base
    assert all(path.startswith(PREFIX + "/api/") for path in standin.paths)
    assert page.evaluate("sessionStorage.length") == 0  # sent: nothing kept any more
    assert widget_errors(page) == []
    context.close()


def test_rejection_shows_the_services_message(browser, service_site):
    base, standin = service_site
    context, _, dialog, _ = open_dialog(browser, base)
    dialog.get_by_label("What is wrong?").fill("STALE")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.get_by_role("status")).to_have_text(f"Your report was rejected: {STALE}")
    assert standin.posts[-1]["payload"]["report"]["comment"] == "STALE"
    # What the reader typed stays, and they may send again.
    assert dialog.get_by_label("What is wrong?").input_value() == "STALE"
    assert dialog.get_by_role("button", name="Send").is_enabled()
    context.close()
