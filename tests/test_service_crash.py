"""What goes wrong around a running service: kill -9 (nothing lost, nothing doubled), a
report that can never be delivered, a locked or damaged store, a bad or slow manifest."""

from __future__ import annotations

import http.server
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest

from mkdocs_erratum.forges.base import report_ids_in
from mkdocs_erratum.service.abuse import solve
from mkdocs_erratum.service.store import ReportStore
from tests.service_support import (
    ServiceProcess,
    branches,
    envelope,
    free_port,
    git,
    live_service,
    make_report,
    make_site_repo,
    post,
    test_settings,
    wait_done,
    write_manifest,
    write_toml,
)
from tests.standin import GitHubStandIn

REPORTS = {"git": 30, "github": 15}
JOINED_RE = re.compile(r"<!-- erratum:(r-[0-9a-f]{16}):joined -->")
TOKEN = "maintainer-token"


def send_until_accepted(url: str, report, deadline: float) -> None:
    """What a patient client does: retry the same report (same key) until a 202."""
    body = None
    while time.monotonic() < deadline:
        try:
            with httpx.Client(base_url=url, timeout=5) as client:
                if body is None:
                    challenge = client.get("/api/challenge").json()
                    body = {"report": report.to_dict(), "altcha": solve(challenge), "honeypot": ""}
                answer = client.post(
                    "/api/reports", json=body, headers={"Idempotency-Key": report.id}
                )
            if answer.status_code == 202:
                return
            raise AssertionError(f"{report.id}: {answer.status_code} {answer.text}")
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{report.id} was never accepted")


@pytest.mark.parametrize("backend", ["git", "github"])
def test_kill_9_mid_run_loses_and_duplicates_nothing(tmp_path, backend):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit, "acme/news")
    # A few sends a second: the run lasts long enough to be killed in the middle of it.
    values = test_settings(tmp_path, repo, manifest, send_per_minute=300.0, send_burst=1)
    standin = None
    if backend == "github":
        standin = GitHubStandIn(str(repo), "acme/news").start()
        values.update(
            backend="github",
            github_repository="acme/news",
            github_token=TOKEN,
            github_api_url=standin.url,
            send_per_minute=900.0,
        )

    def created() -> list[str]:
        """Report ids delivered: branches, or issues, pull requests and joined comments."""
        if standin is None:
            return [name.split("/", 1)[1] for name in branches(repo)]
        records = [*standin.issues(), *standin.pulls()]
        joined = [i for r in records for c in r.comments for i in JOINED_RE.findall(c["body"])]
        return [i for r in records for i in report_ids_in(r.body)] + joined

    config = write_toml(tmp_path / "service.toml", values)
    service = ServiceProcess(config, free_port(), tmp_path / "service.log").start()
    spans = [((3, 3), "Le 31 mars."), ((5, 6), None), ((11, 11), "Merci.")] * 10
    reports = [
        make_report(commit, *span, replacement=text) for span, text in spans[: REPORTS[backend]]
    ]
    deadline = time.monotonic() + 180
    failures: list[BaseException] = []

    def client_loop():
        try:
            for report in reports:
                send_until_accepted(service.url, report, deadline)
        except BaseException as exc:
            failures.append(exc)

    poster = threading.Thread(target=client_loop)
    poster.start()
    try:
        while len(created()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        service.kill()
        at_kill = len(created())
        assert 3 <= at_kill < len(reports), "the kill must fall in the middle of the run"
        time.sleep(0.3)
        service.start()
        poster.join(timeout=max(1.0, deadline - time.monotonic()))
        assert not poster.is_alive()
        assert not failures, failures
        states = {}
        while time.monotonic() < deadline:
            states = {
                r.id: httpx.get(f"{service.url}/api/reports/{r.id}", timeout=5).json()
                for r in reports
            }
            if all(s["state"] not in ("queued", "in_flight") for s in states.values()):
                break
            time.sleep(0.2)
    finally:
        service.stop()
        poster.join(timeout=5)
        if standin is not None:
            standin.stop()
    assert sorted(created()) == sorted(r.id for r in reports)
    if standin is None:
        assert {s["state"] for s in states.values()} == {"branch_created"}
        assert all(states[r.id]["branch"] == f"erratum/{r.id}" for r in reports)
    else:
        assert standin.violations == []
        # The same lines again join the first report's thread: one issue or pull request
        # per paragraph, every other report a comment on it.
        for span in {r.blocks[0].start for r in reports}:
            alike = [r for r in reports if r.blocks[0].start == span]
            opened = (
                "issue_opened"
                if alike[0].blocks[0].replacement is None
                else ("pull_request_opened")
            )
            got = sorted(states[r.id]["state"] for r in alike)
            assert got == sorted([opened] + ["joined"] * (len(alike) - 1)), (span, got)
    log = (tmp_path / "service.log").read_text()
    assert '"event": "service_started"' in log  # structured JSON lines
    assert TOKEN not in log


# -- a store, a manifest or a report that goes wrong -----------------------------------


def test_poison_reports_end_rejected_and_hold_up_nobody(tmp_path):
    with live_service(tmp_path, max_attempts=4, retry_base_seconds=0.05) as live:
        poison = [make_report(live.commit) for _ in range(15)]
        for report in poison:
            # A ref in the way: git refuses erratum/<id> for this report, every time.
            git(live.repo, "branch", f"erratum/{report.id}/in-the-way")
        with httpx.Client(base_url=live.url, timeout=30) as client:
            for report in poison:
                assert post(client, report).status_code == 202
            time.sleep(0.5)  # they are failing and being retried now
            normal = make_report(live.commit, start=11, end=11, replacement="Merci.")
            sent = time.monotonic()
            assert post(client, normal).status_code == 202
            state = wait_done(client, normal.id, timeout=30)
            took = time.monotonic() - sent
            finals = [wait_done(client, r.id, timeout=60) for r in poison]
    # Not queued behind the poison reports' retries; generous for a loaded CI machine.
    assert state["state"] == "branch_created" and took < 10.0, (state, took)
    assert {s["state"] for s in finals} == {"rejected"}
    tries = []
    for final in finals:
        found = re.match(
            r"Delivery failed (\d+) times while other reports went through; ", final["reason"]
        )
        assert found, final["reason"]
        assert "could not create branch" in final["reason"]
        tries.append(int(found.group(1)))
    # max_attempts, or a few more for those that reached it before the normal report
    # proved that the backend works.
    assert all(4 <= n <= 12 for n in tries), tries
    log = live.log.read_text(encoding="utf-8")
    assert log.count('"event": "report_retry"') == sum(n - 1 for n in tries)


def _hold_write_lock(database):
    lock = sqlite3.connect(database, timeout=0, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    return lock


def test_locked_store_answers_503_quickly_and_healthz_stays_up(tmp_path):
    with live_service(tmp_path, database_busy_ms=500) as live:
        report = make_report(live.commit)
        with httpx.Client(base_url=live.url, timeout=30) as client:
            body = envelope(client, report)
            lock = _hold_write_lock(live.database)
            try:
                answers = {}

                def send():
                    started = time.monotonic()
                    answers["post"] = client.post(
                        "/api/reports", json=body, headers={"Idempotency-Key": report.id}
                    )
                    answers["post_took"] = time.monotonic() - started

                poster = threading.Thread(target=send)
                poster.start()
                time.sleep(0.1)  # the POST now waits for the lock
                started = time.monotonic()
                health = httpx.get(live.url + "/healthz", timeout=10)
                health_took = time.monotonic() - started
                poster.join(10)
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            again = client.post("/api/reports", json=body, headers={"Idempotency-Key": report.id})
            delivered = wait_done(client, report.id)
    answer = answers["post"]
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "store_busy"
    assert answer.headers["retry-after"] == "5"
    assert answers["post_took"] < 3.0
    assert health.json() == {"status": "ok"} and health_took < 0.5
    assert again.status_code == 202  # the reader's retry goes through once it is free
    assert delivered["state"] == "branch_created"


def _not_a_database(path):
    path.write_bytes(b"this is not SQLite at all\n" * 200)


def _damaged_page(path):
    store = ReportStore(str(path))
    for _ in range(300):
        report = make_report(None, comment="x" * 500)
        store.add(report.id, report.to_json())
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page : 3 * page + 200] = b"\xff" * 200  # an interior page of the reports table
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_not_a_database, _damaged_page])
def test_damaged_store_is_refused_at_start_in_one_line(tmp_path, damage):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit)
    database = tmp_path / "service.sqlite3"
    damage(database)
    config = write_toml(tmp_path / "service.toml", test_settings(tmp_path, repo, manifest))
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.service", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"Error: database {database}")
    assert "restore it from a backup" in lines[0]


def test_invalid_new_manifest_keeps_the_last_good_one(tmp_path):
    with live_service(tmp_path) as live:
        good = live.manifest.read_text(encoding="utf-8")
        with httpx.Client(base_url=live.url, timeout=30) as client:
            assert post(client, make_report(live.commit)).status_code == 202
            live.manifest.write_text(good[: len(good) // 2], encoding="utf-8")  # truncated
            kept = post(client, make_report(live.commit))
            live.manifest.write_text('{"version": 1}', encoding="utf-8")  # valid JSON, wrong
            still = post(client, make_report(live.commit))
    assert kept.status_code == 202, kept.text
    assert still.status_code == 202, still.text
    log = [json.loads(line) for line in live.log.read_text(encoding="utf-8").splitlines()]
    warnings = [r for r in log if r["event"] == "manifest_kept"]
    assert [r["level"] for r in warnings] == ["warning", "warning"]
    assert "not valid JSON" in warnings[0]["message"]


@pytest.mark.parametrize("manifest", ["missing", "truncated", "not a manifest"])
def test_no_good_manifest_is_503_naming_no_server_path(tmp_path, manifest):
    with live_service(tmp_path, start=False) as live:
        text = live.manifest.read_text(encoding="utf-8")
        if manifest == "missing":
            live.manifest.unlink()
        elif manifest == "truncated":
            live.manifest.write_text(text[:100], encoding="utf-8")
        else:
            live.manifest.write_text('{"version": 1, "pages": []}', encoding="utf-8")
        live.service.start()
        with httpx.Client(base_url=live.url, timeout=30) as client:
            answer = post(client, make_report(live.commit))
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "manifest_unavailable"
    assert str(tmp_path) not in answer.text and "manifest.json" not in answer.text
    assert str(live.manifest) in live.log.read_text(encoding="utf-8")  # said where it belongs


class _SlowManifest(http.server.ThreadingHTTPServer):
    """Serves a manifest over HTTP: the first answer a quick 503, then ``delay`` s late."""

    def __init__(self, text: str, delay: float):
        self.text, self.delay, self.served = text.encode(), delay, 0
        super().__init__(("127.0.0.1", 0), _SlowHandler)


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.served += 1
        if self.server.served == 1:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        time.sleep(self.server.delay)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.server.text)))
        self.end_headers()
        self.wfile.write(self.server.text)


def test_a_slow_manifest_url_never_blocks_the_service(tmp_path):
    with live_service(tmp_path, start=False) as live:
        slow = _SlowManifest(live.manifest.read_text(encoding="utf-8"), delay=3.0)
        threading.Thread(target=slow.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{slow.server_address[1]}/_erratum/manifest.json"
            values = test_settings(tmp_path, live.repo, url, manifest_refresh_seconds=0.2)
            write_toml(live.config, values)
            live.service.start()  # the site's server was not ready yet: no manifest
            time.sleep(0.3)
            with httpx.Client(base_url=live.url, timeout=30) as client:
                report = make_report(live.commit)
                body = envelope(client, report)
                answers = []
                poster = threading.Thread(
                    target=lambda: answers.append(
                        client.post(
                            "/api/reports", json=body, headers={"Idempotency-Key": report.id}
                        )
                    )
                )
                poster.start()  # fetches the manifest: 3 s
                time.sleep(0.2)
                started = time.monotonic()
                health = httpx.get(live.url + "/healthz", timeout=10)
                challenge = httpx.get(live.url + "/api/challenge", timeout=10)
                took = time.monotonic() - started
                poster.join(10)
        finally:
            slow.shutdown()
            slow.server_close()
    assert health.status_code == 200 and challenge.status_code == 200
    assert took < 0.5, took
    assert answers[0].status_code == 202, answers[0].text
    # The 503 at start, then the fetch the report waited for; the worker may fetch again
    # once refresh_seconds has passed, so a busy machine can see a third.
    assert slow.served >= 2
