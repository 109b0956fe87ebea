"""GitLab (python-gitlab) and Forgejo/Gitea (httpx) over HTTP against their stand-ins.

Each test runs on both forges, the stand-ins backed by real git and validated against
the forges' own descriptions (GitLab's issues, notes and ``GET /user`` are not in
GitLab's description: they are counted apart, see `test_gitlab_routes_outside_its_description`).
What every forge shares (the same report, the same branch, idempotently) is in
``test_contract.py``; here: faults, refusals, forks, links, CRLF and each forge's quirks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import git

from mkdocs_erratum.forges.base import ForgeError, ForgeTarget, ObjectKindError, report_marker
from tests.forges.hosted import Hosted
from tests.standin import gitlab_server
from tests.standin.make_swagger_subsets import FORGEJO_OPERATIONS, GITLAB_OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
REPORT_ID = "r-0123456789abcdef"
FIXED = "# Demo\n\nThe quick brown fox jumps over the lazy dog.\n\nSecond paragraph.\n"


@pytest.fixture(params=["gitlab", "forgejo"])
def hosted(request, docs_repo):
    setup = Hosted(request.param, docs_repo)
    yield setup
    setup.stop()


def show(git_dir: str, branch: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "show", f"refs/heads/{branch}:{path}"], cwd=git_dir, capture_output=True, check=True
    ).stdout


def open_request(forge, branch="erratum/r-1", text=FIXED, path="docs/index.md"):
    return forge.open_pull_request(
        branch=branch,
        changes={path: text},
        message="docs: fix docs/index.md\n",
        title="docs: fix docs/index.md",
        body="Fixes #1",
        report_id=REPORT_ID,
    )


@pytest.mark.parametrize(
    ("fault", "posts"),
    [
        # The issue was created before the 502 (or the slow answer): the look-up finds it.
        ("bad_gateway_after", 1),
        ("slow", 1),
        # Nothing was created: the second try creates it.
        ("bad_gateway", 2),
        ("secondary_limit", 2),
    ],
)
def test_open_issue_survives_a_fault_without_duplicate(hosted, fault, posts):
    forge = hosted.forge(timeout=2 if fault == "slow" else 10)
    hosted.standin.inject(fault, method="POST", path=hosted.kind.issues_path, delay=3)
    started = time.monotonic()
    issue = forge.open_issue(report_id=REPORT_ID, title="Erratum", body="A typo")
    assert [r.number for r in hosted.standin.issues()] == [issue.number]
    assert hosted.standin.count("POST", hosted.kind.issues_path) == posts
    assert report_marker(REPORT_ID) in hosted.standin.issues()[0].body
    if fault == "secondary_limit":
        assert time.monotonic() - started >= 1.0  # Retry-After was honoured


def test_reads_retry_after_502_and_rate_limit(hosted):
    forge = hosted.forge()
    hosted.standin.inject("bad_gateway", method="GET", path=hosted.kind.project_path)
    hosted.standin.inject("secondary_limit", method="GET", path="/branches/", retry_after=1)
    assert forge.head_commit(forge.default_branch()) == hosted.standin.repo.store.resolve("main")
    assert hosted.standin.count("GET", hosted.kind.project_path) == 2


def test_read_file_keeps_crlf_and_refuses_links_and_folders(hosted):
    text = "# Windows\r\n\r\nA line with a typo, teh end.\r\n"
    (hosted.repo / "docs/crlf.md").write_bytes(text.encode())
    (hosted.repo / "docs/up").symlink_to("guide")
    git(hosted.repo, "add", "-A")
    git(hosted.repo, "commit", "-qm", "crlf")
    forge = hosted.forge()
    version = forge.read_file("docs/crlf.md", "main")
    assert version.text == text
    assert version.commit == hosted.standin.repo.store.resolve("main")
    assert forge.read_file("docs/missing.md", "main") is None
    assert forge.read_file("nowhere/missing.md", "main") is None
    for path in ("docs/link.md", "docs/escape.md"):
        with pytest.raises(ObjectKindError, match="symbolic link") as caught:
            forge.read_file(path, "main")
        assert caught.value.kind == "link"
    with pytest.raises(ObjectKindError, match="folder") as caught:
        forge.read_file("docs/guide", "main")
    assert caught.value.kind == "other"
    # A link on the way: GitLab's tree tells where; Forgejo, like GitHub, finds nothing.
    if hosted.kind.name == "gitlab":
        with pytest.raises(ObjectKindError, match="docs/up is a symbolic link") as caught:
            forge.read_file("docs/up/install.md", "main")
        assert (caught.value.kind, caught.value.at) == ("link", "docs/up")
    else:
        assert forge.read_file("docs/up/install.md", "main") is None

    pull = open_request(forge, text=text.replace("teh", "the"), path="docs/crlf.md")
    assert pull.created
    raw = show(hosted.standin.repo.store.git_dir, "erratum/r-1", "docs/crlf.md")
    assert raw == text.replace("teh", "the").encode()  # the line ends are kept, byte for byte


def test_a_request_is_one_commit_and_opened_once(hosted):
    forge = hosted.forge()
    pull = open_request(forge)
    assert (
        pull.created and pull.branch == "erratum/r-1" and pull.head_project == hosted.kind.project
    )
    store = hosted.standin.repo.store
    assert show(store.git_dir, "erratum/r-1", "docs/index.md") == FIXED.encode()
    log = store.git("log", "--format=%s", "main..erratum/r-1").decode().splitlines()
    assert log == ["docs: fix docs/index.md"]
    (record,) = hosted.standin.pulls()
    assert record.body == f"Fixes #1\n\n{report_marker(REPORT_ID)}"
    # One commit and one request: the writes of a correction.
    assert hosted.standin.count("POST", hosted.kind.commit_path) == 1
    assert hosted.standin.count("POST", hosted.kind.pulls_path) == 1

    again = open_request(hosted.forge())
    assert (again.number, again.created) == (pull.number, False)
    assert len(hosted.standin.pulls()) == 1
    assert hosted.standin.count("POST", hosted.kind.commit_path) == 1


def test_a_502_after_the_commit_commits_once(hosted):
    forge = hosted.forge()
    hosted.standin.inject("bad_gateway_after", method="POST", path=hosted.kind.commit_path)
    pull = open_request(forge)
    assert pull.created
    log = hosted.standin.repo.store.git("log", "--format=%s", "main..erratum/r-1").decode()
    assert log.splitlines() == ["docs: fix docs/index.md"]
    assert hosted.standin.count("POST", hosted.kind.commit_path) == 1
    assert len(hosted.standin.pulls()) == 1


def test_a_slow_answer_to_the_request_opens_it_once(hosted):
    forge = hosted.forge(timeout=2)
    hosted.standin.inject("slow", method="POST", path=hosted.kind.pulls_path, delay=3)
    pull = open_request(forge)
    assert pull.created
    assert len(hosted.standin.pulls()) == 1
    assert hosted.standin.count("POST", hosted.kind.pulls_path) == 1


def test_a_403_is_one_clear_error_and_retried_never(hosted):
    forge = hosted.forge()
    hosted.standin.inject("forbidden", method="POST", path=hosted.kind.commit_path, times=9)
    with pytest.raises(ForgeError) as caught:
        open_request(forge)
    error = caught.value
    assert error.status == 403 and not error.transient
    name = {"gitlab": "GitLab", "forgejo": "Forgejo"}[hosted.kind.name]
    assert str(error).startswith(f"{name} refused to commit on erratum/r-1")
    assert "maintainer-token" not in str(error)
    assert hosted.standin.count("POST", hosted.kind.commit_path) == 1
    assert hosted.standin.pulls() == []


def test_a_forge_that_never_answers_is_transient(hosted):
    forge = hosted.forge(attempts=2)
    hosted.standin.inject("bad_gateway", method="GET", path=hosted.kind.project_path, times=5)
    with pytest.raises(ForgeError) as caught:
        forge.default_branch()
    assert caught.value.status == 502 and caught.value.transient
    assert hosted.standin.count("GET", hosted.kind.project_path) == 2


def test_a_token_that_cannot_push_forks_and_waits(hosted):
    hosted.standin.fork_delay = 0.5
    forge = hosted.forge("reader-token")
    assert forge.identity() == "reader" and not forge.can_push()
    pull = open_request(forge)
    fork = hosted.standin.fork_of("reader")
    assert pull.created and pull.head_project == fork.full_name == "reader/docs"
    assert show(fork.store.git_dir, "erratum/r-1", "docs/index.md") == FIXED.encode()
    assert hosted.standin.repo.store.resolve("refs/heads/erratum/r-1") is None
    (record,) = hosted.standin.pulls()
    assert record.pull["head_repo"] == "reader/docs" and record.pull["base_ref"] == "main"

    again = open_request(hosted.forge("reader-token"))
    assert (again.number, again.created) == (pull.number, False)
    assert hosted.forge("reader-token").fork() == "reader/docs"
    assert len([r for r in hosted.standin.repos.values() if r.parent]) == 1


def test_comments_and_labels_once(hosted):
    forge = hosted.forge()
    number = hosted.standin.add_issue(
        "Erratum", "A report", user="alice", labels=["erratum"]
    ).number
    first = forge.comment(number, "Pull request: x", key="r-1:pull")
    assert hosted.forge().comment(number, "Pull request: x", key="r-1:pull") == first
    forge.add_labels(number, ["erratum-needs-review"])
    forge.add_labels(number, ["erratum-needs-review"])
    issue = forge.read_issue(number)
    assert issue.labels == ("erratum", "erratum-needs-review")
    assert (issue.author, issue.state) == ("alice", "open")
    assert forge.issue_comments(number) == [
        ("maintainer", "Pull request: x\n\n<!-- erratum:r-1:pull -->")
    ]
    assert [i.number for i in forge.open_issues()] == [number]
    assert forge.open_issues("other") == []


def test_no_token_is_one_clear_error(hosted):
    with pytest.raises(ForgeError, match=r"no (GitLab|Forgejo) credentials: set"):
        hosted.forge(token=None, environ={})


def test_gitlab_job_token_has_no_user_and_may_not_write(docs_repo):
    from mkdocs_erratum.forges import gitlab

    setup = Hosted("gitlab", docs_repo)
    try:
        forge = gitlab.connect(setup.target, environ={"CI_JOB_TOKEN": "job-token"}, backoff=0.05)
        assert forge.identity() is None and forge.can_push()
        assert forge.read_file("docs/index.md", "main").text.startswith("# Demo")
        with pytest.raises(ForgeError, match="GitLab refused to commit") as caught:
            open_request(forge)
        assert caught.value.status == 403
        assert setup.standin.pulls() == []
    finally:
        setup.stop()


def test_gitlab_routes_outside_its_description(docs_repo):
    setup = Hosted("gitlab", docs_repo)
    try:
        forge = setup.forge()
        issue = forge.open_issue(report_id=REPORT_ID, title="Erratum", body="A typo")
        forge.comment(issue.number, "hi", key="k")
        forge.add_labels(issue.number, ["erratum-ambiguous"])
        assert forge.identity() == "maintainer"
        # Requests to what GitLab's description lacks are counted, never validated.
        seen = set(setup.standin.unvalidated)
        assert seen and seen <= set(gitlab_server.NOT_VALIDATED)
        assert ("GET", "/api/v4/user") in seen
        # GitLab writes a system note for a label: it is not a comment by a person.
        assert forge.issue_comments(issue.number) == [("maintainer", "hi\n\n<!-- erratum:k -->")]
        # The subgroup's project path went URL-encoded, as python-gitlab sends it.
        assert any("acme%2Fwriters%2Fdocs" in path for _, path in setup.standin.requests)
        assert forge.web_url == f"{setup.standin.url}/acme/writers/docs"
    finally:
        setup.stop()


def test_gitea_names_itself(docs_repo):
    from mkdocs_erratum.forges import forgejo
    from mkdocs_erratum.forges.base import ForgeTarget

    setup = Hosted("forgejo", docs_repo)
    try:
        url = setup.standin.url
        target = ForgeTarget("gitea", url, url + "/api/v1", "acme/docs")
        forge = forgejo.connect(target, environ={"GITEA_TOKEN": "maintainer-token"})
        assert forge.kind == "gitea" and forge.identity() == "maintainer"
        setup.standin.inject("forbidden", method="GET", path=r"/branches/")
        with pytest.raises(ForgeError, match=r"^Gitea refused to read branch main: 403"):
            forge.head_commit("main")
        assert forge.permalink("a" * 40, "docs/index.md", 3, 4).startswith(
            f"{url}/acme/docs/src/commit/{'a' * 40}/docs/index.md#L3"
        )
    finally:
        setup.stop()


@pytest.mark.parametrize(
    ("name", "operations"),
    [("gitlab", GITLAB_OPERATIONS), ("forgejo", FORGEJO_OPERATIONS)],
)
def test_committed_subsets_are_the_listed_operations(name, operations):
    spec = json.loads((ROOT / f"tests/standin/{name}_subset.json").read_text())
    assert spec["openapi"].startswith("3.0")
    served = {(m, p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert served == set(operations)
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                assert {"401", "403", "404", "429", "5XX"} <= set(operation["responses"])
    if name == "gitlab":
        commit = spec["components"]["schemas"]["postApiV4ProjectsIdRepositoryCommits"]
        assert commit["properties"]["actions"]["items"]["required"] == ["action", "file_path"]


@pytest.mark.parametrize(
    ("module", "library"),
    [("mkdocs_erratum.forges.gitlab", "gitlab"), ("mkdocs_erratum.forges.forgejo", "httpx")],
)
def test_each_forge_module_imports_its_own_library(module, library):
    from test_layers import loaded_by

    loaded = loaded_by(module)
    assert library in loaded
    others = {"gitlab": {"github", "httpx"}, "httpx": {"github", "gitlab"}}[library]
    assert loaded & others == set()


def test_forgejo_finds_an_older_pull_request_by_the_issue_search(docs_repo, monkeypatch):
    from mkdocs_erratum.forges import forgejo

    setup = Hosted("forgejo", docs_repo)
    try:
        opened = open_request(setup.forge())
        # As if the request were older than the recently updated pages looked through.
        monkeypatch.setattr(forgejo, "PULL_PAGES", 0)
        forge = setup.forge()
        assert forge.find_pull_request("erratum/r-1") is None
        found = forge.find_pull_request("erratum/renamed", REPORT_ID)
        assert (found.number, found.branch, found.created) == (opened.number, "erratum/r-1", False)
        assert setup.standin.count("GET", r"/pulls$") == 2  # the first client's look-ups only
    finally:
        setup.stop()


def test_a_standin_runs_as_its_own_process(hosted):
    name, project = hosted.kind.name, hosted.kind.project
    command = [sys.executable, "-m", "tests.standin", "--forge", name]
    command += ["--git-dir", str(hosted.repo), "--repo", project]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        target = ForgeTarget(name, url, url + hosted.kind.api_path, project)
        forge = hosted.forge(target=target)
        assert forge.read_file("docs/index.md", "main").text.startswith("# Demo")
        with urllib.request.urlopen(f"{url}/_standin/state") as response:
            state = json.load(response)
        assert state["violations"] == [] and project in state["repos"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
