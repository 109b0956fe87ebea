"""The ``erratum`` MkDocs plugin: a thin adapter around the source-map extension.

It registers `SourceMapExtension` with Python-Markdown in ``on_config`` (as mkdocstrings
does), tells it which page is about to be rendered, and reads the repository facts once
per build. Alignment itself lives in `mkdocs_erratum.sourcemap`.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from mkdocs_erratum import widget
from mkdocs_erratum.config import ErratumConfig
from mkdocs_erratum.extension import PageSourceMap, SourceMapExtension
from mkdocs_erratum.manifest import build_manifest, write_site_manifest
from mkdocs_erratum.repository import RepositoryFacts, github_repository, read_repository

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
        self.widget_sources: dict[str, tuple[list[str], set[int]]] = {}
        self.widget_page_paths: dict[str, str] = {}
        self.widget_page_titles: dict[str, str] = {}
        self.manifest_pages: list[tuple[str, PageSourceMap]] = []

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None):
        """Validate our options; an unknown option is an error, not a warning.

        A misspelt option would otherwise be ignored silently outside ``--strict``. The
        option names are compared with the schema's, not with MkDocs' warning texts.
        """
        errors, warnings = super().load_config(options, config_file_path)
        known = {name for name, _option in self.config_scheme}
        unknown = [key for key in options if key not in known]
        for key in unknown:
            errors.append((key, f"unknown option of the erratum plugin (known: {_names(known)})"))
        return errors, [(key, msg) for key, msg in warnings if key not in unknown]

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
        self.widget_sources = {}
        self.widget_page_paths = {}
        self.widget_page_titles = {}
        self.manifest_pages = []
        return config

    def _widget_settings(self, config: MkDocsConfig) -> dict | None:
        """The widget's browser settings, or None (with a warning) when it cannot work."""
        facts = self.repository
        assert facts is not None
        theme = config.theme
        # The schema checked every name and text; pages' own languages join in on_env.
        self.widget_texts = self._texts(
            str(theme.get("language") or theme.get("locale") or "en"), _i18n_languages(config)
        )
        language, strings = next(iter(self.widget_texts.items()))
        repository = (
            self.config.widget_repository
            or github_repository(config.repo_url)
            or github_repository(facts.remote_url)
        )
        if repository is None and not self.config.service_url:
            # A warning (it fails --strict): a site on another forge that wants the source
            # map alone says so with widget_enabled: false.
            log.warning(
                "No GitHub repository known for the reader widget: set repo_url, the "
                "plugin's widget_repository or service_url (or widget_enabled: false). "
                "The widget is left out."
            )
            return None
        if not self.config.sourcemap_enabled:
            log.warning(
                "The reader widget needs the source map (sourcemap_enabled: true): it is left out."
            )
            return None
        issue_form = self.config.widget_issue_form
        if issue_form and not os.path.isfile(
            os.path.join(facts.base_dir, ".github", "ISSUE_TEMPLATE", issue_form)
        ):
            log.warning(
                "widget_issue_form: .github/ISSUE_TEMPLATE/%s is not in the repository "
                "(`erratum init` writes erratum.yml); reports go into the issue body instead.",
                issue_form,
            )
            issue_form = None
        return widget.browser_settings(
            repository=repository,
            commit=facts.commit,
            branch=self.config.widget_branch
            or widget.branch_from_edit_uri(_written_edit_uri(config))
            or facts.branch
            or facts.default_branch,
            strings=strings,
            labels=self.config.widget_labels,
            title=self.config.widget_title,
            issue_form=issue_form,
            url_cap=self.config.widget_url_cap,
            blocks=self.config.widget_blocks,
            service_url=self.config.service_url,
            language=language,
            languages=self.widget_texts,
            paragraph_links=self.config.widget_paragraph_links,
        )

    def _texts(self, theme_language: str, languages: list[str]) -> dict[str, dict[str, str]]:
        """The full texts of each language the site uses, the theme's first."""
        overrides = self.config.widget_strings
        codes = widget.site_languages(theme_language, languages, overrides)
        return {code: widget.resolve_strings(code, overrides) for code in codes}

    # Every page's front matter has been read by now (pages are rendered before any is
    # written): the settings embed each language the pages use.
    def on_env(self, env: Any, /, *, config: MkDocsConfig, files: Files) -> Any:
        settings = self.widget_settings
        if self.config.enabled and settings is not None and self.widget_page_languages:
            theme = next(iter(self.widget_texts))
            extra = sorted(self.widget_page_languages)
            self.widget_texts = self._texts(theme, [*_i18n_languages(config), *extra])
            settings.update(widget.language_settings(self.widget_texts, self.config.widget_title))
        return None

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.config.enabled and self.config.service_url and self.extension is not None:
            # The correction service checks every report against the manifest.
            found = self.extension.page_result(page.file.abs_src_path or "")
            if found is not None:
                self.manifest_pages.append((page.url, found))
        if not self.config.enabled or self.widget_settings is None or self.extension is None:
            return None
        try:
            result = self.extension.page_result(page.file.abs_src_path or "")
            if result is None:
                return None
            if result.path:
                self.widget_page_paths[page.file.src_uri] = result.path
            heading = widget.first_heading(html)
            if heading:
                self.widget_page_titles[page.file.src_uri] = heading
            ranges: dict[str, list[tuple[int, int]]] = {}
            for path, start, end in result.ranges:
                ranges.setdefault(path, []).append((start, end))
            for path, spans in ranges.items():
                _lines, covered = self.widget_sources.setdefault(path, (result.files[path], set()))
                covered |= widget.covered_lines(spans)
        except Exception as exc:  # never break a user's build over the widget
            log.warning("Reader widget: page '%s' left out (%s).", page.file.src_uri, exc)
        return None

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        settings = self.widget_settings
        if not self.config.enabled or settings is None:
            return None
        try:
            asset_url = get_relative_url(widget.ASSET_DIR + "/", page.url)
            # The page's own language when the site has its texts: its front matter's,
            # else the theme's now (an i18n plugin such as mkdocs-static-i18n sets it
            # per language, after this plugin's on_config).
            lang = page.meta.get("lang") if isinstance(page.meta.get("lang"), str) else None
            current = config.theme.get("language") or config.theme.get("locale")
            if not lang and current and widget.language_code(str(current)) != settings["lang"]:
                lang = str(current)
            code = widget.language_code(lang) if lang else settings["lang"]
            if code not in self.widget_texts:
                lang, code = None, settings["lang"]
            strings = dict(self.widget_texts[code])
            if self.config.widget_title:
                strings["issue_title"] = self.config.widget_title
            body = ""
            if settings["repository"]:
                page_url = page.canonical_url or "/" + page.url
                body = widget.body_tags(
                    widget.page_issue_url(
                        repository=settings["repository"],
                        ref=settings["commit"] or settings["branch"],
                        # The widget's rule: the first heading, else the page's title.
                        page_title=self.widget_page_titles.get(page.file.src_uri)
                        or page.title
                        or page.file.src_uri,
                        page_url=page_url,
                        path=self.widget_page_paths.get(page.file.src_uri),
                        strings=strings,
                        labels=settings["labels"],
                        issue_form=settings["form"],
                    ),
                    strings,
                    page_title=page.title or page.file.src_uri,
                    lang=lang if code != settings["lang"] else None,
                )
            head = widget.head_tags(settings, asset_url, page_lang=lang)
            return widget.inject(output, head, body)
        except Exception as exc:  # never break a user's build over the widget
            log.warning("Reader widget: page '%s' left out (%s).", page.file.src_uri, exc)
            return None

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
        if self.manifest_pages:
            self._write_manifest(config)
        if self.extension is not None:
            self.extension.forget_pages()
        if self.config.enabled and self.widget_settings is not None:
            try:
                widget.write_site_files(config.site_dir, self.widget_sources)
            except OSError as exc:
                raise PluginError(f"erratum: could not write the widget's files: {exc}") from exc
        self.widget_sources = {}

    def _write_manifest(self, config: MkDocsConfig) -> None:
        """Write ``_erratum/manifest.json``: what the correction service accepts reports on."""
        repository = (self.widget_settings or {}).get("repository") or github_repository(
            config.repo_url
        )
        from mkdocs_erratum import gate  # here: only sites with a service load lxml for it

        data = build_manifest(
            self.manifest_pages,
            repository=repository,
            commit=self.repository.commit if self.repository else None,
            site_url=config.site_url or None,
            docs_dirs=_docs_dirs(config, self.repository),
            # The service renders replacements as this site does (see mkdocs_erratum.gate).
            markdown=gate.MarkdownConfig.from_mkdocs(
                config.markdown_extensions, config.mdx_configs
            ),
        )
        self.manifest_pages = []
        try:
            write_site_manifest(config.site_dir, data)
        except OSError as exc:
            raise PluginError(f"erratum: could not write the site manifest: {exc}") from exc

    def on_build_error(self, *, error: Exception, **kwargs: Any) -> None:
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


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names))


def _docs_dirs(config: MkDocsConfig, repository: RepositoryFacts | None) -> list[str]:
    """Repository folders whose Markdown reports may change: docs_dir, snippet bases."""
    folders = [config.docs_dir]
    base = (config.mdx_configs.get("pymdownx.snippets") or {}).get("base_path") or []
    config_dir = os.path.dirname(os.path.abspath(config.config_file_path or config.docs_dir))
    folders += [os.path.join(config_dir, b) for b in ([base] if isinstance(base, str) else base)]
    out = []
    for folder in folders:
        rel = repository.relative_path(folder) if repository else None
        if rel is not None and rel not in out:
            out.append(rel)
    return out
