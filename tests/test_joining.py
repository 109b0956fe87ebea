"""Duplicates join the open thread: ``erratum fix`` (the Action) and the service, over
PyGithub to the GitHub stand-in with real git behind it.

The rule (`mkdocs_erratum.triage.same_lines`): same file, lines that overlap once both
reports are found again at the head, and the same original text.
"""

from __future__ import annotations

import pytest
from conftest import git
from test_fixer_github import FIXED, TYPO, commit, file_issue, report_for
from test_service_github import REPOSITORY, client_for, wait_done, world  # noqa: F401

from mkdocs_erratum.corrections import Relocation
from mkdocs_erratum.fixer import LABEL_DUPLICATE, fix_issue, fix_report
from mkdocs_erratum.forges.base import comment_marker
from mkdocs_erratum.report import ReportBlock, text_hash
from mkdocs_erratum.triage import ISSUE, Located, OpenReport, same_lines
from tests.forges.harnesses import github_forge
from tests.service_support import ARTICLE, make_report, post


def comments(standin, number: int) -> list[str]:
    return [c["body"] for c in standin.repo.records[number].comments]


def test_a_second_report_of_the_same_typo_is_a_comment_on_the_pull_request(standin, docs_repo):
    first = file_issue(standin, report_for())
    assert fix_issue(github_forge(standin), first, docs_dirs=["docs"]).state == (
        "pull_request_opened"
    )
    (pull,) = standin.pulls()
    second_report = report_for(comment="Same here: jumsp")
    second = file_issue(standin, second_report, user="alice")
    outcome = fix_issue(github_forge(standin), second, docs_dirs=["docs"])
    assert outcome.state == "joined", outcome.message
    assert outcome.joined[0] == pull.number and outcome.ok
    assert len(standin.pulls()) == 1 and branches(docs_repo) == ["erratum/1", "main"]
    (joined,) = comments(standin, pull.number)
    assert joined.startswith("Another reader reported the same lines (`docs/index.md` lines 3-3)")
    assert "Same here: jumsp" in joined and "They suggest the same correction." in joined
    assert comment_marker(f"{second_report.id}:joined") in joined
    issue = standin.repo.records[second]
    assert LABEL_DUPLICATE in issue.labels
    assert comments(standin, second)[0].startswith(
        f"The same lines are already reported in #{pull.number}"
    )
    # Again (the Action re-run): nothing new anywhere.
    again = fix_issue(github_forge(standin), second, docs_dirs=["docs"])
    assert again.state == "joined"
    assert len(comments(standin, pull.number)) == 1 and len(comments(standin, second)) == 1
    assert len(standin.pulls()) == 1


def test_a_different_correction_is_shown_as_a_suggestion(standin, docs_repo):
    fix_issue(github_forge(standin), file_issue(standin, report_for()), docs_dirs=["docs"])
    (pull,) = standin.pulls()
    other = report_for(replacement="The quick brown fox jumped over the lazy dog.")
    outcome = fix_issue(github_forge(standin), file_issue(standin, other), docs_dirs=["docs"])
    assert outcome.state == "joined"
    (joined,) = comments(standin, pull.number)
    assert "They suggest instead of the pull request's text:" in joined
    diff = joined.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert diff.splitlines() == [
        "--- a/docs/index.md",
        "+++ b/docs/index.md",
        "@@ -3 +3 @@",
        f"-{FIXED}",
        "+The quick brown fox jumped over the lazy dog.",
    ]


def test_the_same_lines_join_after_they_moved(standin, docs_repo):
    built = git(docs_repo, "rev-parse", "HEAD").strip()
    fix_issue(
        github_forge(standin),
        file_issue(standin, report_for(commit=built)),
        docs_dirs=["docs"],
    )
    original = (docs_repo / "docs/index.md").read_text()
    commit(docs_repo, "docs/index.md", "A new intro.\n\n" + original)
    # Reported on the old build (line 3): found at line 5 now, as the first one.
    outcome = fix_issue(
        github_forge(standin), file_issue(standin, report_for(commit=built)), docs_dirs=["docs"]
    )
    assert outcome.state == "joined", outcome.message
    assert len(standin.pulls()) == 1


def test_other_lines_of_the_same_file_get_their_own_pull_request(standin, docs_repo):
    install = "docs/guide/install.md"
    first = report_for(install, 3, 3, "Run pip install demo.", "Run pip install demo[all].")
    second = report_for(
        install,
        5,
        5,
        "Then run demo --help to see the the options.",
        "Then run demo --help to see the options.",
    )
    for report in (first, second):
        outcome = fix_issue(github_forge(standin), file_issue(standin, report), docs_dirs=["docs"])
        assert outcome.state == "pull_request_opened", outcome.message
    assert len(standin.pulls()) == 2


def test_the_same_lines_with_another_text_are_not_the_same_report(standin, docs_repo):
    fix_issue(github_forge(standin), file_issue(standin, report_for()), docs_dirs=["docs"])
    text = (docs_repo / "docs/index.md").read_text().replace(TYPO, "A brown fox jumsp.")
    commit(docs_repo, "docs/index.md", text)
    later = report_for(original="A brown fox jumsp.", replacement="A brown fox jumps.")
    outcome = fix_report(github_forge(standin), later, docs_dirs=["docs"])
    assert outcome.state == "pull_request_opened", outcome.message
    assert len(standin.pulls()) == 2


def branches(repo) -> list[str]:
    return sorted(git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split())


def located(path, digest, start, end, how="same") -> Located:
    block = ReportBlock(path, start, end, None, digest)
    return Located(OpenReport(1, "u", ISSUE, None), block, Relocation(how, start, end), "")


A, B = text_hash("a"), text_hash("b")


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (located("docs/a.md", A, 3, 4), located("docs/a.md", A, 4, 6), True),
        (located("docs/a.md", A, 3, 4, "moved"), located("docs/a.md", A, 3, 3, "fuzzy"), True),
        (located("docs/a.md", A, 3, 4), located("docs/a.md", A, 5, 6), False),
        (located("docs/a.md", A, 3, 4), located("docs/a.md", B, 3, 4), False),
        (located("docs/a.md", A, 3, 4), located("docs/b.md", A, 3, 4), False),
        (located("docs/a.md", A, 3, 4), located("docs/a.md", A, 0, 0, "gone"), False),
    ],
)
def test_the_rule_that_decides_the_same(first, second, same):
    assert same_lines(first, second) is same
    assert same_lines(second, first) is same


# -- the service ------------------------------------------------------------------------


def test_two_comments_on_one_paragraph_are_one_issue_with_one_comment(tmp_path, world):  # noqa: F811
    _repo, commit_, _manifest, server = world
    with client_for(tmp_path, world) as client:
        first = make_report(commit_, 5, 6, replacement=None, comment="heurs -> heures")
        assert post(client, first).status_code == 202
        opened = wait_done(client, first.id)
        second = make_report(commit_, 5, 6, replacement=None, comment="Also: heurs")
        assert post(client, second).status_code == 202
        joined = wait_done(client, second.id)
        other = make_report(commit_, 11, 11, replacement=None, comment="Quelle mairie ?")
        assert post(client, other).status_code == 202
        own = wait_done(client, other.id)

        markers = client.get("/api/reports", params={"page": "https://example.org/concert/"})
        elsewhere = client.get("/api/reports", params={"page": "https://example.org/other/"})
    assert opened["state"] == "issue_opened" and own["state"] == "issue_opened"
    assert joined["state"] == "joined" and joined["number"] == opened["number"]
    assert len(server.issues()) == 2 and server.pulls() == []
    (comment,) = comments(server, opened["number"])
    assert "Also: heurs" in comment and "lines 5-6" in comment
    assert joined["url"].startswith(f"{server.url}/{REPOSITORY}/issues/{opened['number']}#")

    assert markers.status_code == 200 and "max-age" in markers.headers["cache-control"]
    (page,) = markers.json()["pages"]
    assert [
        (b["path"], b["lines"], [r["number"] for r in b["reports"]]) for b in page["blocks"]
    ] == [
        ("docs/concert.md", [5, 6], [opened["number"]]),
        ("docs/concert.md", [11, 11], [own["number"]]),
    ]
    for text in ("heurs", "mairie", "Also"):
        assert text not in markers.text  # no reader text
    assert elsewhere.json()["pages"] == []


def test_two_corrections_of_one_paragraph_are_one_pull_request_with_one_comment(
    tmp_path,
    world,  # noqa: F811
):
    _repo, commit_, _manifest, server = world
    with client_for(tmp_path, world) as client:
        first = make_report(commit_)
        assert post(client, first).status_code == 202
        opened = wait_done(client, first.id)
        second = make_report(commit_, replacement="Le concert a eu lieu le 30 mars.")
        assert post(client, second).status_code == 202
        joined = wait_done(client, second.id)
    assert opened["state"] == "pull_request_opened"
    assert joined["state"] == "joined" and joined["number"] == opened["number"]
    (pull,) = server.pulls()
    assert server.issues() == []
    (comment,) = comments(server, pull.number)
    assert "-Le concert a eu lieu le 31 mars devant 300 personnes." in comment
    assert "+Le concert a eu lieu le 30 mars." in comment
    assert ARTICLE[2] not in comment.split("```diff", 1)[1]


def test_add_to_joins_with_joining_off_but_only_the_same_report(tmp_path, world):  # noqa: F811
    """The widget's "Add to #N" (``joins``): the service joins it even with
    ``forge_join_duplicates = false``, and only where the same-report rule agrees."""
    _repo, commit_, _manifest, server = world
    with client_for(tmp_path, world, forge_join_duplicates=False) as client:
        first = make_report(commit_, 5, 6, replacement=None, comment="heurs -> heures")
        assert post(client, first).status_code == 202
        opened = wait_done(client, first.id)
        plain = make_report(commit_, 5, 6, replacement=None, comment="Not joined: off")
        assert post(client, plain).status_code == 202
        own = wait_done(client, plain.id)
        number = opened["number"]
        added = make_report(commit_, 5, 6, replacement=None, comment="Added", joins=number)
        assert post(client, added).status_code == 202
        joined = wait_done(client, added.id)
        # The hint names the issue, but these are other lines: not the same report.
        elsewhere = make_report(commit_, 11, 11, replacement=None, joins=opened["number"])
        assert post(client, elsewhere).status_code == 202
        refused = wait_done(client, elsewhere.id)
    assert (opened["state"], own["state"], refused["state"]) == ("issue_opened",) * 3
    assert joined["state"] == "joined" and joined["number"] == opened["number"]
    assert len({opened["number"], own["number"], refused["number"]}) == 3
    (comment,) = comments(server, opened["number"])
    assert "Added" in comment
