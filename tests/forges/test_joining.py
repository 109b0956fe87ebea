"""Duplicates join on every forge that has issues: the same typo reported twice gives one
pull/merge request, the second report a comment, and the reader's second issue a label.

Runs on each harness of `tests.forges.harnesses.HARNESSES` with issues; what was created
is read back from the stand-in's records, never through the forge under test.
"""

from __future__ import annotations

from dataclasses import replace

from mkdocs_erratum.fixer import LABEL_DUPLICATE, fix_issue, issue_body
from tests.forges.test_contract import report_for


def test_a_second_report_of_the_same_lines_joins_the_open_request(issue_harness):
    first = issue_harness.add_issue("Erratum", issue_body(report_for()), "alice")
    opened = fix_issue(issue_harness.forge(), first, docs_dirs=["docs"])
    assert opened.state == "pull_request_opened", opened.message

    listed = issue_harness.forge().open_pull_requests()
    assert [(p.number, p.is_pull_request) for p in listed] == [(opened.pull_request.number, True)]
    assert listed[0].body.startswith(f"Fixes #{first}")

    second = issue_harness.add_issue(
        "Erratum", issue_body(replace(report_for(), comment="Again")), "alice"
    )
    joined = fix_issue(issue_harness.forge(), second, docs_dirs=["docs"])
    assert joined.state == "joined", joined.message
    assert joined.joined[0] == opened.pull_request.number
    again = fix_issue(issue_harness.forge(), second, docs_dirs=["docs"])
    assert again.state == "joined"

    assert len(issue_harness.pull_requests()) == 1
    issues = {i.number: i for i in issue_harness.issues()}
    assert LABEL_DUPLICATE in issues[second].labels
    # (GitLab adds a system note for the label: only erratum's own notes are counted.)
    notes = [c for c in issues[second].comments if "already reported" in c]
    assert len(notes) == 1
    assert notes[0].startswith(
        f"The same lines are already reported in #{opened.pull_request.number}"
    )


def test_a_report_on_other_lines_of_the_file_gets_its_own_request(issue_harness):
    first = issue_harness.add_issue("Erratum", issue_body(report_for()), "alice")
    assert fix_issue(issue_harness.forge(), first, docs_dirs=["docs"]).ok
    other = report_for(start=5, end=5, original="Second paragraph.", replacement="Paragraph 2.")
    second = issue_harness.add_issue("Erratum", issue_body(other), "alice")
    outcome = fix_issue(issue_harness.forge(), second, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    assert len(issue_harness.pull_requests()) == 2
