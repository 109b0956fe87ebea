"""What a built site needs beyond its Markdown's HTML, made one way for both hosts.

That is: the widget's settings (the repository, the build's commit, the branch, the
strings) and its tags in every page (`with_page_tags`, idempotent), the widget's
assets, one source file per Markdown file (the committed lines some block covers) and,
for sites with a correction service, the manifest (`write_site_files`).

The MkDocs plugin calls these from its hooks with the source maps it kept in memory.
Under Zensical, whose cached pages are rendered without any hook, ``erratum assets``
runs `make_site_files` after the build: it reads the source maps back from the
``data-erratum-*`` attributes of the built HTML (`read_site_pages`), the lines of each
file at the build's commit, and the options from the site's configuration.

``erratum assets`` writes nothing before every input was read and checked, and replaces
each page atomically: a bad configuration leaves the built site as it was, and a crash
never leaves a page half written.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mkdocs.config import base

from mkdocs_erratum import widget
from mkdocs_erratum.config import ErratumConfig
from mkdocs_erratum.extension import ATTRIBUTE, _decode_lines
from mkdocs_erratum.forges.detect import ForgeUnknown, detect
from mkdocs_erratum.forges.target import ForgeTarget
from mkdocs_erratum.repository import RepositoryFacts, read_repository

if TYPE_CHECKING:
    from mkdocs_erratum.zensical_host import SiteConfig

TAGS_BEGIN = "<!-- erratum:begin -->"
TAGS_END = "<!-- erratum:end -->"
_TAGS_RE = re.compile(re.escape(TAGS_BEGIN) + ".*?" + re.escape(TAGS_END), re.S)
_RANGE_RE = re.compile(r"(.+)#L(\d+)-L(\d+)")
_OUR_ATTRIBUTES_RE = re.compile(r'\s(?:data-erratum-src|data-erratum-page)="[^"<>]*"')
_TAG_WITH_OURS_RE = re.compile(r'<[A-Za-z][^<>]*?\sdata-erratum-(?:src|page)="[^<>]*>')


class SiteFilesError(Exception):
    """What stops ``erratum assets``: the message says what to fix; nothing was written."""


@dataclass
class SitePage:
    """One page of a built site, as the post-build step needs it."""

    url: str
    """The page's URL relative to the site (``guide/setup/``, ``a.html``)."""
    path: str | None
    """Its Markdown file, relative to the repository root."""
    ranges: list[tuple[str, int, int]] = field(default_factory=list)
    """Every (path, first line, last line) its blocks carry, in document order."""
    files: dict[str, list[str]] = field(default_factory=dict)
    """The lines of every file ``ranges`` name, as the build's commit holds them."""
    title: str | None = None
    """Its first heading (else its title): what issues about the page are named."""
    nav_title: str | None = None
    """Its title in the navigation, for the no-JavaScript link."""
    lang: str | None = None
    """Its own language (its front matter's ``lang``), when it has one."""
    file_texts: dict[str, str] = field(default_factory=dict)
    """The source JSON of files in ``files``, made for this page's ranges alone (by the
    source map's worker: `widget.source_texts`), where made."""


# -- The widget's settings ------------------------------------------------------------


def site_texts(
    theme_language: str | None,
    page_languages: Iterable[str | None],
    overrides: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, str]]:
    """The full texts of each language the site uses (`widget.site_languages`), the
    theme's first, with the ``widget_strings`` overrides."""
    codes = widget.site_languages(theme_language, page_languages, overrides)
    return {code: widget.resolve_strings(code, overrides) for code in codes}


def widget_settings(
    options: ErratumConfig,
    facts: RepositoryFacts,
    *,
    texts: Mapping[str, Mapping[str, str]],
    repo_url: str | None,
    edit_uri: str | None,
    warn: Callable[[str], None],
) -> dict | None:
    """The widget's browser settings, or None (after ``warn``) when it cannot work.

    Args:
        options: the checked options of the plugin (or of the extension).
        facts: the repository the site is built from.
        texts: `site_texts`' result.
        repo_url: the site's ``repo_url``.
        edit_uri: the ``edit_uri`` the user wrote (not a host's default).
        warn: called with a message the user can act on.
    """
    language, strings = next(iter(texts.items()))
    target = forge_target(repo_url, facts.remote_url, forge=options.forge)
    repository = options.widget_repository or (target.project if target else None)
    if repository is None and not options.service_url:
        # A warning (it fails --strict): a site that wants the source map alone says so
        # with widget_enabled: false.
        warn(
            "No repository known for the reader widget: set repo_url (and the plugin's "
            "forge option for a self-hosted forge), widget_repository or service_url (or "
            "widget_enabled: false). The widget is left out."
        )
        return None
    if not options.sourcemap_enabled:
        warn("The reader widget needs the source map (sourcemap_enabled: true): it is left out.")
        return None
    if options.widget_open_reports == "service" and not options.service_url:
        warn("widget_open_reports: service needs service_url; readers see no markers.")
    issue_form = options.widget_issue_form
    if issue_form and not os.path.isfile(
        os.path.join(facts.base_dir, ".github", "ISSUE_TEMPLATE", issue_form)
    ):
        warn(
            f"widget_issue_form: .github/ISSUE_TEMPLATE/{issue_form} is not in the repository "
            "(`erratum init` writes erratum.yml); reports go into the issue body instead."
        )
        issue_form = None
    return widget.browser_settings(
        repository=repository,
        commit=facts.commit,
        branch=options.widget_branch
        or widget.branch_from_edit_uri(edit_uri)
        or facts.branch
        or facts.default_branch,
        strings=strings,
        labels=options.widget_labels,
        title=options.widget_title,
        issue_form=issue_form,
        url_cap=options.widget_url_cap,
        blocks=options.widget_blocks,
        service_url=options.service_url,
        language=language,
        languages=texts,
        paragraph_links=options.widget_paragraph_links,
        forge=target.kind if target else (options.forge or "github"),
        web=target.web_url if target else widget.GITHUB_WEB,
        open_reports=options.widget_open_reports,
        open_reports_max_age=options.widget_open_reports_max_age,
    )


def forge_target(*urls: str | None, forge: str | None = None) -> ForgeTarget | None:
    """The forge and project of the first of ``urls`` that names one (`detect`).

    >>> forge_target(None, "https://gitlab.com/g/sub/p").project
    'g/sub/p'
    >>> forge_target("https://git.example/o/r") is None
    True
    """
    for url in urls:
        if url:
            try:
                return detect(url, forge=forge)
            except ForgeUnknown:
                continue
    return None


def project_of(repo_url: str | None, forge: str | None = None) -> str | None:
    """The project path of ``repo_url`` on a forge erratum can tell, else None."""
    target = forge_target(repo_url, forge=forge)
    return target.project if target else None


# -- Tags in each page ----------------------------------------------------------------


def with_page_tags(
    html: str,
    settings: Mapping,
    texts: Mapping[str, Mapping[str, str]],
    page: SitePage,
    *,
    canonical_url: str | None,
    fallback_title: str | None = None,
    title_template: str | None = None,
    fresh: bool = False,
) -> str:
    """``html`` with the widget's tags in ``<head>`` and before ``</body>``.

    Tags an earlier run added are replaced, so running it again on a page (a page
    Zensical kept from its cache) gives the same page; a ``fresh`` page (rendered by this
    build: MkDocs') is not searched for them.

    Args:
        html: the whole page.
        settings: `widget_settings`' result.
        texts: `site_texts`' result: the no-JavaScript link is in the page's language
            when the site has its texts, else in the theme's.
        page: the page (its URL, Markdown file, titles and language).
        canonical_url: its public URL, when the site's URL is known.
        fallback_title: what names a page without a title of its own.
        title_template: ``widget_title``, when set.
        fresh: whether the page was rendered by this build.
    """
    # A page tagged before: found in C, faster than the pattern.
    if not fresh and TAGS_BEGIN in html:
        html = _TAGS_RE.sub("", html)
    lang = page.lang.strip() if page.lang and page.lang.strip() else None
    code = widget.language_code(lang) if lang else settings["lang"]
    if code not in texts:
        lang, code = None, settings["lang"]
    strings = dict(texts[code])
    if title_template:
        strings["issue_title"] = title_template
    asset_url = posixpath.relpath(widget.ASSET_DIR, posixpath.dirname(page_file(page.url)))
    # The widget's language: the front matter's, else <html lang> (an i18n plugin's), else
    # the site's, as far as the site has texts for it.
    speaks = widget.page_language([page.lang, widget.html_lang(html)], texts, settings["lang"])
    head = widget.head_tags(
        settings, asset_url + "/", page_lang=speaks if speaks != settings["lang"] else None
    )
    body = ""
    if settings["repository"]:
        shown = page.nav_title or fallback_title or page.title or page.url or "/"
        body = widget.body_tags(
            widget.page_issue_url(
                repository=settings["repository"],
                ref=settings["commit"] or settings["branch"],
                page_title=page.title or shown,
                page_url=canonical_url or "/" + page.url,
                path=page.path,
                strings=strings,
                labels=settings["labels"],
                issue_form=settings["form"],
                forge=settings.get("forge", "github"),
                web=settings.get("web", widget.GITHUB_WEB),
            ),
            strings,
            page_title=shown,
            lang=lang if code != settings["lang"] else None,
        )
    return widget.inject(
        html, TAGS_BEGIN + head + TAGS_END, TAGS_BEGIN + body + TAGS_END if body else ""
    )


def page_file(page_url: str) -> str:
    """The HTML file of a page URL, relative to the site.

    >>> page_file(""), page_file("guide/setup/"), page_file("a.html")
    ('index.html', 'guide/setup/index.html', 'a.html')
    """
    return page_url + "index.html" if page_url == "" or page_url.endswith("/") else page_url


def page_url_of(file: str) -> str:
    """The page URL of an HTML file relative to the site (the inverse of `page_file`).

    >>> page_url_of("index.html"), page_url_of("guide/index.html"), page_url_of("a.html")
    ('', 'guide/', 'a.html')
    """
    if file == "index.html":
        return ""
    return file[: -len("index.html")] if file.endswith("/index.html") else file


# -- Source files, assets and the manifest ---------------------------------------------


def write_site_files(
    site_dir: str,
    pages: Sequence[SitePage],
    *,
    settings: Mapping | None,
    manifest: Mapping[str, Any] | None,
) -> None:
    """Write the widget's assets and source files (with ``settings``) and the manifest.

    Args:
        site_dir: the built site.
        pages: every page that carries source lines.
        settings: the widget's settings, or None when the site has no widget.
        manifest: what `build_manifest` takes besides the pages (``repository``,
            ``commit``, ``site_url``, ``docs_dirs``, ``markdown``), or None when the site
            has no correction service.

    Raises:
        OSError: when a file cannot be written.
    """
    if manifest is not None:
        # Here: a site without a correction service does not load the manifest's code.
        from mkdocs_erratum.manifest import build_manifest, write_site_manifest

        data = build_manifest([(page.url, page) for page in pages], **manifest)
        write_site_manifest(site_dir, data)
    if settings is not None:
        widget.write_site_files(site_dir, source_files(pages), widget.site_assets(settings))


def source_files(pages: Iterable[SitePage]) -> dict[str, str]:
    """Repository path -> the JSON of its source file (`widget.source_file_text`): its
    committed lines that some block of the site covers. A file that one page alone names
    comes as that page's `SitePage.file_texts` has it, when made; the others are made
    here from every page's ranges."""
    pages = list(pages)
    named: dict[str, int] = {}
    for page in pages:
        for path in page.files:
            named[path] = named.get(path, 0) + 1
    out: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    ranges: list[tuple[str, int, int]] = []
    for page in pages:
        made = page.file_texts
        if made and all(named[path] == 1 and path in made for path in page.files):
            out.update((path, made[path]) for path in page.files)
        else:
            files.update(page.files)
            ranges.extend(page.ranges)
    out.update(widget.source_texts(files, ranges))
    return out


def docs_dirs(
    config_dir: str, folders: Iterable[str], repository: RepositoryFacts | None
) -> list[str]:
    """The repository folders whose Markdown reports may change (``docs_dir`` and the
    snippets' base paths, relative to ``config_dir``), without repeats."""
    out: list[str] = []
    for folder in folders:
        rel = repository.relative_path(os.path.join(config_dir, folder)) if repository else None
        if rel is not None and rel not in out:
            out.append(rel)
    return out


# -- Reading a built site back (Zensical) ----------------------------------------------


@dataclass
class SiteReading:
    """What `read_site_pages` found in a built site."""

    pages: list[SitePage] = field(default_factory=list)
    """Pages whose source lines match the build's commit."""
    stale: list[str] = field(default_factory=list)
    """HTML files whose source lines were computed on other versions of their files."""
    html_files: list[str] = field(default_factory=list)
    """Every HTML page of the site, relative to it."""


def read_site_pages(
    site_dir: str,
    repository: RepositoryFacts,
    progress: Callable[[int, int], None] | None = None,
) -> SiteReading:
    """The pages of a built site, from the ``data-erratum-*`` attributes of their HTML.

    A page's ranges are kept only when the fingerprint it carries (see
    `mkdocs_erratum.zensical_host`) is that of the files at the build's commit: a page
    Zensical kept from an earlier build, mapped on other versions, is listed as stale.
    """
    from lxml import html as lhtml  # here: only the post-build step parses HTML

    from mkdocs_erratum.zensical_host import files_fingerprint

    reading = SiteReading()
    for root, dirs, files in os.walk(site_dir):
        dirs[:] = sorted(d for d in dirs if not _is_ours(site_dir, os.path.join(root, d)))
        for name in sorted(files):
            if name.endswith(".html"):
                rel = os.path.relpath(os.path.join(root, name), site_dir)
                reading.html_files.append(rel.replace(os.sep, "/"))
    lines_cache: dict[str, list[str] | None] = {}
    for done, rel in enumerate(reading.html_files, 1):
        if progress is not None:
            progress(done, len(reading.html_files))
        with open(os.path.join(site_dir, *rel.split("/")), "rb") as fh:
            raw = fh.read()
        if b"data-erratum-src" not in raw:
            continue
        page = _page_from_html(lhtml.fromstring(raw), page_url_of(rel))
        if page is None:
            reading.stale.append(rel)
            continue
        marker, page = page
        for path in {path for path, _start, _end in page.ranges}:
            if path not in lines_cache:
                lines_cache[path] = _committed_lines(repository, path)
            lines = lines_cache[path]
            if lines is not None:
                page.files[path] = lines
        complete = len(page.files) == len({path for path, _a, _b in page.ranges})
        if not complete or files_fingerprint(page.files) != marker:
            reading.stale.append(rel)
            continue
        page.lang = front_matter_lang(_committed_lines(repository, page.path) or [])
        reading.pages.append(page)
    return reading


def _is_ours(site_dir: str, folder: str) -> bool:
    from mkdocs_erratum.manifest import MANIFEST_PATH

    rel = os.path.relpath(folder, site_dir).replace(os.sep, "/")
    return rel in (widget.ASSET_DIR, MANIFEST_PATH.split("/")[0])


def _page_from_html(doc, url: str) -> tuple[str, SitePage] | None:
    """(fingerprint, page) from a parsed page, or None when it carries no page marker."""
    from mkdocs_erratum.zensical_host import PAGE_ATTRIBUTE, parse_page_marker

    marker = None
    ranges = []
    for el in doc.iter():
        value = el.get(ATTRIBUTE) if isinstance(el.tag, str) else None
        if value is None:
            continue
        m = _RANGE_RE.fullmatch(value)
        if m:
            ranges.append((m.group(1), int(m.group(2)), int(m.group(3))))
        found = parse_page_marker(el.get(PAGE_ATTRIBUTE) or "")
        if found is not None and marker is None:
            marker = found
    if marker is None or not ranges:
        return None
    headings = doc.xpath("//h1")
    title = " ".join(headings[0].text_content().replace("¶", "").split()) if headings else None
    titles = doc.xpath("//title")
    nav_title = titles[0].text_content().strip() if titles else None
    return marker[0], SitePage(url, marker[1], ranges, title=title or None, nav_title=nav_title)


def _committed_lines(repository: RepositoryFacts, path: str) -> list[str] | None:
    """The lines of a repository file at the build's commit (its working copy when it is
    not modified), or None when it cannot be read."""
    data = repository.committed_text(path)
    if data is None:
        try:
            with open(os.path.join(repository.base_dir, *path.split("/")), "rb") as fh:
                data = fh.read()
        except OSError:
            return None
    return _decode_lines(data)


def front_matter_lang(lines: Sequence[str]) -> str | None:
    """The ``lang`` of a Markdown file's YAML front matter (Zensical does not write it
    into the page), or None.

    >>> front_matter_lang(["---", "lang: fr", "title: A", "---", "# A"])
    'fr'
    >>> front_matter_lang(["# A", "lang: fr"]) is None
    True
    """
    if not lines or lines[0].rstrip() != "---":
        return None
    end = next((n for n, line in enumerate(lines) if n and line.rstrip() in ("---", "...")), 0)
    if not end:
        return None
    import yaml

    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return None
    lang = meta.get("lang") if isinstance(meta, dict) else None
    return lang.strip() if isinstance(lang, str) and lang.strip() else None


def without_source_lines(html: str) -> str:
    """``html`` without the source-map attributes (of a stale page): no range is better
    than a wrong one.

    >>> without_source_lines('<p data-erratum-src="a.md#L1-L1">x</p>')
    '<p>x</p>'
    """
    return _TAG_WITH_OURS_RE.sub(lambda m: _OUR_ATTRIBUTES_RE.sub("", m.group(0)), html)


# -- `erratum assets` ----------------------------------------------------------------


@dataclass
class AssetsResult:
    """What `make_site_files` did."""

    pages: int = 0
    """Pages whose source lines are published."""
    files: int = 0
    """Source files written."""
    tagged: int = 0
    """HTML pages that carry the widget's tags."""
    stale: list[str] = field(default_factory=list)
    """Pages left without source lines (mapped on other file versions)."""
    manifest: bool = False
    """Whether the manifest was written."""
    warnings: list[str] = field(default_factory=list)


def make_site_files(
    site_dir: str,
    config_path: str,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> AssetsResult:
    """Everything a site built by Zensical needs beyond its HTML (``erratum assets``).

    Args:
        site_dir: the built site.
        config_path: ``zensical.toml`` or ``mkdocs.yml``.
        progress: called with (stage, done, total) while pages are read and written.

    Raises:
        SiteFilesError: for a missing site, a bad configuration or option, or a site with
            no source lines; nothing is written then.
    """
    from mkdocs_erratum.zensical_host import SiteConfigError, read_site_config

    if not os.path.isdir(site_dir):
        raise SiteFilesError(f"{site_dir} is not a built site (no such folder)")
    try:
        site = read_site_config(config_path)
    except SiteConfigError as exc:
        raise SiteFilesError(str(exc)) from None
    result = AssetsResult()
    options = _checked_options(site)
    if not options.enabled or not options.sourcemap_enabled:
        off = "enabled" if not options.enabled else "sourcemap_enabled"
        result.warnings.append(f"{off} is false: nothing was written.")
        return result
    repository = read_repository(site.root_dir)
    if repository.root is None:
        result.warnings.append(
            f"The site is not in a git repository: source paths are relative to "
            f"{repository.base_dir} and reports carry no commit."
        )
    reading = read_site_pages(
        site_dir, repository, (lambda d, t: progress("read", d, t)) if progress else None
    )
    if not reading.pages and not reading.stale:
        raise SiteFilesError(
            f"No page of {site_dir} carries source lines: list erratum_sourcemap under "
            f"markdown_extensions in {os.path.basename(config_path)} and build again "
            "(a site built by MkDocs with the erratum plugin has its files already)."
        )
    if not reading.pages:
        raise SiteFilesError(
            f"No page of {site_dir} was mapped on the files of the build's commit: run "
            "`zensical build --clean` (a site built by MkDocs with the erratum plugin has "
            "its files already). Nothing was written."
        )
    texts: dict[str, dict[str, str]] = {}
    settings = None
    if options.widget_enabled:
        texts = site_texts(
            site.language, [page.lang for page in reading.pages], options.widget_strings
        )
        settings = widget_settings(
            options,
            repository,
            texts=texts,
            repo_url=site.repo_url,
            edit_uri=site.edit_uri,
            warn=result.warnings.append,
        )
    manifest = None
    if options.service_url:
        from mkdocs_erratum import gate  # here: only sites with a service load lxml for it

        manifest = {
            "repository": (settings or {}).get("repository")
            or project_of(site.repo_url, options.forge),
            "commit": repository.commit,
            "site_url": site.site_url or None,
            "docs_dirs": docs_dirs(site.root_dir, site.docs_folders, repository),
            "markdown": gate.MarkdownConfig.from_mkdocs(site.markdown_extensions),
        }
    try:
        write_site_files(site_dir, reading.pages, settings=settings, manifest=manifest)
        _rewrite_pages(site_dir, reading, settings, texts, site, options, result, progress)
    except OSError as exc:
        raise SiteFilesError(f"could not write the site's files: {exc}") from exc
    result.pages = len(reading.pages)
    result.files = len(source_files(reading.pages)) if settings is not None else 0
    result.stale = reading.stale
    result.manifest = manifest is not None
    return result


def _checked_options(site: SiteConfig) -> ErratumConfig:
    """The extension's options, checked by the plugin's own schema."""
    options = ErratumConfig()
    options.load_dict(dict(site.options))
    known = {name for name, _option in base.get_schema(ErratumConfig)}
    errors = [f"{key}: unknown option" for key in site.options if key not in known]
    failed, _warnings = options.validate()
    errors += [f"{key}: {message}" for key, message in failed]
    if errors:
        where = f"{os.path.basename(site.path)}, options of erratum_sourcemap"
        raise SiteFilesError(f"{where}: " + "; ".join(errors))
    return options


def _rewrite_pages(
    site_dir: str,
    reading: SiteReading,
    settings: Mapping | None,
    texts: Mapping[str, Mapping[str, str]],
    site: SiteConfig,
    options: ErratumConfig,
    result: AssetsResult,
    progress: Callable[[str, int, int], None] | None,
) -> None:
    """Tag every page that carries source lines; take them off stale pages."""
    by_url = {page.url: page for page in reading.pages}
    stale = set(reading.stale)
    for done, rel in enumerate(reading.html_files, 1):
        if progress is not None:
            progress("write", done, len(reading.html_files))
        url = page_url_of(rel)
        page = by_url.get(url)
        if page is None and rel not in stale and not _tagged_before(site_dir, rel):
            continue
        target = os.path.join(site_dir, *rel.split("/"))
        with open(target, encoding="utf-8", errors="surrogateescape") as fh:
            before = fh.read()
        after = _TAGS_RE.sub("", without_source_lines(before) if rel in stale else before)
        if page is not None and settings is not None:
            page.nav_title = _without_site_name(page.nav_title, site.site_name)
            after = with_page_tags(
                after,
                settings,
                texts,
                page,
                canonical_url=site.site_url.rstrip("/") + "/" + url if site.site_url else None,
                title_template=options.widget_title,
            )
            result.tagged += 1
        if after != before:
            _replace(target, after)


def _tagged_before(site_dir: str, rel: str) -> bool:
    with open(os.path.join(site_dir, *rel.split("/")), "rb") as fh:
        return TAGS_BEGIN.encode() in fh.read()


def _without_site_name(title: str | None, site_name: str | None) -> str | None:
    """A page's ``<title>`` without the `` - Site name`` the theme adds.

    >>> _without_site_name("Setup - Docs", "Docs"), _without_site_name("Docs", "Docs")
    ('Setup', 'Docs')
    """
    if title and site_name and title.endswith(" - " + site_name):
        return title[: -len(site_name) - 3].strip() or title
    return title


def _replace(target: str, text: str) -> None:
    """Write ``text`` to ``target`` atomically (a crash leaves the old file)."""
    folder = os.path.dirname(target)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".erratum-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        os.chmod(temporary, os.stat(target).st_mode & 0o777)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
