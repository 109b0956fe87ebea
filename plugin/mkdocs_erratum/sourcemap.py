"""Align a page's rendered text with the Markdown lines it came from.

Pure core of the source map: strings and plain data in, line ranges out; nothing here
knows MkDocs or Python-Markdown. The extension (`mkdocs_erratum.extension`) turns a
rendered page into a token stream and a tree of `RenderedBlock`s; `map_blocks` aligns
that stream with the words of the source (anchored on words found once on each side,
an LCS computed by rapidfuzz in between) and gives every block the min..max line of its
matched words, containers the union of their children. The file's structure
(`FileStructure`: fences, ``///`` blocks and HTML elements, paired as the renderer
pairs them) then fits the edges: a code block is its fence, a block never cuts one,
and word-less lines a block shows join its range. A block is left without a range
whenever its own words are not found in the range it would get: a missing range is
acceptable, a wrong one is not.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

WORD_RE = re.compile(r"[^\W_]{2,}|[^\W\d_]")
"""A word: letters and digits, but never a lone digit (list numbers, footnote marks and
code annotations make those too common to anchor anything)."""

MIN_RECALL = 0.9
"""Share of a block's words that must occur in its range for the range to be emitted."""
MAX_ALIGN_CELLS = 60_000_000
"""Largest rendered x source token product aligned in one piece; larger pages go by chunks."""
CHUNK_TOKENS = 6_000

FENCE_RE = re.compile(r"^(?:\s*>)*\s*(`{3,}|~{3,})")
MATH_DELIMITER_RE = re.compile(r"^\s*(?:\$\$|\\\[|\\\])\s*$")
SETEXT_RE = re.compile(r"^ {0,3}(=+|-+)\s*$")
ATTR_LIST_LINE_RE = re.compile(r"^\s*\{:?\s*[#.:\w][^}]*\}\s*$")
HR_RE = re.compile(r"^(?:\s*>)*\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
TAG_RE = re.compile(r"<!--.*?(?:-->|$)|</?[A-Za-z][^<>]*>?", re.S)
IMAGE_RE = re.compile(r"!\[|<img\b", re.I)

# What Markdown syntax never shows as text: stripped from source lines (outside code)
# before alignment, so that rendered words cannot be matched to it.
REF_DEF_RE = re.compile(
    r"""^\s*\[(?!\^)[^\]]+\]:\s*<?\S+>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*$"""
)
ABBR_DEF_RE = re.compile(r"^\s*\*\[[^\]]+\]:")
CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
HIDDEN_INLINE_RE = re.compile(
    r"<!--[^\n\0]*?-->"  # comments
    r"|\]\((?:[^()\s\0]|\([^()\n\0]*\))*(?:[^\S\n]+(?:\"[^\"\n\0]*\"|'[^'\n\0]*'))?[^\S\n]*\)"
    r"|\[\^[^\]\n\0]+\]:?"  # footnote labels (rendered as numbers)
    r"|\{:?[^\S\n]*[#.:][^}\n\0]*\}|\{[^\S\n]*[\w-]+=[^}\n\0]*\}"  # attribute lists
    r"|:[a-z0-9]+(?:[-_+][a-z0-9]+)+:"  # icon shortcodes (`:material-check:`)
    r"|</?[A-Za-z][\w:-]*(?:[^\S\n][^<>\n\0]*)?/?>"  # HTML tags
)
"""What is hidden on a line: comments, link targets (second alternative), footnote labels,
attribute lists, icon shortcodes, HTML tags. No match runs over a newline or a NUL, so
that many lines joined by them are stripped at once."""
REF_LABEL_RE = re.compile(r"\]\[([^\]\n\0]*)\]")
"""Reference labels: hidden only when the page defines them."""
"""One-word shortcodes are not hidden: whether ``:smile:`` is an emoji or ``:module:``
literal text is the renderer's choice, and an unmatched source word costs nothing."""
_BLOCK_MARKER_RE = re.compile(r"[-*+]\s|\d+[.)]\s|[!?=]{3}|:\s|[>|<]|\[\^")
"""Lines that open a container: indented lines after them are its content, not code."""
_SYNTAX_CHAR_RE = re.compile(r"[<\[\]{:`~*]")
FENCE_TITLE_RE = re.compile(r"""title=(?:"([^"]*)"|'([^']*)')""")


class Kind:
    """What structural rules apply to a block (plain strings, for easy tables in tests)."""

    BLOCK = "block"
    """Paragraphs, list items, cells, containers: the plain min..max rule."""
    CODE = "code"
    """A code block: the range grows to include its fences."""
    HEADING = "heading"
    """A heading: the range grows to include a setext underline."""
    RAW = "raw"
    """A raw HTML block: the range grows over adjacent lines made only of tags."""
    RULE = "rule"
    """A horizontal rule: word-less, placed on the rule line between its neighbours."""
    IMAGE = "image"
    """A paragraph holding only images, possibly without alternative text."""
    HTML = "html"
    """An element written as HTML around Markdown (md_in_html): the range grows to its
    opening and closing tag lines, across blank lines."""
    CELL = "cell"
    """A table cell: a row is one source line, so a cell has its row's range."""


class SourceLine(NamedTuple):
    """One line of the text a page was converted from, with where it really lives."""

    path: str | None
    """File relative to the repository root; None for text that is in no file."""
    number: int
    """1-based line number in that file."""
    text: str


class SplicedSource(Sequence[SourceLine]):
    """Source lines kept as three parallel lists: cheap to build, even for long pages.

    A sequence of `SourceLine`; `splice_source` returns one, and `map_blocks` reads its
    columns without making a tuple per line.
    """

    __slots__ = ("numbers", "paths", "texts")

    def __init__(self, paths: list[str | None], numbers: list[int], texts: list[str]):
        self.paths = paths
        self.numbers = numbers
        self.texts = texts

    @classmethod
    def of(cls, lines: Sequence[SourceLine]) -> SplicedSource:
        """The same lines as columns (``lines`` itself when it already is one)."""
        if isinstance(lines, SplicedSource):
            return lines
        return cls([x.path for x in lines], [x.number for x in lines], [x.text for x in lines])

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return SplicedSource(self.paths[index], self.numbers[index], self.texts[index])
        return SourceLine(self.paths[index], self.numbers[index], self.texts[index])

    def __iter__(self):
        return map(SourceLine, self.paths, self.numbers, self.texts)


@dataclass(slots=True)
class RenderedBlock:
    """A block of the rendered page: its subtree's text is ``pieces[start:end]``."""

    parent: int
    """Index of the enclosing block, or -1."""
    start: int
    end: int
    kind: str = Kind.BLOCK
    window: tuple[int, int] | None = None
    """Source line indices ``[a, b)`` to align this subtree in, apart from the rest
    (for what the renderer moves, such as footnotes)."""
    tag: str = ""
    """The element's tag name, to recognise its own HTML tag lines in the source."""
    classes: str = ""
    """The element's class names, sorted and space-separated."""
    head: tuple[str, ...] = ()
    """Word-less lines the block shows before its first word (whitespace collapsed)."""
    tail: tuple[str, ...] = ()
    """Word-less lines the block shows after its last word, such as a code block's
    closing brackets: the range grows over source lines that show them."""


@dataclass(frozen=True)
class SourceRange:
    """``path`` lines ``start..end`` (1-based, inclusive)."""

    path: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.path}#L{self.start}-L{self.end}"


def _opcodes(a, b):
    """rapidfuzz's Indel opcodes of an LCS of ``a`` and ``b``. Imported on first use: a
    host whose pages the worker maps never needs it (8 ms of every build)."""
    from rapidfuzz.distance import Indel

    return Indel.opcodes(a, b)


def normalize(text: str) -> str:
    """Case- and compatibility-folded text, as words are compared.

    >>> normalize("Ｆｉｎｅ ﬁle")
    'fine file'
    """
    return unicodedata.normalize("NFKC", text).lower()


def words(text: str) -> list[str]:
    """The words of ``text`` as aligned (see `WORD_RE`), folded.

    >>> words("Don't _panic_: 42 l'été! 1. x2")
    ['don', 't', 'panic', '42', 'l', 'été', 'x2']
    """
    return WORD_RE.findall(normalize(text))


_GAP_BYTES = bytes(c if c >= 0x80 or c == 0 or chr(c).isalnum() else 0x20 for c in range(256))
"""ASCII characters that are no part of a word become spaces; NUL (the separator between
texts) and the bytes of other characters stay."""
_SEPARATOR = "\x00"
_DIGITS = frozenset("0123456789")


def _word_runs(texts: Sequence[str]) -> list[str]:
    """The folded runs of word characters of ``texts``, with ``"\\x00"`` between texts.

    A run holds no ASCII character that `WORD_RE` leaves out, so `_run_words` finds
    its words without looking at the rest of the text. Translating bytes and splitting
    on spaces is done in C, several times faster than a regular expression over the page.

    >>> _word_runs(["Don't", "l’été 42_x"])
    ['don', 't', '\\x00', 'l’été', '42', 'x']
    """
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a NUL in the text: no word there
        joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts)
    folded = normalize(joined)
    if folded.count(_SEPARATOR) != len(texts) - 1:  # folding never adds one; stay safe
        folded = _SEPARATOR.join(normalize(t).replace(_SEPARATOR, " ") for t in texts)
    spaced = folded.encode("utf-8", "surrogatepass").translate(_GAP_BYTES)
    return spaced.decode("utf-8", "surrogatepass").replace(_SEPARATOR, f" {_SEPARATOR} ").split()


def _run_words(run: str) -> list[str]:
    """The words of one run from `_word_runs`, as `words` would find them.

    >>> _run_words("x2"), _run_words("7"), _run_words("l’été")
    (['x2'], [], ['l', 'été'])
    """
    if run.isascii():  # letters and digits only: one word, unless a lone digit
        return [] if len(run) == 1 and run.isdigit() else [run]
    return WORD_RE.findall(run)


class _WordCodes:
    """Every word of a page's source as one character, so that texts become strings.

    The aligner compares characters: a text is coded as the string of its words' codes,
    texts separated by newlines; words the source does not have share one code.
    """

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.run_codes: dict[str, str] = {_SEPARATOR: "\n"}

    def code_source(self, runs: list[str]) -> str:
        codes, run_codes = self.codes, self.run_codes
        new = set(runs).difference(run_codes)
        # An ASCII run is one word (or a lone digit, no word): coded in bulk, in C.
        plain = set(filter(str.isascii, new))
        for digit in plain.intersection(_DIGITS):
            run_codes[digit] = ""
        plain.difference_update(_DIGITS, codes)
        first = len(codes) + 0x100
        if first + len(plain) < 0xD800:  # no surrogate code among them
            fresh = dict(zip(plain, map(chr, range(first, first + len(plain))), strict=True))
            codes.update(fresh)
            run_codes.update(fresh)
        for run in new.difference(run_codes):
            coded = []
            for word in _run_words(run):
                code = codes.get(word)
                if code is None:
                    code = codes[word] = _code(len(codes))
                coded.append(code)
            run_codes[run] = "".join(coded)
        return "".join(map(run_codes.__getitem__, runs))

    def code_rendered(self, runs: list[str]) -> str:
        codes, missing = self.codes, _code(len(self.codes))
        run_codes = dict(self.run_codes)
        for run in set(runs).difference(run_codes):
            run_codes[run] = "".join([codes.get(w, missing) for w in _run_words(run)])
        return "".join(map(run_codes.__getitem__, runs))


def wordless_edge(text: str, at_end: bool, whole: bool = True) -> tuple[str, ...]:
    """The word-less lines that ``text`` shows before its first word (or after its
    last), whitespace collapsed, blank lines left out. When ``text`` is only a piece
    of the block (``whole`` false), its line that the rest of the block continues is
    not a whole line and ends the search.

    >>> wordless_edge("x = [\\n    1,\\n]\\n)\\n", at_end=True)
    ('1,', ']', ')')
    >>> wordless_edge("{\\n  a: 1\\n}", at_end=False), wordless_edge("Words.", at_end=True)
    (('{',), ())
    >>> wordless_edge(".\\n///", at_end=True), wordless_edge(".\\n///", at_end=True, whole=False)
    (('.', '///'), ('///',))
    """
    found: list[str] = []
    # Lines are cut one at a time from the edge: most blocks end on a line with words.
    size = len(text)
    if at_end and size and not text[-1].isspace():
        if WORD_RE.search(text, text.rfind("\n") + 1):
            return ()
    elif not at_end and size and not text[0].isspace():
        cut = text.find("\n")
        if WORD_RE.search(text, 0, size if cut < 0 else cut):
            return ()
    pos = size if at_end else 0
    while (pos > 0) if at_end else (pos <= size):
        if at_end:
            cut = text.rfind("\n", 0, pos) + 1
            if cut == 0 and not whole:
                break
            line, pos = text[cut:pos], cut - 1
        else:
            cut = text.find("\n", pos)
            if cut < 0 and not whole:
                break
            cut = size if cut < 0 else cut
            line, pos = text[pos:cut], cut + 1
        collapsed = " ".join(line.split())
        if not collapsed:
            continue
        if WORD_RE.search(collapsed):
            break
        found.append(collapsed)
    if at_end:
        found.reverse()
    return tuple(found)


def split_lines(text: str) -> list[str]:
    """Lines as git and GitHub count them (``\\r\\n``, ``\\r`` and ``\\n`` end a line).

    >>> split_lines("a\\r\\nb\\rc\\n")
    ['a', 'b', 'c', '']
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def prose_lines(lines: Sequence[str]) -> list[str]:
    """Source lines reduced to the text they can render, one output line per input line.

    Code inside fences, and indented code after a block at the margin, is kept as is;
    elsewhere link targets, reference definitions, footnote labels, attribute lists,
    icon shortcodes, HTML tags and comments are blanked.

    >>> prose_lines(["See [the guide][g]{ .x } <!-- hidden", "still -->", "[g]: a.md"])
    ['See [the guide   ', '', '']
    >>> prose_lines(["An undefined [`X`][pkg.X] shows as text."])
    ['An undefined [ X ][pkg.X] shows as text.']
    >>> prose_lines(['```py title="a.py"', "x = [1](2)", "```"])
    ['a.py', 'x = [1](2)', '']
    >>> prose_lines(["Code:", "", "    <b>[x]: url</b>", "", "- item", "", "    [y]: url"])
    ['Code:', '', '    <b>[x]: url</b>', '', '- item', '', '']
    """
    out = list(lines)  # most lines are kept as they are
    labels = _defined_labels(lines)
    stripped: list[int] = []  # lines whose inline syntax is stripped, all at once below
    in_comment = False
    indented = False  # inside an indented code block at the margin: kept as is
    after_blank = True
    previous = ""  # the last non-blank line outside code
    i, n = -1, len(lines)
    while i + 1 < n:
        i += 1
        line = lines[i]
        if in_comment:
            end = line.find("-->")
            if end < 0:
                out[i] = ""
                continue
            in_comment = False
            line = line[end + 3 :]
        else:
            if not line or line.isspace():
                after_blank = True
                continue
            if (line[:4] == "    " or line[:1] == "\t") and (
                indented or (after_blank and _at_margin(previous))
            ):
                indented = True  # after a block at the margin and a blank line
                continue
            indented = after_blank = False
            previous = line
            if not _SYNTAX_CHAR_RE.search(line):
                continue  # plain prose, the common case
            m = FENCE_RE.match(line) if "``" in line or "~~" in line else None
            if m:
                fence = m.group(1)
                title = FENCE_TITLE_RE.search(line)
                out[i] = (title.group(1) or title.group(2) or "") if title else ""
                i = _fence_close(lines, i + 1, fence)
                if i < n:
                    out[i] = ""
                continue
        first = line.lstrip()[:1]
        if first in ("[", "*") and (REF_DEF_RE.match(line) or ABBR_DEF_RE.match(line)):
            out[i] = ""
            continue
        start = line.rfind("<!--")
        if start >= 0 and line.find("-->", start) < 0:
            in_comment = True
            line = line[:start]
        out[i] = line
        stripped.append(i)
    for i, text in zip(stripped, _strip_inline([out[i] for i in stripped], labels), strict=True):
        out[i] = text
    return out


def _fence_close(lines: Sequence[str], i: int, fence: str) -> int:
    """The index of the line at or after ``i`` that closes ``fence`` (or the end)."""
    for i in range(i, len(lines)):  # noqa: B020 (the loop's last index is the answer)
        line = lines[i]
        if fence[:2] in line:
            m = FENCE_RE.match(line)
            closes = m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if closes and not line[m.end() :].strip():
                return i
    return len(lines)


def _at_margin(line: str) -> bool:
    """Whether a line ends a block at the margin that indented code may follow."""
    return not line or (not line[0].isspace() and not _BLOCK_MARKER_RE.match(line))


def _strip_inline(lines: list[str], labels: frozenset[str] = frozenset()) -> list[str]:
    """Lines with their inline syntax hidden, code spans kept (as words between spaces).

    The lines are joined and stripped in one pass of each expression: none runs over a
    newline, nor over the NUL put between the text on either side of a code span.

    >>> _strip_inline(["A [b](c) `[d](e)` f", "<b>g</b>"])
    ['A [b   [d](e)  f', ' g ']
    """
    if not lines:
        return []
    text = "\n".join(lines).replace("\0", "\ufffd")  # NUL is not text (CommonMark)
    if "`" in text:
        parts = CODE_SPAN_RE.split(text)  # text, backticks, code, text, ...
        prose = _strip_prose("\0".join(parts[::3]), labels).split("\0")
        code = [f" {c} " for c in parts[2::3]]
        pairs = zip(prose, code, strict=False)  # one more prose part than code spans
        text = "".join(itertools.chain.from_iterable(pairs)) + prose[-1]
    else:
        text = _strip_prose(text, labels)
    return text.split("\n")


def _strip_prose(text: str, labels: frozenset[str]) -> str:
    def hide_label(m: re.Match) -> str:
        label = m.group(1)
        if not label or _label_key(label) in labels:
            return " "
        return m.group(0)  # an undefined reference shows as literal text

    if "][" in text:
        text = REF_LABEL_RE.sub(hide_label, text)
    return HIDDEN_INLINE_RE.sub(" ", text)


def _label_key(label: str) -> str:
    """A reference label as Markdown compares them: case and spacing folded."""
    return " ".join(label.split()).lower()


def _defined_labels(lines: Sequence[str]) -> frozenset[str]:
    """The reference labels that ``[label]: url`` lines define."""
    found = set()
    for line in lines:
        if "]:" in line and REF_DEF_RE.match(line):
            found.add(_label_key(line[line.index("[") + 1 : line.index("]")]))
    return frozenset(found)


def splice_source(
    path: str | None,
    original: Sequence[str],
    converted: Sequence[str],
    included: dict[str | None, Sequence[str]] | None = None,
) -> SplicedSource:
    """The source to align with: the original file, with included files spliced in.

    ``converted`` is the text Markdown actually parsed (after other plugins and after
    includes were expanded). Lines it shares with ``original`` stand for themselves;
    lines only in ``original`` (front matter, macro calls, include directives) stay,
    since their words may still be rendered; lines only in ``converted`` are looked up
    in the ``included`` files and stand for the line they came from, or are left out
    when no file holds them (generated text).

    Args:
        path: the page file, relative to the repository root (None if unknown).
        original: the page file's lines as committed.
        converted: the lines Markdown converted.
        included: lines of each file an include extension read, by path.

    Returns:
        The spliced lines, each with its file and line number.
    """
    original, converted = list(original), list(converted)
    paths: list[str | None] = []
    numbers: list[int] = []
    texts: list[str] = []

    def keep(a: int, b: int, converted: bool = True) -> None:  # the page's lines a..b-1
        paths.extend([path] * (b - a))
        numbers.extend(range(a + 1, b + 1))
        if converted:
            texts.extend(original[a:b])
        else:  # an include's directive that Markdown never saw is never shown
            texts.extend("" if INCLUDE_DIRECTIVE_RE.match(t) else t for t in original[a:b])

    if original == converted or not converted:
        keep(0, len(original))
        return SplicedSource(paths, numbers, texts)
    finder = _IncludedLines(included or {})
    # Most pages differ from their file only by front matter at the top and includes:
    # shared runs at both ends are matched by slice comparison, the rest by an LCS.
    skip, head = _shared_head(original, converted)
    tail = _shared_tail(original[skip + head :], converted[head:])
    keep(skip, skip + head)
    middle_a = original[skip + head : len(original) - tail]
    middle_b = converted[head : len(converted) - tail]
    offset_a = skip + head
    codes: dict[str, str] = {}
    ops = _opcodes(_encode(middle_a, codes), _encode(middle_b, codes))
    # The files the directives of each run of changes name: what it includes.
    named: list[tuple[str, ...]] = []
    for changed, group in itertools.groupby(ops, key=lambda op: op.tag != "equal"):
        group = list(group)
        names = _included_names(middle_a[group[0].src_start : group[-1].src_end]) if changed else ()
        named.extend([names] * len(group))
    for op, names in zip(ops, named, strict=True):
        if op.tag == "delete" and op.src_start == 0 and op.dest_start == 0 and not texts:
            continue  # metadata the host removed (front matter): never rendered
        keep(offset_a + op.src_start, offset_a + op.src_end, converted=op.tag == "equal")
        if op.tag == "equal":
            continue
        for origin in finder.find_run(middle_b[op.dest_start : op.dest_end], names):
            if origin is not None:
                paths.append(origin.path)
                numbers.append(origin.number)
                texts.append(origin.text)
    keep(len(original) - tail, len(original))
    return SplicedSource(paths, numbers, texts)


def _shared_head(original: list[str], converted: list[str]) -> tuple[int, int]:
    """(lines of metadata to skip, length of the run both texts then share).

    >>> _shared_head(["---", "a: 1", "---", "x", "y"], ["x", "y", "z"])
    (3, 2)
    """
    for skip in range(min(len(original), 200)):
        if original[skip] == converted[0] and (
            skip == 0
            or not original[skip - 1].strip()
            or original[skip - 1].rstrip() in ("---", "...")
        ):
            return skip, _common_prefix(original[skip:], converted)
    return 0, 0


def _shared_tail(original: list[str], converted: list[str]) -> int:
    return _common_prefix(original[::-1], converted[::-1])


def _common_prefix(a: list[str], b: list[str]) -> int:
    """Length of the longest common prefix, by bisection over slice comparisons."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class _IncludedLines:
    """Finds which included file and line a converted line came from."""

    def __init__(self, included: dict[str | None, Sequence[str]]):
        self.index: dict[str, list[SourceLine]] = {}
        for path, lines in included.items():
            for i, text in enumerate(lines):
                key = text.strip()
                if key:
                    self.index.setdefault(key, []).append(SourceLine(path, i + 1, text))
        self.last: SourceLine | None = None

    def find_run(self, texts: Sequence[str], names: Sequence[str] = ()) -> list[SourceLine | None]:
        """Where each of consecutive converted lines came from, or None.

        A line found in one place only stands for it; in several places (files
        included side by side share lines), the places in the files ``names`` (what
        the directives there name) are preferred. A line still found in several places
        is the one that continues or precedes its resolved neighbours; failing that, a
        word-less line takes its first place and a line with words is left out: say
        nothing rather than guess.
        """
        found = [self.index.get(text.strip(), ()) for text in texts]
        if names:
            found = [_in_named(places, names) for places in found]
        chosen: list[SourceLine | None] = [
            places[0] if len({(c.path, c.number) for c in places}) == 1 else None
            for places in found
        ]
        if self.last is not None and chosen and chosen[0] is None:
            chosen[0] = _next_to(found[0], self.last, 1)
        for order in (range(len(texts)), range(len(texts) - 1, -1, -1)):
            step = 1 if order.step > 0 else -1
            for k in order:
                if chosen[k] is None and found[k]:
                    near = k - step  # the neighbour, past blank lines (never looked up)
                    while 0 <= near < len(texts) and not texts[near].strip():
                        near -= step
                    if 0 <= near < len(texts) and chosen[near] is not None:
                        chosen[k] = _next_to(found[k], chosen[near], k - near)
        for k, places in enumerate(found):
            if chosen[k] is None and places and not WORD_RE.search(texts[k]):
                chosen[k] = places[0]
        resolved = [c for c in chosen if c is not None]
        self.last = resolved[-1] if resolved and chosen[-1] is not None else None
        return [c if c is not None and c.path is not None else None for c in chosen]


def _included_names(lines: Sequence[str]) -> tuple[str, ...]:
    """The files that the snippets directives among ``lines`` name, as written (their
    sections and line numbers left out; URLs too).

    >>> _included_names(['--8<-- "docs/a.py"', "  --8<-- 'b.md:intro'", "--8<--", "c", "--8<--"])
    ('docs/a.py', 'b.md', 'c')
    """
    names: list[str] = []
    in_block = False
    for line in lines:
        m = INCLUDE_DIRECTIVE_RE.match(line)
        if m:
            rest = line[m.end() :].strip()
            quoted = re.match(r"""(["'])(.+?)\1""", rest)
            if quoted:
                names.append(quoted.group(2))
            elif not rest:
                in_block = not in_block
        elif in_block and line.strip():
            names.append(line.strip())
    return tuple(re.sub(r"(?::[^/:]*){1,2}$", "", name) for name in names if "://" not in name)


def _in_named(places: Sequence[SourceLine], names: Sequence[str]) -> Sequence[SourceLine]:
    """The places in a file one of ``names`` stands for (a path relative to a snippets
    base folder), or all of them when none is."""
    if len(places) < 2:
        return places
    own = [
        c for c in places if c.path and any(c.path == n or c.path.endswith("/" + n) for n in names)
    ]
    return own or places


def _next_to(places: Sequence[SourceLine], line: SourceLine, step: int) -> SourceLine | None:
    """The place that is ``step`` lines after ``line`` in its file (before it when
    negative), if it is one of them."""
    return next((c for c in places if c.path == line.path and c.number == line.number + step), None)


FENCE_OPEN_RE = re.compile(r"^(?P<pre>[ \t>]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
SLASH_OPEN_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<slashes>/{3,})[ \t]*[\w-]+")
SLASH_CLOSE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<slashes>/{3,})[ \t]*$")
HTML_TOKEN_RE = re.compile(r"<!--|<(?P<close>/)?(?P<name>[A-Za-z][\w-]*)\b(?P<attrs>[^<>]*)>")
CLASS_ATTR_RE = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""")
UNPAIRED_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "path", "rect", "circle", "line", "stop", "use"}
    | {"li", "p", "td", "th", "tr", "dt", "dd", "option", "thead", "tbody"}
)
"""Tags that never enclose lines of their own: void, or whose closing tag is optional."""
SNIPPET_LINE_RE = re.compile(r"^[ \t>]*;*-+8<-+")
INCLUDE_DIRECTIVE_RE = re.compile(r"^[ \t>]*-+8<-+")
"""A snippets directive, not escaped by ``;``: replaced by what it includes, never shown."""
MARKUP_SUFFIXES = (".svg", ".html", ".htm", ".xml")
"""Files included as raw markup: what shows any of their text shows their root element."""
CODE_LANGUAGE_LINE_RE = re.compile(r"^(?: {4,}|\t)\s*(?:#!|:::)[\w#.+-]+.*$")
"""Codehilite's first line of an indented code block, naming its language (not shown)."""


def _prefix_key(prefix: str) -> tuple[int, int]:
    """A fence's indentation: block-quote depth and the columns after the last ``>``."""
    return prefix.count(">"), len(prefix.rsplit(">", 1)[-1].expandtabs(4))


class FileStructure:
    """The delimited blocks of one Markdown file: fences, ``///`` blocks, HTML elements.

    A fence closes on the same run of backticks or tildes at the same indentation, as
    pymdownx.superfences reads it; what lies between is code, never a delimiter. A
    ``/// name`` block closes on the next ``///`` of the same indentation and length
    that no inner block takes. An HTML element spans the lines from its opening tag to
    its closing one (code spans, comments and fenced code aside).

    >>> s = FileStructure(["/// tip", "```py", "///", "```", "///", "<div>", "`</div>`", "</div>"])
    >>> s.fences, s.spans, s.opens[6]
    ([(2, 4)], [(1, 5), (6, 8)], (8, 'div', ''))
    """

    def __init__(self, lines: Sequence[str]):
        self.fences: list[tuple[int, int]] = []
        self.slash_blocks: list[tuple[int, int]] = []
        self.fence_of: dict[int, tuple[int, int]] = {}
        """1-based line -> the fence (opening, closing line) it belongs to."""
        self.slash_close: dict[int, int] = {}
        """Opening line of a ``///`` block -> its closing line."""
        self.slash_open: dict[int, int] = {}
        """Closing line of a ``///`` block -> its opening line."""
        self.spans: list[tuple[int, int]] = []
        """(opening, closing line) of every ``///`` block and multi-line HTML element."""
        self.markup = False
        """Whether the file is markup included as is (its root element shows whole)."""
        self.opens: dict[int, tuple[int, str, str]] = {}
        """Line whose first tag opens a multi-line HTML element -> (closing line, tag,
        sorted classes)."""
        stack: list[tuple[str, str, int]] = []
        tags: list[tuple[str, int, str, bool]] = []
        in_comment = False
        i, n = 0, len(lines)
        while i < n:
            line = lines[i]
            if "``" in line or "~~" in line:
                m = FENCE_OPEN_RE.match(line)
                if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
                    close = self._fence_end(lines, i, m)
                    if close is not None:
                        self.fences.append((i + 1, close + 1))
                        for k in range(i + 1, close + 2):
                            self.fence_of[k] = (i + 1, close + 1)
                        i = close + 1
                        continue
            elif "///" in line:
                m = SLASH_CLOSE_RE.match(line)
                if m:
                    key = (m.group("indent"), m.group("slashes"))
                    for depth in range(len(stack) - 1, -1, -1):
                        if stack[depth][:2] == key:
                            opened = stack[depth][2]
                            del stack[depth:]
                            self.slash_blocks.append((opened, i + 1))
                            self.slash_close[opened] = i + 1
                            self.slash_open[i + 1] = opened
                            break
                else:
                    m = SLASH_OPEN_RE.match(line)
                    if m:
                        stack.append((m.group("indent"), m.group("slashes"), i + 1))
            if "<" in line or in_comment:
                in_comment = self._scan_tags(line, i + 1, tags, in_comment)
            i += 1
        self.slash_blocks.sort()
        self.spans.extend(self.slash_blocks)
        self.spans.sort()

    @staticmethod
    def _fence_end(lines: Sequence[str], i: int, m: re.Match) -> int | None:
        key, fence = _prefix_key(m.group("pre")), m.group("fence")
        for j in range(i + 1, len(lines)):
            line = lines[j]
            if fence not in line:
                continue
            close = FENCE_OPEN_RE.match(line)
            if (
                close
                and close.group("fence") == fence
                and not close.group("info").strip()
                and _prefix_key(close.group("pre")) == key
            ):
                return j
        return None

    def _scan_tags(self, line: str, number: int, stack: list, in_comment: bool) -> bool:
        """Pair the HTML tags of one line with those of earlier lines; return whether
        the line ends inside a comment."""
        text = CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), line) if "`" in line else line
        pos = 0
        while pos < len(text):
            if in_comment:
                end = text.find("-->", pos)
                if end < 0:
                    return True
                in_comment, pos = False, end + 3
                continue
            m = HTML_TOKEN_RE.search(text, pos)
            if not m:
                break
            pos = m.end()
            if m.group(0) == "<!--":
                in_comment, pos = True, m.start() + 4
                continue
            tag = m.group("name").lower()
            if tag in UNPAIRED_TAGS or m.group("attrs").endswith("/"):
                continue
            if m.group("close"):
                for k in range(len(stack) - 1, -1, -1):
                    if stack[k][0] == tag:
                        _, opened, classes, first = stack[k]
                        del stack[k:]
                        if opened < number:
                            self.spans.append((opened, number))
                            if first and opened not in self.opens:
                                self.opens[opened] = (number, tag, classes)
                        break
            else:
                found = CLASS_ATTR_RE.search(m.group("attrs"))
                names = (found.group(1) or found.group(2) or "") if found else ""
                first = not text[: m.start()].strip()
                stack.append((tag, number, " ".join(sorted(names.split())), first))
        return in_comment

    def span_around(self, line: int) -> tuple[int, int] | None:
        """The innermost ``///`` block or HTML element whose lines ``[open, close)``
        hold ``line``."""
        # Spans nest or are apart: going back from the last one opened at or before
        # ``line``, the first that is still open there is the innermost.
        spans = self.spans
        k = bisect_right(spans, (line, float("inf"))) - 1
        while k >= 0:
            if line < spans[k][1]:
                return spans[k]
            k -= 1
        return None


FOOTNOTE_DEF_RE = re.compile(r"^ {0,3}\[\^([^\]]+)\]:")


def footnote_windows(lines: Sequence[SourceLine]) -> dict[str, tuple[int, int]]:
    """Indices ``[a, b)`` of the lines defining each footnote (``[^label]: ...``).

    A definition runs until a blank line followed by a line that is not indented, or
    until the next definition. A label defined twice is left out (which one renders
    is the renderer's choice, not ours to guess).

    >>> src = [SourceLine("a.md", i + 1, t) for i, t in enumerate(
    ...     ["Text[^n].", "", "[^n]: First", "    more", "", "After"])]
    >>> footnote_windows(src)
    {'n': (2, 4)}
    """
    texts = SplicedSource.of(lines).texts
    starts: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        if "[^" in text:
            m = FOOTNOTE_DEF_RE.match(text)
            if m:
                starts.setdefault(m.group(1), []).append(i)
    windows = {}
    for label, found in starts.items():
        if len(found) == 1:
            windows[label] = (found[0], _definition_end(texts, found[0]))
    return windows


def _definition_end(texts: Sequence[str], a: int) -> int:
    b = a + 1
    while b < len(texts):
        text = texts[b]
        if FOOTNOTE_DEF_RE.match(text):
            break
        if not text.strip():
            nxt = b + 1
            while nxt < len(texts) and not texts[nxt].strip():
                nxt += 1
            if nxt >= len(texts) or not texts[nxt].startswith((" ", "\t")):
                break
            b = nxt
            continue
        b += 1
    return b


def map_blocks(
    source: Sequence[SourceLine],
    files: dict[str, Sequence[str]],
    pieces: Sequence[str],
    blocks: Sequence[RenderedBlock],
) -> list[SourceRange | None]:
    """Give each rendered block the source lines that produced it, or None when unsure.

    Args:
        source: the spliced source lines (see `splice_source`).
        files: every file named in ``source``: path -> its lines, for structural rules.
        pieces: the rendered text in reading order, in pieces (text nodes, say); no
            word runs from one piece into the next. A list of words will do.
        blocks: the rendered blocks in document order (parents before children),
            each covering the pieces of its subtree.

    Returns:
        One `SourceRange` or None per block.
    """
    return _Mapper(source, files, pieces, blocks).run()


class _Mapper:
    def __init__(self, source, files, pieces, blocks):
        source = SplicedSource.of(source)
        self.source = source
        self.paths, self.numbers = source.paths, source.numbers
        self.files = files
        self.blocks = blocks
        self.prose_files: dict[str, list[str] | None] = {}
        self.structures: dict[str, FileStructure] = {}
        self._where: dict[tuple[str | None, int], int] | None = None
        self._line_start: list[int] | None = None
        self.prose = prose = prose_lines(source.texts)
        # Every word becomes one character (see _WordCodes): the source is a string for
        # the aligner, its lines come from splitting it, and the rendered pieces too.
        coder = _WordCodes()
        self.per_line = per_line = coder.code_source(_word_runs(prose)).split("\n")
        self.src = "".join(per_line)
        self.src_line = list(  # the line of each source token, built in C
            itertools.chain.from_iterable(
                map(itertools.repeat, range(len(per_line)), map(len, per_line))
            )
        )
        per_piece = coder.code_rendered(_word_runs(pieces)).split("\n") if pieces else []
        self.rendered = "".join(per_piece)
        at = list(itertools.accumulate(map(len, per_piece), initial=0))
        # Each block's words are rendered[starts[i]:ends[i]].
        self.starts = [at[b.start] for b in blocks]
        self.ends = [at[b.end] for b in blocks]
        self.match = [-1] * len(self.rendered)

    def run(self) -> list[SourceRange | None]:
        self._align()
        # Each rendered word's source line, path and line number (None and 0 where it
        # matched nothing: index -1 reads the sentinels), built in C.
        tok_src = list(map([*self.src_line, len(self.paths)].__getitem__, self.match))
        self.tok_path = list(map([*self.paths, None].__getitem__, tok_src))
        self.tok_line = list(map([*self.numbers, 0].__getitem__, tok_src))
        self.found: list[int] = [0] * len(self.blocks)
        self.withheld: list[int] = []
        n = len(self.blocks)
        children: list[list[int]] = [[] for _ in range(n)]
        for i, block in enumerate(self.blocks):
            if block.parent >= 0:
                children[block.parent].append(i)
        ranges: list[SourceRange | None] = [None] * n
        for i in range(n - 1, -1, -1):  # children before parents
            ranges[i] = self._range(i, children[i], ranges)
        for i in self.withheld:
            ranges[i] = None
        for i, block in enumerate(self.blocks):
            if block.kind == Kind.CELL:
                ranges[i] = ranges[block.parent] if block.parent >= 0 else None
            elif self.starts[i] == self.ends[i] and ranges[i] is None:
                ranges[i] = self._wordless(i, ranges)
        return ranges

    # -- alignment -------------------------------------------------------------------

    def _align(self) -> None:
        windows = [i for i, b in enumerate(self.blocks) if b.window is not None]
        starts, ends = self.starts, self.ends
        apart = bytearray(len(self.rendered))
        for i in windows:
            apart[starts[i] : ends[i]] = b"\x01" * (ends[i] - starts[i])
        if not windows:
            self._align_pieces(self.rendered, 0, 0, len(self.src))
        else:
            main = [t for t in range(len(self.rendered)) if not apart[t]]
            text = "".join(map(self.rendered.__getitem__, main))
            self._align_pieces(text, main, 0, len(self.src))
        for i in windows:
            a, b = self.blocks[i].window
            lo = bisect_left(self.src_line, a)
            hi = bisect_left(self.src_line, b)
            piece = self.rendered[starts[i] : ends[i]]
            self._align_pieces(piece, starts[i], lo, hi)

    def _align_pieces(self, rendered: str, where: int | list[int], lo: int, hi: int) -> None:
        """Align ``rendered`` with ``src[lo:hi]``; token i stands at ``where[i]``, or at
        ``where + i`` when ``where`` is an offset."""
        match = self.match
        for i, j, n in matching_runs(rendered, self.src[lo:hi]):
            first = lo + j
            if isinstance(where, int):  # contiguous tokens: one slice assignment
                match[where + i : where + i + n] = range(first, first + n)
            else:
                for k in range(n):
                    match[where[i + k]] = first + k

    # -- ranges ----------------------------------------------------------------------

    def _range(self, i: int, kids: list[int], ranges) -> SourceRange | None:
        block = self.blocks[i]
        first, last = self.starts[i], self.ends[i]
        if first == last:
            return None
        tok_path, tok_line = self.tok_path, self.tok_line
        path = None
        numbers: list[int] = []
        title = 0  # words of an included code block's title, on the page's fence line
        if not kids:  # a leaf: slices and sets do the work
            paths = set(tok_path[first:last])
            paths.discard(None)
            if len(paths) > 1:
                path = self._included_code(i, paths)
                if path is None:
                    return None  # spread over several files: unsure
                lines = list(zip(tok_path[first:last], tok_line[first:last], strict=True))
                numbers = self._main_cluster([n for p, n in lines if p == path], path)
                title = sum(1 for p, _ in lines if p is not None and p != path)
            elif paths:
                path = paths.pop()
                numbers = [n for n in tok_line[first:last] if n]
                numbers = self._main_cluster(numbers, path)
        else:
            for t in self._own_tokens(i, kids):
                p = tok_path[t]
                if p is None:
                    continue
                if p != path:
                    if path is not None:
                        return None  # spread over several files: unsure
                    path = p
                numbers.append(tok_line[t])
        found = len(numbers)  # own matches inside the range, before children add theirs
        for k in kids:
            r = ranges[k]
            if r is not None:
                if path is not None and r.path != path:
                    return None
                path = r.path
                numbers.append(r.start)
                numbers.append(r.end)
                found += self.found[k]
        if path is None:
            return None
        start, end = min(numbers), max(numbers)
        # Recall: the share of the block's words found in the range. Children's counts
        # are reused; only when they fall short is every word looked up.
        total = last - first - title
        if found < MIN_RECALL * total:
            found = self._found_slowly(i, path, start, end)
            if found < MIN_RECALL * total:
                return None
        if block.window is not None and block.window[0] < len(self.paths):
            label = block.window[0]  # a footnote: from its `[^label]:` line
            if self.paths[label] == path and self.numbers[label] < start:
                start = self.numbers[label]
        self.found[i] = found
        fitted = self._fit(block, path, start, end, container=bool(kids))
        if fitted is None:
            return None
        if kids and not self._closes_its_block(path, *fitted):
            # It begins with an inner ``///`` block but is more: its range serves its
            # parents, and is not emitted.
            self.withheld.append(i)
        if block.kind == Kind.HTML and block.tag:
            wrapper = self._wrapper(block, path, *fitted)
            if wrapper is not None:
                return wrapper
        return SourceRange(path, *fitted)

    def _closes_its_block(self, path: str, start: int, end: int) -> bool:
        """Whether a range that starts on a ``///`` block's opening line ends on a closing
        line of the same indentation and length: the block itself, or a run of them (a
        tab set). A tab's body that begins with a ``/// tip`` inside it does not."""
        structure = self.structures.get(path)
        lines = self.files.get(path)
        if structure is None or lines is None or start not in structure.slash_close:
            return True
        opening = SLASH_OPEN_RE.match(lines[start - 1])
        closing = SLASH_CLOSE_RE.match(lines[end - 1])
        if opening is None:
            return True
        return closing is not None and closing.group("indent", "slashes") == opening.group(
            "indent", "slashes"
        )

    def _included_code(self, i: int, paths: set[str]) -> str | None:
        """The included file of a code block whose fence, in another file, has a title:
        ``--8<--`` inside ```` ```py title="x.py" ````. The title's words are all on
        the fence's opening line; the code's lines are the included file's."""
        if self.blocks[i].kind != Kind.CODE or len(paths) != 2:
            return None
        first, last = self.starts[i], self.ends[i]
        for fence_path in paths:
            fence_lines = {
                n
                for p, n in zip(self.tok_path[first:last], self.tok_line[first:last], strict=True)
                if p == fence_path
            }
            lines = self.files.get(fence_path)
            if len(fence_lines) != 1 or lines is None:
                continue
            (number,) = fence_lines
            if number <= len(lines) and FENCE_OPEN_RE.match(lines[number - 1]):
                (included,) = paths - {fence_path}
                return included
        return None

    def _wrapper(self, block: RenderedBlock, path: str, start: int, end: int):
        """The lines of an HTML element written around an include: its words are all in
        the included file, its own tag lines (same tag and classes) in the page."""
        k = self._source_index().get((path, start))
        if k is None:
            return None
        k -= 1
        source = self.source
        while k >= 0 and (not source[k].text.strip() or SNIPPET_LINE_RE.match(source[k].text)):
            k -= 1
        if k < 0 or source[k].path in (None, path) or source[k].path not in self.files:
            return None
        opener = source[k]
        found = self._structure(opener.path).opens.get(opener.number)
        if found is None or found[1] != block.tag or found[2] != block.classes:
            return None
        return SourceRange(opener.path, opener.number, found[0])

    def _main_cluster(self, numbers: list[int], path: str) -> list[int]:
        """The matched lines of a leaf block, without stray matches far from the rest.

        Lines belong together when only blank or word-less lines, or lines this block
        also matched, separate them; the group holding most matches wins. The lines
        between are read in the spliced source: an included file's lines spliced in
        between (a tab whose body is an include) separate them too.
        """
        distinct = sorted(set(numbers))
        if len(distinct) < 2 or distinct[-1] - distinct[0] + 1 == len(distinct):
            return numbers
        lines = self._prose_file(path)
        if lines is None:
            return numbers
        where, prose = self._source_index(), self.prose
        groups = [[distinct[0]]]
        for a, b in itertools.pairwise(distinct):
            ia, ib = where.get((path, a)), where.get((path, b))
            # The lines strictly between a and b, as spliced (else as in the file).
            gap = prose[ia + 1 : ib] if ia is not None and ib is not None else lines[a : b - 1]
            if any(WORD_RE.search(text) for text in gap):
                groups.append([])
            groups[-1].append(b)
        if len(groups) == 1:
            return numbers
        weight = {n: numbers.count(n) for n in distinct}
        best = max(groups, key=lambda g: sum(weight[n] for n in g))
        return [n for n in numbers if best[0] <= n <= best[-1]]

    def _prose_file(self, path: str) -> list[str] | None:
        """A file's lines as aligned (blank where the spliced source left them out)."""
        if path not in self.prose_files:
            lines = self.files.get(path)
            prose = [""] * len(lines) if lines is not None else None
            if prose is not None:
                size = len(prose)
                for where, number, text in zip(self.paths, self.numbers, self.prose, strict=True):
                    if where == path and number <= size:
                        prose[number - 1] = text
            self.prose_files[path] = prose
        return self.prose_files[path]

    def _own_tokens(self, i: int, kids: list[int]) -> list[int]:
        starts, ends = self.starts, self.ends
        own, pos = [], starts[i]
        for k in kids:
            own.extend(range(pos, starts[k]))
            pos = max(pos, ends[k])
        own.extend(range(pos, ends[i]))
        return own

    def _found_slowly(self, i: int, path: str, start: int, end: int) -> int:
        """How many of a block's words occur in ``path`` lines ``start..end``."""
        if self._line_start is None:
            self._line_start = list(itertools.accumulate(map(len, self.per_line), initial=0))
        at = self._line_start
        present: set[str] = set()
        for k, (where, number) in enumerate(zip(self.paths, self.numbers, strict=True)):
            if where == path and start <= number <= end:
                present.update(self.src[at[k] : at[k + 1]])
        found = 0
        rendered, tok_path, tok_line = self.rendered, self.tok_path, self.tok_line
        for t in range(self.starts[i], self.ends[i]):
            in_range = tok_path[t] == path and start <= tok_line[t] <= end
            if in_range or rendered[t] in present:
                found += 1
        return found

    def _fit(
        self, block: RenderedBlock, path: str, start: int, end: int, container: bool
    ) -> tuple[int, int] | None:
        """Fit a range to the block's syntax: delimiters, word-less lines, neighbours.

        A code block in a fence is that fence, whatever its attributes; a range never
        cuts a fence or a ``///`` block: one that holds part of it holds all of it.
        A container that starts on a ``///`` line is that block, up to its closing
        line; a leaf there is its title. Returns None when the block's words lie in
        two fences (unsure).
        """
        lines = self.files.get(path)
        if lines is None:
            return start, end
        structure = self.structures.get(path) or self._structure(path)
        kind = block.kind
        if kind == Kind.CODE:
            first, last = structure.fence_of.get(start), structure.fence_of.get(end)
            if first != last:
                # In two fences, or half in one: the renderer read the fences otherwise
                # (an info string it refused, a fence left open): unsure.
                return None
            fence = first
            if fence is not None:
                return fence
            grown = _grow_math(lines, start, end)
            if grown != (start, end):
                return grown
            start, end = _grow_shown(lines, block, start, end, across_blank=True)
            if start > 1 and CODE_LANGUAGE_LINE_RE.match(lines[start - 2]):
                start -= 1  # codehilite's `:::lang` line: not shown, but the block's
            return start, end
        if kind == Kind.HEADING and end < len(lines) and SETEXT_RE.match(lines[end]):
            end += 1
        if kind == Kind.RAW:
            # Over tag lines next to it, up to its own opening and closing tags, not into
            # a neighbour's (<p>..</p> then <p>..</p>, one element each).
            opening = re.compile(r"<" + re.escape(block.tag) + r"\b", re.I) if block.tag else None
            closing = (
                re.compile(r"</" + re.escape(block.tag) + r"\s*>", re.I) if block.tag else None
            )
            while not (opening and opening.search(lines[start - 1])):
                if start == 1 or not _tag_only(lines[start - 2]):
                    break
                start -= 1
            while not (closing and closing.search(lines[end - 1])):
                if end == len(lines) or not _tag_only(lines[end]):
                    break
                end += 1
        if block.tag and structure.opens:
            # From the fences the range starts or ends in: an element around a fence.
            fence_of = structure.fence_of
            a = fence_of[start][0] if start in fence_of else start
            b = fence_of[end][1] if end in fence_of else end
            own = _own_element(lines, structure, block, a, b)
            if own is not None:
                start, end = own
            elif kind == Kind.HTML:
                start, end = _grow_html_tags(lines, start, end, structure)
        elif kind == Kind.HTML:
            start, end = _grow_html_tags(lines, start, end, structure)
        if block.head or block.tail:
            start, end = _grow_shown(lines, block, start, end, across_blank=False)
        if structure.markup and structure.spans:
            root = next(
                (a, b) for a, b in [*structure.spans, (start, end)] if a <= start and end <= b
            )
            start, end = root
        if end < len(lines) and "{" in lines[end] and ATTR_LIST_LINE_RE.match(lines[end]):
            end += 1
        fence_of = structure.fence_of
        if not structure.spans and start not in fence_of and end not in fence_of:
            return start, end  # the common case: nothing to hold whole
        return _hold_whole_blocks(structure, start, end, container)

    def _structure(self, path: str) -> FileStructure:
        found = self.structures.get(path)
        if found is None:
            found = self.structures[path] = FileStructure(self.files[path])
            found.markup = path.lower().endswith(MARKUP_SUFFIXES)
        return found

    def _wordless(self, i: int, ranges) -> SourceRange | None:
        """Place a block without words on the syntax lines between its neighbours."""
        block = self.blocks[i]
        parent = ranges[block.parent] if block.parent >= 0 else None
        if block.kind == Kind.BLOCK:
            # An empty table cell or item: it can only be its parent's single line.
            if parent is not None and parent.start == parent.end:
                return parent
            return None
        prev = next_ = None
        for k in range(i - 1, -1, -1):
            if ranges[k] is not None and not self._encloses(k, i):
                prev = ranges[k]
                break
        for k in range(i + 1, len(self.blocks)):
            if ranges[k] is not None and not self._encloses(i, k):
                next_ = ranges[k]
                break
        if prev is None and next_ is None:
            return None
        # Walk the spliced source between the neighbours: what lies there, in one file
        # and without a gap, is the block's syntax.
        where = self._source_index()
        lo = where.get((prev.path, prev.end), -1) + 1 if prev is not None else 0
        hi = where.get((next_.path, next_.start), len(self.source)) if next_ is not None else None
        if hi is None:
            hi = len(self.source)
        between = [line for line in self.source[lo:hi] if line.text.strip()]
        if parent is not None:
            between = [
                line
                for line in between
                if line.path == parent.path and parent.start <= line.number <= parent.end
            ]
        if not between or len({line.path for line in between}) != 1:
            return None
        path = between[0].path
        lines = self.files.get(path)
        candidate = [line.number for line in between]
        if lines is None or candidate[-1] - candidate[0] + 1 != len(candidate):
            return None
        a, b = candidate[0], candidate[-1]
        body = lines[a - 1 : b]
        if block.kind == Kind.RULE and not (len(body) == 1 and HR_RE.match(body[0])):
            return None
        if block.kind == Kind.IMAGE and not all(IMAGE_RE.search(t) for t in body):
            return None
        fenced = FENCE_RE.match(body[0]) and FENCE_RE.match(body[-1]) and a != b
        if block.kind == Kind.CODE and not fenced:
            return None
        if block.kind == Kind.RAW and not all(_tag_only(t) for t in body):
            return None
        return SourceRange(path, a, b)

    def _source_index(self) -> dict[tuple[str | None, int], int]:
        """(path, line number) -> position in the spliced source."""
        if self._where is None:
            pairs = zip(self.paths, self.numbers, strict=True)
            self._where = dict(zip(pairs, itertools.count()))
        return self._where

    def _encloses(self, outer: int, inner: int) -> bool:
        k = self.blocks[inner].parent
        while k >= 0:
            if k == outer:
                return True
            k = self.blocks[k].parent
        return False


ANCHOR_SPACING = 1024
"""Tokens between the anchors kept for `matching_runs`: an LCS runs in each gap."""


def matching_runs(a: str, b: str) -> list[tuple[int, int, int]]:
    """Runs ``(i, j, n)``, ``a[i:i + n] == b[j:j + n]``, of a common subsequence.

    Close to linear, as patience diff: characters that occur once in each string,
    and next to a neighbour that matches too, are paired; the longest chain of pairs in
    order on both sides anchors the alignment, and an LCS runs only in the gaps
    between anchors kept ~`ANCHOR_SPACING` apart.

    >>> matching_runs("xabcdy", "abqcd")
    [(1, 0, 2), (3, 3, 2)]
    """
    runs: list[tuple[int, int, int]] = []
    pa = pb = 0
    for i, j in [*_anchors(a, b), (len(a), len(b))]:
        runs.extend(_lcs_runs(a, b, pa, i, pb, j))
        pa, pb = i, j
    return runs


def _anchors(a: str, b: str) -> list[tuple[int, int]]:
    """Sparse anchor positions ``(i, j)``, increasing on both sides, with ``a[i] == b[j]``.

    Only a few candidates are looked for in each stretch of ``a``: the anchors kept
    are `ANCHOR_SPACING` apart, so looking at every character would be wasted work.
    """
    if len(a) * len(b) <= ANCHOR_SPACING * ANCHOR_SPACING * 4:
        return []
    counts_b = Counter(b)
    unique = {c for c, n in Counter(a).items() if n == 1 and counts_b.get(c) == 1}
    pairs = []
    size_a, size_b = len(a), len(b)
    for stretch in range(0, size_a, ANCHOR_SPACING // 8):
        for i in range(stretch, min(stretch + 64, size_a)):
            c = a[i]
            if c not in unique:
                continue
            j = b.find(c)
            after = i + 1 < size_a and j + 1 < size_b and a[i + 1] == b[j + 1]
            if after or (i and j and a[i - 1] == b[j - 1]):
                pairs.append((i, j))
                break
    # Longest increasing run of source positions (patience sorting).
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos] = j
            tail_at[pos] = k
        back[k] = tail_at[pos - 1] if pos else -1
    chain = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        chain.append(pairs[k])
        k = back[k]
    chain.reverse()
    kept, last_i, last_j = [], 0, 0
    for i, j in chain:
        if i - last_i >= ANCHOR_SPACING or j - last_j >= ANCHOR_SPACING:
            kept.append((i, j))
            last_i, last_j = i, j
    return kept


def _lcs_runs(a: str, b: str, a0: int, a1: int, b0: int, b1: int) -> list[tuple[int, int, int]]:
    """Matching runs of an LCS of ``a[a0:a1]`` and ``b[b0:b1]``, in whole-string positions;
    beyond `MAX_ALIGN_CELLS`, by overlapping chunks."""
    if a0 >= a1 or b0 >= b1:
        return []
    if a1 - a0 == b1 - b0 and a[a0:a1] == b[b0:b1]:
        return [(a0, b0, a1 - a0)]
    if (a1 - a0) * (b1 - b0) <= MAX_ALIGN_CELLS:
        piece, span = a[a0:a1], b[b0:b1]
        return [
            (a0 + op.src_start, b0 + op.dest_start, op.src_end - op.src_start)
            for op in _opcodes(piece, span)
            if op.tag == "equal"
        ]
    runs = []
    i, j = a0, b0
    while i < a1:
        piece = a[i : min(a1, i + CHUNK_TOKENS)]
        span = b[j : min(b1, j + 4 * CHUNK_TOKENS)]
        keep = len(piece) if i + len(piece) >= a1 else len(piece) // 2
        last = None
        for op in _opcodes(piece, span):
            if op.tag != "equal" or op.src_start >= keep:
                continue
            n = min(op.src_end, keep) - op.src_start
            runs.append((i + op.src_start, j + op.dest_start, n))
            last = j + op.dest_start + n - 1
        if last is not None:
            j = last + 1
        i += keep
    return runs


def _grow_math(lines: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """Extend a math block's range to its ``$$`` or ``\\[ ... \\]`` delimiter lines.

    >>> _grow_math(["$$", "E = mc^2", "$$"], 2, 2)
    (1, 3)
    """
    above = start - 1
    below = end + 1
    opens = above >= 1 and MATH_DELIMITER_RE.match(lines[above - 1])
    closes = below <= len(lines) and MATH_DELIMITER_RE.match(lines[below - 1])
    if opens and closes:
        return above, below
    return start, end


def _grow_html_tags(
    lines: Sequence[str], start: int, end: int, structure: FileStructure | None = None
) -> tuple[int, int]:
    """Extend a range to the tag-only lines that open and close it, across blank lines,
    or to the ``///`` lines of the block that holds only it.

    >>> _grow_html_tags(["<div markdown>", "", "Text", "", "</div>"], 3, 3)
    (1, 5)
    >>> _grow_html_tags(["/// html | div", "Text", "///"], 2, 2, FileStructure(
    ...     ["/// html | div", "Text", "///"]))
    (1, 3)
    """
    above = start - 1
    while above >= 1 and not lines[above - 1].strip():
        above -= 1
    below = end + 1
    while below <= len(lines) and not lines[below - 1].strip():
        below += 1
    if structure is not None and structure.slash_close.get(above) == below:
        return above, below
    opens = above >= 1 and _tag_only(lines[above - 1]) and lines[above - 1].lstrip()[:2] != "</"
    closes = below <= len(lines) and _tag_only(lines[below - 1]) and "</" in lines[below - 1]
    if opens and closes:
        return above, below
    return start, end


def _own_element(
    lines: Sequence[str], structure: FileStructure, block: RenderedBlock, start: int, end: int
) -> tuple[int, int] | None:
    """The lines of the block's own HTML element: the one whose opening tag (same tag,
    same classes) is first on the range's first line, or alone on the line above it
    (blank lines between), and closes at or after the range's end.

    >>> src = ['<figure markdown>', '', 'Image', '<figcaption>', 'Text', '</figcaption>',
    ...        '</figure>']
    >>> b = RenderedBlock(-1, 0, 2, Kind.HTML, tag="figure")
    >>> _own_element(src, FileStructure(src), b, 3, 6)
    (1, 7)
    """
    above = start - 1
    while above >= 1 and not lines[above - 1].strip():
        above -= 1
    for line in (start, above):
        found = structure.opens.get(line)
        if found is None or found[1] != block.tag or found[2] != block.classes:
            continue
        if found[0] >= end and (line == start or _tag_only(lines[line - 1])):
            return line, found[0]
    return None


def _hold_whole_blocks(
    structure: FileStructure, start: int, end: int, container: bool = True
) -> tuple[int, int]:
    """Extend a range that holds part of a fence or ``///`` block to all of it.

    A range may lie inside such a block (a paragraph in an admonition); one that starts
    before it and ends in it, or starts in it and ends after it, holds it whole, and so
    does a container that starts on its opening line (a leaf there is its title).

    >>> s = FileStructure(["Text", "```", "code", "```", "/// tip", "Body", "///"])
    >>> _hold_whole_blocks(s, 1, 3), _hold_whole_blocks(s, 3, 6), _hold_whole_blocks(s, 6, 6)
    ((1, 4), (2, 7), (6, 6))
    >>> _hold_whole_blocks(s, 5, 6), _hold_whole_blocks(s, 5, 5, container=False)
    ((5, 7), (5, 5))
    """
    fence_of = structure.fence_of
    while True:
        before = (start, end)
        fence = fence_of.get(start)
        if fence is not None and fence[0] < start and end >= fence[1]:
            start = fence[0]
        fence = fence_of.get(end)
        if fence is not None and end < fence[1] and start <= fence[0]:
            end = fence[1]
        if structure.spans:
            block = structure.span_around(end)
            if block is not None and (start < block[0] or (start == block[0] and container)):
                end = block[1]
            block = structure.span_around(start)
            if block is not None and block[0] < start and end >= block[1]:
                start = block[0]
        if (start, end) == before:
            return start, end


def _grow_shown(
    lines: Sequence[str], block: RenderedBlock, start: int, end: int, across_blank: bool
) -> tuple[int, int]:
    """Extend a range over the adjacent word-less lines that the block shows as text
    (a code block's closing ``]``, a literal ``///``), in order.

    >>> b = RenderedBlock(-1, 0, 1, Kind.CODE, tail=("]", ")"))
    >>> _grow_shown(["f(", "    [x", "    ]", "", ")", "]"], b, 1, 2, across_blank=True)
    (1, 5)
    """
    k = end  # 0-based index of the line after the range
    for want in block.tail:
        while across_blank and k < len(lines) and not lines[k].strip():
            k += 1
        if k >= len(lines) or not _shows(lines[k], want):
            break
        end = k = k + 1
    k = start - 2
    for want in reversed(block.head):
        while across_blank and k >= 0 and not lines[k].strip():
            k -= 1
        if k < 0 or not _shows(lines[k], want):
            break
        start = k + 1
        k -= 1
    return start, end


def _shows(line: str, want: str) -> bool:
    """Whether a source line is the word-less rendered line ``want`` (indentation and
    block-quote marks aside)."""
    text = " ".join(line.split())
    return text == want or (text.endswith(want) and not text[: -len(want)].strip(" >"))


def _tag_only(line: str) -> bool:
    """A non-blank line made only of HTML tags and comments.

    >>> _tag_only('<div class="grid" markdown>'), _tag_only("</div>"), _tag_only("<b>x</b>")
    (True, True, False)
    """
    return bool(line.strip()) and not WORD_RE.search(TAG_RE.sub("", line))


def _code(n: int) -> str:
    """A distinct character for word number ``n`` (skipping the surrogate range)."""
    n += 0x100
    if n >= 0xD800:
        n += 0x800
    return chr(n)


def _encode(items: Sequence[str], codes: dict[str, str]) -> str:
    return "".join(codes.setdefault(t, _code(len(codes))) for t in items)
