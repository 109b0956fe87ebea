"""The gate in ``erratum fix``: the real command over the GitHub stand-in (real git behind).

Hand-written and forged issues: the attack opens nothing (the issue is labelled for a
person, with a comment saying why) or is delivered inert.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mkdocs_erratum.fixer import LABEL_NEEDS_REVIEW, issue_body
from mkdocs_erratum.report import Report, ReportBlock, format_report_block, text_hash
from mkdocs_erratum.text_rules import fenced
from tests.conftest import git
from tests.test_gate import VECTORS

TYPO = "The quick brown fox jumsp over the lazy dog."
FIXED = "The quick brown fox jumps over the lazy dog."


def report_for(replacement=FIXED, path="docs/index.md", start=3, end=3, original=TYPO, **kw):
    block = ReportBlock(path, start, end, original, text_hash(original), replacement)
    return Report(page_url="https://acme.example/", blocks=[block], comment="Typo", **kw)


def fix(standin, docs_repo, number: int) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ERRATUM_"))}
    env["GITHUB_TOKEN"] = "maintainer-token"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "fix", str(number), "--api-url",
         standin.url, "-f", str(docs_repo / "mkdocs.yml"), "--write-interval", "0"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


def refused_for_review(standin, docs_repo, number: int, out: str) -> str:
    """Checks that nothing was opened and a person was asked; returns the comment."""
    issue = standin.repo.records[number]
    assert standin.pulls() == [], out
    assert git(docs_repo, "for-each-ref", "refs/heads/erratum/").strip() == ""
    assert LABEL_NEEDS_REVIEW in issue.labels, out
    (comment,) = [c["body"] for c in issue.comments]
    assert comment.startswith("erratum did not open a pull request:")
    return comment


def test_a_fake_block_inside_the_body_is_not_the_report(standin, docs_repo):
    fake = report_for("on: [push]\njobs: {owned: {runs-on: x}}", ".github/workflows/ci.yml", 1, 2)
    fake.blocks[0].original = None
    real = report_for()
    body = (
        "A reader wrote:\n\n"
        + fenced(format_report_block(fake), "text")
        + "\n\n> "
        + format_report_block(fake).replace("\n", "\n> ")
        + "\n\n"
        + format_report_block(real)
    )
    number = standin.add_issue("Erratum", body, user="alice", labels=["erratum"]).number
    status, out = fix(standin, docs_repo, number)
    assert status == 0, out
    (pull,) = standin.pulls()
    head = pull.pull["head_ref"]
    assert git(docs_repo, "diff", "--name-only", "main", head).split() == ["docs/index.md"]


def test_two_different_reports_need_a_person(standin, docs_repo):
    body = f"{format_report_block(report_for())}\n\n{format_report_block(report_for('Owned.'))}"
    number = standin.add_issue("Erratum", body, labels=["erratum"]).number
    status, out = fix(standin, docs_repo, number)
    assert status == 3, out
    comment = refused_for_review(standin, docs_repo, number, out)
    assert "more than one report" in comment


@pytest.mark.parametrize(
    "name",
    ["img onerror", "svg onload", "javascript link", "image beacon", "attribute list",
     "include", "raw html", "reference override", "data link", "style attribute"],
)  # fmt: skip
def test_unsafe_replacements_are_labelled_for_review(standin, docs_repo, name):
    number = standin.add_issue(
        "Erratum", issue_body(report_for(f"{FIXED} {VECTORS[name]}")), labels=["erratum"]
    ).number
    status, out = fix(standin, docs_repo, number)
    assert status == 3, out
    comment = refused_for_review(standin, docs_repo, number, out)
    assert "the suggested text adds" in comment or "links a new address" in comment


def test_front_matter_cannot_be_added(standin, docs_repo):
    report = report_for("---\ntitle: Owned\n---", original="# Demo", start=1, end=1)
    number = standin.add_issue("Erratum", issue_body(report), labels=["erratum"]).number
    status, out = fix(standin, docs_repo, number)
    assert status == 3, out
    assert "front matter" in refused_for_review(standin, docs_repo, number, out)


def test_reporter_and_page_url_cannot_credit_or_ping_anyone(standin, docs_repo):
    report = report_for(reporter="victim")
    report.page_url = "https://acme.example/?q=1\n\nCo-authored-by: victim <v@evil.example>"
    body = issue_body(report).replace('"reporter":null', '"reporter":"victim"')
    body += "\n\nSigned-off-by: victim <v@evil.example>"
    number = standin.add_issue("Erratum", body, user="alice", labels=["erratum"]).number
    status, out = fix(standin, docs_repo, number)
    assert status == 0, out
    (pull,) = standin.pulls()
    log = git(docs_repo, "log", "-1", "--format=%B", pull.pull["head_ref"])
    trailers = [line for line in log.splitlines() if line.endswith(">") and ": " in line]
    alice = standin.user_ids["alice"]
    assert trailers == [f"Co-authored-by: alice <{alice}+alice@users.noreply.127.0.0.1>"]
    assert "victim" not in log and "victim" not in pull.body
    assert "?q=1" not in pull.body


def test_a_symbolic_link_is_refused_before_anything_is_read(standin, docs_repo):
    report = report_for("on: push\njobs: {}", "docs/escape.md", 1, 2, "on: push\njobs: {}")
    number = standin.add_issue("Erratum", issue_body(report), labels=["erratum"]).number
    status, out = fix(standin, docs_repo, number)
    assert status == 3, out
    assert "symbolic link" in refused_for_review(standin, docs_repo, number, out)
    assert (docs_repo / ".github/workflows/ci.yml").read_text() == "on: push\njobs: {}\n"
