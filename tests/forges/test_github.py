"""The GitHub forge through PyGithub over HTTP against the stand-in (real git behind it)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mkdocs_erratum.fixer import issue_body, issue_title
from mkdocs_erratum.forges.base import ForgeError, report_ids_in, report_marker
from mkdocs_erratum.forges.github import GitHubForge, api_url_from
from mkdocs_erratum.report import Report, ReportBlock, parse_issue_body, text_hash
from tests.conftest import git
from tests.forges.harnesses import github_forge as make_gateway

ROOT = Path(__file__).resolve().parents[2]


def open_issue(forge, report: Report):
    """The issue the service opens for ``report``."""
    return forge.open_issue(report_id=report.id, title=issue_title(report), body=issue_body(report))


def sample_report(line: str = "The quick brown fox jumsp over the lazy dog.") -> Report:
    block = ReportBlock(
        "docs/index.md", 3, 3, line, text_hash(line), line.replace("jumsp", "jumps")
    )
    return Report(page_url="https://acme.example/docs/", blocks=[block], comment="Typo")


@pytest.mark.parametrize(
    ("option", "environ", "expected"),
    [
        (None, {}, "https://api.github.com"),
        (None, {"GITHUB_API_URL": "https://ghe.example/api/v3"}, "https://ghe.example/api/v3"),
        ("http://127.0.0.1:9/", {"GITHUB_API_URL": "https://ghe.example"}, "http://127.0.0.1:9"),
        (None, {"GITHUB_API_URL": ""}, "https://api.github.com"),
    ],
)
def test_api_url_from(option, environ, expected):
    assert api_url_from(option, environ) == expected


def test_report_marker_round_trip():
    assert report_ids_in(f"text\n{report_marker('r-0123456789abcdef')}\n") == ["r-0123456789abcdef"]
    assert report_ids_in("no marker") == []


def test_no_credentials_is_one_clear_error():
    with pytest.raises(ForgeError, match="GITHUB_TOKEN"):
        GitHubForge.from_environment("acme/docs", environ={})


def test_open_issue_once_and_parse_it_back(standin):
    gateway = make_gateway(standin)
    report = sample_report()
    first = open_issue(gateway, report)
    again = open_issue(gateway, report)
    assert first.number == again.number
    assert len(standin.issues()) == 1
    issue = standin.issues()[0]
    assert issue.labels == ["erratum"]
    assert parse_issue_body(issue.body) == report
    assert report_marker(report.id) in issue.body
    assert gateway.find_issue(report.id).number == first.number


@pytest.mark.parametrize(
    ("kind", "posts"),
    [
        # The issue was created before the 502 (or the slow answer): the look-up finds it.
        ("bad_gateway_after", 1),
        ("slow", 1),
        # Nothing was created: the second try creates it.
        ("bad_gateway", 2),
        ("secondary_limit", 2),
    ],
)
def test_open_issue_survives_a_fault_without_duplicate(standin, kind, posts):
    # Only the slow answer should outlast the client's patience, even on a busy machine.
    gateway = make_gateway(standin, timeout=2 if kind == "slow" else 10)
    standin.inject(kind, method="POST", path=r"/issues$", retry_after=1, delay=3)
    started = time.monotonic()
    issue = open_issue(gateway, sample_report())
    elapsed = time.monotonic() - started
    assert [r.number for r in standin.issues()] == [issue.number]
    assert standin.count("POST", r"/issues$") == posts
    if kind == "secondary_limit":
        assert elapsed >= 1.0  # Retry-After was honoured


def test_reads_retry_after_502_and_secondary_limit(standin):
    gateway = make_gateway(standin)
    standin.inject("bad_gateway", method="GET", path=r"^/repos/acme/docs$")
    standin.inject("secondary_limit", method="GET", path=r"/git/ref/", retry_after=1)
    expected = git(Path(standin.repo.store.git_dir), "rev-parse", "main").strip()
    assert gateway.head_commit("main") == expected
    assert standin.count("GET", r"^/repos/acme/docs$") == 2


def test_read_file_refuses_links_and_folders(standin):
    gateway = make_gateway(standin)
    version = gateway.read_file("docs/index.md", "main")
    assert version.text.startswith("# Demo\n")
    assert version.commit == standin.repo.store.resolve("main")
    assert gateway.read_file("docs/missing.md", "main") is None
    with pytest.raises(ForgeError, match="symbolic link"):
        gateway.read_file("docs/link.md", "main")
    with pytest.raises(ForgeError, match="symbolic link"):
        gateway.read_file("docs/escape.md", "main")
    with pytest.raises(ForgeError, match="folder"):
        gateway.read_file("docs/guide", "main")


def test_read_file_refuses_files_github_serves_without_content(standin, docs_repo):
    (docs_repo / "docs/big.md").write_text("# Big\n" + "word " * 250_000)
    git(docs_repo, "add", "docs/big.md")
    git(docs_repo, "commit", "-q", "-m", "big")
    with pytest.raises(ForgeError, match="larger than 1 MB"):
        make_gateway(standin).read_file("docs/big.md", "main")


def test_pull_request_in_the_repository(standin, docs_repo):
    gateway = make_gateway(standin)
    new_text = "# Demo\n\nFixed.\n"
    pr = gateway.open_pull_request(
        branch="erratum/r-0000000000000001",
        changes={"docs/index.md": new_text},
        message="docs: fix",
        title="Fix",
        body="Body",
        report_id="r-0000000000000001",
    )
    assert pr.created and pr.head_project == "acme/docs"
    assert git(docs_repo, "show", "erratum/r-0000000000000001:docs/index.md") == new_text
    assert git(docs_repo, "log", "-1", "--format=%s", "erratum/r-0000000000000001").strip() == (
        "docs: fix"
    )
    again = gateway.open_pull_request(
        branch="erratum/r-0000000000000001",
        changes={"docs/index.md": new_text},
        message="docs: fix",
        title="Fix",
        body="Body",
    )
    assert not again.created and again.number == pr.number
    assert len(standin.pulls()) == 1
    assert report_marker("r-0000000000000001") in standin.pulls()[0].body


def test_pull_request_from_a_fork_waits_for_it(standin, docs_repo):
    standin.fork_delay = 0.8
    gateway = make_gateway(standin, token="reader-token")
    assert not gateway.can_push()
    pr = gateway.open_pull_request(
        branch="erratum/7",
        changes={"docs/index.md": "# Demo\n\nFrom a fork.\n"},
        message="docs: fix from fork",
        title="Fix",
        body="Body",
    )
    fork = standin.fork_of("reader")
    assert pr.head_project == "reader/docs" and pr.created
    assert fork.store.git("show", "erratum/7:docs/index.md").decode() == "# Demo\n\nFrom a fork.\n"
    assert "erratum/7" not in git(docs_repo, "branch", "--list")
    (record,) = standin.pulls()
    assert record.pull["head_repo"] == "reader/docs"
    assert gateway.open_pull_request(
        branch="erratum/7", changes={}, message="m", title="t", body="b"
    ) == type(pr)(pr.number, pr.url, "erratum/7", "reader/docs", created=False)


def test_a_workflow_token_pushes_without_knowing_who_it_is(standin, docs_repo):
    gateway = make_gateway(standin, token="ghs_workflow-token")
    assert gateway.identity() is None and gateway.can_push()
    pr = gateway.open_pull_request(
        branch="erratum/9", changes={"docs/index.md": "# Fixed\n"}, message="m", title="t", body="b"
    )
    assert pr.head_project == "acme/docs" and standin.fork_of("github-actions[bot]") is None
    assert open_issue(gateway, sample_report()).author == "github-actions[bot]"


def test_comment_and_labels_are_idempotent(standin):
    gateway = make_gateway(standin)
    issue = open_issue(gateway, sample_report())
    url = gateway.comment(issue.number, "Opened #2", key="r-x:pr")
    assert gateway.comment(issue.number, "Opened #2 again", key="r-x:pr") == url
    gateway.add_labels(issue.number, ["erratum-fixed"])
    gateway.add_labels(issue.number, ["erratum-fixed"])
    record = standin.issues()[0]
    assert [c["body"].splitlines()[0] for c in record.comments] == ["Opened #2"]
    assert record.labels == ["erratum", "erratum-fixed"]


def test_stale_sha_is_a_409(standin):
    from github import Auth, Github, GithubException

    github = Github(
        base_url=standin.url, auth=Auth.Token("maintainer-token"), seconds_between_writes=None
    )
    repo = github.get_repo("acme/docs")
    current = repo.get_contents("docs/index.md", ref="main")
    repo.update_file("docs/index.md", "one", "one\n", current.sha, branch="main")
    with pytest.raises(GithubException) as caught:
        repo.update_file("docs/index.md", "two", "two\n", current.sha, branch="main")
    assert caught.value.status == 409
    assert repo.get_contents("docs/index.md", ref="main").decoded_content == b"one\n"


def test_github_app_installation_auth(standin):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    gateway = make_gateway(standin, token=None, app_id=standin.app_id, app_private_key=pem)
    issue = open_issue(gateway, sample_report())
    assert issue.author == "erratum-app[bot]"
    assert standin.count("POST", r"/app/installations/77/access_tokens") == 1


def test_rate_limit_headers_and_own_urls(standin):
    with urllib.request.urlopen(f"{standin.url}/repos/acme/docs") as response:
        data = json.load(response)
        assert int(response.headers["X-RateLimit-Limit"]) == 5000
        assert int(response.headers["X-RateLimit-Remaining"]) < 5000
    assert data["url"] == f"{standin.url}/repos/acme/docs"
    assert data["owner"]["url"].startswith(standin.url)


def test_standin_runs_as_its_own_process(docs_repo):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.standin", "--git-dir", str(docs_repo), "--repo", "acme/docs"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(
            f"{url}/repos/acme/docs/contents/docs/index.md",
            headers={"Authorization": "token reader-token"},
        )
        with urllib.request.urlopen(request) as response:
            content = json.load(response)
        assert base64.b64decode(content["content"]).decode().startswith("# Demo")
        fault = {"kind": "bad_gateway", "method": "GET", "path": "^/repos/acme/docs$"}
        control = urllib.request.Request(
            f"{url}/_standin/faults", data=json.dumps([fault]).encode(), method="POST"
        )
        urllib.request.urlopen(control).close()
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{url}/repos/acme/docs")
        assert caught.value.code == 502
        urllib.request.urlopen(f"{url}/repos/acme/docs").close()  # the fault fired once
        with urllib.request.urlopen(f"{url}/_standin/state") as response:
            assert json.load(response)["violations"] == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_committed_openapi_subset_is_pinned_and_patched():
    from tests.standin.make_openapi_subset import OPERATIONS, VERSION

    spec = json.loads((ROOT / "tests/standin/openapi_subset.json").read_text())
    assert spec["info"]["x-subset-of"] == f"@octokit/openapi@{VERSION}"
    served = {(m, p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert served == set(OPERATIONS)

    def nullable_enums_without_null(node):
        if isinstance(node, dict):
            if node.get("nullable") and "enum" in node and None not in node["enum"]:
                yield node
            for value in node.values():
                yield from nullable_enums_without_null(value)
        elif isinstance(node, list):
            for value in node:
                yield from nullable_enums_without_null(value)

    assert list(nullable_enums_without_null(spec)) == []
    state_reason = spec["components"]["schemas"]["issue"]["properties"]["state_reason"]
    assert state_reason["nullable"] and None in state_reason["enum"]
