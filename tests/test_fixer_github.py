"""The fix flow end to end: PyGithub over HTTP to the stand-in, real git behind it.

Each test ends by reading the stand-in's git repositories and records.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import git

from mkdocs_erratum.fixer import FixError, fix_issue, fix_report, issue_body
from mkdocs_erratum.forges.base import ForgeError
from mkdocs_erratum.report import Report, ReportBlock, text_hash
from tests.forges.harnesses import github_forge as make_gateway

TYPO = "The quick brown fox jumsp over the lazy dog."
FIXED = "The quick brown fox jumps over the lazy dog."


def report_for(path="docs/index.md", start=3, end=3, original=TYPO, replacement=FIXED, **kw):
    block = ReportBlock(path, start, end, original, text_hash(original), replacement)
    kw.setdefault("comment", "Typo")
    return Report(page_url="https://acme.example/", blocks=[block], **kw)


def file_issue(standin, report: Report, user: str = "reader") -> int:
    """The issue a reader (``user``) files from the widget (carries the report block)."""
    return standin.add_issue("Erratum", issue_body(report), user=user, labels=["erratum"]).number


def commit(repo: Path, path: str, text: str, message: str = "edit") -> None:
    (repo / path).write_text(text, encoding="utf-8")
    git(repo, "commit", "-q", "-am", message)


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def test_same_repository_pull_request_then_a_double_run(standin, docs_repo):
    report = report_for(reporter="mallory")
    number = file_issue(standin, report, user="alice")
    gateway = make_gateway(standin)
    outcome = fix_issue(gateway, number, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    (pull,) = standin.pulls()
    assert pull.body.startswith(f"Fixes #{number}\n")
    assert pull.pull["head_ref"] == f"erratum/{number}"
    fixed = git(docs_repo, "show", f"erratum/{number}:docs/index.md")
    assert fixed == (docs_repo / "docs/index.md").read_text().replace("jumsp", "jumps")
    log = git(docs_repo, "log", "-1", "--format=%B", f"erratum/{number}")
    alice = standin.user_ids["alice"]
    # The issue's author is credited, as GitHub names them; never the report's field.
    assert f"Co-authored-by: alice <{alice}+alice@users.noreply.127.0.0.1>" in log
    assert "mallory" not in log and "mallory" not in pull.body
    diff = git(docs_repo, "diff", "--stat", "main", f"erratum/{number}")
    assert "docs/index.md | 2 +-" in diff and "1 file changed" in diff
    issue = standin.repo.records[number]
    assert [c["body"].splitlines()[0] for c in issue.comments] == [
        f"Pull request: {pull_url(standin, pull)}"
    ]

    again = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])
    assert again.state == "pull_request_exists"
    assert len(standin.pulls()) == 1 and len(issue.comments) == 1


def pull_url(standin, record) -> str:
    return f"{standin.url}/acme/docs/pull/{record.number}"


def test_fork_pull_request_when_the_token_cannot_push(standin, docs_repo):
    standin.fork_delay = 0.5
    report = report_for()
    outcome = fix_report(make_gateway(standin, token="reader-token"), report, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    (pull,) = standin.pulls()
    assert pull.pull["head_repo"] == "reader/docs"
    fork = standin.fork_of("reader")
    text = fork.store.git("show", f"erratum/{report.id}:docs/index.md").decode()
    assert FIXED in text and TYPO not in text
    assert branches(docs_repo) == ["main"]


def test_lines_moved_since_the_build_are_relocated(standin, docs_repo):
    number = file_issue(standin, report_for())
    original = (docs_repo / "docs/index.md").read_text()
    commit(docs_repo, "docs/index.md", "Intro line.\n\nMore intro.\n\n" + original)
    outcome = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    lines = git(docs_repo, "show", f"erratum/{number}:docs/index.md").splitlines()
    assert lines[6] == FIXED and lines[0] == "Intro line."
    assert (
        "lines 7-7" in standin.pulls()[0].body
        and "(reported as lines 3-3)" in standin.pulls()[0].body
    )


def test_text_already_fixed_opens_nothing_and_says_why(standin, docs_repo):
    number = file_issue(standin, report_for())
    commit(
        docs_repo, "docs/index.md", (docs_repo / "docs/index.md").read_text().replace(TYPO, FIXED)
    )
    outcome = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])
    assert outcome.state == "already_fixed"
    issue = standin.repo.records[number]
    assert standin.pulls() == [] and branches(docs_repo) == ["main"]
    assert "erratum-already-fixed" in issue.labels
    assert "already there" in issue.comments[0]["body"]


def test_ambiguous_text_opens_nothing(standin, docs_repo):
    report = report_for("docs/repeated.md", 3, 3, "Same line.", "Same line, fixed.")
    number = file_issue(standin, report)
    commit(
        docs_repo, "docs/repeated.md", "Inserted.\n" + (docs_repo / "docs/repeated.md").read_text()
    )
    outcome = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])
    assert outcome.state == "ambiguous"
    issue = standin.repo.records[number]
    assert "erratum-ambiguous" in issue.labels
    assert "several places (lines 4, 6)" in issue.comments[0]["body"]
    assert standin.pulls() == [] and branches(docs_repo) == ["main"]


def test_the_build_commit_resolves_repeated_text(standin, docs_repo):
    built = git(docs_repo, "rev-parse", "HEAD").strip()
    report = report_for("docs/repeated.md", 5, 5, "Same line.", "Second line, fixed.", commit=built)
    number = file_issue(standin, report)
    commit(
        docs_repo, "docs/repeated.md", "Inserted.\n" + (docs_repo / "docs/repeated.md").read_text()
    )
    outcome = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    fixed = git(docs_repo, "show", f"erratum/{number}:docs/repeated.md")
    assert fixed == "Inserted.\n# Repeated\n\nSame line.\n\nSecond line, fixed.\n"


def test_two_reports_on_one_file_at_once(standin, docs_repo):
    first = report_for(
        "docs/guide/install.md", 3, 3, "Run pip install demo.", "Run `pip install demo`."
    )
    second = report_for(
        "docs/guide/install.md",
        5,
        5,
        "Then run demo --help to see the the options.",
        "Then run demo --help to see the options.",
    )
    numbers = [file_issue(standin, first), file_issue(standin, second)]
    outcomes = {}

    def run(number):
        outcomes[number] = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])

    threads = [threading.Thread(target=run, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {o.state for o in outcomes.values()} == {"pull_request_opened"}
    assert len(standin.pulls()) == 2
    original = (docs_repo / "docs/guide/install.md").read_text()
    expected = [
        original.replace("Run pip install demo.", "Run `pip install demo`."),
        original.replace("the the options", "the options"),
    ]
    for number, text in zip(numbers, expected, strict=True):
        assert git(docs_repo, "show", f"erratum/{number}:docs/guide/install.md") == text


@pytest.mark.parametrize(
    ("kind", "method", "path"),
    [
        ("bad_gateway_after", "POST", r"/pulls$"),
        ("bad_gateway", "POST", r"/git/refs$"),
        ("secondary_limit", "POST", r"/pulls$"),
        ("slow", "PUT", r"/contents/"),
        ("bad_gateway_after", "POST", r"/comments$"),
    ],
)
def test_faults_still_end_in_one_pull_request(standin, docs_repo, kind, method, path):
    number = file_issue(standin, report_for(reporter="alice"))
    standin.inject(kind, method=method, path=path, retry_after=1, delay=3)
    gateway = make_gateway(standin, timeout=2 if kind == "slow" else 10)
    outcome = fix_issue(gateway, number, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    assert len(standin.pulls()) == 1
    assert len(standin.repo.records[number].comments) == 1
    log = git(docs_repo, "log", "--format=%s", f"main..erratum/{number}").splitlines()
    assert len(log) == 1  # one commit, not one per try
    assert FIXED in git(docs_repo, "show", f"erratum/{number}:docs/index.md")


@pytest.mark.parametrize(
    ("path", "original", "reason"),
    [
        ("README.md", "x", "outside the documentation folders (docs)"),
        ("docs/../.github/workflows/ci.yml", "on: push", "path has '..'"),
        (".github/workflows/ci.yml", "on: push", "inside a hidden folder (.github/)"),
        ("src/demo.py", "print('demo')", "not a Markdown file"),
        ("docs/link.md", "# Demo", "is a symbolic link"),
        ("docs/escape.md", "on: push", "is a symbolic link"),
    ],
)
def test_reports_aiming_outside_the_docs_are_refused(standin, docs_repo, path, original, reason):
    report = report_for(path, 1, 1, original, "pwned")
    outcome = fix_report(make_gateway(standin), report, docs_dirs=["docs"], issue_number=None)
    assert outcome.state == "refused" and reason in outcome.message
    assert standin.pulls() == [] and branches(docs_repo) == ["main"]
    assert standin.count("PUT", ".") == 0 and standin.count("POST", "/git/refs") == 0


def test_a_refused_issue_is_commented_and_labelled(standin, docs_repo):
    number = file_issue(standin, report_for("docs/escape.md", 1, 1, "on: push", "pwned"))
    outcome = fix_issue(make_gateway(standin), number, docs_dirs=["docs"])
    issue = standin.repo.records[number]
    assert outcome.state == "refused"
    assert issue.labels == ["erratum", "erratum-needs-review"]
    assert "symbolic link" in issue.comments[0]["body"]
    assert git(docs_repo, "show", "main:.github/workflows/ci.yml") == "on: push\njobs: {}\n"


def test_issue_without_a_valid_report(standin):
    dotdot = issue_body(report_for()).replace('"docs/index.md"', '"docs/../setup.md"')
    number = standin.add_issue("Erratum", dotdot).number
    with pytest.raises(FixError, match=r"holds no valid report: blocks\[0\]\.path"):
        fix_issue(make_gateway(standin), number)


def test_a_10_mb_issue_body_is_refused_before_parsing(standin, docs_repo):
    body = issue_body(report_for()) + "\n" + "x" * 10_000_000
    number = standin.add_issue("Huge", body).number
    with pytest.raises(FixError, match=r"body is 10,00\d,\d{3} characters"):
        fix_issue(make_gateway(standin), number)
    assert standin.pulls() == [] and branches(docs_repo) == ["main"]


def test_fork_flow_survives_faults_on_fork_and_pull(standin, docs_repo):
    standin.fork_delay = 0.3
    standin.inject("bad_gateway_after", method="POST", path=r"/forks$")
    standin.inject("secondary_limit", method="POST", path=r"/pulls$", retry_after=1)
    report = report_for(reporter="alice")
    outcome = fix_report(make_gateway(standin, token="reader-token"), report, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    assert len(standin.pulls()) == 1 and standin.count("POST", r"/pulls$") == 2
    assert list(standin.repos) == ["acme/docs", "reader/docs"]
    assert branches(docs_repo) == ["main"]


def test_a_replacement_over_the_size_limit_is_refused(standin, docs_repo):
    report = report_for(replacement="x" * 20_001)
    outcome = fix_report(make_gateway(standin), report, docs_dirs=["docs"])
    assert outcome.state == "refused"
    assert "suggested text is longer than 20000 characters" in outcome.message
    assert standin.pulls() == [] and branches(docs_repo) == ["main"]


def test_a_block_that_is_gone_is_left_out_and_said(standin, docs_repo):
    report = report_for()
    gone = ReportBlock("docs/index.md", 5, 5, "Not there.", text_hash("Not there."), "x")
    report.blocks.append(gone)
    outcome = fix_report(make_gateway(standin), report, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened"
    body = standin.pulls()[0].body
    assert (
        "Left out:\n- `docs/index.md` lines 5-5: the reported text is no longer in the file" in body
    )


def test_a_github_failure_while_reading_is_not_a_refusal(standin, docs_repo):
    number = file_issue(standin, report_for())
    standin.inject("bad_gateway", method="GET", path=r"/contents/", times=10)
    with pytest.raises(ForgeError, match=r"could not reach GitHub to read docs/index\.md"):
        fix_issue(make_gateway(standin, attempts=2), number, docs_dirs=["docs"])
    assert standin.repo.records[number].labels == ["erratum"]  # not labelled, no comment
    assert standin.repo.records[number].comments == []
