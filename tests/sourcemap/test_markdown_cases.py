"""Tricky Markdown, converted by Python-Markdown with the extension: exact ranges.

Each case is a page and the ranges expected for its annotated elements, written as
{(tag, first words of the element's text): "LA-LB"}. Every annotated element of the page
must be listed: an unexpected attribute fails the test as surely as a wrong one.
"""

from __future__ import annotations

import pytest

from tests.sourcemap.helpers import annotated, convert, ranges_of

PLAIN = """\
# Title

Setext heading
==============

"Quoted" text -- with smarty & entities &copy; and HTML.

*[HTML]: Hyper Text Markup Language

Same paragraph.

Same paragraph.

* item one
lazy continuation
* item two

    second paragraph of item two

    1. nested one
    2. nested two

| Col A | Col \\| B |
|-------|----------|
| a1    |          |
| b\\|1  | b2       |

***

Term
:   Definition of the term.
"""

PLAIN_EXPECTED = [
    ("h1", "Title", "L1-L1"),
    ("h1", "Setext heading", "L3-L4"),
    ("p", "“Quoted” text – with smarty & entities ©", "L6-L6"),
    ("p", "Same paragraph.", "L10-L10"),
    ("p", "Same paragraph.", "L12-L12"),
    ("ul", "item one lazy continuation item two seco", "L14-L21"),
    ("li", "item one lazy continuation", "L14-L15"),
    ("li", "item two second paragraph of item two ne", "L16-L21"),
    ("p", "item two", "L16-L16"),
    ("p", "second paragraph of item two", "L18-L18"),
    ("ol", "nested one nested two", "L20-L21"),
    ("li", "nested one", "L20-L20"),
    ("li", "nested two", "L21-L21"),
    ("table", "Col A Col | B a1 b|1 b2", "L23-L26"),
    ("tr", "Col A Col | B", "L23-L23"),
    ("th", "Col A", "L23-L23"),
    ("th", "Col | B", "L23-L23"),
    ("tr", "a1", "L25-L25"),
    ("td", "a1", "L25-L25"),
    ("td", "", "L25-L25"),
    ("tr", "b|1 b2", "L26-L26"),
    ("td", "b|1", "L26-L26"),
    ("td", "b2", "L26-L26"),
    ("hr", "", "L28-L28"),
    ("dl", "Term Definition of the term.", "L30-L31"),
    ("dt", "Term", "L30-L30"),
    ("dd", "Definition of the term.", "L31-L31"),
]

MATERIAL = """\
Intro with a note[^later] and another[^first].

[^first]: The first footnote,
    continued here.

1.  Install it:

    ```bash
    pip install mkdocs-erratum
    ```

2.  Configure it:

    === "Simple"

        !!! note "Inside a tab"

            Admonition body in a tab in a list.

    === "Advanced"

        More options here.

<div class="grid" markdown>

Paragraph in **md_in_html**.

</div>

A paragraph with attributes.
{: .special }

??? tip "Collapsed"
    Details body text.

[^later]: A later footnote definition.
"""

MATERIAL_EXPECTED = [
    ("p", "Intro with a note2 and another1.", "L1-L1"),
    ("ol", "Install it: pip install mkdocs-erratum C", "L6-L22"),
    ("li", "Install it: pip install mkdocs-erratum", "L6-L10"),
    ("p", "Install it:", "L6-L6"),
    ("div", "pip install mkdocs-erratum", "L8-L10"),
    ("li", "Configure it: SimpleAdvanced Inside a ta", "L12-L22"),
    ("p", "Configure it:", "L12-L12"),
    ("div", "SimpleAdvanced Inside a tab Admonition b", "L14-L22"),
    ("label", "Simple", "L14-L14"),
    ("label", "Advanced", "L20-L20"),
    ("div", "Inside a tab Admonition body in a tab in", "L16-L18"),
    ("div", "Inside a tab Admonition body in a tab in", "L16-L18"),
    ("p", "Inside a tab", "L16-L16"),
    ("p", "Admonition body in a tab in a list.", "L18-L18"),
    ("div", "More options here.", "L22-L22"),
    ("p", "More options here.", "L22-L22"),
    ("div", "Paragraph in md_in_html.", "L24-L28"),
    ("p", "Paragraph in md_in_html.", "L26-L26"),
    ("p", "A paragraph with attributes.", "L30-L31"),
    ("details", "Collapsed Details body text.", "L33-L34"),
    ("summary", "Collapsed", "L33-L33"),
    ("p", "Details body text.", "L34-L34"),
    ("li", "The first footnote, continued here. ↩", "L3-L4"),
    ("p", "The first footnote, continued here. ↩", "L3-L4"),
    ("li", "A later footnote definition. ↩", "L36-L36"),
    ("p", "A later footnote definition. ↩", "L36-L36"),
]

MATERIAL_EXTENSIONS = [
    "footnotes",
    "admonition",
    "attr_list",
    "md_in_html",
    "pymdownx.superfences",
    "pymdownx.details",
    "pymdownx.tabbed",
]


@pytest.mark.parametrize(
    ("text", "extensions", "configs", "expected"),
    [
        pytest.param(
            PLAIN,
            ["smarty", "abbr", "tables", "def_list", "attr_list"],
            {},
            PLAIN_EXPECTED,
            id="plain",
        ),
        pytest.param(
            MATERIAL,
            MATERIAL_EXTENSIONS,
            {"pymdownx.tabbed": {"alternate_style": True}},
            MATERIAL_EXPECTED,
            id="material-alternate-tabs",
        ),
    ],
)
def test_every_element_gets_its_exact_range(tmp_path, text, extensions, configs, expected):
    html, _ = convert(tmp_path, text, extensions, configs)
    assert ranges_of(html) == expected


def test_repeated_identical_paragraphs_map_in_order(tmp_path):
    html, _ = convert(tmp_path, "Same.\n\nOther.\n\nSame.\n\nSame.\n")
    assert 'data-erratum-src="page.md#L1-L1">Same.' in html
    assert 'data-erratum-src="page.md#L5-L5">Same.' in html
    assert 'data-erratum-src="page.md#L7-L7">Same.' in html


def test_classic_tabs_annotate_each_body(tmp_path):
    text = '=== "One"\n\n    Body one.\n\n=== "Two"\n\n    Body two.\n'
    html, _ = convert(tmp_path, text, ["pymdownx.tabbed"])
    assert ranges_of(html) == [
        ("div", "One Body one. Two Body two.", "L1-L7"),
        ("label", "One", "L1-L1"),
        ("div", "Body one.", "L3-L3"),
        ("p", "Body one.", "L3-L3"),
        ("label", "Two", "L5-L5"),
        ("div", "Body two.", "L7-L7"),
        ("p", "Body two.", "L7-L7"),
    ]


def test_code_block_range_includes_fences_and_keeps_comments(tmp_path):
    text = "Para.\n\n```python\n# [not a link](x)\nprint('hi')  # <b>\n```\n\nEnd.\n"
    html, _ = convert(tmp_path, text, ["pymdownx.superfences"])
    assert ranges_of(html) == [
        ("p", "Para.", "L1-L1"),
        ("div", "# [not a link](x) print('hi') # <b>", "L3-L6"),
        ("p", "End.", "L8-L8"),
    ]


def test_raw_html_block_covers_its_tag_lines(tmp_path):
    text = 'Before.\n\n<div class="box">\n<p>Raw words here</p>\n</div>\n\nAfter.\n'
    html, _ = convert(tmp_path, text)
    assert ranges_of(html) == [
        ("p", "Before.", "L1-L1"),
        ("div", "Raw words here", "L3-L5"),
        ("p", "After.", "L7-L7"),
    ]


def test_image_only_paragraph_without_alt_text(tmp_path):
    text = "First words.\n\n![](picture.png)\n\nLast words.\n"
    html, _ = convert(tmp_path, text)
    assert ranges_of(html) == [
        ("p", "First words.", "L1-L1"),
        ("p", "", "L3-L3"),
        ("p", "Last words.", "L5-L5"),
    ]


def test_emoji_and_keys_do_not_break_alignment(tmp_path):
    text = "Press ++ctrl+enter++ to report :smile: an error.\n\nNext paragraph here.\n"
    html, _ = convert(tmp_path, text, ["pymdownx.keys", "pymdownx.emoji"])
    assert [lines for _tag, _text, lines in ranges_of(html)] == ["L1-L1", "L3-L3"]


def test_crlf_bom_and_lines_count_as_in_the_file(tmp_path):
    raw = "\ufeff# Heading\r\n\r\nFirst line\r\nsecond line.\r\n\r\nLast.\r\n".encode()
    html, _ = convert(tmp_path, raw)
    assert ranges_of(html) == [
        ("h1", "Heading", "L1-L1"),
        ("p", "First line second line.", "L3-L4"),
        ("p", "Last.", "L6-L6"),
    ]


def test_text_rewritten_before_conversion_is_not_attributed(tmp_path):
    # A macro plugin replaced a call with generated text and changed a word.
    original = "Intro paragraph stays.\n\n{{ generated_table() }}\n\nVersion {{ v }} notes.\n"
    rendered = (
        "Intro paragraph stays.\n\nThis text was produced by a macro entirely.\n\n"
        "Version 1.2.3 notes.\n"
    )
    html, _ = convert(tmp_path, original, rendered=rendered)
    assert ranges_of(html) == [
        ("p", "Intro paragraph stays.", "L1-L1"),
        ("p", "Version 1.2.3 notes.", "L5-L5"),
    ]


def test_nested_conversions_are_left_alone(tmp_path):
    # A second conversion with the same extension (as mkdocstrings or toc do) is not the
    # announced page: it must come out without attributes.
    html, ext = convert(tmp_path, "Page text.\n")
    assert "data-erratum-src" in html
    import markdown

    other = markdown.Markdown(extensions=[ext]).convert("Page text.\n")
    assert "data-erratum-src" not in other


def test_missing_source_file_warns_and_leaves_page_unannotated(tmp_path, caplog):
    import markdown

    from mkdocs_erratum.extension import SourceMapExtension
    from mkdocs_erratum.repository import RepositoryFacts

    ext = SourceMapExtension(repository=RepositoryFacts(base_dir=str(tmp_path)))
    ext.expect_page(str(tmp_path / "gone.md"), "Some text.\n")
    with caplog.at_level("WARNING"):
        html = markdown.Markdown(extensions=[ext]).convert("Some text.\n")
    assert html == "<p>Some text.</p>"
    assert [r.getMessage() for r in caplog.records if "gone.md" in r.getMessage()]


def test_lone_opening_tag_in_a_tab_gets_no_range(tmp_path):
    # Inside an indented block, md_in_html stashes `<div markdown>` alone; the browser's
    # div then wraps what follows, so its own line would be a wrong range.
    text = (
        '=== "Tab"\n\n    <div class="result" markdown>\n\n    Words inside.\n\n    </div>\n'
        "\nClosing paragraph.\n"
    )
    html, _ = convert(tmp_path, text, ["md_in_html", "pymdownx.tabbed"])
    ranges = ranges_of(html)
    assert ("p", "Words inside.", "L5-L5") in ranges
    assert not any(tag == "div" and text == "" for tag, text, _lines in ranges)
    assert '<div class="result" markdown>' in html


def test_codehilite_fences_and_math_delimiters_are_part_of_their_blocks(tmp_path):
    text = "```python\nprint('hi')\n```\n\n$$\nE = mc^2\n$$\n\n    indented code line\n\nEnd.\n"
    extensions = ["fenced_code", "codehilite", "pymdownx.arithmatex"]
    html, _ = convert(tmp_path, text, extensions, {"pymdownx.arithmatex": {"generic": True}})
    assert [lines for _tag, _text, lines in ranges_of(html)] == [
        "L1-L3",
        "L5-L7",
        "L9-L9",
        "L11-L11",
    ]


def test_includes_with_line_ranges_sections_and_auto_append(tmp_path):
    (tmp_path / "lines.md").write_text("Skipped one.\nTaken two.\nTaken three.\nSkipped four.\n")
    (tmp_path / "sections.md").write_text(
        "Outside words.\n\n<!-- --8<-- [start:part] -->\nSection words here.\n"
        "<!-- --8<-- [end:part] -->\n"
    )
    (tmp_path / "appended.md").write_text("Appended paragraph at the end.\n")
    text = 'Intro.\n\n--8<-- "lines.md:2:3"\n\n--8<-- "sections.md:part"\n\nOutro.\n'
    configs = {"pymdownx.snippets": {"base_path": [str(tmp_path)], "auto_append": ["appended.md"]}}
    html, _ = convert(tmp_path, text, ["pymdownx.snippets"], configs)
    root = str(tmp_path)
    assert [(t, v.replace(root, "")) for t, _, v in annotated(html)] == [
        ("p", "page.md#L1-L1"),
        ("p", "lines.md#L2-L3"),
        ("p", "sections.md#L4-L4"),
        ("p", "page.md#L7-L7"),
        ("p", "appended.md#L1-L1"),
    ]


def test_merged_loose_lists_and_ordered_start(tmp_path):
    # Without sane_lists, Python-Markdown merges the ordered list into the bullet list.
    text = "- first\n\n- second\n\n\n- third\n\n3. three\n4. four\n"
    html, _ = convert(tmp_path, text)
    assert ranges_of(html) == [
        ("ul", "first second third three four", "L1-L9"),
        ("li", "first", "L1-L1"),
        ("p", "first", "L1-L1"),
        ("li", "second", "L3-L3"),
        ("p", "second", "L3-L3"),
        ("li", "third", "L6-L6"),
        ("p", "third", "L6-L6"),
        ("li", "three", "L8-L8"),
        ("p", "three", "L8-L8"),
        ("li", "four", "L9-L9"),
    ]
