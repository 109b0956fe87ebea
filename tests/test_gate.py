"""The gate's pure decisions: which report, scope, replacement safety; the text rules."""

from __future__ import annotations

import pytest

from mkdocs_erratum import gate
from mkdocs_erratum.report import (
    AmbiguousReport,
    Report,
    ReportBlock,
    ReportError,
    format_report_block,
    parse_issue_body,
    report_blocks,
    text_hash,
)
from mkdocs_erratum.text_rules import ZWSP, fence_for, fenced, neutralise, web_address

ORIGINAL = "See the [guide](https://docs.example.org/guide/) for the detials."
FIXED = "See the [guide](https://docs.example.org/guide/) for the details."
SITE = gate.MarkdownConfig.from_mkdocs(
    ["admonition", "attr_list", "md_in_html", "footnotes", "def_list", "pymdownx.superfences"]
)

# Each is a replacement of ORIGINAL that must be refused. A name per attack family.
VECTORS = {
    "script": "<script>alert(1)</script>",
    "img onerror": "<img/src=x onerror=alert(1)>",
    "svg onload": "<svg/onload=alert(1)>",
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "object": '<object data="https://evil.example/x.swf"></object>',
    "embed": '<embed src="https://evil.example/x">',
    "math": "<math><mi>x</mi></math>",
    "form": '<form action="https://evil.example/"><button>Go</button></form>',
    "style attribute": '<span style="position:fixed;inset:0">x</span>',
    "javascript link": "[click](javascript:alert(document.domain))",
    "javascript entity": "[click](jav&#x09;ascript:alert(1))",
    "javascript case": "[click](  JaVaScRiPt:alert(1))",
    "data link": "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "vbscript link": "[click](vbscript:msgbox(1))",
    "image beacon": "![x](https://evil.example/pixel.png?u=1)",
    "new host": "See the [guide](https://evil.example/guide/) for the details.",
    "protocol-relative": "See the [guide](//evil.example/guide/) for the details.",
    "backslash host": "See the [guide](/\\evil.example/guide/) for the details.",
    "reference override": "Fixed.\n\n[guide]: https://evil.example/",
    "attribute list": "See the guide.\n{: onclick=alert(1) }",
    "attribute class": "See the guide.\n{: .md-button }",
    "include": '--8<-- "../../.env"',
    "template": "{{ config.extra }}",
    "raw html": "See the <b>guide</b>.",
    "html comment": "See the guide <!-- hidden -->.",
    "autolink new host": "See <https://evil.example/>.",
}


@pytest.mark.parametrize("replacement", VECTORS.values(), ids=VECTORS.keys())
def test_unsafe_replacements_are_refused(replacement):
    assert gate.check_replacement(ORIGINAL, replacement, SITE, at_line=5)


@pytest.mark.parametrize(
    "replacement",
    [
        FIXED,
        "See the [guide](https://docs.example.org/guide/install/) for the details.",
        "See the [guide](../guide/) and *the* `<script>` details.",
        "See the guide for the details:\n\n- one\n- two",
        "!!! note\n    See the guide.",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "See the guide[^1].\n\n[^1]: A note.",
        "See the guide 1 < 2 and a & b.",
        "```html\n<script>x</script>\n```",
    ],
)
def test_safe_replacements_pass(replacement):
    assert gate.check_replacement(ORIGINAL, replacement, SITE, at_line=5) == []


def test_what_the_original_had_is_not_new():
    original = 'Call <abbr title="HyperText">HTML</abbr> {: .lead }'
    assert gate.check_replacement(original, original.replace("Call", "Calls"), SITE) == []


def test_front_matter_only_at_line_one():
    fm = "---\ntitle: Owned\n---"
    assert gate.check_replacement("# Title", fm, SITE, at_line=1)
    plan = gate.plan_file("docs/a.md", "# Title\n\nText.\n", [_block(1, 1, "# Title", fm)])
    assert plan.problems and not plan.changed


def test_references_count_as_links():
    html, refs = gate.render("[a][x]\n\n[x]: https://evil.example/", SITE)
    assert refs == {"x": "https://evil.example/"}
    assert "evil.example" in gate.inventory(html, refs).hosts


def test_markdown_config_from_mkdocs_yml_ignores_tags_and_includes():
    text = (
        "site_name: x\nmarkdown_extensions:\n  - attr_list\n  - pymdownx.snippets:\n"
        "      base_path: [.]\n  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "  - toc:\n      permalink: true\n"
    )
    config = gate.MarkdownConfig.from_mkdocs_yml(text)
    assert config.extensions == ("toc", "tables", "fenced_code", "attr_list", "pymdownx.emoji")
    assert config.configs["toc"] == {"permalink": True}
    assert gate.MarkdownConfig.from_data(config.to_data()) == config


def test_an_extension_that_is_not_installed_is_left_out():
    config = gate.MarkdownConfig(("tables", "no_such_extension_here"))
    assert gate.render("| a |\n|---|\n| 1 |", config)[0].startswith("<table>")


# -- scope -------------------------------------------------------------------------------


class Tree:
    def __init__(self, kinds):
        self._kinds = kinds

    def kinds(self, paths):
        return {p: self._kinds[p] for p in paths if p in self._kinds}


@pytest.mark.parametrize(
    ("path", "kinds", "reason"),
    [
        ("docs/a.md", {"docs": "folder", "docs/a.md": "file"}, None),
        ("docs/a.md", {"docs": "folder", "docs/a.md": "link"}, "symbolic link"),
        ("docs/up/mkdocs.md", {"docs": "folder", "docs/up": "link"}, "docs/up is a symbolic"),
        ("docs/a.md", {"docs": "link", "docs/a.md": "file"}, "docs is a symbolic link"),
        ("docs/a.md", {"docs": "folder"}, "does not exist"),
        ("docs/a.md", {"docs": "folder", "docs/a.md": "other"}, "not a regular file"),
        ("docs/../mkdocs.yml", {}, "'..'"),
        ("docs/.github/a.md", {}, "hidden folder"),
        ("docs/a.yml", {}, "not a Markdown file"),
        ("src/a.md", {}, "outside the documentation folders"),
        ("docs/a\n.md", {}, "not a plain relative path"),
    ],
)
def test_check_scope(path, kinds, reason):
    found = gate.check_scope(path, ["docs"], Tree(kinds))
    assert (found is None) if reason is None else (reason in found), found


# -- which report ------------------------------------------------------------------------


def _block(start=3, end=3, original="Helo.", replacement="Hello.") -> ReportBlock:
    return ReportBlock("docs/a.md", start, end, original, text_hash(original), replacement)


def _report(**fields) -> Report:
    values = {"page_url": "https://x.example/a/", "blocks": [_block()], "comment": "typo"}
    values.update(fields)
    return Report(**values)


def test_only_a_top_level_block_counts():
    real = _report()
    fake = _report(blocks=[_block(1, 5, "x", "<script src=https://evil.example/x.js></script>")])
    fake_block = format_report_block(fake)
    quoted = "\n".join(f"> {line}" for line in fake_block.split("\n"))
    listed = "\n".join(f"  {line}" for line in fake_block.split("\n"))
    inner = fenced(fake_block, "text")
    body = f"{quoted}\n\n- item\n\n{listed}\n\n{inner}\n\n{format_report_block(real)}"
    assert parse_issue_body(body) == real
    assert len(report_blocks(body)) == 1


@pytest.mark.parametrize("info", ["erratum-report", "json erratum-report x", "JSON erratum-report"])
def test_the_info_string_is_exact(info):
    body = format_report_block(_report()).replace("json erratum-report", info, 1)
    with pytest.raises(ReportError, match="no ```json erratum-report block"):
        parse_issue_body(body)


def test_two_different_reports_need_a_person():
    body = f"{format_report_block(_report())}\n\n{format_report_block(_report(comment='x'))}"
    with pytest.raises(AmbiguousReport):
        parse_issue_body(body)
    same = format_report_block(_report(id="r-00000000000000aa"))
    assert parse_issue_body(f"{same}\n\n{same}").id == "r-00000000000000aa"


def test_a_truncated_block_is_completed_by_the_pasted_one():
    full = _report(blocks=[_block(), _block(5, 6, "a\nb", "A\nB")])
    short = Report.from_dict(
        {**full.to_dict(), "comment": "", "truncated": True,
         "blocks": [{**b, "original": None, "replacement": None} for b in full.to_dict()["blocks"]]}
    )  # fmt: skip
    assert short.truncated and "truncated" not in full.to_dict()
    body = f"Too long.\n\n{format_report_block(short)}"
    assert parse_issue_body(f"{body}\n\n{format_report_block(full)}") == full
    # Pasted as a comment: only the issue author's comments count.
    by_author = [("alice", format_report_block(full))]
    assert gate.report_from_issue(body, "alice", by_author) == full
    assert gate.report_from_issue(body, "alice", [("mallory", by_author[0][1])]).truncated
    # A complete block for other lines, or another id, does not complete it.
    other = _report(id=full.id, blocks=[_block(9, 9)])
    with pytest.raises(AmbiguousReport):
        parse_issue_body(f"{body}\n\n{format_report_block(other)}")


def test_the_reporter_field_is_dropped():
    body = format_report_block(_report(reporter="victim"))
    assert gate.report_from_issue(body, "alice").reporter is None
    assert gate.report_from_commit(body).reporter is None


# -- relocation and apply ----------------------------------------------------------------


def test_plan_file_keeps_bom_and_crlf():
    text = "\ufeff# T\r\n\r\nHelo.\r\n"
    plan = gate.plan_file("docs/a.md", text, [_block()])
    assert plan.new_text == "\ufeff# T\r\n\r\nHello.\r\n"
    assert [w.how for _, w in plan.applied] == ["same"]


def test_plan_file_sorts_what_it_cannot_apply():
    text = "# T\n\nHelo.\n\nHelo.\n"
    plan = gate.plan_file("docs/a.md", text, [_block(9, 9)])
    assert plan.ambiguous and not plan.changed


# -- text rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice", f"@{ZWSP}alice"),
        ("a@b.org", "a@b.org"),
        ("fixes #42", f"f{ZWSP}ixes #{ZWSP}42"),
        ("Closes: acme/docs#3", f"C{ZWSP}loses: acme/docs#{ZWSP}3"),
        ("resolves https://github.com/acme/docs/issues/1", None),
        ("GH-12", f"GH-{ZWSP}12"),
        ("we fix it", "we fix it"),
        ("www.evil.example", f"www{ZWSP}.evil.example"),
        ("<img src=x>", "&lt;img src=x>"),
        ("&#64;victim", f"&amp;#{ZWSP}64;victim"),
        ("1 < 2 & 3", "1 < 2 & 3"),
    ],
)
def test_neutralise(text, expected):
    out = neutralise(text)
    if expected is not None:
        assert out == expected
    assert "://" not in out and "#1" not in out
    assert neutralise(out) == out  # idempotent


@pytest.mark.parametrize("text", ["a", "```", "a ```` b", "`", "~~~"])
def test_a_fence_no_line_can_close(text):
    block = fenced(f"x\n{text}\n```json erratum-report\n{{}}\n```", "text")
    assert report_blocks(block) == []
    assert (
        len(fence_for(text)) > max((len(r) for r in text.split("`")), default=0) or "`" not in text
    )


def test_web_address_drops_query_and_fragment():
    assert web_address("https://x.example/a/?token=s#top") == "https://x.example/a/"
    assert web_address("javascript:alert(1)").startswith("(")
