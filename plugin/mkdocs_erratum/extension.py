"""Python-Markdown extension that annotates whole pages with their source lines.

The MkDocs plugin announces each page with `SourceMapExtension.expect_page` before
converting it; under Zensical, which runs no plugin, the extension finds the page in
Zensical's rendering context instead (see `mkdocs_erratum.zensical_host`). Only the
conversion whose input is exactly that page's text is annotated: toc's heading
fragments, mkdocstrings' or markdown-exec's nested conversions are left alone. The
extension records what the include extension (pymdownx.snippets) read, walks the final
element tree into a token stream, lets `mkdocs_erratum.sourcemap` align it, and sets
``data-erratum-src`` on elements (or on the first tag of stashed raw HTML and code
blocks). It never changes
anything else, and a failure leaves the page unannotated with one warning.
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
import weakref
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markdown import util
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.serializers import _escape_attrib_html
from markdown.treeprocessors import Treeprocessor

from mkdocs_erratum.repository import RepositoryFacts
from mkdocs_erratum.sourcemap import (
    WORD_RE,
    Kind,
    RenderedBlock,
    SourceRange,
    footnote_windows,
    map_blocks,
    splice_source,
    split_lines,
    wordless_edge,
)

if TYPE_CHECKING:
    from mkdocs_erratum.page_worker import PageWorker

ATTRIBUTE = "data-erratum-src"

# Priorities: claim before any other preprocessor touches the text; capture right after
# pymdownx.snippets (32) has expanded includes (Zensical's include-markdown tags at 36 and
# its macros at 35 run before it, its include extension replaces "snippet" at 32); annotate
# after inline (20), toc (5) and attr_list (8) have finished the tree, before MkDocs'
# relpath (0) runs.
CLAIM_PRIORITY = 1000
CAPTURE_PRIORITY = 31.5
ANNOTATE_PRIORITY = 4

BLOCK_TAGS = frozenset(
    {
        *("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr", "th", "td"),
        *("blockquote", "pre", "table", "ul", "ol", "dl", "hr", "details", "summary"),
        *("figure", "figcaption", "div", "section", "article", "aside", "header", "footer"),
        *("caption", "address", "center", "fieldset", "main", "nav"),
    }
)
HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
TRANSPARENT_CLASSES = frozenset({"footnote"})
"""Wrappers whose children do not sit together in the source: not blocks themselves.
(Alternate-style tab wrappers never reach the walker: their children are interleaved.)"""
HTML_CONTAINERS = frozenset(
    {"div", "section", "article", "aside", "figure", "header", "footer", "nav", "main"}
)
GENERATED_CONTAINER_CLASSES = frozenset(
    {"admonition", "tabbed-set", "tabbed-block", "tabbed-content", "highlight", "arithmatex"}
)
"""Classes of containers made by extensions from Markdown syntax, not written as HTML."""
GENERATED_CLASSES = frozenset({"toc", "headerlink", "footnote-backref", "footnote-ref"})
"""Elements whose text no source line holds: left out of the token stream."""
SKIP_TAGS = frozenset({"script", "style", "template", "input"})

_CLOSES_PARAGRAPH = frozenset(
    {"address", "article", "aside", "blockquote", "details", "dialog", "div", "dl"}
    | {"fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4"}
    | {"h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol", "p", "pre"}
    | {"search", "section", "summary", "table", "ul"}
)
"""Elements whose start tag closes an open <p> (HTML's parsing rules)."""
_SHORTCODE_RE = re.compile(r":[a-z0-9]+:")
"""An emoji's title, its shortcode (``:cocktail:``), when the source map keeps it in the
source's words: one with ``-``, ``_`` or ``+`` (``:smile_cat:``, icons) is left out of
them (`sourcemap.HIDDEN_INLINE_RE`), and so out of the rendered words too."""
STX = util.STX
_PLACEHOLDER_RE = re.compile(util.HTML_PLACEHOLDER % r"(\d+)")
_ESCAPE_RE = re.compile(util.STX + r"(\d+)" + util.ETX)
_OTHER_PLACEHOLDER_RE = re.compile(util.STX + "[^" + util.ETX + "]*" + util.ETX)
_BLOCK_HTML_TAG = (  # p, div, dl, dt, dd, li, ul, ol, tr, td, th, table, thead, tbody, ...
    r"</?(?:p|d(?:iv|[ltd])|li|[uo]l|t(?:[rdh]|able|head|body)|pre|[bh]r|h[1-6]|blockquote"
    r"|s(?:ection|ummary)|details|fig(?:ure|caption))\b[^>]*>"
)
_BLOCK_HTML_TAG_RE = re.compile(_BLOCK_HTML_TAG, re.I)
_LOWER_BLOCK_HTML_TAG_RE = re.compile(_BLOCK_HTML_TAG)
_SHORT_HTML = 400
_FOLDED_APART = ("\u0131", "\u017f")
"""Letters that `re.I` matches with an ASCII letter but ``str.lower`` keeps (ı, ſ)."""
_ANY_TAG_RE = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
_LINENOS_RE = re.compile(
    r'<td class="linenos">.*?</td>|<span class="linenos"[^>]*>.*?</span>', re.S
)
_FIRST_TAG_RE = re.compile(r"\s*<([A-Za-z][\w:.-]*)")
_CODE_HTML_RE = re.compile(
    r'\s*<(?:pre\b|(?:div|table)\b[^>]*class="[^"]*(?:highlight|hilite))', re.I
)
_CLASS_ATTR_RE = re.compile(r"""[^>]*?\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MAX_STASH_DEPTH = 20
_NO_CLASSES: frozenset[str] = frozenset()
_VOID_TAGS = frozenset(
    {"area", "br", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class PageSourceMap:
    """What the extension learnt about one rendered page."""

    path: str | None
    """The page's Markdown file relative to the repository root."""
    files: dict[str, list[str]] = field(default_factory=dict)
    """Every file whose lines the page's attributes name: path -> lines as committed."""
    ranges: list[tuple[str, int, int]] = field(default_factory=list)
    """Every (path, first line, last line) emitted on the page, in document order."""
    file_texts: dict[str, str] = field(default_factory=dict)
    """What `SourceMapExtension.page_texts` made of ``files`` and ``ranges``, if anything."""

    def add(self, path: str, start: int, end: int, files: dict[str, list[str]]) -> None:
        """Record the range emitted next (``files``: every file's lines by path)."""
        self.ranges.append((path, start, end))
        if path not in self.files:
            self.files[path] = files[path]


@dataclass
class _PageState:
    abs_path: str
    path: str | None
    markdown: str
    converted: list[str] | None = None
    included: dict[str, list[str]] = field(default_factory=dict)
    repository: RepositoryFacts | None = None
    """The host's repository when it is not the extension's own (Zensical)."""
    marked: bool = False
    """Whether the page carries `zensical_host.PAGE_ATTRIBUTE` (its HTML is cached)."""


class SourceMapExtension(Extension):
    """Adds ``data-erratum-src`` to the blocks of whole pages announced by `expect_page`
    (or, under Zensical, named by its rendering context).

    Listed under ``markdown_extensions`` (``erratum_sourcemap``), it takes the options of
    the plugin: ``enabled`` and ``sourcemap_enabled`` are honoured here, the others are
    read from the site configuration by ``erratum assets``, which checks them all.
    """

    def __init__(self, repository: RepositoryFacts | None = None, logger=None, **options):
        self.config = {}
        super().__init__()
        self.options = options
        self.repository = repository or RepositoryFacts(base_dir=os.getcwd())
        self.log = logger or logging.getLogger(__name__)
        self.worker: PageWorker | None = None
        """Set by a host that writes pages after converting them all (MkDocs): pages are
        then aligned by it, and their attributes put in by `finish_page`."""
        self.page_texts: Callable[[dict, list], dict[str, str]] | None = None
        """Set by a host that makes something of each page's files and ranges (MkDocs:
        the widget's source JSON, `widget.source_texts`): a module's function, run by
        the worker after mapping the page; its result is `PageSourceMap.file_texts`."""
        self.results: dict[str, PageSourceMap] = {}
        self._deferred: dict[str, _DeferredPage] = {}
        self._pending = f"erratum-pending-{secrets.token_hex(8)}-"
        """What this build's placeholders start with (then the page's number, a dash and
        the place's position)."""
        self._pending_re = re.compile(f' {ATTRIBUTE}="{self._pending}' + r'\d+-\d+"')
        self._deferred_pages = 0
        self._expected: _PageState | None = None
        self._claims: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._watched: weakref.WeakSet = weakref.WeakSet()

    # -- API for the host -------------------------------------------------------------

    def expect_page(self, abs_src_path: str, markdown: str) -> None:
        """Announce that ``markdown`` (from ``abs_src_path``) is the next page to convert."""
        path = self.repository.relative_path(abs_src_path)
        self._expected = _PageState(abs_src_path, path, markdown)

    def page_result(self, abs_src_path: str) -> PageSourceMap | None:
        """The source map of a page rendered in this build, or None (also while the
        worker still aligns it: `finish_page` first)."""
        return self.results.get(abs_src_path)

    def is_pending(self, abs_src_path: str) -> bool:
        """Whether the page was handed to the worker and is not finished yet."""
        return abs_src_path in self._deferred

    def finish_page(self, abs_src_path: str, *texts: str) -> list[str]:
        """Put a page's attributes into ``texts`` (its HTML as it is now: its content, and
        the whole page when it is already rendered), once the worker has aligned it; a page
        aligned when converted, or finished before, comes back unchanged."""
        deferred = self._deferred.pop(abs_src_path, None)
        if deferred is None:
            return list(texts)
        try:
            result, values = deferred.finish()
        except Exception as exc:  # never break a user's build over the source map
            self._warn_unmapped(deferred.path, exc)
            result, values = None, {}
        if result is not None:
            self.results[abs_src_path] = result
        return [deferred.fill(text, values) for text in texts]

    def without_placeholders(self, html: str) -> str:
        """``html`` without any placeholder of this build that is still in it: a copy of
        some page's content taken before it was finished (by another plugin, say) gets no
        attribute rather than a wrong one."""
        return self._pending_re.sub("", html) if self._pending in html else html

    def forget_pages(self) -> None:
        """Drop per-build state (called at the end of every build)."""
        self.results.clear()
        self._deferred.clear()
        self._expected = None

    # -- Python-Markdown ------------------------------------------------------------

    def extendMarkdown(self, md):
        if self.options.get("enabled") is False or self.options.get("sourcemap_enabled") is False:
            return
        md.registerExtension(self)
        md.preprocessors.register(_Claim(md, self), "erratum_claim", CLAIM_PRIORITY)
        md.preprocessors.register(_Capture(md, self), "erratum_capture", CAPTURE_PRIORITY)
        md.treeprocessors.register(_Annotate(md, self), "erratum_annotate", ANNOTATE_PRIORITY)

    def _claim(self, md, state: _PageState) -> None:
        self._claims[md] = state
        # Looked up now, not in extendMarkdown: an extension listed after this one may
        # still replace "snippet" (Zensical's include-markdown does).
        snippets = md.preprocessors["snippet"] if "snippet" in md.preprocessors else None  # noqa: SIM401 (a Registry has no get)
        if snippets is not None and snippets not in self._watched:
            self._watched.add(snippets)
            self._watch_snippets(md, snippets)

    def _host_page(self, md, lines: list[str]) -> _PageState | None:
        """The page Zensical is converting, when ``lines`` are exactly its file's text."""
        from mkdocs_erratum import zensical_host  # a Zensical page's: loaded for it

        page = zensical_host.rendered_page(md)
        if page is None:
            return None
        text = "\n".join(lines)
        try:
            with open(page.abs_src_path, "rb") as fh:
                on_disk = fh.read()
        except OSError:
            return None
        if not zensical_host.is_page_text("\n".join(_decode_lines(on_disk)), text):
            return None  # not the page itself (a nested conversion), or unsure: no lines
        repository = zensical_host.repository_for(page, zensical_host.context_config(md))
        path = repository.relative_path(page.abs_src_path)
        return _PageState(page.abs_src_path, path, text, repository=repository, marked=True)

    def _watch_snippets(self, md, snippets) -> None:
        """Record every file pymdownx.snippets reads while converting a claimed page."""
        read_lines = getattr(snippets, "read_lines", None)
        claims = self._claims

        def record(path, lines) -> None:
            state = claims.get(md)
            if state is not None:
                repository = state.repository or self.repository
                rel = repository.relative_path(os.path.abspath(path))
                if rel is not None and rel not in state.included:
                    committed = repository.committed_text(rel)
                    if committed is None and lines is None:
                        with open(path, encoding=snippets.encoding) as fh:
                            text = fh.read()
                        lines = text.split("\n") if text else []
                    state.included[rel] = (
                        _decode_lines(committed) if committed is not None else list(lines)
                    )

        if read_lines is None:
            # pymdown-extensions before 13 (the last for Python 3.10) read an included file
            # inside parse_snippets, which gets its name: the whole file is read again.
            parse = getattr(snippets, "parse_snippets", None)
            if parse is None:
                return

            def recording_parse(lines, file_name=None, is_url=False, *args, **kwargs):
                if file_name and not is_url:
                    record(file_name, None)
                return parse(lines, file_name, is_url, *args, **kwargs)

            snippets.parse_snippets = recording_parse
            return

        def recording_read_lines(path, *args, **kwargs):
            lines = read_lines(path, *args, **kwargs)
            record(path, lines)
            return lines

        snippets.read_lines = recording_read_lines

    def _annotate(self, md, root: etree.Element) -> None:
        state = self._claims.pop(md, None)
        if state is None or state.path is None:
            return
        try:
            repository = state.repository or self.repository
            if self.worker is not None and not state.marked:
                token = f"{self._pending}{self._deferred_pages}-"
                self._deferred_pages += 1
                self._deferred[state.abs_path] = _defer_page(
                    md, root, state, repository, self.worker, token, self.page_texts
                )
                return
            result = _annotate_page(md, root, state, repository)
            if state.marked and result.ranges:
                from mkdocs_erratum import zensical_host

                _mark_page(md, root, zensical_host.page_marker(state.path, result.files))
        except Exception as exc:  # never break a user's build over the source map
            self._warn_unmapped(state.path, exc)
            return
        self.results[state.abs_path] = result

    def _warn_unmapped(self, path: str | None, exc: Exception) -> None:
        self.log.warning(
            "Could not map page '%s' to its Markdown source (%s: %s); "
            "it is left without source lines.",
            path,
            type(exc).__name__,
            exc,
        )


class _Claim(Preprocessor):
    def __init__(self, md, ext: SourceMapExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        expected = self.ext._expected
        if expected is not None and "\n".join(lines) == expected.markdown:
            self.ext._expected = None
            self.ext._claim(self.md, expected)
        elif expected is None and self.md not in self.ext._claims:
            found = self.ext._host_page(self.md, lines)
            if found is not None:
                self.ext._claim(self.md, found)
        return lines


class _Capture(Preprocessor):
    def __init__(self, md, ext: SourceMapExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        state = self.ext._claims.get(self.md)
        if state is not None:
            state.converted = list(lines)
        return lines


class _Annotate(Treeprocessor):
    def __init__(self, md, ext: SourceMapExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        self.ext._annotate(self.md, root)


def _annotate_page(md, root, state: _PageState, repository: RepositoryFacts) -> PageSourceMap:
    source, files = _page_source(state, repository)
    walker = _walk_page(md, root, source)
    ranges = map_blocks(source, files, walker.texts, walker.blocks)
    return _set_attributes(md, state.path, walker, ranges, files)


class _DeferredPage:
    """A page converted with placeholders where its attributes may go, while the worker
    maps it: every element that can be a block's (see `_may_carry`) and every stashed
    block that has a first tag gets ``data-erratum-src="TOKEN-POSITION"``, its position
    in `walk_and_map`'s numbering (TOKEN: the build's prefix and the page's number)."""

    def __init__(
        self, md, root: etree.Element, converter: _Converter, path: str, files, ranges, token
    ) -> None:
        self.path = path
        self.files = files
        self.ranges = ranges
        self.token = token
        self.prefix = f' {ATTRIBUTE}="{self.token}'
        self.places: set[int] = set()
        """The positions that hold a token."""
        stash = md.htmlStash.rawHtmlBlocks
        position = -1
        for position, el in enumerate(root.iter()):
            if position and _may_carry(el, converter):
                el.set(ATTRIBUTE, self.token + str(position))
                self.places.add(position)
        first = position + 1
        for index in range(len(stash)):
            if _stash_attribute(stash, index, self.token + str(first + index)):
                self.places.add(first + index)

    def finish(self) -> tuple[PageSourceMap, dict[int, str]]:
        """The page's source map, and each annotated place's value (escaped)."""
        result = PageSourceMap(self.path)
        values: dict[int, str] = {}
        places, files = self.places, self.files
        found, texts = self.ranges()
        for position, value, path, start, end in found:
            if position in places:
                values[position] = value
                result.add(path, start, end, files)
        if len(values) == len(found):  # else made of ranges that were not all emitted
            result.file_texts = texts or {}
        return result, values

    def fill(self, text: str, values: dict[int, str]) -> str:
        """``text`` with each token replaced by its value, or removed when it has none.

        Split on the attribute, not a regular expression: this runs over every page's
        whole HTML, twice (the page and its content), in a third of the time."""
        parts = text.split(self.prefix)
        if len(parts) == 1:
            return text
        out = [parts[0]]
        for part in parts[1:]:
            end = part.find('"')
            found = values.get(int(part[:end])) if part[:end].isdigit() else None
            if found is not None:
                out.append(f' {ATTRIBUTE}="{found}"')
            out.append(part[end + 1 :])
        return "".join(out)


def _may_carry(el: etree.Element, converter: _Converter) -> bool:
    """Whether the walker may make ``el`` a block's element: a block tag or a tab's label,
    except a paragraph that only holds a stashed block (the raw HTML postprocessor
    replaces that paragraph, which must then have no attribute)."""
    tag = el.tag
    if tag == "label":
        return True
    if tag not in BLOCK_TAGS:
        return False
    return tag != "p" or _stashed_block(el, converter.stash, converter.block_level) is None


def _stashed_block(el: etree.Element, stash: list, block_level: list[bool]) -> int | None:
    """The stash index of a paragraph that only holds a block of raw HTML or code."""
    if len(el) or not el.text or el.text[0] != util.STX:
        return None
    m = _PLACEHOLDER_RE.fullmatch(el.text)
    if not m:
        return None
    index = int(m.group(1))
    if index >= len(stash) or not isinstance(stash[index], str):
        return None
    return index if block_level[index] else None


def _defer_page(
    md,
    root,
    state: _PageState,
    repository: RepositoryFacts,
    worker: PageWorker,
    token: str,
    texts_of: Callable | None,
) -> _DeferredPage:
    """Hand the page to the worker (which maps it in this process when it cannot take it:
    a tree that does not pickle, say), with ``token`` in its placeholders. The worker
    splices the source too (only the files' lines are read here), and runs ``texts_of``
    (`SourceMapExtension.page_texts`) on the page's files and ranges."""
    files = _page_files(state, repository)
    converter = _Converter.of(md)
    splice = (state.path, _converted(state), state.included)
    ranges = worker.submit(walk_and_map, _flat_tree(root), converter, splice, files, texts_of)
    return _DeferredPage(md, root, converter, state.path, files, ranges, token)


def _flat_tree(root: etree.Element) -> tuple[list, ...]:
    """The tree as five lists, one item per element in document order: its tag,
    attributes, text, tail and number of children. Pickled five times faster than the
    elements, and no object is made per element (a tuple each kept the garbage collector
    busy)."""
    elements = list(root.iter())
    return (
        [el.tag for el in elements],
        [el.attrib for el in elements],
        [el.text for el in elements],
        [el.tail for el in elements],
        [len(el) for el in elements],
    )


def _tree_of(flat: tuple[list, ...]) -> etree.Element:
    """The tree that `_flat_tree` flattened."""
    tags, attribs, texts, tails, sizes = flat
    elements = []
    for tag, attrib, text, tail in zip(tags, attribs, texts, tails, strict=True):
        el = etree.Element(tag, attrib)
        el.text, el.tail = text, tail
        elements.append(el)
    # Each element's children follow it: a stack of [element, children still to come];
    # an element leaves it once its last child is there (that child's own children go
    # to that child).
    stack: list[list] = []
    for el, size in zip(elements, sizes, strict=True):
        if stack:
            parent = stack[-1]
            parent[0].append(el)
            parent[1] -= 1
            if not parent[1]:
                stack.pop()
        if size:
            stack.append([el, size])
    return elements[0]


def walk_and_map(
    flat: tuple[list, ...],
    converter: _Converter,
    splice: tuple,
    files: dict[str, list[str]],
    texts_of: Callable | None = None,
) -> tuple[list[tuple[int, str, str, int, int]], dict[str, str] | None]:
    """A page's ranges (its tree flattened by `_flat_tree`), in the worker: each as its
    place's position (counted over the tree's elements in document order, ``root.iter()``,
    then over the stash), the attribute's value escaped for that place, and the range's
    path and lines (plain data, unpickled much faster than `SourceRange` objects).
    ``splice`` is what `_page_source` splices: the page's path, the text Markdown parsed,
    the included files. Second, what ``texts_of`` makes of ``files`` and the ranges."""
    path, converted, included = splice
    source = splice_source(path, files[path], converted, included)
    root = _tree_of(flat)
    walker = _Walker(converter, source)
    walker.walk_children(root, -1)
    ranges = map_blocks(source, files, walker.texts, walker.blocks)
    positions = {id(el): position for position, el in enumerate(root.iter())}
    first = len(positions)
    out = []
    for target, found in zip(walker.targets, ranges, strict=True):
        if found is None:
            continue
        if isinstance(target, int):  # a stashed block's first tag
            place, value = first + target, _escape_stash_value(str(found))
        else:  # an element's attribute, as the serializer escapes it
            place, value = positions[id(target)], _escape_attrib_html(str(found))
        out.append((place, value, found.path, found.start, found.end))
    texts = texts_of(files, [item[2:] for item in out]) if texts_of is not None else None
    return out, texts


def _page_source(state: _PageState, repository: RepositoryFacts):
    """The spliced source lines of a page, and the lines of every file they name."""
    files = _page_files(state, repository)
    return splice_source(state.path, files[state.path], _converted(state), state.included), files


def _page_files(state: _PageState, repository: RepositoryFacts) -> dict[str, list[str]]:
    """The lines of the page's file at the build's commit, and of every file it includes."""
    committed = repository.committed_text(state.path)
    if committed is None:
        with open(state.abs_path, "rb") as fh:
            committed = fh.read()
    files: dict[str, list[str]] = {state.path: _decode_lines(committed)}
    for rel, lines in state.included.items():
        files.setdefault(rel, lines)
    return files


def _converted(state: _PageState) -> list[str]:
    """The lines Markdown parsed (after includes were expanded)."""
    return state.converted if state.converted is not None else split_lines(state.markdown)


def _walk_page(md, root, source) -> _Walker:
    walker = _Walker(_Converter.of(md), source)
    walker.walk_children(root, -1)
    return walker


def _set_attributes(md, path, walker: _Walker, ranges, files) -> PageSourceMap:
    result = PageSourceMap(path)
    for target, found in zip(walker.targets, ranges, strict=True):
        if found is None:
            continue
        if isinstance(target, int):
            if not _annotate_stash(md, target, found):
                continue
        else:
            target.set(ATTRIBUTE, str(found))
        result.add(found.path, found.start, found.end, files)
    return result


def _mark_page(md, root: etree.Element, marker: str) -> None:
    """Put `zensical_host.PAGE_ATTRIBUTE` on the page's first annotated element."""
    from mkdocs_erratum import zensical_host

    for el in root.iter():
        if el.get(ATTRIBUTE) is not None:
            el.set(zensical_host.PAGE_ATTRIBUTE, marker)
            return
    stash = md.htmlStash.rawHtmlBlocks
    attribute = f' {zensical_host.PAGE_ATTRIBUTE}="{html.escape(marker, quote=True)}"'
    for index, text in enumerate(stash):
        m = _FIRST_TAG_RE.match(text) if isinstance(text, str) else None
        if m and text.startswith(f' {ATTRIBUTE}="', m.end()):
            stash[index] = text[: m.end()] + attribute + text[m.end() :]
            return


def _annotate_stash(md, index: int, found: SourceRange) -> bool:
    """Put the attribute on the first tag of a stashed raw HTML or code block."""
    return _stash_attribute(md.htmlStash.rawHtmlBlocks, index, _escape_stash_value(str(found)))


def _stash_attribute(stash: list, index: int, value: str) -> bool:
    """Put ``value`` (escaped) as the attribute on the first tag of ``stash[index]``."""
    text = stash[index]
    if not isinstance(text, str):
        return False
    m = _FIRST_TAG_RE.match(text)
    if not m:
        return False
    stash[index] = f'{text[: m.end()]} {ATTRIBUTE}="{value}"{text[m.end() :]}'
    return True


def _escape_stash_value(value: str) -> str:
    return html.escape(value, quote=True)


@dataclass
class _Converter:
    """What the walker needs of a Python-Markdown instance, as plain (picklable) data."""

    stash: list
    """The raw HTML stash: strings and elements, as its placeholders number them."""
    block_level: list[bool]
    """Whether each stashed block is block-level HTML, as the raw HTML postprocessor
    decides (it then replaces a paragraph that holds only its placeholder)."""
    footnote_labels: dict[str, str]

    @classmethod
    def of(cls, md) -> _Converter:
        stash = list(md.htmlStash.rawHtmlBlocks)
        raw = md.postprocessors["raw_html"] if "raw_html" in md.postprocessors else None  # noqa: SIM401 (a Registry has no get)
        is_block = raw.isblocklevel if raw is not None else (lambda _html: True)
        return cls(stash, [bool(is_block(str(x))) for x in stash], _footnote_labels(md))


class _Walker:
    """Turns an element tree into its text pieces and a list of blocks."""

    def __init__(self, converter: _Converter, source):
        self.stash = converter.stash
        self.block_level = converter.block_level
        self.source = source
        self.texts: list[str] = []
        """Every text piece of the page, in order (a block covers texts[start:end])."""
        self.blocks: list[RenderedBlock] = []
        self.targets: list[etree.Element | int] = []
        self.footnote_labels = converter.footnote_labels
        self._footnote_windows: dict[str, tuple[int, int]] | None = None

    def walk_children(self, el: etree.Element, block: int) -> None:
        names = el.get("class")
        if names and ("tabbed-set" in names or "footnote" in names):
            in_footnotes = "footnote" in names.split()
            for child, is_tab_label in self._ordered_children(el):
                self.walk(child, block, is_tab_label, in_footnotes)
                self.add_text(child.tail)
            return
        walk, texts = self.walk, self.texts
        for child in el:
            walk(child, block)
            tail = child.tail
            # add_text, inlined: most tails are plain text or white space.
            if tail and not tail.isspace():
                texts.append(tail if STX not in tail and "&" not in tail else self._plain(tail))

    def walk(self, el, block: int, is_tab_label: bool = False, in_footnotes: bool = False):
        tag = el.tag
        if tag.__class__ is not str or tag in SKIP_TAGS:
            return  # comments, processing instructions, scripts
        names = el.get("class")
        if names:
            classes = set(names.split())
            if not classes.isdisjoint(GENERATED_CLASSES):
                return
        else:
            classes = _NO_CLASSES
        text = el.text
        if tag not in BLOCK_TAGS and not is_tab_label:
            # Inline element (the common case): its text joins the enclosing block.
            if tag == "img":
                self.add_text(el.get("alt"))
                title = el.get("title")
                if title and _SHORTCODE_RE.fullmatch(title):
                    # An emoji (pymdownx.emoji): its shortcode's words are the source's.
                    self.add_text(title.replace(":", " "))
            if text and not text.isspace():  # add_text, inlined
                self.texts.append(
                    text if STX not in text and "&" not in text else self._plain(text)
                )
            if len(el):
                self.walk_children(el, block)
            return
        # Only a paragraph whose whole text is a placeholder can be a stashed block.
        if tag == "p" and text and text[0] == STX and not len(el):
            stash_index = self._stashed_block(el)
            if stash_index is not None:
                self._walk_stashed(stash_index, block)
                return
        own = None
        if tag == "li" and el.get("id") in self.footnote_labels:
            own = self._open(el, block, Kind.BLOCK)
            if self._footnote_windows is None:
                self._footnote_windows = footnote_windows(self.source)
            label = self.footnote_labels[el.get("id")]
            self.blocks[own].window = self._footnote_windows.get(label)
        elif tag == "p" and self._holds_block_html(el):
            # The browser ends the paragraph at the block. Text, then blocks (a fence
            # right after a paragraph's last line), then maybe more text: the first text
            # is the paragraph, each block its own, the text after is the container's
            # (the browser puts it outside any paragraph). Anything else: left out.
            split = self._split_at_blocks(el)
            if split is not None:
                lead, indexes, rest = split
                own = self._open(
                    el, block, Kind.BLOCK, tag, _sorted_classes(names) if names else ""
                )
                self._walk_items(lead, own)
                self._close(own)
                for index in indexes:
                    self._walk_stashed(index, block)
                self._walk_items(rest, block)
                return
        elif is_tab_label or not (classes & TRANSPARENT_CLASSES or in_footnotes):
            kind = self._kind(el, tag, classes)
            own = self._open(el, block, kind, tag, _sorted_classes(names) if names else "")
        inner = own if own is not None else block
        if text and not text.isspace():  # add_text, inlined
            self.texts.append(text if STX not in text and "&" not in text else self._plain(text))
        if len(el):
            self.walk_children(el, inner)
        if own is not None:
            self._close(own)

    def _walk_stashed(self, stash_index: int, block: int) -> None:
        """A paragraph that only holds a stashed block of raw HTML or code."""
        if not self._is_whole_element(stash_index):
            return  # a lone opening tag: the browser's element is larger than its line
        text = self.stash[stash_index]
        kind = Kind.CODE if _CODE_HTML_RE.match(text) else Kind.RAW
        own = self._open(stash_index, block, kind)
        first = _FIRST_TAG_RE.match(text)
        if first:
            self.blocks[own].tag = first.group(1).lower()
            found = _CLASS_ATTR_RE.match(text, first.end())
            if found:
                self.blocks[own].classes = _sorted_classes(found.group(1) or found.group(2))
        self.texts.append(self._stash_text(text, code=kind == Kind.CODE))
        self._close(own)

    def add_text(self, text: str | None) -> None:
        # Pieces are split into words once per page, by the source map.
        if text and not text.isspace():
            self.texts.append(self._plain(text))

    def _open(self, target, parent: int, kind: str, tag: str = "", classes: str = "") -> int:
        at = len(self.texts)
        self.blocks.append(RenderedBlock(parent, at, at, kind, None, tag, classes))
        self.targets.append(target)
        return len(self.blocks) - 1

    def _close(self, index: int) -> None:
        block = self.blocks[index]
        first = block.start
        block.end = last = len(self.texts)
        if first < last:
            # Word-less lines a block shows at its edges (a code block's closing `]`,
            # a literal `///`) are part of its range: the aligner only sees words.
            whole = last - first == 1
            head, tail = self.texts[first], self.texts[last - 1]
            # Most blocks start and end on a line with words: checked here, in C.
            cut = head.find("\n")
            if head[:1].isspace() or not _word_search(head, 0, len(head) if cut < 0 else cut):
                block.head = wordless_edge(head, at_end=False, whole=whole)
            if tail[-1:].isspace() or not _word_search(tail, tail.rfind("\n") + 1):
                block.tail = wordless_edge(tail, at_end=True, whole=whole)

    def _kind(self, el: etree.Element, tag: str, classes: set[str]) -> str:
        if tag == "p":
            if (
                len(el)
                and not (el.text or "").strip()
                and all(c.tag == "img" and not (c.tail or "").strip() for c in el)
            ):
                return Kind.IMAGE
            return Kind.BLOCK
        if classes:
            if "arithmatex" in classes and tag == "div":
                return Kind.CODE  # a math block: its delimiters are its fences
            if tag in HTML_CONTAINERS and not classes.isdisjoint(GENERATED_CONTAINER_CLASSES):
                return Kind.BLOCK  # made from Markdown syntax (an admonition, tabs)
        return _TAG_KINDS.get(tag, Kind.BLOCK)

    def _ordered_children(self, el: etree.Element) -> list[tuple[etree.Element, bool]]:
        """Children in source order, each with whether it is a tab label.

        A tab set in Material's alternate style renders all labels, then all bodies;
        the source has each label right before its body, so they are interleaved here.
        """
        if "tabbed-set" not in (el.get("class") or "").split():
            return [(child, False) for child in el]
        labels = contents = None
        for child in el:
            names = (child.get("class") or "").split()
            if "tabbed-labels" in names:
                labels = child
            elif "tabbed-content" in names:
                contents = child
        if labels is None or contents is None or len(labels) != len(contents):
            return [(child, child.tag == "label") for child in el]
        ordered = []
        for label, body in zip(labels, contents, strict=True):
            ordered.extend(((label, True), (body, False)))
        return ordered

    def _stashed_block(self, el: etree.Element) -> int | None:
        return _stashed_block(el, self.stash, self.block_level)

    def _is_whole_element(self, index: int) -> bool:
        """Whether a stashed block holds its whole first element, not just an opening tag.

        An opening tag stashed alone (its content parsed as Markdown, its closing tag
        stashed later) becomes, in the browser, an element around everything up to the
        closing tag: its own lines say nothing about that range.
        """
        text = str(self.stash[index])
        m = _FIRST_TAG_RE.match(text)
        if not m:
            return False
        name = m.group(1).lower()
        if name in _VOID_TAGS:
            return True
        # Its closing tag, past the same tags nested in it; after it, nothing but space:
        # a block of several elements (<p>..</p><p>..</p>) shows as several blocks, and the
        # first one's attribute would name the lines of all of them.
        depth = 0
        for tag in re.finditer(r"<(/?)" + re.escape(name) + r"\b[^>]*>", text, re.I):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                return not text[tag.end() :].strip()
        return False

    def _holds_block_html(self, el: etree.Element) -> bool:
        """Whether a paragraph's text holds stashed block-level HTML (e.g. a code block)."""
        if not len(el) and (not el.text or STX not in el.text):
            return False  # the common case: plain text
        stash_size = len(self.stash)
        return any(
            text and STX in text and self._holds_block_text(text, stash_size)
            for text in (el.text, *(child.tail for child in el))
        )

    def _split_at_blocks(self, el: etree.Element):
        """A paragraph's text and inline children around the stashed blocks in it:
        (before, stash indexes, after), each side a list of texts and elements; None
        unless there is text before and the blocks stand together."""
        stash_size = len(self.stash)
        items = [el.text or ""]
        for child in el:
            items.extend((child, child.tail or ""))
        k = next(
            (
                k
                for k, t in enumerate(items)
                if isinstance(t, str) and self._holds_block_text(t, stash_size)
            ),
            None,
        )
        if k is None:
            return None
        before: list = items[:k]
        text = items[k]
        indexes: list[int] = []
        pos = None
        for m in _PLACEHOLDER_RE.finditer(text):
            index = int(m.group(1))
            if index >= stash_size or not self._block_level(index):
                continue
            if not self._closes_paragraph(index):
                return None  # a comment, or an element the browser keeps in the paragraph
            between = text[pos if pos is not None else m.start() : m.start()]
            if pos is not None and between.strip():
                return None  # text between two blocks: not one block each
            if pos is None:
                before.append(text[: m.start()])
            indexes.append(index)
            pos = m.end()
        after = [text[pos:], *items[k + 1 :]]
        if any(isinstance(t, str) and self._holds_block_text(t, stash_size) for t in after):
            return None
        if not any(t.strip() if isinstance(t, str) else True for t in before):
            return None
        return before, indexes, after

    def _closes_paragraph(self, index: int) -> bool:
        """Whether a stashed block starts with an element whose start tag closes an open
        paragraph in the browser (HTML's rule), as a highlighted code block's ``<div>``."""
        first = _FIRST_TAG_RE.match(str(self.stash[index]))
        return first is not None and first.group(1).lower() in _CLOSES_PARAGRAPH

    def _walk_items(self, items: list, block: int) -> None:
        for item in items:
            if isinstance(item, str):
                self.add_text(item)
            else:
                self.walk(item, block)

    def _holds_block_text(self, text: str, stash_size: int) -> bool:
        return any(
            int(m.group(1)) < stash_size and self._block_level(int(m.group(1)))
            for m in _PLACEHOLDER_RE.finditer(text)
        )

    def _block_level(self, index: int) -> bool:
        return self.block_level[index]

    def _plain(self, text: str, depth: int = 0) -> str:
        """Text with stashed inline HTML, escapes and entities resolved."""
        if util.STX not in text:
            # Code spans keep `<`, `>` and `&` escaped in the tree.
            return html.unescape(text) if "&" in text else text
        text = text.replace(util.AMP_SUBSTITUTE, "&")
        text = _PLACEHOLDER_RE.sub(lambda m: self._stash_by_index(m, depth), text)
        text = _ESCAPE_RE.sub(lambda m: chr(int(m.group(1))), text)
        text = _OTHER_PLACEHOLDER_RE.sub(" ", text)  # e.g. footnotes' no-break space
        return html.unescape(text) if "&" in text else text

    def _stash_by_index(self, m: re.Match, depth: int) -> str:
        stash = self.stash
        index = int(m.group(1))
        if index >= len(stash) or depth > _MAX_STASH_DEPTH:
            return " "
        return " " + self._stash_text(stash[index], depth=depth + 1) + " "

    def _stash_text(self, item, code: bool = False, depth: int = 0) -> str:
        if isinstance(item, etree.Element):
            return " ".join(item.itertext())
        text = str(item)
        if code and "linenos" in text:
            text = _LINENOS_RE.sub(" ", text)
        text = _block_tags_to_spaces(text)
        text = _ANY_TAG_RE.sub("", text)
        return self._plain(html.unescape(text), depth)


_word_search = WORD_RE.search
_TAG_KINDS = {
    **dict.fromkeys(HTML_CONTAINERS, Kind.HTML),
    **dict.fromkeys(HEADINGS, Kind.HEADING),
    **{"td": Kind.CELL, "th": Kind.CELL, "hr": Kind.RULE, "pre": Kind.CODE},
}
"""A block's kind by its tag, once paragraphs of images and classes are seen to."""


def _block_tags_to_spaces(text: str) -> str:
    """``text`` with each block-level tag, in any case, replaced by a space.

    The tags are looked for in the lower-cased text, three times faster than with
    `re.I` over highlighted code (its many ``<span>`` tags); when lower-casing changes
    the length or leaves a letter that `re.I` folds, `re.I` does it.

    >>> _block_tags_to_spaces("<DIV><span>a</span></Div>b<P class=X>c")
    ' <span>a</span> b c'
    """
    if len(text) < _SHORT_HTML:  # an inline element's tags: one pass is cheaper
        return _BLOCK_HTML_TAG_RE.sub(" ", text)
    lower = text.lower()
    if not text.isascii() and (len(lower) != len(text) or any(c in text for c in _FOLDED_APART)):
        return _BLOCK_HTML_TAG_RE.sub(" ", text)
    parts, pos = [], 0
    for m in _LOWER_BLOCK_HTML_TAG_RE.finditer(lower):
        parts.append(text[pos : m.start()])
        pos = m.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return " ".join(parts)


def _sorted_classes(names: str) -> str:
    return " ".join(sorted(names.split()))


def _footnote_labels(md) -> dict[str, str]:
    """Footnote list-item ids -> their labels, from the footnotes extension's own state."""
    for ext in getattr(md, "registeredExtensions", []):
        footnotes = getattr(ext, "footnotes", None)
        make_id = getattr(ext, "makeFootnoteId", None)
        if isinstance(footnotes, dict) and make_id is not None:
            try:
                return {make_id(label): label for label in footnotes}
            except Exception:
                return {}
    return {}


def _decode_lines(data: bytes) -> list[str]:
    """A file's bytes as lines: BOM dropped, bad bytes replaced, every line ending counted."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return split_lines(data.decode("utf-8", errors="replace"))
