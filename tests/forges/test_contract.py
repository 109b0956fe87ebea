"""The contract every forge keeps: one report, the same result on each, however often run.

Each test runs on every harness of `tests.forges.harnesses.HARNESSES` (GitHub through
the stand-in, the local git forge, and the others registered there): the same report
gives the same branch content, one pull/merge request (or branch), nothing new on a
second run with a fresh client, relocation when the file moved on, and the same scope
guard.
"""

from __future__ import annotations

import pytest

from mkdocs_erratum.fixer import fix_issue, fix_report, issue_body
from mkdocs_erratum.forges.base import Forge, report_marker
from mkdocs_erratum.report import Report, ReportBlock, text_hash
from tests.conftest import DOCS_FILES, git

TYPO = "The quick brown fox jumsp over the lazy dog."
FIXED = "The quick brown fox jumps over the lazy dog."
INDEX = DOCS_FILES["docs/index.md"]


def report_for(path="docs/index.md", start=3, end=3, original=TYPO, replacement=FIXED, **kw):
    block = ReportBlock(path, start, end, original, text_hash(original), replacement)
    return Report(page_url="https://acme.example/", blocks=[block], comment="Typo", **kw)


def commit(harness, path: str, data: bytes, message: str = "edit") -> str:
    target = harness.repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    git(harness.repo, "add", path)
    git(harness.repo, "commit", "-q", "-m", message)
    return git(harness.repo, "rev-parse", "HEAD").strip()


def branch_of(report: Report) -> str:
    return f"erratum/{report.id}"


def assert_one_delivery(harness, forge: Forge, report: Report) -> None:
    """One pull/merge request from the report's branch, carrying its marker."""
    pulls = harness.pull_requests()
    if forge.has_pull_requests:
        assert [p.branch for p in pulls] == [branch_of(report)]
        assert report_marker(report.id) in pulls[0].body
    else:
        assert pulls == []


def test_a_report_gives_the_same_branch_once(forge_harness):
    report = report_for()
    first = fix_report(forge_harness.forge(), report, docs_dirs=["docs"])
    assert first.state == "pull_request_opened", first.message
    assert first.pull_request.created and first.pull_request.branch == branch_of(report)
    assert forge_harness.branch_text(branch_of(report), "docs/index.md") == INDEX.replace(
        "jumsp", "jumps"
    )
    forge = forge_harness.forge()
    again = fix_report(forge, report, docs_dirs=["docs"])
    assert again.state == "pull_request_exists", again.message
    assert again.pull_request.number == first.pull_request.number
    assert not again.pull_request.created
    assert_one_delivery(forge_harness, forge, report)
    # Only the reported line changed.
    diff = git(forge_harness.repo, "diff", "--numstat", "main", branch_of(report))
    if forge.has_pull_requests and forge_harness.branch_text("main", "docs/index.md") is None:
        return  # the branch is in a fork: nothing to compare in the project itself
    assert diff.split() == ["1", "1", "docs/index.md"]


def test_the_lines_are_found_where_the_file_moved_them(forge_harness):
    built = git(forge_harness.repo, "rev-parse", "HEAD").strip()
    moved = "# Demo\n\nA new first paragraph.\n\nAnd another.\n\n" + INDEX.split("\n", 2)[2]
    commit(forge_harness, "docs/index.md", moved.encode(), "insert two paragraphs")
    report = report_for(commit=built)
    outcome = fix_report(forge_harness.forge(), report, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    assert forge_harness.branch_text(branch_of(report), "docs/index.md") == moved.replace(
        "jumsp", "jumps"
    )
    for pull in forge_harness.pull_requests():
        assert "lines 7-7" in pull.body and "(reported as lines 3-3)" in pull.body


def test_crlf_line_ends_are_kept_and_only_the_line_changes(forge_harness):
    crlf = INDEX.replace("\n", "\r\n")
    commit(forge_harness, "docs/index.md", crlf.encode(), "CRLF")
    report = report_for()
    outcome = fix_report(forge_harness.forge(), report, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    fixed = forge_harness.branch_text(branch_of(report), "docs/index.md")
    assert fixed == crlf.replace("jumsp", "jumps")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("src/demo.py", "not a Markdown file"),
        ("docs/../README.md", "'..'"),
        (".github/notes.md", "hidden folder"),
        ("notes/other.md", "outside the documentation folders"),
        ("docs/link.md", "symbolic link"),
        ("docs/escape.md", "symbolic link"),
    ],
)
def test_the_scope_guard_is_the_same_on_every_forge(forge_harness, path, reason):
    report = report_for(path=path, start=1, end=1, original="# Demo", replacement="# Owned")
    forge = forge_harness.forge()
    outcome = fix_report(forge, report, docs_dirs=["docs"])
    assert outcome.state == "refused", outcome.message
    assert reason in outcome.message
    assert forge.head_commit(branch_of(report)) is None
    assert forge_harness.pull_requests() == []


def test_text_that_is_gone_opens_nothing(forge_harness):
    commit(forge_harness, "docs/index.md", b"# Demo\n\nRewritten entirely.\n", "rewrite")
    report = report_for()
    forge = forge_harness.forge()
    outcome = fix_report(forge, report, docs_dirs=["docs"])
    assert outcome.state == "gone", outcome.message
    assert forge.head_commit(branch_of(report)) is None
    assert forge_harness.pull_requests() == []


def test_an_issue_gets_one_pull_request_and_one_comment(issue_harness):
    forge = issue_harness.forge()
    report = report_for()
    number = issue_harness.add_issue("Erratum", issue_body(report), "alice")
    first = fix_issue(forge, number, docs_dirs=["docs"])
    assert first.state == "pull_request_opened", first.message
    again = fix_issue(issue_harness.forge(), number, docs_dirs=["docs"])
    assert again.state == "pull_request_exists", again.message
    (pull,) = issue_harness.pull_requests()
    assert pull.branch == f"erratum/{number}" and pull.body.startswith(f"Fixes #{number}\n")
    (issue,) = issue_harness.issues()
    assert [c.splitlines()[0] for c in issue.comments] == [
        f"Pull request: {first.pull_request.url}"
    ]
    assert issue_harness.branch_text(f"erratum/{number}", "docs/index.md") == INDEX.replace(
        "jumsp", "jumps"
    )


def test_a_block_only_commented_on_is_left_out_and_the_issue_stays_open(issue_harness):
    forge = issue_harness.forge()
    report = report_for()
    heading = INDEX.splitlines()[0]
    report.blocks.append(ReportBlock("docs/index.md", 1, 1, heading, text_hash(heading), None))
    number = issue_harness.add_issue("Erratum", issue_body(report), "alice")
    outcome = fix_issue(forge, number, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    (pull,) = issue_harness.pull_requests()
    assert pull.body.startswith(f"Part of #{number}\n") and f"Fixes #{number}" not in pull.body
    assert "`docs/index.md` lines 1-1: no correction suggested" in pull.body
    assert issue_harness.branch_text(f"erratum/{number}", "docs/index.md") == INDEX.replace(
        "jumsp", "jumps"
    )


def test_a_report_with_no_correction_opens_no_pull_request(issue_harness):
    forge = issue_harness.forge()
    report = report_for(replacement=None)
    number = issue_harness.add_issue("Erratum", issue_body(report), "alice")
    outcome = fix_issue(forge, number, docs_dirs=["docs"])
    assert outcome.state == "refused" and "no block has a suggested text" in outcome.message
    assert issue_harness.pull_requests() == []


def test_a_token_that_cannot_push_works_in_a_fork(forking_harness):
    report = report_for()
    forge = forking_harness.forge(can_push=False)
    assert not forge.can_push()
    outcome = fix_report(forge, report, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    assert outcome.pull_request.head_project != forge.project
    assert git(forking_harness.repo, "branch", "--list", branch_of(report)) == ""
    assert forking_harness.branch_text(branch_of(report), "docs/index.md") == INDEX.replace(
        "jumsp", "jumps"
    )
    again = fix_report(forking_harness.forge(can_push=False), report, docs_dirs=["docs"])
    assert again.state == "pull_request_exists"
    assert len(forking_harness.pull_requests()) == 1
