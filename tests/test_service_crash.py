"""kill -9 the service while it accepts and sends reports: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
import time

import httpx

from mkdocs_erratum.service.abuse import solve

try:
    from tests.service_support import (
        ServiceProcess,
        branches,
        free_port,
        make_report,
        make_site_repo,
        test_settings,
        write_manifest,
        write_toml,
    )
except ImportError:  # tests/ is not a package
    from service_support import (
        ServiceProcess,
        branches,
        free_port,
        make_report,
        make_site_repo,
        test_settings,
        write_manifest,
        write_toml,
    )

REPORTS = 40


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


def test_kill_9_mid_run_loses_and_duplicates_nothing(tmp_path):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit)
    # Five sends a second: the run lasts long enough to be killed in the middle of it.
    values = test_settings(tmp_path, repo, manifest, send_per_minute=300.0, send_burst=1)
    config = write_toml(tmp_path / "service.toml", values)
    service = ServiceProcess(config, free_port(), tmp_path / "service.log").start()
    reports = [make_report(commit, *span) for span in [(3, 3), (5, 6), (11, 11)] * 14][:REPORTS]
    deadline = time.monotonic() + 90
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
        while len(branches(repo)) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        service.kill()
        at_kill = len(branches(repo))
        assert 5 <= at_kill < REPORTS, "the kill must fall in the middle of the run"
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
            if all(s["state"] == "branch_created" for s in states.values()):
                break
            time.sleep(0.2)
    finally:
        service.stop()
        poster.join(timeout=5)
    assert {s["state"] for s in states.values()} == {"branch_created"}
    assert sorted(branches(repo)) == sorted(f"erratum/{r.id}" for r in reports)
    assert all(states[r.id]["branch"] == f"erratum/{r.id}" for r in reports)
    log = (tmp_path / "service.log").read_text()
    assert '"event": "service_started"' in log  # structured JSON lines
