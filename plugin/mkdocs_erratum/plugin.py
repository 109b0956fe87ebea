"""The ``erratum`` MkDocs plugin: a thin adapter around the source-map extension.

It registers `SourceMapExtension` with Python-Markdown in ``on_config`` (as mkdocstrings
does), tells it which page is about to be rendered, and reads the repository facts once
per build. Alignment itself lives in `mkdocs_erratum.sourcemap`.
"""

from __future__ import annotations

import os
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from mkdocs_erratum.config import ErratumConfig
from mkdocs_erratum.extension import SourceMapExtension
from mkdocs_erratum.repository import RepositoryFacts, read_repository

log = get_plugin_logger(__name__)


class ErratumPlugin(BasePlugin[ErratumConfig]):
    """Annotates pages with their Markdown source lines and adds the report widget."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.repository: RepositoryFacts | None = None
        self.extension: SourceMapExtension | None = None

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None):
        """Validate our options; an unknown option is an error, not a warning.

        A misspelt option would otherwise be ignored silently outside ``--strict``.
        """
        errors, warnings = super().load_config(options, config_file_path)
        unknown = [(key, msg) for key, msg in warnings if "Unrecognised configuration" in msg]
        errors.extend(unknown)
        return errors, [w for w in warnings if w not in unknown]

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        # Read afresh on every build: `mkdocs serve` rebuilds after commits too.
        config_dir = os.path.dirname(os.path.abspath(config.config_file_path or config.docs_dir))
        self.repository = read_repository(config_dir)
        if self.repository.root is None:
            log.warning(
                "The site is not in a git repository: source paths are relative to %s "
                "and reports carry no commit.",
                self.repository.base_dir,
            )
        self.extension = None
        if self.config.sourcemap_enabled:
            self.extension = SourceMapExtension(repository=self.repository, logger=log)
            config.markdown_extensions.append(self.extension)
        return config

    # Run after every other plugin's on_page_markdown: the extension must recognise
    # the exact text that Python-Markdown is about to convert.
    @event_priority(-100)
    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.config.enabled and self.extension is not None and page.file.abs_src_path:
            self.extension.expect_page(page.file.abs_src_path, markdown)
        return None

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.extension is not None:
            self.extension.forget_pages()

    def on_build_error(self, *, error: Exception, **kwargs: Any) -> None:
        if self.extension is not None:
            self.extension.forget_pages()
