"""The service's github backend, through the gateway and PyGithub, against the stand-in."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from mkdocs_erratum.forges.base import report_ids_in
from mkdocs_erratum.report import parse_issue_body
from mkdocs_erratum.service.app import create_app
from mkdocs_erratum.service.settings import load_settings
from tests.service_support import (
    ARTICLE,
    git,
    make_report,
    make_site_repo,
    post,
    test_settings,
    write_manifest,
)
from tests.standin import GitHubStandIn

REPOSITORY = "acme/news"
TOKEN = "maintainer-token"


@pytest.fixture
def world(tmp_path):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit, REPOSITORY)
    server = GitHubStandIn(str(repo), REPOSITORY).start()
    yield repo, commit, manifest, server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)


def client_for(tmp_path, world, **changes) -> TestClient:
    repo, _commit, manifest, server = world
    values = test_settings(
        tmp_path,
        repo,
        manifest,
        backend="github",
        github_repository=REPOSITORY,
        github_token=TOKEN,
        github_api_url=server.url,
        github_limit_pause_seconds=0.2,
        **changes,
    )
    return TestClient(create_app(load_settings(env={}, overrides=values)))


def wait_done(client, report_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        state = client.get(f"/api/reports/{report_id}").json()
        if state["state"] not in ("queued", "in_flight"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"report {report_id} still {state}")


def test_replacement_becomes_one_pull_request(tmp_path, world):
    _repo, commit, _manifest, server = world
    with client_for(tmp_path, world) as client:
        report = make_report(commit, comment="@editor 32 mars? see #1")
        assert post(client, report).status_code == 202
        state = wait_done(client, report.id)
        assert TOKEN not in client.get(f"/api/reports/{report.id}").text
    pulls = server.pulls()
    assert len(pulls) == 1 and server.issues() == []
    assert state["state"] == "pull_request_opened"
    assert state["number"] == pulls[0].number
    assert state["url"].endswith(f"/pull/{pulls[0].number}")
    assert state["branch"] == f"erratum/{report.id}"
    assert pulls[0].pull["head_ref"] == f"erratum/{report.id}"
    body = pulls[0].body
    assert report_ids_in(body) == [report.id]
    assert "@\u200beditor" in body and "#\u200b1" in body
    assert "-Le concert a eu lieu le 32 mars" in body and "+Le concert a eu lieu le 31 mars" in body
    changed = server.repo.store.git("show", f"erratum/{report.id}:docs/concert.md").decode()
    expected = list(ARTICLE)
    expected[2] = "Le concert a eu lieu le 31 mars devant 300 personnes."
    assert changed.split("\n") == expected


def test_comment_only_report_becomes_one_issue(tmp_path, world):
    _repo, commit, _manifest, server = world
    with client_for(tmp_path, world) as client:
        report = make_report(commit, 5, 6, replacement=None, comment="heurs -> heures")
        assert post(client, report).status_code == 202
        state = wait_done(client, report.id)
    issues = server.issues()
    assert len(issues) == 1 and server.pulls() == []
    assert state["state"] == "issue_opened" and state["number"] == issues[0].number
    assert parse_issue_body(issues[0].body).comment == "heurs -> heures"
    assert "erratum" in issues[0].labels


def test_moved_lines_are_relocated_and_gone_lines_become_an_issue(tmp_path, world):
    repo, commit, _manifest, server = world
    article = repo / "docs" / "concert.md"
    article.write_text("Chapeau ajouté.\n\n" + article.read_text(encoding="utf-8"))
    git(repo, "commit", "-q", "-am", "Add a standfirst")
    with client_for(tmp_path, world) as client:
        moved = make_report(commit)
        assert post(client, moved).status_code == 202
        assert wait_done(client, moved.id)["state"] == "pull_request_opened"
        text = article.read_text(encoding="utf-8").replace(
            "Le groupe a joué pendant deux heurs,\nsans entracte.", "Rideau à minuit."
        )
        article.write_text(text, encoding="utf-8")
        git(repo, "commit", "-q", "-am", "Rewrite")
        gone = make_report(commit, 5, 6, replacement="Le groupe a joué deux heures,\nsans pause.")
        assert post(client, gone).status_code == 202
        assert wait_done(client, gone.id)["state"] == "issue_opened"
    changed = server.repo.store.git("show", f"erratum/{moved.id}:docs/concert.md").decode()
    assert changed.split("\n")[4] == "Le concert a eu lieu le 31 mars devant 300 personnes."
    assert len(server.pulls()) == 1 and len(server.issues()) == 1
    assert "No pull request was opened" in server.issues()[0].body


def test_faults_still_make_exactly_one_of_each(tmp_path, world):
    _repo, commit, _manifest, server = world
    # The issue is created, then the answer is lost: a blind retry would open a second.
    faults = [
        server.inject("bad_gateway_after", method="POST", path=r"/issues$", times=1),
        server.inject("secondary_limit", method="POST", path=r"/pulls$", times=2, retry_after=1),
        server.inject("bad_gateway", method="PUT", path=r"/contents/", times=2),
    ]
    with client_for(tmp_path, world) as client:
        issue = make_report(commit, 11, 11, replacement=None, comment="ok")
        pull = make_report(commit, 3, 3)
        assert post(client, issue).status_code == 202
        assert post(client, pull).status_code == 202
        assert wait_done(client, issue.id, 60)["state"] == "issue_opened"
        assert wait_done(client, pull.id, 60)["state"] == "pull_request_opened"
    assert [parse_issue_body(r.body).id for r in server.issues()] == [issue.id]
    assert [report_ids_in(r.body) for r in server.pulls()] == [[pull.id]]
    assert [f.fired for f in faults] == [1, 2, 2]
    assert server.count("POST", r"/issues$") == 1  # looked up, found, not re-sent


def test_pull_requests_can_be_turned_off(tmp_path, world):
    _repo, commit, _manifest, server = world
    with client_for(tmp_path, world, github_pull_requests=False) as client:
        report = make_report(commit)
        assert post(client, report).status_code == 202
        assert wait_done(client, report.id)["state"] == "issue_opened"
    assert len(server.issues()) == 1 and server.pulls() == []


def test_report_outside_the_docs_folders_is_rejected_with_the_reason(tmp_path, world):
    _repo, commit, _manifest, server = world
    with client_for(tmp_path, world, github_docs_dirs=["handbook"]) as client:
        report = make_report(commit)
        assert post(client, report).status_code == 202
        state = wait_done(client, report.id)
    assert state["state"] == "rejected"
    assert "outside the documentation folders" in state["reason"]
    assert server.issues() == [] and server.pulls() == []
