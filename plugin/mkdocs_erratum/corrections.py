"""Where a reported block is now, and what the file becomes: pure functions over text.

A report names lines ``start..end`` of a file as it was when the site was built, with
the hash of their text. `relocate_lines` finds them again in the file as it is now (the
same place, moved, or by similarity), `apply_blocks` replaces the found lines and keeps
the rest byte for byte, and `split_lines` is the one rule for what a line is (no
byte-order mark; ``\r\n``, ``\r`` and ``\n`` all end a line), used by ``erratum fix``,
``erratum list``, the service and every forge alike. Whether a change is allowed is
the gate's decision (`mkdocs_erratum.gate`), not this module's.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from .report import ReportBlock, text_hash

FUZZY_THRESHOLD = 90.0
"""Least similarity (rapidfuzz ``fuzz.ratio``, 0-100) for a fuzzy relocation."""
TIE_MARGIN = 1.0
"""A second candidate within this many points of the best makes the match ambiguous."""
FUZZY_MAX_LINES = 20_000
"""Files longer than this are only searched exactly (fuzzy search would be slow)."""
SAME, MOVED, FUZZY = "same", "moved", "fuzzy"
ALREADY_FIXED, AMBIGUOUS, GONE = "already_fixed", "ambiguous", "gone"


class OverlapError(ValueError):
    """Two reported ranges of one file overlap."""


@dataclass(frozen=True)
class Relocation:
    """Where a reported block is now.

    ``how`` is ``same``, ``moved`` or ``fuzzy`` (``start``/``end`` are the lines to
    replace, 1-based inclusive), or ``already_fixed``, ``ambiguous`` or ``gone`` (no
    lines; ``candidates`` lists the competing start lines of an ambiguous match).
    """

    how: str
    start: int = 0
    end: int = 0
    score: float = 0.0
    candidates: tuple[int, ...] = ()

    @property
    def found(self) -> bool:
        """Whether there are lines to replace."""
        return self.how in (SAME, MOVED, FUZZY)


def relocate_lines(
    lines: Sequence[str],
    start: int,
    end: int,
    original_sha256: str,
    original: str | None = None,
    replacement: str | None = None,
    *,
    built_lines: Sequence[str] | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> Relocation:
    """Find the reported lines ``start..end`` again in ``lines`` (a file split on newlines).

    Args:
        lines: the current file's lines, without line ends.
        start, end: where the lines were when the site was built (1-based, inclusive).
        original_sha256: `report.text_hash` of the original lines.
        original: the original text, when the report carries it (enables fuzzy search).
        replacement: the reader's text (to notice a fix already made).
        built_lines: the file's lines at the commit the site was built from, if known.
        threshold: least fuzzy similarity (0-100).

    >>> relocate_lines(["a", "b", "c"], 2, 2, text_hash("b"))
    Relocation(how='same', start=2, end=2, score=100.0, candidates=())
    >>> relocate_lines(["x", "a", "b", "c"], 2, 2, text_hash("b")).start
    3
    """
    count = end - start + 1
    if built_lines is not None:
        # The diff knows which copy of a repeated text was reported: it goes first.
        mapped = map_lines(built_lines, lines, start, end)
        if mapped and text_hash(_join(lines, *mapped)) == original_sha256:
            return Relocation(SAME if mapped == (start, end) else MOVED, *mapped, 100.0)
    if start >= 1 and end <= len(lines) and text_hash(_join(lines, start, end)) == original_sha256:
        return Relocation(SAME, start, end, 100.0)
    exact = [
        i
        for i in range(1, len(lines) - count + 2)
        if text_hash(_join(lines, i, i + count - 1)) == original_sha256
    ]
    if len(exact) == 1:
        return Relocation(MOVED, exact[0], exact[0] + count - 1, 100.0)
    if len(exact) > 1:
        return Relocation(AMBIGUOUS, candidates=tuple(exact))
    if replacement is not None and _contains_lines(lines, replacement):
        return Relocation(ALREADY_FIXED, score=100.0)
    if original is None or len(lines) > FUZZY_MAX_LINES:
        return Relocation(GONE)
    scored: list[tuple[float, int, int]] = []
    for size in sorted({max(1, count - 1), count, count + 1}):
        for i in range(1, len(lines) - size + 2):
            window = _join(lines, i, i + size - 1)
            score = fuzz.ratio(original, window, score_cutoff=threshold - TIE_MARGIN)
            if score:
                scored.append((score, i, i + size - 1))
    if not scored:
        return Relocation(GONE)
    scored.sort(key=lambda s: (-s[0], abs(s[1] - start), s[2] - s[1]))
    best, a, b = scored[0]
    if best < threshold:
        return Relocation(GONE)
    rivals = [s for s in scored[1:] if s[0] >= best - TIE_MARGIN and (s[2] < a or s[1] > b)]
    if rivals:
        return Relocation(
            AMBIGUOUS, score=best, candidates=tuple(sorted({a, *(s[1] for s in rivals)}))
        )
    if replacement is not None:
        window = _join(lines, a, b)
        if fuzz.ratio(replacement, window) > best:
            return Relocation(ALREADY_FIXED, score=best)
    return Relocation(FUZZY, a, b, best)


def relocate_block(
    lines: Sequence[str], block: ReportBlock, built_lines: Sequence[str] | None = None
) -> Relocation:
    """`relocate_lines` for one reported block."""
    return relocate_lines(
        lines,
        block.start,
        block.end,
        block.original_sha256,
        block.original,
        block.replacement,
        built_lines=built_lines,
    )


def map_lines(
    old_lines: Sequence[str], new_lines: Sequence[str], start: int, end: int
) -> tuple[int, int] | None:
    """Where lines ``start..end`` of ``old_lines`` are in ``new_lines``, if untouched.

    >>> map_lines(["a", "b", "c"], ["new", "a", "b", "c"], 2, 3)
    (3, 4)
    >>> map_lines(["a", "b", "c"], ["a", "B", "c"], 2, 2) is None
    True
    """
    matcher = difflib.SequenceMatcher(None, list(old_lines), list(new_lines), autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal" and i1 <= start - 1 and end <= i2:
            return start + j1 - i1, end + j1 - i1
    return None


def _join(lines: Sequence[str], start: int, end: int) -> str:
    return "\n".join(lines[start - 1 : end])


def _contains_lines(lines: Sequence[str], text: str) -> bool:
    wanted = text.replace("\r\n", "\n").split("\n")
    size = len(wanted)
    return any(list(lines[i : i + size]) == wanted for i in range(len(lines) - size + 1))


def apply_blocks(text: str, edits: Sequence[tuple[Relocation, str]]) -> str:
    """Replace each relocated range with its text; the rest of ``text`` is kept byte for byte.

    Line ends stay those of the file (CRLF when it has them); a byte-order mark stays.

    Raises:
        OverlapError: when two ranges overlap.

    >>> apply_blocks("a\\nb\\nc\\n", [(Relocation("same", 2, 2), "B")])
    'a\\nB\\nc\\n'
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    ordered = sorted(edits, key=lambda e: e[0].start)
    for (prev, _), (cur, _) in itertools.pairwise(ordered):
        if cur.start <= prev.end:
            raise OverlapError(f"two reported blocks overlap (lines {cur.start}-{prev.end})")
    for relocation, replacement in reversed(ordered):
        new = replacement.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines[relocation.start - 1 : relocation.end] = new
    return bom + newline.join(lines)


def block_diff(block: ReportBlock, start: int | None = None) -> str:
    """The change ``block`` asks for as a unified diff, numbered as lines of its file.

    ``start``: where the lines are now (default: where they were reported). A block
    without an original or a replacement gives only its header.

    >>> from .report import ReportBlock
    >>> print(block_diff(ReportBlock("docs/a.md", 3, 3, "teh cat", "", "the cat")))
    --- a/docs/a.md
    +++ b/docs/a.md
    @@ -3 +3 @@
    -teh cat
    +the cat
    """
    start = block.start if start is None else start
    old = (block.original or "").split("\n") if block.original is not None else []
    new = block.replacement.split("\n") if block.replacement is not None else old
    header = [f"--- a/{block.path}", f"+++ b/{block.path}"]
    if not old and not new:
        return "\n".join(header)

    def span(count: int) -> str:
        return f"{start}" if count == 1 else f"{start},{count}"

    lines = [*header, f"@@ -{span(len(old))} +{span(len(new))} @@"]
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [" " + line for line in old[i1:i2]]
        else:
            lines += ["-" + line for line in old[i1:i2]] + ["+" + line for line in new[j1:j2]]
    return "\n".join(lines)


def report_diff(report) -> str:
    """Every block of a `mkdocs_erratum.report.Report` as one diff (`block_diff`)."""
    return "\n".join(block_diff(block) for block in report.blocks)


def split_lines(text: str) -> list[str]:
    """A file's lines as reports count them (no BOM, any line end).

    >>> split_lines("\\ufeffa\\r\\nb")
    ['a', 'b']
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


__all__ = [
    "ALREADY_FIXED",
    "AMBIGUOUS",
    "FUZZY",
    "FUZZY_MAX_LINES",
    "FUZZY_THRESHOLD",
    "GONE",
    "MOVED",
    "SAME",
    "TIE_MARGIN",
    "OverlapError",
    "Relocation",
    "apply_blocks",
    "block_diff",
    "map_lines",
    "relocate_block",
    "relocate_lines",
    "report_diff",
    "split_lines",
]
