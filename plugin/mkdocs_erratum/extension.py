"""Python-Markdown extension that annotates a page's blocks with their source lines.

(Work in progress: the alignment is being written; this stub keeps the public API.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from markdown.extensions import Extension

from mkdocs_erratum.repository import RepositoryFacts


@dataclass
class PageSourceMap:
    """What the extension learnt about one rendered page."""

    path: str | None
    """The page's Markdown file relative to the repository root."""
    files: dict[str, list[str]] = field(default_factory=dict)
    """Every file whose lines the page's attributes name: path -> lines as committed."""
    ranges: list[tuple[str, int, int]] = field(default_factory=list)
    """Every (path, first line, last line) emitted on the page, in document order."""


class SourceMapExtension(Extension):
    """Adds ``data-erratum-src`` to the blocks of whole pages announced by `expect_page`."""

    def __init__(self, repository: RepositoryFacts | None = None, logger=None, **kwargs):
        super().__init__(**kwargs)
        self.repository = repository
        self.log = logger or logging.getLogger(__name__)
        self.results: dict[str, PageSourceMap] = {}

    def expect_page(self, abs_src_path: str, markdown: str) -> None:
        """Announce that ``markdown`` (from ``abs_src_path``) is the next page to convert."""

    def page_result(self, abs_src_path: str) -> PageSourceMap | None:
        """The source map of a page rendered in this build, or None."""
        return self.results.get(abs_src_path)

    def forget_pages(self) -> None:
        """Drop per-build state (called at the end of every build)."""
        self.results.clear()

    def extendMarkdown(self, md):
        md.registerExtension(self)
