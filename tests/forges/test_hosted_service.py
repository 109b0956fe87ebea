"""The correction service's forge backend on GitLab and on Forgejo, against their stand-ins.

The same service as for GitHub (``backend = "forge"``), with ``forge_kind`` ``gitlab`` or
``forgejo``: a replacement becomes one merge/pull request, a comment one issue, and
faults before or after the forge did the work still give exactly one of each.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_service_github import wait_done

from mkdocs_erratum.forges.base import report_ids_in
from mkdocs_erratum.report import parse_issue_body
from mkdocs_erratum.service.app import create_app
from mkdocs_erratum.service.settings import load_settings
from tests.forges.hosted import Hosted
from tests.service_support import ARTICLE, make_report, make_site_repo, post, test_settings
from tests.service_support import write_manifest as manifest_file


@pytest.fixture(params=["gitlab", "forgejo"])
def world(request, tmp_path):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    setup = Hosted(request.param, repo)
    manifest = manifest_file(tmp_path / "manifest.json", commit, setup.kind.project)
    yield setup, commit, manifest
    setup.stop()


def client_for(tmp_path, world) -> TestClient:
    setup, _commit, manifest = world
    values = test_settings(
        tmp_path,
        setup.repo,
        manifest,
        backend="forge",
        forge_kind=setup.kind.name,
        forge_project=setup.kind.project,
        forge_token="maintainer-token",
        forge_api_url=setup.standin.url + setup.kind.api_path,
        forge_limit_pause_seconds=0.2,
    )
    return TestClient(create_app(load_settings(env={}, overrides=values)))


def test_a_replacement_becomes_one_request_and_a_comment_one_issue(tmp_path, world):
    setup, commit, _manifest = world
    with client_for(tmp_path, world) as client:
        fix = make_report(commit)
        note = make_report(commit, 5, 6, replacement=None, comment="heurs -> heures")
        assert post(client, fix).status_code == 202
        assert post(client, note).status_code == 202
        fixed, filed = wait_done(client, fix.id), wait_done(client, note.id)
        assert "maintainer-token" not in client.get(f"/api/reports/{fix.id}").text
    (pull,) = setup.standin.pulls()
    assert fixed["state"] == "pull_request_opened" and fixed["number"] == pull.number
    assert fixed["branch"] == pull.pull["head_ref"] == f"erratum/{fix.id}"
    assert report_ids_in(pull.body) == [fix.id]
    changed = setup.standin.repo.store.git("show", f"erratum/{fix.id}:docs/concert.md").decode()
    expected = list(ARTICLE)
    expected[2] = "Le concert a eu lieu le 31 mars devant 300 personnes."
    assert changed.split("\n") == expected
    (issue,) = setup.standin.issues()
    assert filed["state"] == "issue_opened" and filed["number"] == issue.number
    assert parse_issue_body(issue.body).comment == "heurs -> heures"
    assert "erratum" in issue.labels


def test_a_report_corrected_in_part_is_a_request_naming_the_rest(tmp_path, world):
    setup, commit, _manifest = world
    report = make_report(commit)
    report.blocks.append(make_report(commit, 5, 6, replacement=None).blocks[0])
    with client_for(tmp_path, world) as client:
        assert post(client, report).status_code == 202
        assert wait_done(client, report.id)["state"] == "pull_request_opened"
    (pull,) = setup.standin.pulls()
    assert setup.standin.issues() == []
    changed = setup.standin.repo.store.git("show", f"erratum/{report.id}:docs/concert.md").decode()
    assert changed.split("\n")[2:6] == [
        "Le concert a eu lieu le 31 mars devant 300 personnes.",
        "",
        "Le groupe a joué pendant deux heurs,",
        "sans entracte.",
    ]
    assert "`docs/concert.md` lines 5-6: no correction suggested" in pull.body


def test_faults_still_make_exactly_one_of_each(tmp_path, world):
    setup, commit, _manifest = world
    kind = setup.kind
    faults = [
        # The issue is created, then the answer is lost: a blind retry would open a second.
        setup.standin.inject("bad_gateway_after", method="POST", path=kind.issues_path),
        setup.standin.inject("secondary_limit", method="POST", path=kind.pulls_path, times=2),
        setup.standin.inject("bad_gateway", method="POST", path=kind.commit_path, times=2),
    ]
    with client_for(tmp_path, world) as client:
        issue = make_report(commit, 11, 11, replacement=None, comment="ok")
        pull = make_report(commit, 3, 3)
        assert post(client, issue).status_code == 202
        assert post(client, pull).status_code == 202
        assert wait_done(client, issue.id, 60)["state"] == "issue_opened"
        assert wait_done(client, pull.id, 60)["state"] == "pull_request_opened"
    assert [parse_issue_body(r.body).id for r in setup.standin.issues()] == [issue.id]
    assert [report_ids_in(r.body) for r in setup.standin.pulls()] == [[pull.id]]
    assert [f.fired for f in faults] == [1, 2, 2]
    assert setup.standin.count("POST", kind.issues_path) == 1  # looked up, found, not re-sent
