"""The pure core of the source map: tables of inputs and exact outputs."""

from __future__ import annotations

import itertools

import pytest

from mkdocs_erratum.extension import _block_tags_to_spaces, _decode_lines
from mkdocs_erratum.sourcemap import (
    FileStructure,
    Kind,
    RenderedBlock,
    SourceLine,
    SourceRange,
    footnote_windows,
    map_blocks,
    matching_runs,
    prose_lines,
    splice_source,
    split_lines,
    words,
)


def lines_of(path, texts):
    return [SourceLine(path, i + 1, t) for i, t in enumerate(texts)]


def page(*paragraphs: str):
    """Tokens and one block per paragraph, as the extension would produce them."""
    tokens, blocks = [], []
    for text in paragraphs:
        start = len(tokens)
        tokens.extend(words(text))
        blocks.append(RenderedBlock(-1, start, len(tokens)))
    return tokens, blocks


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[label]: https://example.com 'Title'", ""),
        ("*[HTML]: Hyper Text", ""),
        ("See [docs](https://x.y/z 'T') now", "See [docs  now"),
        ("See [docs][] now", "See [docs  now"),
        ("An undefined [docs][pkg.X] shows as text", "An undefined [docs][pkg.X] shows as text"),
        ("Note[^1] here", "Note  here"),
        ("Text {: .cls #id }", "Text  "),
        ("Icon :material-check: ok", "Icon   ok"),
        ("A :module: role", "A :module: role"),  # one word: may be literal text
        ('<span class="x">kept</span>', " kept "),
        ("`<b>[a](b)</b>` code", " <b>[a](b)</b>  code"),
    ],
)
def test_prose_lines_blank_what_is_never_rendered(line, expected):
    assert prose_lines([line]) == [expected]


def test_prose_lines_hide_only_defined_reference_labels():
    source = ["See [docs][Ref  One] and [x][pkg.X].", "", "[ref one]: https://x.y"]
    assert prose_lines(source) == ["See [docs  and [x][pkg.X].", "", ""]


def test_prose_lines_keep_code_and_skip_multiline_comments():
    source = ["<!-- hidden", "still hidden -->shown", "```", "<!-- in code -->", "```"]
    assert prose_lines(source) == ["", "shown", "", "<!-- in code -->", ""]


def test_splice_source_inserts_included_lines_and_drops_front_matter():
    original = ["---", "title: x", "---", "Intro.", '--8<-- "inc.md"', "Outro."]
    converted = ["Intro.", "From the include.", "Outro."]
    spliced = splice_source("page.md", original, converted, {"inc.md": ["From the include."]})
    where = [(s.path, s.number) for s in spliced]
    assert sorted(where) == [("inc.md", 1), ("page.md", 4), ("page.md", 5), ("page.md", 6)]
    assert where.index(("page.md", 4)) < where.index(("inc.md", 1)) < where.index(("page.md", 6))


def test_splice_source_leaves_generated_lines_out():
    spliced = splice_source("p.md", ["A.", "{{ macro }}", "B."], ["A.", "Made up.", "B."], {})
    assert [(s.number, s.text) for s in spliced] == [(1, "A."), (2, "{{ macro }}"), (3, "B.")]


def test_splice_source_refuses_to_guess_between_identical_included_lines():
    included = {"a.md": ["Same words."], "b.md": ["Same words."]}
    spliced = splice_source("p.md", ["X."], ["X.", "Same words."], included)
    assert [s.path for s in spliced] == ["p.md"]


@pytest.mark.parametrize(
    ("texts", "label", "expected"),
    [
        (["a[^n]", "", "[^n]: one", "    two", "", "after"], "n", (2, 4)),
        (["[^a]: first", "[^b]: second"], "a", (0, 1)),
        (["[^x]: one", "", "    more", "", "    again", "", "tail"], "x", (0, 5)),
        (["[^x]: one", "lazy continuation", "", "next"], "x", (0, 2)),
        (["no definition here"], "n", None),
    ],
)
def test_footnote_window(texts, label, expected):
    assert footnote_windows(lines_of("p.md", texts)).get(label) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbfone\r\ntwo", ["one", "two"]),
        (b"a\rb\nc", ["a", "b", "c"]),
        (b"bad \xff byte", ["bad \ufffd byte"]),
    ],
)
def test_decode_lines_counts_lines_as_git_does(data, expected):
    assert _decode_lines(data) == expected


def test_map_blocks_ranges_containers_and_generated_text():
    src = lines_of("p.md", ["First paragraph here.", "", "Second one", "spans two lines.", ""])
    tokens, blocks = page("First paragraph here.", "Invented by a plugin entirely.")
    tokens2, blocks2 = page("Second one spans two lines.")
    for b in blocks2:
        b.start += len(tokens)
        b.end += len(tokens)
    tokens += tokens2
    blocks += blocks2
    files = {"p.md": [line.text for line in src]}
    assert map_blocks(src, files, tokens, blocks) == [
        SourceRange("p.md", 1, 1),
        None,
        SourceRange("p.md", 3, 4),
    ]


def test_code_blocks_take_their_fences_and_rules_their_line():
    texts = ["Intro words.", "", "~~~~ yaml", "key: value", "~~~~", "", "* * *", "", "End words."]
    src = lines_of("p.md", texts)
    tokens = words("Intro words.") + words("key: value") + words("End words.")
    blocks = [
        RenderedBlock(-1, 0, 2),
        RenderedBlock(-1, 2, 4, Kind.CODE),
        RenderedBlock(-1, 4, 4, Kind.RULE),
        RenderedBlock(-1, 4, 6),
    ]
    assert map_blocks(src, {"p.md": texts}, tokens, blocks) == [
        SourceRange("p.md", 1, 1),
        SourceRange("p.md", 3, 5),
        SourceRange("p.md", 7, 7),
        SourceRange("p.md", 9, 9),
    ]


def test_a_huge_page_is_aligned_in_chunks():
    # About 10 MB of Markdown: far above what one alignment may take at once.
    texts = []
    for n in range(120_000):
        texts.append(
            f"Paragraph {n} says alpha{n % 97} beta{n % 89} and gamma{n} here, "
            f"with words repeated: delta epsilon {n % 7} zeta."
        )
        texts.append("")
    src = lines_of("big.md", texts)
    assert sum(len(t) + 1 for t in texts) > 9_000_000
    tokens, blocks = page(*texts[::2])
    ranges = map_blocks(src, {"big.md": texts}, tokens, blocks)
    assert ranges[0] == SourceRange("big.md", 1, 1)
    assert ranges[-1] == SourceRange("big.md", 239_999, 239_999)
    assert sum(r is not None for r in ranges) == len(blocks)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<div class="highlight"><pre><span>x</span></pre></div>', "  <span>x</span>  "),
        ("<TABLE><Tr><TD>a</td></TR></Table>", "   a   "),
        ("<p>a<br>b</P><pa>c</pa><h7>d</h7>", " a b <pa>c</pa><h7>d</h7>"),
        ("<H2 id=x>T</H2><figCaption>c", " T  c"),
        ("<d\u0131v>x</d\u0131v>", " x "),  # re.I matches the dotless i with i
        ("<\u0130>x<p>", "<\u0130>x "),  # lower-casing makes two characters of one
        ("<s\u212aip><\u017fection>y", "<s\u212aip> y"),  # Kelvin sign, long s
        ("no tags at all", "no tags at all"),
    ],
)
def test_block_tags_become_spaces_in_any_case(html, expected):
    assert _block_tags_to_spaces(html) == expected
    code = "<span>x</span>" * 40  # long text (highlighted code) goes another way
    assert _block_tags_to_spaces(html + code) == expected + code
    assert _block_tags_to_spaces(code + html) == code + expected


def test_split_lines():
    assert split_lines("a\r\nb\rc") == ["a", "b", "c"]


def test_file_structure_pairs_fences_blocks_and_elements_as_the_renderer_does():
    lines = [
        "/// tip",  # 1
        "````md",  # 2
        "```py",  # 3: inside the outer fence, not a fence
        "///",  # 4: inside code, not a closing line
        "```",  # 5
        "````",  # 6
        "///",  # 7
        '<div class="grid" markdown>',  # 8
        "`</div>` in a code span",  # 9
        "<!-- </div> in a comment -->",  # 10
        "</div>",  # 11
    ]
    structure = FileStructure(lines)
    assert structure.fences == [(2, 6)]
    assert structure.slash_blocks == [(1, 7)]
    assert structure.opens == {8: (11, "div", "grid")}
    assert structure.span_around(9) == (8, 11)
    assert structure.span_around(7) is None


def _random_text(seed: int, size: int, alphabet: str) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_anchored_alignment_keeps_a_long_common_subsequence(seed):
    from rapidfuzz.distance import Indel

    # Long enough for anchors; a small alphabet plus unique words, as real pages have.
    common = _random_text(seed, 6000, "abcdefgh" + "".join(map(chr, range(0x400, 0x1400))))
    a = "xx" + common[:3000] + "yyy" + common[3000:]
    b = common[:1500] + "zz" + common[1500:]
    runs = matching_runs(a, b)
    assert all(a[i : i + n] == b[j : j + n] for i, j, n in runs)
    assert all(
        i1 + n1 <= i2 and j1 + n1 <= j2 for (i1, j1, n1), (i2, j2, _) in itertools.pairwise(runs)
    )
    lcs = Indel.similarity(a, b) // 2  # the exact LCS length, for comparison
    assert sum(n for _, _, n in runs) >= 0.99 * lcs


def test_lines_shared_by_two_included_files_follow_their_neighbours():
    included = {
        "a.py": ["def run():", "    print('a')", "]"],
        "b.py": ["def run():", "    print('b')", "]"],
    }
    converted = [
        "Intro.",
        "def run():",
        "    print('a')",
        "]",
        "",
        "def run():",
        "    print('b')",
        "]",
    ]
    spliced = splice_source(
        "page.md", ["Intro.", '--8<-- "a.py"', "", '--8<-- "b.py"'], converted, included
    )
    where = [(s.path, s.number) for s in spliced if s.path != "page.md"]
    assert where == [("a.py", 1), ("a.py", 2), ("a.py", 3), ("b.py", 1), ("b.py", 2), ("b.py", 3)]
