"""kill -9 the service while it accepts and sends reports: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from mkdocs_erratum.github_gateway import report_ids_in
from mkdocs_erratum.service.abuse import solve
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
from tests.standin import GitHubStandIn

REPORTS = {"git": 30, "github": 15}
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
        if standin is None:
            return [name.split("/", 1)[1] for name in branches(repo)]
        records = [*standin.issues(), *standin.pulls()]
        return [i for r in records for i in report_ids_in(r.body)]

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
        expected = {
            r.id: "issue_opened" if r.blocks[0].replacement is None else "pull_request_opened"
            for r in reports
        }
        assert {i: s["state"] for i, s in states.items()} == expected
    log = (tmp_path / "service.log").read_text()
    assert '"event": "service_started"' in log  # structured JSON lines
    assert TOKEN not in log
