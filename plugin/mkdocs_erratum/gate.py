"""The gate: the one place that decides what a report may change.

Every path runs it before anything is created or applied: ``erratum fix`` reading a
widget's issue, the service's intake, both service backends (git and github), and any
forge to come. It decides, with the same functions for all of them:

(a) which report an issue or a commit carries (`report_from_issue`, `report_from_commit`:
    top-level ``json erratum-report`` blocks only, see `report.parse_issue_body`; a login
    typed into a report is dropped, the forge names the reporter);
(b) whether its paths are in scope (`check_scope`): a Markdown file under one of the docs
    folders, a plain relative path without ``..`` or hidden folders such as ``.github``,
    and, read from the repository itself through a `SourceTree`, no symbolic link (nor
    anything but folders) anywhere on the path;
(c) whether each original still matches and how the file changes (`plan_file`, over
    `mkdocs_erratum.corrections`: the hash at the commit, or the block relocated in a
    changed file; only the relocated lines change, the rest byte for byte);
(d) whether each replacement is safe (`check_replacement`): the original and the
    replacement are rendered with the site's own Markdown configuration
    (`MarkdownConfig`, includes off) and both results are read with real HTML parsers
    (lxml, and the standard library's HTML5-style tokenizer as a second reader). What
    the replacement adds (elements, attributes, URLs, hosts, link references) must stay
    inside a small allow-list; in the source it may add no raw HTML, attribute list,
    include or template directive, and no front matter.

Pure: strings and plain data in, verdicts out. No forge library, no web framework; the
callers (fixer, service) turn a verdict into a comment, a label or an HTTP status.
"""

from __future__ import annotations

import html.parser
import importlib
import json
import posixpath
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from markdown_it import MarkdownIt

from .corrections import (
    ALREADY_FIXED,
    AMBIGUOUS,
    GONE,
    OverlapError,
    Relocation,
    apply_blocks,
    relocate_block,
    split_lines,
)
from .report import (
    MAX_TEXT_CHARS,
    Report,
    ReportBlock,
    parse_issue_body,
)
from .text_rules import code_span

MAX_FILE_BYTES = 1_000_000
"""Files larger than this are not edited (GitHub's contents API stops at 1 MB too)."""
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")


class GateError(ValueError):
    """A report the gate refuses; the message says why in one line a person can act on."""


# -- (a) which report --------------------------------------------------------------------


def report_from_issue(
    body: str, author: str = "", comments: Iterable[tuple[str, str]] = ()
) -> Report:
    """The report an issue carries, as the gate accepts it.

    Args:
        body: the issue body.
        author: the issue's author as the forge API reports it.
        comments: ``(author, body)`` of the issue's comments. Only the issue author's own
            comments are read, and only to complete a truncated report (the reader pasted
            the complete block there instead of into the body).

    The report's ``reporter`` field is reader text: it is dropped, and the caller credits
    ``author`` if anyone.

    Raises:
        report.AmbiguousReport: two different reports (a person must look).
        report.ReportError: no valid report.
    """
    own = [text for who, text in comments if author and who == author]
    report = parse_issue_body(body, own)
    report.reporter = None
    return report


def report_from_commit(message: str) -> Report:
    """The report a report branch's commit message carries (see `report_from_issue`)."""
    report = parse_issue_body(message)
    report.reporter = None
    return report


# -- (b) scope ---------------------------------------------------------------------------

FOLDER, FILE, LINK, OTHER = "folder", "file", "link", "other"


class SourceTree(Protocol):
    """What the gate needs to know of the repository a report would change."""

    def kinds(self, paths: Sequence[str]) -> Mapping[str, str]:
        """For each of ``paths``: `FOLDER`, `FILE` (a regular file), `LINK` (a symbolic
        link) or `OTHER` (a submodule...); a path that does not exist is left out."""


def check_path(path: str, docs_dirs: Iterable[str]) -> str | None:
    """Why a report may not change ``path`` by its name alone, or None when it may.

    Only Markdown files inside one of ``docs_dirs`` (repository-relative folders: the
    site's docs_dir and snippet base paths) may change; never a hidden folder such as
    ``.github``, never a path with ``..``.

    >>> check_path("docs/a.md", ["docs"]) is None
    True
    >>> check_path("docs/../setup.py", ["docs"])
    "path has '..' or an empty part"
    >>> check_path(".github/x.md", ["."])
    'inside a hidden folder (.github/)'
    """
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or ":" in path
        or any(ord(c) < 32 or ord(c) == 127 for c in path)
    ):
        return "not a plain relative path"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "path has '..' or an empty part"
    if any(part.startswith(".") for part in parts[:-1]):
        return f"inside a hidden folder ({parts[0]}/)"
    if not path.lower().endswith(MARKDOWN_SUFFIXES):
        return "not a Markdown file"
    folders = [_folder(d) for d in docs_dirs]
    if not any(folder == "" or path.startswith(folder + "/") for folder in folders):
        shown = ", ".join(f or "." for f in folders) or "none"
        return f"outside the documentation folders ({shown})"
    return None


def check_scope(path: str, docs_dirs: Iterable[str], tree: SourceTree | None = None) -> str | None:
    """Why a report may not change ``path``, or None when it may.

    `check_path`, then, when ``tree`` is given, what the repository holds: every folder
    on the path must be a folder and the file a regular file (no symbolic link anywhere,
    which could lead outside the docs folders).
    """
    reason = check_path(path, docs_dirs)
    if reason or tree is None:
        return reason
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    kinds = tree.kinds(prefixes)
    for prefix in prefixes[:-1]:
        kind = kinds.get(prefix)
        if kind == LINK:
            return f"{prefix} is a symbolic link; erratum does not follow links"
        if kind != FOLDER:
            return "does not exist in the repository"
    kind = kinds.get(path)
    if kind is None:
        return "does not exist in the repository"
    if kind == LINK:
        return "is a symbolic link; erratum does not change links"
    if kind != FILE:
        return "is not a regular file"
    return None


def _folder(path: str) -> str:
    folder = posixpath.normpath(path.replace("\\", "/")).strip("/")
    return "" if folder == "." else folder


# -- (c) where the original is now: `mkdocs_erratum.corrections` finds it -------------


@dataclass
class FilePlan:
    """What the reported blocks of one file become (see `plan_file`)."""

    path: str
    old_text: str
    new_text: str
    applied: list[tuple[ReportBlock, Relocation]] = field(default_factory=list)
    already_fixed: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Reasons that refuse the whole report (overlaps, front matter, size)."""

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text


def plan_file(
    path: str,
    text: str,
    blocks: Sequence[ReportBlock],
    built_text: str | None = None,
) -> FilePlan:
    """Relocate each reported block of ``path`` in its current ``text`` and apply them.

    Args:
        path: the repository path (for messages).
        text: the file as it is now.
        blocks: the reported blocks of this file.
        built_text: the file at the commit the site was built from, when known and
            different (the lines are followed through the diff first).
    """
    plan = FilePlan(path, text, text)
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        plan.problems.append(f"{code_span(path)} is larger than {MAX_FILE_BYTES:,} bytes")
        return plan
    lines = split_lines(text)
    built = split_lines(built_text) if built_text is not None else None
    edits = []
    for block in blocks:
        where = relocate_block(lines, block, built)
        label = f"{code_span(path)} lines {block.start}-{block.end}"
        if where.how == ALREADY_FIXED:
            plan.already_fixed.append(f"{label}: the suggested text is already there")
        elif where.how == AMBIGUOUS:
            starts = ", ".join(str(c) for c in where.candidates)
            plan.ambiguous.append(f"{label}: the text matches at several places (lines {starts})")
        elif where.how == GONE:
            plan.gone.append(f"{label}: the reported text is no longer in the file")
        elif block.replacement is not None:
            edits.append((where, block.replacement))
            plan.applied.append((block, where))
    if not edits:
        return plan
    try:
        new_text = apply_blocks(text, edits)
    except OverlapError as exc:
        plan.problems.append(f"{code_span(path)}: {exc}")
        return plan
    if front_matter(new_text) != front_matter(text):
        plan.problems.append(f"{code_span(path)}: the change would alter the page's front matter")
        return plan
    plan.new_text = new_text
    return plan


_FRONT_MATTER_RE = re.compile(
    r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\r?\n(.*?)^(\1|\.\.\.)[ \t]*$", re.S | re.M
)


def front_matter(text: str) -> str | None:
    """The YAML (``---``) or TOML (``+++``) front matter a file opens with, or None.

    >>> front_matter("---\\ntitle: x\\n---\\n# A")
    'title: x\\n'
    >>> front_matter("# A\\n---\\n") is None
    True
    """
    match = _FRONT_MATTER_RE.match(text)
    return match.group(2) if match else None


# -- (d) is the replacement safe ---------------------------------------------------------

MKDOCS_BUILTIN_EXTENSIONS = ("toc", "tables", "fenced_code")
"""What MkDocs always adds to ``markdown_extensions``."""
INCLUDE_EXTENSIONS = frozenset(
    {
        "pymdownx.snippets",
        "markdown_include.include",
        "mdx_include",
        "mkdocs_erratum.extension",
        "erratum_sourcemap",
    }
)
"""Extensions never loaded by the gate: they read other files (or are ours)."""

ALLOWED_ELEMENTS = frozenset(
    [
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "em",
        "strong",
        "b",
        "i",
        "u",
        "s",
        "del",
        "ins",
        "mark",
        "sub",
        "sup",
        "small",
        "code",
        "pre",
        "kbd",
        "samp",
        "var",
        "q",
        "cite",
        "abbr",
        "dfn",
        "span",
        "div",
        "blockquote",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "caption",
        "colgroup",
        "col",
        "a",
        "img",
        "details",
        "summary",
        "figure",
        "figcaption",
        "wbr",
        "time",
    ]
)
"""Elements a replacement's rendering may add: what Markdown and its usual extensions
write. Everything else (script, style, iframe, object, embed, svg, math, form, input,
button, link, meta, base, video, audio, template, comments...) is refused."""
ALLOWED_ATTRIBUTES = frozenset(
    [
        "href",
        "src",
        "alt",
        "title",
        "id",
        "class",
        "colspan",
        "rowspan",
        "align",
        "start",
        "reversed",
        "lang",
        "dir",
        "open",
        "width",
        "height",
        "role",
        "name",
        "datetime",
        "aria-hidden",
        "aria-label",
    ]
)
"""Attributes a replacement's rendering may add; ``on*``, ``style``, ``srcset``,
``data-*``, ``formaction`` and the rest are refused."""
URL_ATTRIBUTES = frozenset(
    [
        "href",
        "src",
        "srcset",
        "action",
        "formaction",
        "poster",
        "data",
        "cite",
        "background",
        "xlink:href",
        "longdesc",
        "usemap",
        "ping",
        "manifest",
        "codebase",
        "lowsrc",
        "dynsrc",
    ]
)
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]+")

_INCLUDE_MARKERS_RE = re.compile(r"-{1,2}8<-{1,2}|\{%|\{\{|\{!")
"""Include and template directives: snippets (``--8<--``), Jinja (macros,
include-markdown), markdown-include (``{!file!}``)."""
_ATTR_LIST_RE = re.compile(r"\{:?[ \t]*(?::|[#.][\w-]|[\w:-]+[ \t]*=)[^}\n]*\}")
"""Python-Markdown attribute lists (``{: .x }``, ``{#id}``, ``{ onclick=... }``)."""
_TAG_RE = re.compile(r"<!--.*?-->|<[!?/]?[A-Za-z][^<>]*>?", re.S)
_COMMONMARK = MarkdownIt("commonmark")


@dataclass(frozen=True)
class MarkdownConfig:
    """A site's Markdown configuration, as the gate renders with it.

    ``extensions``: Python-Markdown extension names; ``configs``: their options, plain
    JSON data, where a Python object (a function such as an emoji index) is written as
    ``{"python": "module:qualified.name"}``. Include extensions are left out.
    """

    extensions: tuple[str, ...] = MKDOCS_BUILTIN_EXTENSIONS
    configs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_mkdocs(
        cls, extensions: Iterable[Any], configs: Mapping[str, Any] | None = None
    ) -> MarkdownConfig:
        """From MkDocs' ``markdown_extensions`` (names, or ``{name: options}`` items as
        ``mkdocs.yml`` writes them) and ``mdx_configs`` (a loaded config's options).

        Extension instances (added by plugins) are skipped; MkDocs' built-ins are added.
        """
        names: list[str] = list(MKDOCS_BUILTIN_EXTENSIONS)
        options: dict[str, dict[str, Any]] = {}
        for item in extensions or ():
            entries = item.items() if isinstance(item, Mapping) else [(item, None)]
            for name, value in entries:
                if not isinstance(name, str) or name in INCLUDE_EXTENSIONS:
                    continue
                if name not in names:
                    names.append(name)
                if isinstance(value, Mapping):
                    options[name] = _plain(dict(value))
        for name, value in (configs or {}).items():
            if name in names and isinstance(value, Mapping):
                options[name] = _plain(dict(value))
        return cls(tuple(names), {k: v for k, v in options.items() if v})

    @classmethod
    def from_mkdocs_yml(cls, text: str) -> MarkdownConfig:
        """From the text of ``mkdocs.yml`` (tags of missing modules are ignored)."""
        data = _load_yaml(text)
        extensions = data.get("markdown_extensions") if isinstance(data, dict) else None
        return cls.from_mkdocs(extensions if isinstance(extensions, list) else [])

    @classmethod
    def from_data(cls, data: Any) -> MarkdownConfig:
        """From `to_data`'s output (e.g. read from a manifest); a bad value gives the
        defaults."""
        if not isinstance(data, Mapping):
            return cls()
        names = data.get("extensions")
        configs = data.get("configs")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return cls()
        names = [n for n in names if n not in INCLUDE_EXTENSIONS]
        if not isinstance(configs, Mapping):
            configs = {}
        return cls(tuple(names), {k: v for k, v in configs.items() if isinstance(v, Mapping)})

    def to_data(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"extensions": list(self.extensions), "configs": dict(self.configs)}

    @property
    def key(self) -> str:
        return json.dumps(self.to_data(), sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    """``value`` as JSON data; Python objects by name; anything else dropped (None)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        out = {str(k): _plain(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None or value.get(k) is None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if module and qualname and "<" not in qualname:
        return {"python": f"{module}:{qualname}"}
    return None


def _resolve(value: Any) -> Any:
    """`_plain`'s inverse for Python objects named ``{"python": "module:name"}``."""
    if isinstance(value, Mapping):
        if set(value) == {"python"} and isinstance(value["python"], str):
            module, _, name = value["python"].partition(":")
            obj = importlib.import_module(module)
            for part in name.split("."):
                obj = getattr(obj, part)
            return obj
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def _load_yaml(text: str) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe YAML where every unknown tag (``!ENV``, ``!!python/name:...``) is None."""

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader subclass
    except yaml.YAMLError:
        return {}


_local = threading.local()


def _markdown(config: MarkdownConfig):
    """A `markdown.Markdown` for ``config`` (one per thread and config, reused).

    An extension that cannot be loaded here (not installed, bad options) is left out:
    the rendering is then plainer than the site's, never richer.
    """
    import markdown

    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    md = cache.get(config.key)
    if md is not None:
        return md
    names = list(config.extensions)
    while True:
        try:
            configs = {n: _resolve(config.configs[n]) for n in names if n in config.configs}
        except Exception:  # a named object that is not importable here
            configs = {}
        try:
            md = markdown.Markdown(extensions=names, extension_configs=configs)
            break
        except Exception as exc:  # any extension may fail in its own way
            bad = next((n for n in names if n.split(".")[-1] in str(exc) or n in str(exc)), None)
            if bad is None:
                bad = _first_unloadable(names, configs)
            if bad is None:
                names = []
                continue
            names.remove(bad)
    if len(cache) > 16:
        cache.clear()
    cache[config.key] = md
    return md


def _first_unloadable(names: list[str], configs: dict) -> str | None:
    import markdown

    for name in names:
        try:
            markdown.Markdown(extensions=[name], extension_configs={name: configs.get(name, {})})
        except Exception:
            return name
    return None


def render(text: str, config: MarkdownConfig | None = None) -> tuple[str, dict[str, str]]:
    """``text`` rendered as the site renders Markdown (includes off).

    Returns:
        (HTML, the link reference definitions it holds: lower-case id -> URL).
    """
    md = _markdown(config or MarkdownConfig())
    md.reset()
    try:
        out = md.convert(text)
    finally:
        references = {k: v[0] for k, v in getattr(md, "references", {}).items()}
        md.reset()
    return out, references


@dataclass
class Inventory:
    """What a piece of rendered HTML holds, as the gate compares it."""

    elements: Counter = field(default_factory=Counter)
    attributes: Counter = field(default_factory=Counter)
    urls: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)

    def add_url(self, raw: str) -> None:
        url = normal_url(raw)
        self.urls.add(url)
        host = url_host(url)
        if host:
            self.hosts.add(host)


def normal_url(raw: str) -> str:
    """A URL as a browser reads it: entities decoded by the parser, spaces and controls
    stripped, backslashes as slashes, the scheme in lower case.

    >>> normal_url(" JaVa\\tScRipt:alert(1)")
    'javascript:alert(1)'
    """
    url = _URL_NOISE_RE.sub("", raw).replace("\\", "/")
    match = _SCHEME_RE.match(url.lower())
    if match:
        url = match.group(1) + url[len(match.group(1)) :]
    return url


def url_scheme(url: str) -> str | None:
    match = _SCHEME_RE.match(url.lower())
    return match.group(1) if match else None


def url_host(url: str) -> str | None:
    """The host a URL leads to (``mailto:`` and other schemes: the URL itself), or None
    for a link within the site."""
    scheme = url_scheme(url)
    if scheme in ("http", "https") or (scheme is None and url.startswith("//")):
        try:
            return (urlsplit(url if scheme else "http:" + url).hostname or "").rstrip(".") or "?"
        except ValueError:
            return "?"
    if scheme is not None:
        return url.lower()
    return None


class _Tokens(html.parser.HTMLParser):
    """The standard library's HTML5-style tokenizer: a second reader of the same HTML."""

    def __init__(self, inventory: Inventory):
        super().__init__(convert_charrefs=True)
        self.inventory = inventory

    def handle_starttag(self, tag, attrs):
        _count(self.inventory, tag, attrs)

    def handle_startendtag(self, tag, attrs):
        _count(self.inventory, tag, attrs)

    def handle_comment(self, data):
        self.inventory.elements["!comment"] += 1

    def handle_decl(self, decl):
        self.inventory.elements["!declaration"] += 1

    def handle_pi(self, data):
        self.inventory.elements["!processing-instruction"] += 1

    def unknown_decl(self, data):
        self.inventory.elements["!declaration"] += 1


def _count(inventory: Inventory, tag: str, attrs: Iterable[tuple[str, str | None]]) -> None:
    tag = tag.lower()
    inventory.elements[tag] += 1
    for name, value in attrs:
        name = name.lower()
        inventory.attributes[tag, name] += 1
        if name in URL_ATTRIBUTES and value is not None:
            for part in value.split(",") if name == "srcset" else [value]:
                inventory.add_url(part.strip().split(" ")[0] if name == "srcset" else part)


def inventory(rendered: str, references: Mapping[str, str] = ()) -> Inventory:
    """Elements, attributes, URLs and hosts of ``rendered`` HTML, as lxml and the HTML5
    tokenizer read it (the larger count of each wins); link references count as URLs."""
    tree_view = Inventory()
    if rendered.strip():
        try:
            root = lxml.html.fragment_fromstring(rendered, create_parent="div")
        except (etree.ParserError, ValueError):
            root = None
        if root is not None:
            for el in root.iterdescendants():
                if isinstance(el.tag, str):
                    _count(tree_view, el.tag, el.attrib.items())
                elif el.tag is etree.Comment:
                    tree_view.elements["!comment"] += 1
                else:
                    tree_view.elements["!processing-instruction"] += 1
    tokens_view = Inventory()
    reader = _Tokens(tokens_view)
    reader.feed(rendered)
    reader.close()
    out = Inventory(
        tree_view.elements | tokens_view.elements,
        tree_view.attributes | tokens_view.attributes,
        tree_view.urls | tokens_view.urls,
        tree_view.hosts | tokens_view.hosts,
    )
    for url in dict(references).values():
        out.add_url(url)
    return out


def source_markers(text: str) -> Counter:
    """What the Markdown source itself holds that the gate refuses to see added: raw HTML
    tags (as CommonMark reads them, and as a bare ``<tag`` pattern), attribute lists,
    include and template directives.

    >>> sorted(source_markers("a <b>x</b> {: .c } --8<-- y"))  # doctest: +NORMALIZE_WHITESPACE
    [('an attribute list', '{: .c }'), ('an include or template directive', '--8<--'),
     ('raw HTML', '</b>'), ('raw HTML', '<b>')]
    """
    found: Counter = Counter()
    for match in _ATTR_LIST_RE.finditer(text):
        found["an attribute list", match.group(0)[:60]] += 1
    for match in _INCLUDE_MARKERS_RE.finditer(text):
        found["an include or template directive", match.group(0)] += 1
    tags: Counter = Counter()
    for token in _COMMONMARK.parse(text):
        pieces = [token] if token.type == "html_block" else (token.children or [])
        for piece in pieces:
            if piece.type in ("html_block", "html_inline"):
                for tag in _TAG_RE.findall(piece.content):
                    tags[" ".join(tag.split())[:60]] += 1
    for tag in _TAG_RE.findall(_strip_code(text)):
        tag = " ".join(tag.split())[:60]
        tags[tag] = max(tags[tag], 1) if tags[tag] else 1
    for tag, n in tags.items():
        found["raw HTML", tag] += n
    return found


def _strip_code(text: str) -> str:
    """``text`` without its code spans and fenced or indented code (CommonMark's view),
    where ``<`` is not markup."""
    keep = []
    for token in _COMMONMARK.parse(text):
        if token.type in ("fence", "code_block") or token.map is None:
            continue
        if token.type == "inline":
            keep.append(
                "".join(c.content for c in token.children or () if c.type != "code_inline")
                if token.children
                else token.content
            )
        elif token.type == "html_block":
            keep.append(token.content)
    return "\n".join(keep)


def check_replacement(
    original: str | None,
    replacement: str,
    config: MarkdownConfig | None = None,
    *,
    at_line: int = 0,
) -> list[str]:
    """Why ``replacement`` may not replace ``original`` on the site, or [] when it may.

    Args:
        original: the reported lines (None when the report does not carry them: then
            nothing counts as already there).
        replacement: the reader's text.
        config: the site's Markdown configuration.
        at_line: the line the replacement starts at (1: it could open front matter).
    """
    original = original or ""
    reasons: list[str] = []
    if len(replacement) > MAX_TEXT_CHARS:
        return [f"the suggested text is longer than {MAX_TEXT_CHARS} characters"]
    if any(ord(c) < 32 and c not in "\t\n\r" for c in replacement):
        reasons.append("the suggested text holds control characters")
    if (
        at_line == 1
        and front_matter(replacement + "\n") is not None
        and front_matter(original + "\n") != front_matter(replacement + "\n")
    ):
        reasons.append("the suggested text adds front matter")
    added = source_markers(replacement) - source_markers(original)
    for kind, text in sorted(added):
        reasons.append(f"the suggested text adds {kind} ({_show(text)})")
    try:
        before = inventory(*render(original, config))
        after = inventory(*render(replacement, config))
    except Exception as exc:  # an extension failing on odd input: refuse, say why
        return [*reasons, f"the suggested text cannot be rendered safely ({type(exc).__name__})"]
    for tag in sorted(after.elements - before.elements):
        if tag not in ALLOWED_ELEMENTS:
            reasons.append(f"the suggested text adds an element that is not allowed ({_show(tag)})")
    for tag, name in sorted(after.attributes - before.attributes):
        if name not in ALLOWED_ATTRIBUTES:
            reasons.append(
                f"the suggested text adds an attribute that is not allowed ({name} on {tag})"
            )
    for url in sorted(after.urls - before.urls):
        scheme = url_scheme(url)
        host = url_host(url)
        if scheme is not None and scheme not in SAFE_SCHEMES:
            reasons.append(f"the suggested text adds a {scheme}: link")
        elif host is not None and host not in before.hosts:
            reasons.append(f"the suggested text links a new address ({_show(host)})")
    return list(dict.fromkeys(reasons))


def _show(text: str) -> str:
    return code_span(text[:80])


def check_report(
    report: Report,
    docs_dirs: Iterable[str],
    config: MarkdownConfig | None = None,
    *,
    originals: Mapping[int, str] | None = None,
) -> list[str]:
    """Everything the gate can say of ``report`` without reading the repository: the
    paths' names (`check_path`) and each replacement's safety (`check_replacement`).

    Args:
        originals: block index -> the reported lines as read from the repository, for
            blocks whose report does not carry them (a shortened issue). Without it such
            a block is judged against nothing (whatever it links is new); pass an empty
            mapping to leave those blocks for a later call that has the file.

    Returns:
        One line per problem (naming the block), [] when the report may go on.
    """
    docs_dirs = list(docs_dirs)
    problems = []
    for index, block in enumerate(report.blocks):
        label = f"{code_span(block.path)} lines {block.start}-{block.end}"
        reason = check_path(block.path, docs_dirs)
        if reason:
            problems.append(f"{code_span(block.path)}: {reason}")
            continue
        if block.replacement is None:
            continue
        original = block.original
        if original is None and originals is not None:
            if index not in originals:
                continue
            original = originals[index]
        for why in check_replacement(original, block.replacement, config, at_line=block.start):
            problems.append(f"{label}: {why}")
    return problems


__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_ELEMENTS",
    "FilePlan",
    "GateError",
    "MarkdownConfig",
    "SourceTree",
    "check_path",
    "check_replacement",
    "check_report",
    "check_scope",
    "front_matter",
    "plan_file",
    "render",
    "report_from_commit",
    "report_from_issue",
]
