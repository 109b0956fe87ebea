"""The fixer's pure core: relocation, scope guard, replacement (the gate's) and the texts
the fixer writes."""

from __future__ import annotations

import pytest

from mkdocs_erratum.corrections import (
    OverlapError,
    Relocation,
    apply_blocks,
    map_lines,
    relocate_lines,
)
from mkdocs_erratum.fixer import (
    build_commit_message,
    build_pull_request_body,
    build_refusal_comment,
    verified_login,
)
from mkdocs_erratum.forges import web
from mkdocs_erratum.gate import check_path as check_scope
from mkdocs_erratum.report import Report, ReportBlock, text_hash
from mkdocs_erratum.text_rules import code_span, web_address

FILE = ["# Title", "", "Hello wrold, this is a sentence.", "", "Another paragraph here.", ""]
ORIGINAL = "Hello wrold, this is a sentence."
FIXED = "Hello world, this is a sentence."


@pytest.mark.parametrize(
    ("lines", "start", "end", "original", "expected"),
    [
        # Same place.
        (FILE, 3, 3, ORIGINAL, Relocation("same", 3, 3, 100.0)),
        # Moved down by two lines (lines inserted above).
        (["x", "y", *FILE], 3, 3, ORIGINAL, Relocation("moved", 5, 5, 100.0)),
        # Moved up; a multi-line block.
        (FILE[2:], 3, 5, "\n".join(FILE[2:5]), Relocation("moved", 1, 3, 100.0)),
        # Already fixed: the replacement is there, the original is not.
        ([*FILE[:2], FIXED, *FILE[3:]], 3, 3, ORIGINAL, Relocation("already_fixed", score=100.0)),
        # Gone: neither the original nor anything close.
        (["# Title", "", "Completely different."], 3, 3, ORIGINAL, Relocation("gone")),
        # Ambiguous: the same text twice, neither at the reported place.
        (
            ["a", ORIGINAL, "b", ORIGINAL],
            9,
            9,
            ORIGINAL,
            Relocation("ambiguous", candidates=(2, 4)),
        ),
        # Fuzzy: a small edit elsewhere in the sentence since the build.
        (
            ["# Title", "", "Hello wrold, this is one sentence.", ""],
            3,
            3,
            ORIGINAL,
            Relocation("fuzzy", 3, 3, pytest.approx(93.9, abs=0.1)),
        ),
        # Fuzzy candidates that tie: refused.
        (
            ["Hello wrold, this is a sentence!", "", "Hello wrold, this is a sentence?"],
            7,
            7,
            ORIGINAL,
            Relocation("ambiguous", score=pytest.approx(96.9, abs=0.1), candidates=(1, 3)),
        ),
        # Past the end of a shortened file, found again above.
        (FILE[:4], 30, 30, ORIGINAL, Relocation("moved", 3, 3, 100.0)),
    ],
)
def test_relocate_lines(lines, start, end, original, expected):
    result = relocate_lines(lines, start, end, text_hash(original), original, FIXED)
    assert result == expected


def test_relocate_without_original_text_is_exact_only():
    lines = ["# Title", "", "Hello wrold, this is one sentence.", ""]
    assert relocate_lines(lines, 3, 3, text_hash(ORIGINAL), None, None).how == "gone"
    assert relocate_lines(["z", *FILE], 3, 3, text_hash(ORIGINAL), None, None).start == 4


def test_fuzzy_match_closer_to_the_replacement_is_already_fixed():
    lines = ["Hello world, this is a sentence!"]
    assert relocate_lines(lines, 1, 1, text_hash(ORIGINAL), ORIGINAL, FIXED).how == "already_fixed"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("docs/index.md", None),
        ("docs/guide/deep/page.markdown", None),
        ("snippets/part.md", None),
        ("docs/../README.md", "path has '..' or an empty part"),
        ("../docs/index.md", "path has '..' or an empty part"),
        ("docs//index.md", "path has '..' or an empty part"),
        ("/etc/passwd.md", "not a plain relative path"),
        ("docs\\index.md", "not a plain relative path"),
        ("C:/docs/index.md", "not a plain relative path"),
        (".github/workflows/ci.md", "inside a hidden folder (.github/)"),
        ("docs/.hidden/x.md", "inside a hidden folder (docs/)"),
        ("docs/conf.py", "not a Markdown file"),
        (".github/workflows/ci.yml", "inside a hidden folder (.github/)"),
        ("README.md", "outside the documentation folders (docs, snippets)"),
        ("docsx/index.md", "outside the documentation folders (docs, snippets)"),
        ("", "not a plain relative path"),
    ],
)
def test_check_scope(path, reason):
    assert check_scope(path, ["docs", "./snippets/"]) == reason


def test_check_scope_with_the_repository_root_as_docs_dir():
    assert check_scope("index.md", ["."]) is None
    assert check_scope(".github/x.md", ["."]) == "inside a hidden folder (.github/)"


@pytest.mark.parametrize(
    ("text", "edits", "expected"),
    [
        ("a\nb\nc\n", [((2, 2), "B")], "a\nB\nc\n"),
        ("a\nb\nc", [((1, 2), "one line")], "one line\nc"),
        ("a\nb\nc\n", [((1, 1), "A"), ((3, 3), "C1\nC2")], "A\nb\nC1\nC2\n"),
        ("a\r\nb\r\nc\r\n", [((2, 2), "x\ny")], "a\r\nx\r\ny\r\nc\r\n"),
        ("a\nb\n", [((2, 2), "")], "a\n\n"),
    ],
)
def test_apply_blocks(text, edits, expected):
    relocations = [(Relocation("same", a, b), new) for (a, b), new in edits]
    assert apply_blocks(text, relocations) == expected


def test_apply_blocks_refuses_overlaps():
    with pytest.raises(OverlapError, match="overlap"):
        apply_blocks("a\nb\nc", [(Relocation("same", 1, 2), "x"), (Relocation("same", 2, 3), "y")])


def _report(reporter=None, comment="") -> Report:
    block = ReportBlock("docs/a.md", 3, 3, ORIGINAL, text_hash(ORIGINAL), FIXED)
    return Report(
        page_url="https://x.example/a/",
        blocks=[block],
        comment=comment,
        reporter=reporter,
        id="r-00000000000000aa",
    )


@pytest.mark.parametrize(
    ("login", "expected"),
    [("alice", "alice"), ("bob-2", "bob-2"), ("bad login", None), ("x" * 40, None), (None, None),
     ("erratum[bot]", None), ("a\nCo-authored-by: m", None)],
)  # fmt: skip
def test_verified_login(login, expected):
    assert verified_login(login) == expected


def test_commit_message_credits_the_issue_author_never_the_report():
    message = build_commit_message(
        _report("mallory"), ["docs/a.md"], "alice", "7+alice@users.noreply.github.com"
    )
    assert message == (
        "docs: fix docs/a.md as reported by a reader\n\n"
        "Report r-00000000000000aa on https://x.example/a/\n\n"
        "Co-authored-by: alice <7+alice@users.noreply.github.com>\n"
    )
    # The reporter field alone (reader text) gives no trailer and no mention.
    alone = build_commit_message(_report("victim"), ["docs/a.md"])
    assert "Co-authored-by" not in alone and "victim" not in alone and "@" not in alone


def test_pull_request_body_has_fixes_diff_links_and_fenced_comment():
    report = _report("alice", comment="Typo ``` @everyone")
    body = build_pull_request_body(
        report,
        [("docs/a.md", f"x\ny\n{ORIGINAL}\n", f"x\ny\n{FIXED}\n")],
        issue_number=12,
        relocations=[(report.blocks[0], Relocation("moved", 4, 4, 100.0))],
        permalink=lambda path, start, end: web.permalink(
            "github", "https://github.com/acme/docs", "c" * 40, path, start, end
        ),
    )
    assert body.startswith("Fixes #12\n")
    assert f"https://github.com/acme/docs/blob/{'c' * 40}/docs/a.md#L4-L4" in body
    assert "(reported as lines 3-3)" in body
    assert f"-{ORIGINAL}\n+{FIXED}" in body
    assert "````text\nTypo ``` @\u200beveryone\n````" in body
    assert len(body) < 65_536


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.example/a/", "https://x.example/a/"),
        ("http://127.0.0.1:8000/p/?utm=x#frag", "http://127.0.0.1:8000/p/"),
        ("javascript:alert(1)", "(a page address that is not a plain web link)"),
        (
            "https://x.example/)[click](https://evil",
            "(a page address that is not a plain web link)",
        ),
        (
            "https://x.example/\nCo-authored-by: m <m@x>",
            "(a page address that is not a plain web link)",
        ),
    ],
)
def test_web_address(url, expected):
    assert web_address(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docs/a.md", "`docs/a.md`"),
        ("docs/a`b.md", "``docs/a`b.md``"),
        ("`x", "`` `x ``"),
        ("a\nb", "`a b`"),
    ],
)
def test_code_span(text, expected):
    assert code_span(text) == expected


def test_refusal_comment_mentions_nobody():
    comment = build_refusal_comment("docs/@team.md is a link #1", ["`docs/x.md`: gone"])
    assert comment == (
        "erratum did not open a pull request: docs/@\u200bteam.md is a link #\u200b1\n"
        "- `docs/x.md`: gone"
    )


def test_a_forged_page_url_cannot_add_a_trailer():
    report = _report("alice")
    report.page_url = "https://x.example/\n\nCo-authored-by: mallory <m@evil.example>"
    message = build_commit_message(report, ["docs/a.md"], "alice", "7+alice@x.example")
    assert "mallory" not in message
    assert message.count("Co-authored-by:") == 1


@pytest.mark.parametrize(
    ("old", "new", "start", "end", "expected"),
    [
        (["a", "b", "c"], ["a", "b", "c"], 1, 3, (1, 3)),
        (["a", "b", "c"], ["x", "y", "a", "b", "c"], 2, 3, (4, 5)),
        (["a", "b", "c", "d"], ["a", "c", "d"], 3, 4, (2, 3)),
        (["a", "b", "c"], ["a", "B", "c"], 1, 3, None),
        (["s", "x", "s"], ["new", "s", "x", "s"], 3, 3, (4, 4)),
    ],
)
def test_map_lines(old, new, start, end, expected):
    assert map_lines(old, new, start, end) == expected


def test_the_built_file_resolves_what_text_search_cannot():
    built = ["# T", "", "Same.", "", "Same.", ""]
    now = ["# T", "", "Intro.", "", "Same.", "", "Same.", ""]
    digest = text_hash("Same.")
    # Without the built file, line 5 still reads "Same.": the wrong copy.
    assert relocate_lines(now, 5, 5, digest, "Same.").start == 5
    assert relocate_lines(now, 5, 5, digest, "Same.", built_lines=built) == Relocation(
        "moved", 7, 7, 100.0
    )
