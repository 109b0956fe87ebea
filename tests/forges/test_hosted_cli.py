"""``erratum fix`` and ``erratum list`` as their own processes on GitLab and Forgejo.

The site names its forge as a user would (``repo_url``, the plugin's ``forge`` and
``forge_api_url`` options) or the command does (``--forge``, ``--repo``, ``--api-url``);
the token comes from the forge's own variable. The stand-ins keep real git, so each test
reads the branch back with git, CRLF files byte for byte.
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import git
from test_cli import erratum, report_line
from test_fixer_github import FIXED, TYPO, commit, report_for

from mkdocs_erratum.fixer import issue_body
from tests.forges.hosted import Hosted

TOKENS = {"gitlab": "GITLAB_TOKEN", "forgejo": "FORGEJO_TOKEN"}
PULL_PATHS = {"gitlab": "-/merge_requests", "forgejo": "pulls"}


@pytest.fixture(params=["gitlab", "forgejo"])
def hosted(request, docs_repo, monkeypatch):
    for name in ("GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_API_V4_URL", "FORGEJO_TOKEN", "GITEA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(TOKENS[request.param], "maintainer-token")
    setup = Hosted(request.param, docs_repo)
    # The site as its owner configures it: the project's page and the forge's API.
    (docs_repo / "mkdocs.yml").write_text(
        "site_name: Demo\n"
        f"repo_url: {setup.standin.url}/{setup.kind.project}\n"
        "plugins:\n"
        "  - erratum:\n"
        f"      forge: {setup.kind.name}\n"
        f"      forge_api_url: {setup.standin.url}{setup.kind.api_path}\n",
        encoding="utf-8",
    )
    yield setup
    setup.stop()


def config(hosted) -> list[str]:
    return ["-f", str(hosted.repo / "mkdocs.yml")]


def file_issue(hosted, report, user="alice") -> int:
    body = issue_body(report)
    return hosted.standin.add_issue("Erratum", body, user=user, labels=["erratum"]).number


def show(hosted, branch: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "show", f"{branch}:{path}"], cwd=hosted.repo, capture_output=True, check=True
    ).stdout


def test_fix_opens_one_request_and_a_second_run_opens_nothing(hosted):
    number = file_issue(hosted, report_for())
    status, out, err = erratum(
        "fix", str(number), *config(hosted), "--write-interval", "0", token=None
    )
    assert (status, err) == (0, ""), err
    (pull,) = hosted.standin.pulls()  # GitLab numbers merge requests apart: !1
    url = f"{hosted.standin.url}/{hosted.kind.project}/{PULL_PATHS[hosted.kind.name]}/{pull.number}"
    assert pull.number == (1 if hosted.kind.name == "gitlab" else number + 1)
    assert out == f"opened pull request #{pull.number}: {url}\n"
    status, out, _ = erratum("fix", f"#{number}", *config(hosted), token=None)
    assert status == 0 and out.startswith(f"pull request #{pull.number} already exists")
    assert len(hosted.standin.pulls()) == 1
    assert pull.body.startswith(f"Fixes #{number}\n")
    assert FIXED in show(hosted, f"erratum/{number}", "docs/index.md").decode()
    (issue,) = hosted.standin.issues()
    assert [c["body"].splitlines()[0] for c in issue.comments if not c.get("system")] == [
        f"Pull request: {url}"
    ]
    log = git(hosted.repo, "log", "-1", "--format=%B", f"erratum/{number}")
    assert "Co-authored-by: alice <" in log


def test_fix_keeps_a_crlf_file_crlf_and_changes_one_line(hosted):
    text = (hosted.repo / "docs/index.md").read_text().replace("\n", "\r\n")
    (hosted.repo / "docs/index.md").write_bytes(text.encode())
    git(hosted.repo, "commit", "-qam", "CRLF")
    number = file_issue(hosted, report_for())
    # list sees the CRLF file's lines where fix will find them.
    status, out, err = erratum("list", *config(hosted), token=None)
    assert (status, err) == (0, "")
    assert report_line(number, "issue only", "unchanged") in out.splitlines()
    status, out, err = erratum(
        "fix", str(number), *config(hosted), "--write-interval", "0", token=None
    )
    assert (status, err) == (0, ""), err
    assert (
        show(hosted, f"erratum/{number}", "docs/index.md")
        == text.replace("jumsp", "jumps").encode()
    )
    numstat = git(hosted.repo, "diff", "--numstat", "main", f"erratum/{number}")
    assert numstat.split() == ["1", "1", "docs/index.md"]


def test_list_groups_by_page_and_flags_moved_lines(hosted):
    moved = file_issue(hosted, report_for())
    same = file_issue(
        hosted, report_for("docs/guide/install.md", 3, 3, "Run pip install demo.", "Run pip.")
    )
    hosted.standin.add_issue("A question", "No report here.", labels=[])
    original = (hosted.repo / "docs/index.md").read_text()
    commit(hosted.repo, "docs/index.md", "New first line.\n\n" + original)
    status, out, err = erratum("list", *config(hosted), token=None)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "https://acme.example/  (2 reports)",
        "  docs/guide/install.md#L3-L3  1 report",
        report_line(same, "issue only", "unchanged"),
        "  docs/index.md#L5-L5  1 report",
        report_line(moved, "issue only", "moved to L5-L5"),
        "2 open reports on 1 page, 2 blocks; 0 stale (their lines changed since).",
    ]


def test_the_command_line_names_the_forge_and_the_project(hosted):
    (hosted.repo / "mkdocs.yml").write_text("site_name: Demo\n", encoding="utf-8")
    number = file_issue(hosted, report_for())
    status, out, err = erratum(
        "fix",
        str(number),
        *config(hosted),
        "--forge",
        hosted.kind.name,
        "--repo",
        hosted.kind.project,
        "--api-url",
        hosted.standin.url + hosted.kind.api_path,
        "--write-interval",
        "0",
        token=None,
    )
    assert (status, err) == (0, ""), err
    assert out.startswith("opened pull request #")
    assert TYPO not in show(hosted, f"erratum/{number}", "docs/index.md").decode()


def test_a_forge_that_refuses_says_so_in_one_line(hosted, monkeypatch):
    monkeypatch.setenv(TOKENS[hosted.kind.name], "wrong-token")
    number = file_issue(hosted, report_for())
    status, out, err = erratum("fix", str(number), *config(hosted), token=None)
    name = {"gitlab": "GitLab", "forgejo": "Forgejo"}[hosted.kind.name]
    assert (status, out) == (1, "")
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"Error: {name} refused to ") and ": 401" in err
    assert "wrong-token" not in err
    assert hosted.standin.pulls() == []
