"""The ``erratum`` MkDocs plugin: a thin adapter around the source-map extension.

It registers `SourceMapExtension` with Python-Markdown in ``on_config`` (as mkdocstrings
does), tells it which page is about to be rendered, and reads the repository facts once
per build. Alignment itself lives in `mkdocs_erratum.sourcemap`; the widget's tags, its
files and the manifest are made by `mkdocs_erratum.site_files`, as for Zensical.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from mkdocs_erratum import page_worker, site_files, widget
from mkdocs_erratum.config import ErratumConfig
from mkdocs_erratum.extension import SourceMapExtension
from mkdocs_erratum.repository import RepositoryFacts, RepositoryReading

log = get_plugin_logger(__name__)

MKDOCS_DEFAULT_EDIT_URI = "edit/master/docs/"
"""What MkDocs sets ``edit_uri`` to for a GitHub ``repo_url`` when the user wrote none."""


class ErratumPlugin(BasePlugin[ErratumConfig]):
    """Annotates pages with their Markdown source lines and adds the report widget."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.repository: RepositoryFacts | None = None
        self.extension: SourceMapExtension | None = None
        self.widget_settings: dict | None = None
        self.widget_texts: dict[str, dict[str, str]] = {}
        self.widget_page_languages: set[str] = set()
        self.site_pages: dict[str, site_files.SitePage] = {}
        """Pages with source lines, by ``src_uri``: what the site's files are made of."""
        self.worker: page_worker.PageWorker | None = None
        self._reading: RepositoryReading | None = None

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None):
        """Validate our options; an unknown option is an error, not a warning.

        A misspelt option would otherwise be ignored silently outside ``--strict``. The
        option names are compared with the schema's, not with MkDocs' warning texts.
        """
        errors, warnings = super().load_config(options, config_file_path)
        # git answers while MkDocs checks the rest of its configuration (on_config takes it).
        if config_file_path and self.config.enabled is not False and not errors:
            self._reading = RepositoryReading(_config_dir(config_file_path))
        known = {name for name, _option in self.config_scheme}
        unknown = [key for key in options if key not in known]
        for key in unknown:
            errors.append((key, f"unknown option of the erratum plugin (known: {_names(known)})"))
        return errors, [(key, msg) for key, msg in warnings if key not in unknown]

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        # Read afresh on every build (`mkdocs serve` rebuilds after commits too), from the
        # reading started with this configuration when it is for the same folder.
        config_dir = _config_dir(config.config_file_path or config.docs_dir)
        reading, self._reading = self._reading, None
        if reading is None or reading.start_dir != config_dir:
            if reading is not None:
                reading.facts()  # its processes are waited for, not left behind
            reading = RepositoryReading(config_dir)
        self.repository = reading.facts()
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
        self.widget_settings = None
        self.widget_texts = {}
        self.widget_page_languages = set()
        if self.config.widget_enabled:
            try:
                self.widget_settings = self._widget_settings(config)
            except PluginError:
                raise
            except Exception as exc:  # never break a user's build over the widget
                log.warning("Reader widget left out: %s: %s", type(exc).__name__, exc)
        self.site_pages = {}
        return config

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        self._stop_worker()
        extension = self.extension
        if extension is None or not self.config.sourcemap_worker:
            return None
        if page_worker.worth_a_worker(sum(1 for _ in files.documentation_pages())):
            self.worker = extension.worker = page_worker.PageWorker(log.info)
            # The widget's source JSON of each page's files is made there too.
            extension.page_texts = widget.source_texts if self.widget_settings else None
        return None

    def _widget_settings(self, config: MkDocsConfig) -> dict | None:
        """The widget's browser settings, or None (with a warning) when it cannot work."""
        assert self.repository is not None
        theme = config.theme
        # The schema checked every name and text; pages' own languages join in on_env.
        self.widget_texts = site_files.site_texts(
            str(theme.get("language") or theme.get("locale") or "en"),
            _i18n_languages(config),
            self.config.widget_strings,
        )
        return site_files.widget_settings(
            self.config,
            self.repository,
            texts=self.widget_texts,
            repo_url=config.repo_url,
            edit_uri=_written_edit_uri(config),
            warn=log.warning,
        )

    # Every page's front matter has been read by now (pages are rendered before any is
    # written): the settings embed each language the pages use.
    def on_env(self, env: Any, /, *, config: MkDocsConfig, files: Files) -> Any:
        settings = self.widget_settings
        if self.config.enabled and settings is not None and self.widget_page_languages:
            theme = next(iter(self.widget_texts))
            extra = sorted(self.widget_page_languages)
            self.widget_texts = site_files.site_texts(
                theme, [*_i18n_languages(config), *extra], self.config.widget_strings
            )
            settings.update(widget.language_settings(self.widget_texts, self.config.widget_title))
        return None

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled or self.extension is None:
            return None
        if self.widget_settings is None and not self.config.service_url:
            return None
        try:
            result = self.extension.page_result(page.file.abs_src_path or "")
            lang = page.meta.get("lang")
            self.site_pages[page.file.src_uri] = site_files.SitePage(
                url=page.url,
                path=result.path if result else None,
                ranges=result.ranges if result else [],
                files=result.files if result else {},
                # The widget's rule: the first heading, else the page's title.
                title=widget.first_heading(html) or page.title,
                nav_title=page.title,
                lang=lang if isinstance(lang, str) else None,
            )
        except Exception as exc:  # never break a user's build over the widget
            log.warning("Reader widget: page '%s' left out (%s).", page.file.src_uri, exc)
        return None

    # Before other plugins' on_page_context (the search index's, say) and before the theme
    # renders the page: its content gets the attributes the source map's worker found in
    # place of its placeholders, so that the rendered page need not be searched for them.
    @event_priority(100)
    def on_page_context(
        self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any
    ) -> Any:
        if self.config.enabled and page.content is not None:
            page.content = self._finish_page(page, page.content)[0]
        return None

    # Before other plugins' on_post_page (a minifier's, say): no placeholder of the source
    # map's worker is left in the page.
    @event_priority(50)
    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled:
            return None
        changed = None
        if self.extension is not None and self.worker is not None:
            # A page whose context event did not reach this plugin is finished here.
            filled, content = self._finish_page(page, output, page.content or "")
            if page.content is not None:
                page.content = content
            changed = self.extension.without_placeholders(filled)
        settings = self.widget_settings
        if settings is None:
            return changed
        output = changed or output
        try:
            # The page's own language when the site has its texts: its front matter's,
            # else the theme's now (an i18n plugin such as mkdocs-static-i18n sets it
            # per language, after this plugin's on_config).
            lang = page.meta.get("lang") if isinstance(page.meta.get("lang"), str) else None
            current = config.theme.get("language") or config.theme.get("locale")
            if not lang and current and widget.language_code(str(current)) != settings["lang"]:
                lang = str(current)
            known = dataclasses.replace(
                self.site_pages.get(page.file.src_uri) or site_files.SitePage(page.url, None),
                lang=lang,
            )
            return site_files.with_page_tags(
                output,
                settings,
                self.widget_texts,
                known,
                canonical_url=page.canonical_url,
                fallback_title=page.title or page.file.src_uri,
                title_template=self.config.widget_title,
                fresh=True,
            )
        except Exception as exc:  # never break a user's build over the widget
            log.warning("Reader widget: page '%s' left out (%s).", page.file.src_uri, exc)
            return changed

    def _finish_page(self, page: Page, *texts: str) -> list[str]:
        """``texts`` (the page's content, and its whole HTML once rendered) with the
        attributes the worker found for the page, the first time this page is finished;
        unchanged after that, or when no worker maps the pages."""
        abs_path = page.file.abs_src_path or ""
        if self.extension is None or not self.extension.is_pending(abs_path):
            return list(texts)
        texts_out = self.extension.finish_page(abs_path, *texts)
        known = self.site_pages.get(page.file.src_uri)
        result = self.extension.page_result(abs_path)
        if known is not None and result is not None:
            self.site_pages[page.file.src_uri] = dataclasses.replace(
                known,
                path=result.path,
                ranges=result.ranges,
                files=result.files,
                file_texts=result.file_texts,
            )
        return texts_out

    def _stop_worker(self) -> None:
        worker, self.worker = self.worker, None
        if self.extension is not None:
            self.extension.worker = None
        if worker is not None:
            worker.close()

    # Run after every other plugin's on_page_markdown: the extension must recognise
    # the exact text that Python-Markdown is about to convert.
    @event_priority(-100)
    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.config.enabled and self.extension is not None and page.file.abs_src_path:
            self.extension.expect_page(page.file.abs_src_path, markdown)
        lang = page.meta.get("lang")
        if self.widget_settings is not None and isinstance(lang, str) and lang.strip():
            self.widget_page_languages.add(lang.strip())
        return None

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._stop_worker()
        pages = [page for page in self.site_pages.values() if page.ranges]
        self.site_pages = {}
        if self.extension is not None:
            self.extension.forget_pages()
        if not self.config.enabled:
            return
        manifest = None
        if self.config.service_url and pages:
            from mkdocs_erratum import gate  # here: only sites with a service load lxml for it

            manifest = {
                "repository": (self.widget_settings or {}).get("repository")
                or site_files.project_of(config.repo_url, self.config.forge),
                "commit": self.repository.commit if self.repository else None,
                "site_url": config.site_url or None,
                "docs_dirs": _docs_dirs(config, self.repository),
                # The service renders replacements as this site does (see mkdocs_erratum.gate).
                "markdown": gate.MarkdownConfig.from_mkdocs(
                    config.markdown_extensions, config.mdx_configs
                ),
            }
        try:
            site_files.write_site_files(
                config.site_dir, pages, settings=self.widget_settings, manifest=manifest
            )
        except OSError as exc:
            raise PluginError(f"erratum: could not write the site's files: {exc}") from exc

    def on_build_error(self, *, error: Exception, **kwargs: Any) -> None:
        self._stop_worker()
        if self.extension is not None:
            self.extension.forget_pages()


def _written_edit_uri(config: MkDocsConfig) -> str | None:
    """``edit_uri`` when the user wrote it, else None.

    For a GitHub ``repo_url`` MkDocs fills in ``edit/master/docs/`` by itself: that names
    no branch of the user's. The configuration as written is in ``user_configs``
    (deprecated by MkDocs but still there); without it, only that default is set aside.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        raw = getattr(config, "user_configs", None)
    if raw is not None:
        return config.edit_uri if any("edit_uri" in layer for layer in raw) else None
    return None if config.edit_uri == MKDOCS_DEFAULT_EDIT_URI else config.edit_uri


def _i18n_languages(config: MkDocsConfig) -> list[str]:
    """The languages of an i18n plugin (mkdocs-static-i18n's ``languages[].locale``)."""
    i18n = config.plugins.get("i18n")
    options = getattr(i18n, "config", None)
    entries = options.get("languages", []) if hasattr(options, "get") else []
    found = []
    for entry in entries or []:
        locale = entry.get("locale") if hasattr(entry, "get") else getattr(entry, "locale", None)
        if isinstance(locale, str):
            found.append(locale)
    return found


def _config_dir(path: str) -> str:
    """The folder of ``mkdocs.yml`` (given its path; without one, ``docs_dir``'s parent)."""
    return os.path.dirname(os.path.abspath(path))


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names))


def _docs_dirs(config: MkDocsConfig, repository: RepositoryFacts | None) -> list[str]:
    """Repository folders whose Markdown reports may change: docs_dir, snippet bases."""
    base = (config.mdx_configs.get("pymdownx.snippets") or {}).get("base_path") or []
    config_dir = _config_dir(config.config_file_path or config.docs_dir)
    return site_files.docs_dirs(
        config_dir, [config.docs_dir, *([base] if isinstance(base, str) else base)], repository
    )
