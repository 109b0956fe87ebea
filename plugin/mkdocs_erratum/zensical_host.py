"""Zensical as a host of the source-map extension: which page is being rendered.

Zensical runs Python-Markdown extensions but no MkDocs plugin, so nothing announces a
page with `SourceMapExtension.expect_page`. Instead Zensical registers a preprocessor
named ``rendering_context`` on every Markdown instance it creates, holding ``.page``
(``.path`` relative to ``docs_dir``, ``.url``) and ``.config`` (the site configuration
as a dict, ``root_dir`` and ``docs_dir`` among it). `rendered_page` looks it up by name
and duck typing, never by importing Zensical, so newer versions keep working as long as
they keep those attributes; anything else and the page is left unannotated.

Zensical removes front matter and the blank lines after it before Markdown sees the
text. `is_page_text` checks that what is converted is exactly the file's text but that
prefix (so a nested conversion, or a version of Zensical that rewrites the text in
Rust, is never claimed), and the alignment keeps counting lines as in the file.

Zensical caches rendered pages between builds, and ``erratum assets`` makes the rest of
the site afterwards from the HTML alone. So a page carries, on its first annotated
element, `PAGE_ATTRIBUTE`: its Markdown file and `files_fingerprint` of the file
versions its ranges were computed against; ``erratum assets`` recomputes it from the
build's commit and leaves out any page whose cached ranges no longer match.

This module is not the post-build step (see `mkdocs_erratum.site_files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from mkdocs_erratum.repository import RepositoryFacts, read_repository

CONTEXT_PROCESSOR = "rendering_context"
"""The name under which Zensical registers its rendering context preprocessor."""
PAGE_ATTRIBUTE = "data-erratum-page"
"""``"<fingerprint> <path>"`` on a Zensical page's first annotated element."""

_FRONT_MATTER_RE = re.compile(
    r"(?:-{3}[ \t]*\n(?:.*?\n)?(?:-{3}|\.{3})[ \t]*\n)?[ \t]*(?:\n[ \t]*)*", re.S
)


@dataclass(frozen=True)
class RenderedPage:
    """The page a Zensical rendering context names."""

    abs_src_path: str
    """The page's Markdown file."""
    url: str
    """The page's URL relative to the site (``guide/setup/``)."""
    root_dir: str
    """The folder of the site's configuration file."""


def rendered_page(md) -> RenderedPage | None:
    """The page that Zensical is rendering with ``md``, or None outside Zensical.

    >>> import markdown
    >>> rendered_page(markdown.Markdown()) is None
    True
    """
    context = _context(md)
    if context is None:
        return None
    page, config = context.page, context.config
    path, url = getattr(page, "path", None), getattr(page, "url", None)
    if not isinstance(path, str) or not path or not isinstance(config, Mapping):
        return None
    root = os.path.abspath(str(config.get("root_dir") or "."))
    docs = os.path.join(root, str(config.get("docs_dir") or "docs"))
    return RenderedPage(
        abs_src_path=os.path.normpath(os.path.join(docs, path)),
        url=url if isinstance(url, str) else "",
        root_dir=root,
    )


def _context(md):
    """Zensical's rendering context preprocessor: by its name, else by its shape."""
    processors = getattr(md, "preprocessors", None)
    if processors is None:
        return None
    candidates = [processors[CONTEXT_PROCESSOR]] if CONTEXT_PROCESSOR in processors else []
    candidates += list(processors)
    for processor in candidates:
        page = getattr(processor, "page", None)
        if page is not None and hasattr(page, "path") and hasattr(processor, "config"):
            return processor
    return None


def is_page_text(file_text: str, converted: str) -> bool:
    """Whether ``converted`` is ``file_text`` without its front matter and the blank
    lines after it (how Zensical hands a page to Markdown), trailing newlines aside.

    >>> is_page_text("---\\ntitle: A\\n---\\n\\n# A\\n", "# A")
    True
    >>> is_page_text("# A\\n\\nText\\n", "# A\\n\\nText\\n")
    True
    >>> is_page_text("---\\na: 1\\nb: 2\\n---\\n# A\\n", "# A")
    True
    >>> is_page_text("# A\\n\\nText\\n", "Text")
    False
    """
    file_text = file_text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    converted = converted.rstrip("\n")
    if not file_text.endswith(converted):
        return False
    prefix = file_text[: len(file_text) - len(converted)]
    return _FRONT_MATTER_RE.fullmatch(prefix) is not None and (
        not prefix or not converted or prefix.endswith("\n")
    )


def files_fingerprint(files: Mapping[str, Sequence[str]]) -> str:
    """A short hash naming the versions of ``files`` (path -> lines) a page was mapped on.

    >>> files_fingerprint({"a.md": ["x"]}) == files_fingerprint({"a.md": ["x"]})
    True
    >>> files_fingerprint({"a.md": ["x"]}) == files_fingerprint({"a.md": ["y"]})
    False
    """
    digest = hashlib.sha256()
    for path in sorted(files):
        line_hash = hashlib.sha256("\n".join(files[path]).encode("utf-8")).hexdigest()
        digest.update(json.dumps([path, line_hash]).encode("utf-8"))
    return digest.hexdigest()[:16]


def page_marker(path: str, files: Mapping[str, Sequence[str]]) -> str:
    """The value of `PAGE_ATTRIBUTE`: ``"<fingerprint> <path>"``."""
    return f"{files_fingerprint(files)} {path}"


def parse_page_marker(value: str) -> tuple[str, str] | None:
    """(fingerprint, path) from a `PAGE_ATTRIBUTE` value, or None.

    >>> parse_page_marker("0123456789abcdef docs/a b.md")
    ('0123456789abcdef', 'docs/a b.md')
    >>> parse_page_marker("docs/a.md") is None
    True
    """
    m = re.fullmatch(r"([0-9a-f]{16}) (.+)", value)
    return (m.group(1), m.group(2)) if m else None


_facts: dict[str, tuple[object, RepositoryFacts]] = {}


def repository_for(page: RenderedPage, config: object) -> RepositoryFacts:
    """The repository facts of the site, read once per build (per configuration object).

    Zensical re-reads its configuration for every build, while pages of one build share
    it: the facts are kept as long as that object is the current one.
    """
    known = _facts.get(page.root_dir)
    if known is not None and known[0] is config:
        return known[1]
    facts = read_repository(page.root_dir)
    _facts[page.root_dir] = (config, facts)
    return facts


def context_config(md) -> object:
    """The configuration object of ``md``'s rendering context (None outside Zensical)."""
    context = _context(md)
    return None if context is None else context.config


# -- The site configuration, for ``erratum assets`` ------------------------------------

EXTENSION_NAMES = ("erratum_sourcemap", "mkdocs_erratum.extension")
"""How the extension can be listed under ``markdown_extensions``."""


class SiteConfigError(ValueError):
    """A site configuration that cannot be read; the message names the file."""


@dataclass(frozen=True)
class SiteConfig:
    """What ``erratum assets`` needs from ``zensical.toml`` or ``mkdocs.yml``."""

    path: str
    root_dir: str
    """The folder of the configuration file (Zensical's ``root_dir``)."""
    site_name: str | None = None
    site_url: str | None = None
    repo_url: str | None = None
    edit_uri: str | None = None
    """As written: Zensical's own default names no branch of the user's."""
    language: str | None = None
    """``theme.language``."""
    docs_folders: tuple[str, ...] = ("docs",)
    """``docs_dir`` and the snippets' base paths, relative to `root_dir`."""
    markdown_extensions: tuple = ()
    """Names or ``{name: options}`` items, as Zensical renders with them."""
    options: Mapping = field(default_factory=dict)
    """The options of ``erratum_sourcemap``."""


def read_site_config(path: str) -> SiteConfig:
    """Read a Zensical site configuration (``.toml``, else YAML as ``mkdocs.yml``).

    Python tags of ``mkdocs.yml`` are not run (their values are None here).

    Raises:
        SiteConfigError: when the file is missing, does not parse, or is not a mapping.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SiteConfigError(f"cannot read {path}: {exc.strerror}") from None
    if path.lower().endswith(".toml"):
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SiteConfigError(f"{path} is not valid TOML: {exc}") from None
        data = data.get("project", data)
    else:
        try:
            data = yaml.load(raw, Loader=_IgnoreTags)  # a SafeLoader: no code runs
        except yaml.YAMLError as exc:
            raise SiteConfigError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise SiteConfigError(f"{path} is not a site configuration (not a mapping)")
    extensions = _extension_items(data.get("markdown_extensions"))
    options = None
    snippet_bases: list[str] = []
    for name, value in extensions:
        if name in EXTENSION_NAMES:
            options = dict(value or {})
        if name == "pymdownx.snippets" and isinstance(value, dict):
            base = value.get("base_path") or ["."]
            snippet_bases += [base] if isinstance(base, str) else [str(b) for b in base]
    if options is None:
        raise SiteConfigError(f"{path}: erratum_sourcemap is not listed under markdown_extensions")
    theme = data.get("theme") if isinstance(data.get("theme"), dict) else {}
    listed = [name for name, _value in extensions]
    names = ["toc", "tables", *listed]
    if "pymdownx.superfences" not in listed:
        names.append("pymdownx.superfences")  # as Zensical adds it
    configs = dict(extensions)
    return SiteConfig(
        path=path,
        root_dir=os.path.dirname(os.path.abspath(path)),
        site_name=_text(data.get("site_name")),
        site_url=_text(data.get("site_url")),
        repo_url=_text(data.get("repo_url")),
        edit_uri=_text(data.get("edit_uri")),
        language=_text(theme.get("language") or theme.get("locale")),
        docs_folders=(str(data.get("docs_dir") or "docs"), *snippet_bases),
        markdown_extensions=tuple(
            {name: configs[name]} if isinstance(configs.get(name), dict) else name
            for name in dict.fromkeys(names)
        ),
        options=options,
    )


def _extension_items(value) -> list[tuple[str, dict | None]]:
    """``markdown_extensions`` as (name, options) pairs: a list (``mkdocs.yml``) or a
    table (``zensical.toml``, where ``pymdownx`` and ``zensical`` tables nest names).

    >>> _extension_items({"admonition": {}, "pymdownx": {"snippets": {"a": 1}}})
    [('admonition', {}), ('pymdownx.snippets', {'a': 1})]
    >>> _extension_items(["abbr", {"toc": {"permalink": True}}])
    [('abbr', None), ('toc', {'permalink': True})]
    """
    items: list[tuple[str, dict | None]] = []
    if isinstance(value, dict):
        for name, conf in value.items():
            if name in ("pymdownx", "zensical") and isinstance(conf, dict):
                for sub, sub_conf in conf.items():
                    if sub in ("blocks", "extensions") and isinstance(sub_conf, dict):
                        items += [(f"{name}.{sub}.{k}", v) for k, v in sub_conf.items()]
                    else:
                        items.append((f"{name}.{sub}", sub_conf))
            else:
                items.append((str(name), conf))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                items += [(str(k), v) for k, v in item.items()]
            elif isinstance(item, str):
                items.append((item, None))
    return [(name, conf if isinstance(conf, dict) else None) for name, conf in items]


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


class _IgnoreTags(yaml.SafeLoader):
    """Reads ``mkdocs.yml`` without running its ``!!python/...`` or ``!ENV`` tags."""


_IgnoreTags.add_multi_constructor("", lambda loader, suffix, node: None)
