"""The gate at the service, against real ``erratum serve`` processes (git and github backends).

Every attack is refused with a clear 4xx at the door, or delivered with its payload inert,
and nothing is created that should not be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from mkdocs_erratum import gate
from mkdocs_erratum.manifest import build_manifest
from mkdocs_erratum.report import Report, ReportBlock, format_report_block, text_hash
from mkdocs_erratum.service.backends import GitBackend
from tests.service_support import (
    ARTICLE,
    PAGE_URL,
    ServiceProcess,
    branches,
    free_port,
    git,
    live_service,
    make_report,
    make_site_repo,
    original,
    post,
    test_settings,
    wait_done,
    write_manifest,
    write_toml,
)
from tests.standin import GitHubStandIn
from tests.test_gate import VECTORS

REPOSITORY = "acme/news"
LINE = ARTICLE[2]  # "Le concert a eu lieu le 32 mars devant 300 personnes."


def _refused(answer) -> dict:
    body = answer.json()
    assert answer.status_code == 422, body
    assert body["error"] in ("unsafe_report", "raw_html"), body
    assert body["message"].strip()
    return body


def test_every_vector_is_refused_at_the_door_git(tmp_path):
    with live_service(tmp_path) as live, httpx.Client(base_url=live.url, timeout=20) as client:
        for name, payload in VECTORS.items():
            answer = post(client, make_report(live.commit, replacement=f"{LINE} {payload}"))
            assert answer.status_code == 422, (name, answer.text)
            _refused(answer)
        # A fair correction still goes through the same door.
        fine = make_report(live.commit)
        assert post(client, fine).status_code == 202
        assert wait_done(client, fine.id)["state"] == "branch_created"
    assert branches(live.repo) == [f"erratum/{fine.id}"]


def test_a_fake_block_in_the_comment_stays_inert_git(tmp_path):
    fake = make_report(None, 1, 1, "<script src=https://evil.example/x.js></script>")
    fake.blocks[0].path = "mkdocs.yml"
    comment = f"Typo.\n\n{format_report_block(fake)}\n\n@victim fixes #1"
    with live_service(tmp_path) as live, httpx.Client(base_url=live.url, timeout=20) as client:
        report = make_report(live.commit, comment=comment, reporter="victim")
        assert post(client, report).status_code == 202
        assert wait_done(client, report.id)["state"] == "branch_created"
        branch = f"erratum/{report.id}"
        message = git(live.repo, "log", "-1", "--format=%B", branch)
        carried = gate.report_from_commit(message)
        assert carried.id == report.id
        assert [(b.path, b.start, b.replacement) for b in carried.blocks] == [
            ("docs/concert.md", 3, report.blocks[0].replacement)
        ]
        # One file changed: the reported line, nothing else.
        assert git(live.repo, "diff", "--name-only", "main", branch) == "docs/concert.md"
        assert "Reported-by" not in message and "Co-authored-by" not in message
        assert "@victim" not in message and "fixes #1" not in message
        listed = GitBackend(str(live.repo)).list_reports()
        assert [r.id for _, r in listed] == [report.id]


def _symlinked_site(root: Path) -> str:
    """A site whose page ``docs/setup.md`` is a symbolic link to ``mkdocs.yml``."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "docs").mkdir()
    (root / "mkdocs.yml").write_text("site_name: News\nplugins: [erratum]\n", encoding="utf-8")
    (root / "docs" / "concert.md").write_text("\n".join(ARTICLE), encoding="utf-8")
    (root / "docs" / "setup.md").symlink_to("../mkdocs.yml")
    (root / "docs" / "up").symlink_to("..")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "site")
    return git(root, "rev-parse", "HEAD")


def test_a_symlinked_page_is_never_followed_git(tmp_path):
    repo = tmp_path / "repo"
    commit = _symlinked_site(repo)
    config_lines = (repo / "mkdocs.yml").read_text().split("\n")
    # What a build maps: the link's target (realpath) or the link itself; both published.
    paths = {"mkdocs.yml": "a/", "docs/setup.md": "b/", "docs/up/mkdocs.md": "c/"}
    pages = [
        (url, SimpleNamespace(path=p, files={p: config_lines}, ranges=[(p, 1, 1)]))
        for p, url in paths.items()
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(build_manifest(pages, commit=commit, docs_dirs=["docs"])))
    values = test_settings(tmp_path, repo, manifest)
    service = ServiceProcess(write_toml(tmp_path / "s.toml", values), free_port(), tmp_path / "log")
    service.start()
    try:
        with httpx.Client(base_url=service.url, timeout=20) as client:
            outcomes = {}
            for path, url in paths.items():
                text = config_lines[0]
                block = ReportBlock(path, 1, 1, text, text_hash(text), "site_name: Owned")
                report = Report(
                    page_url=f"https://example.org/{url}", blocks=[block], commit=commit
                )
                answer = post(client, report)
                if answer.status_code == 202:
                    outcomes[path] = wait_done(client, report.id)
                else:
                    outcomes[path] = answer.json()
    finally:
        service.stop()
    assert outcomes["mkdocs.yml"]["error"] == "unsafe_report"
    assert "mkdocs.yml: not a Markdown file" in outcomes["mkdocs.yml"]["message"]
    assert outcomes["docs/setup.md"]["state"] == "rejected"
    assert "symbolic link" in outcomes["docs/setup.md"]["reason"]
    assert outcomes["docs/up/mkdocs.md"]["state"] == "rejected"
    assert "docs/up is a symbolic link" in outcomes["docs/up/mkdocs.md"]["reason"]
    assert branches(repo) == []
    assert (repo / "mkdocs.yml").read_text().startswith("site_name: News")


# -- the github backend ------------------------------------------------------------------


@pytest.fixture
def github_service(tmp_path):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit, REPOSITORY)
    server = GitHubStandIn(str(repo), REPOSITORY, known_users={"victim"}).start()
    values = test_settings(
        tmp_path,
        repo,
        manifest,
        backend="github",
        github_repository=REPOSITORY,
        github_token="maintainer-token",
        github_api_url=server.url,
        github_pull_requests=False,
        github_limit_pause_seconds=0.2,
    )
    service = ServiceProcess(write_toml(tmp_path / "s.toml", values), free_port(), tmp_path / "log")
    service.start()
    try:
        yield SimpleNamespace(repo=repo, commit=commit, server=server, url=service.url)
    finally:
        service.stop()
        server.stop()
    assert server.violations == [], "\n".join(server.violations)


def test_every_vector_is_refused_at_the_door_github(github_service):
    with httpx.Client(base_url=github_service.url, timeout=20) as client:
        for name, payload in VECTORS.items():
            report = make_report(github_service.commit, replacement=f"{LINE} {payload}")
            answer = post(client, report)
            assert answer.status_code == 422, (name, answer.text)
            _refused(answer)
    assert github_service.server.issues() == [] and github_service.server.pulls() == []


def test_a_fake_block_through_the_service_then_erratum_fix(github_service):
    server = github_service.server
    fake = make_report(None, 1, 1, "<script src=https://evil.example/x.js></script>")
    fake.blocks[0].path = "mkdocs.yml"
    comment = f"Typo.\n```json erratum-report\n{fake.to_json()}\n```\n@victim GH-1"
    with httpx.Client(base_url=github_service.url, timeout=20) as client:
        report = make_report(github_service.commit, comment=comment, reporter="victim")
        assert post(client, report).status_code == 202
        state = wait_done(client, report.id, timeout=60)
    assert state["state"] == "issue_opened", state
    (issue,) = server.issues()
    assert gate.report_from_issue(issue.body, issue.user).id == report.id
    assert "@victim" not in issue.body

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ERRATUM_"))}
    env["GITHUB_TOKEN"] = "maintainer-token"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "fix", str(issue.number), "--repo",
         REPOSITORY, "--api-url", server.url, "--docs-dir", "docs", "--write-interval", "0",
         "-f", str(github_service.repo / "nothing.yml")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (pull,) = server.pulls()
    head = pull.pull["head_ref"]
    files = git(github_service.repo, "diff", "--name-only", "main", head)
    assert files == "docs/concert.md"
    fixed = git(github_service.repo, "show", f"{head}:docs/concert.md").split("\n")
    assert fixed[2] == report.blocks[0].replacement and "evil.example" not in "\n".join(fixed)
    log = git(github_service.repo, "log", "-1", "--format=%B", head)
    assert "victim" not in log and "@victim" not in pull.body  # the comment, inert: @\u200bvictim
    time.sleep(0)  # nothing left running: the fixture stops the service and the stand-in


def test_the_original_lines_must_still_match(tmp_path):
    """Intake takes the manifest's word; the git backend checks the file itself."""
    with live_service(tmp_path) as live, httpx.Client(base_url=live.url, timeout=20) as client:
        (live.repo / "docs" / "concert.md").write_text("Nouveau texte.\n", encoding="utf-8")
        git(live.repo, "commit", "-qam", "rewrite")
        report = make_report(None)
        assert post(client, report).status_code == 202
        state = wait_done(client, report.id)
    assert state["state"] == "rejected" and "no longer in the file" in state["reason"]
    assert branches(live.repo) == []
    assert original(3, 3) == LINE and PAGE_URL
