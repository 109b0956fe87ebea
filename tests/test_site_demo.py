"""`make demo` end to end: ``python -m mkdocs_erratum.demo`` as a real process.

The demo is started once on free ports with its own scratch folder. It serves the built
site and runs the correction service (git backend) on a scratch clone. A correction sent
over plain HTTP (proof of work solved, report checked against the manifest the build
wrote), then one sent by a reader in Chromium through the real widget, each end as a
branch of the clone holding the corrected line, announced by the demo. Last, Ctrl+C
(SIGINT) stops the site and the service with exit status 0.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from browser.support import headless_chromium

from mkdocs_erratum.report import Report, ReportBlock, text_hash
from mkdocs_erratum.service.abuse import solve

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "site/showcase/fr.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoProcess:
    """The demo in a child process, its output collected line by line."""

    def __init__(self, scratch: Path, *options: str):
        self.port = free_port()
        self.service_port = free_port()
        self.scratch = scratch
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-u", "-m", "mkdocs_erratum.demo"),
                *("--port", str(self.port), "--service-port", str(self.service_port)),
                *("--scratch", str(scratch)),
                *options,
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.proc.poll() is None, f"demo exited early:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout} s:\n{self.output}"
            time.sleep(0.1)

    def interrupt(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)


def refuses_connections(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def correction_report(demo: DemoProcess) -> Report:
    """A report that fixes the article's impossible date, as the widget would send it."""
    manifest = json.loads(
        (demo.scratch / "site" / "_erratum" / "manifest.json").read_text(encoding="utf-8")
    )
    lines = (demo.scratch / "repo" / ARTICLE).read_text(encoding="utf-8").split("\n")
    ranges = manifest["pages"]["showcase/fr/"]["ranges"]
    _path, start, end, digest = next(
        r for r in ranges if r[0] == ARTICLE and "31 septembre" in "\n".join(lines[r[1] - 1 : r[2]])
    )
    original = "\n".join(lines[start - 1 : end])
    assert text_hash(original) == digest
    block = ReportBlock(
        ARTICLE, start, end, original, digest, original.replace("31 septembre", "30 septembre")
    )
    return Report(
        page_url=f"http://127.0.0.1:{demo.port}/showcase/fr/",
        blocks=[block],
        comment="Il n'y a pas de 31 septembre.",
        repository=manifest["repository"],
        commit=manifest["commit"],
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    running = DemoProcess(tmp_path_factory.mktemp("scratch") / "demo")
    try:
        running.wait_for("Press Ctrl+C to stop.", timeout=180)
        yield running
    finally:
        running.interrupt()


def wait_for_state(client: httpx.Client, report_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (state := client.get(f"/api/reports/{report_id}").json())["state"] in (
        "queued",
        "in_flight",
    ):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    return state


def test_a_correction_sent_over_http_becomes_a_branch_of_the_scratch_clone(demo):
    site = f"http://127.0.0.1:{demo.port}"
    service = f"http://127.0.0.1:{demo.service_port}"
    article = httpx.get(f"{site}/showcase/fr/", timeout=10)
    assert article.status_code == 200
    assert "Kerbrenn" in article.text
    assert f'data-erratum-src="{ARTICLE}#L' in article.text
    assert httpx.get(f"{service}/healthz", timeout=10).json() == {"status": "ok"}
    missing = httpx.get(f"{site}/no/such/page/", timeout=10)
    assert missing.status_code == 404
    assert "md-content" in missing.text  # the site's own 404 page, not http.server's

    report = correction_report(demo)
    with httpx.Client(base_url=service, headers={"Origin": site}, timeout=10) as client:
        challenge = client.get("/api/challenge").json()
        body = {"report": report.to_dict(), "altcha": solve(challenge), "honeypot": ""}
        sent = client.post("/api/reports", json=body, headers={"Idempotency-Key": report.id})
        assert sent.status_code == 202, sent.text
        state = wait_for_state(client, report.id)
    assert state["state"] == "branch_created", state
    branch = state["branch"]
    assert branch == f"erratum/{report.id}"

    repo = demo.scratch / "repo"
    corrected = git(repo, "show", f"{branch}:{ARTICLE}")
    assert "samedi 30 septembre" in corrected
    assert "31 septembre" not in corrected
    assert git(repo, "diff", "--name-only", f"{branch}~1", branch).split() == [ARTICLE]
    demo.wait_for(f"New branch {branch}.", timeout=15)


@pytest.fixture(scope="module")
def chromium():
    with headless_chromium() as browser:
        yield browser


def test_a_reader_corrects_the_french_article_in_a_browser_and_gets_a_branch(demo, chromium):
    from playwright.sync_api import expect

    site = f"http://127.0.0.1:{demo.port}"
    service = f"http://127.0.0.1:{demo.service_port}"
    page = chromium.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{site}/")
    page.wait_for_load_state("networkidle")
    # To the article through Material's instant navigation (no full page load).
    page.evaluate("window.sameDocument = true")
    page.get_by_role("link", name="showcase article in French").click()
    page.wait_for_url(f"{site}/showcase/fr/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.sameDocument === true")
    # Nothing leaves the site before the reader acts (no fonts, no repository facts).
    assert [url for url in requests if not url.startswith(site + "/")] == []

    # The article's front matter says `lang: fr`: the widget speaks French there.
    page.get_by_role("button", name="Signaler une erreur", exact=True).click()
    page.locator("p", has_text="taille humaine").click()
    page.get_by_role("button", name="Continuer (1)").click()
    dialog = page.get_by_role("dialog", name="Signaler une erreur")
    correction = dialog.get_by_label(re.compile("Correction proposée"))
    # The original Markdown arrives a moment later (fetched when the dialog opens).
    expect(correction).to_have_value(
        re.compile("limiter la jauge à 8 000 personnes"), timeout=15_000
    )
    original = correction.input_value()
    correction.fill(original.replace("8 000 personnes", "7 000 personnes"))
    dialog.get_by_label("Quelle est l'erreur\u202f?").fill("La jauge annoncée est de 7 000.")
    dialog.get_by_role("button", name="Envoyer").click()
    outcome = dialog.get_by_text(re.compile(r"sur la branche erratum/r-[0-9a-f]{16}"))
    outcome.wait_for(timeout=30_000)
    branch = re.search(r"erratum/r-[0-9a-f]{16}", outcome.inner_text()).group(0)
    page.close()

    assert any(url.startswith(service + "/api/reports") for url in requests)
    corrected = git(demo.scratch / "repo", "show", f"{branch}:{ARTICLE}")
    assert "limiter la jauge à 7 000 personnes" in corrected
    assert "8 000" not in corrected
    demo.wait_for(f"New branch {branch}.", timeout=15)


def test_ctrl_c_stops_the_site_and_the_service(demo):
    status = demo.interrupt()
    assert status == 0, demo.output
    assert "Stopped." in demo.output
    assert refuses_connections(demo.port)
    assert refuses_connections(demo.service_port)


def test_the_demo_with_mkdocs_theme_alone_serves_the_widget(tmp_path):
    """What `make demo` gives on a fresh clone: the demo extra has no Material."""
    running = DemoProcess(tmp_path / "demo", "--theme", "mkdocs", "--no-service")
    try:
        running.wait_for("Press Ctrl+C to stop.", timeout=180)
        assert "(theme: mkdocs)" in running.output
        page = httpx.get(f"http://127.0.0.1:{running.port}/showcase/fr/", timeout=10).text
        assert 'id="erratum-config"' in page and f'data-erratum-src="{ARTICLE}#L' in page
        assert "md-content" not in page and 'role="main"' in page  # MkDocs' own theme
    finally:
        assert running.interrupt() == 0, running.output


def test_a_busy_port_says_how_to_choose_another_through_make(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "mkdocs_erratum.demo", "--port", str(port),
             "--scratch", str(tmp_path / "demo")],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert proc.returncode == 1
    assert f"Choose another port with --port (make demo PORT={port + 10})" in proc.stderr


def test_make_demo_installs_the_demo_extra_only_and_takes_a_port():
    command = ["make", "--dry-run", "--always-make", "demo", "PORT=8010"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "pip install -q --no-compile -e '.[demo]'" in out
    assert "[test]" not in out
    assert "-m mkdocs_erratum.demo --port 8010 --service-port 8011" in out
    text = (ROOT / "pyproject.toml").read_text()
    demo_extra = re.search(r"^demo = \[(.*?)^\]", text, re.S | re.M).group(1)
    for heavy in ("playwright", "pytest", "mkdocs-material", "lxml", "openapi"):
        assert heavy not in demo_extra, heavy
