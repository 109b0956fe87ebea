"""Build-time side of the reader widget: strings, browser settings, tags, source files.

Pure functions over strings and plain data (no MkDocs objects): the plugin calls them
from its hooks. The widget itself is ``assets/erratum.js``; it reads the settings from a
JSON ``<script>`` that `head_tags` writes, and loads a Markdown file's lines from the
source file that `source_file_text` writes only when a reader reports an error. This
module also builds the one link a page gets for readers without JavaScript.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence

from .forges import web as forge_web
from .text_rules import neutralise  # noqa: F401 (re-exported: the one rule for reader text)

ASSET_DIR = "assets/erratum"
"""Where the widget's files go in the built site (relative to ``site_dir``)."""
SOURCE_DIR = ASSET_DIR + "/src"
"""Where the per-file source lines go: ``SOURCE_DIR/<repository path>.json``."""
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "ja", "zh")
"""The built-in languages: ``assets/strings.<code>.json`` holds each one's texts."""
LOADER = ("erratum.js", "erratum.css")
"""What every page loads: the button, the per-paragraph link, the selection mode."""
ASSETS = (
    *LOADER,
    "erratum-dialog.js",
    "erratum-dialog.css",
    *(f"strings.{code}.json" for code in LANGUAGES),
)
"""Every file copied into `ASSET_DIR`; the dialog and the strings load on the first press."""
PAGE_STRINGS = ("button", "banner", "continue", "cancel", "here")
"""The strings a page embeds (for each of the site's languages): the rest come with the
dialog, from the language's strings file."""
DEFAULT_URL_CAP = 6000
GITHUB_WEB = "https://github.com"
_ASSET_SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")


def _load_strings() -> dict[str, dict[str, str]]:
    out = {}
    for code in LANGUAGES:
        with open(os.path.join(_ASSET_SOURCES, f"strings.{code}.json"), encoding="utf-8") as fh:
            out[code] = json.load(fh)
    return out


STRINGS: dict[str, dict[str, str]] = _load_strings()
"""The built-in texts, ``{language code: {string name: text}}``; the files are the source."""


class WidgetConfigError(ValueError):
    """A widget option with a wrong value; the message names the option."""


def language_code(theme_language: str | None) -> str:
    """The two-letter code of a theme's language (English when unset).

    >>> language_code("fr_CA"), language_code("pt-BR"), language_code(None)
    ('fr', 'pt', 'en')
    """
    return (theme_language or "en").replace("_", "-").split("-")[0].lower() or "en"


_HTML_LANG_RE = re.compile(r"""<html\b[^>]*?\slang\s*=\s*["']?([^"'\s>]*)""", re.I)


def html_lang(html: str) -> str | None:
    """The ``lang`` of a page's ``<html>`` tag, if it has one.

    >>> html_lang('<!doctype html><html lang="fr-CA" class="no-js">'), html_lang("<html>")
    ('fr-CA', None)
    """
    found = _HTML_LANG_RE.search(html)
    return found.group(1).strip() or None if found else None


def page_language(candidates: Iterable[str | None], known: Iterable[str], default: str) -> str:
    """The code of the first of ``candidates`` that is one of the ``known`` codes, else
    ``default``: the language the widget speaks on a page, given (in that order) its
    front matter's ``lang`` and its ``<html lang>``, among the site's languages.

    >>> page_language(["fr_FR", "en"], ["en", "fr"], "en")
    'fr'
    >>> page_language(["xx", None], ["de"], "de")
    'de'
    """
    known = set(known)
    codes = (language_code(lang) for lang in candidates if lang and lang.strip())
    return next((code for code in codes if code in known), default)


def check_strings(overrides: Mapping[str, Mapping[str, str]]) -> None:
    """Check ``widget_strings``: every name one of the widget's, every text a string.

    Raises:
        WidgetConfigError: for an unknown string name or a text that is not a string.
    """
    for lang, texts in overrides.items():
        if not isinstance(texts, Mapping):
            raise WidgetConfigError(f"widget_strings.{lang}: expected a mapping of names to texts")
        for name, text in texts.items():
            if name not in STRINGS["en"]:
                known = ", ".join(sorted(STRINGS["en"]))
                raise WidgetConfigError(
                    f"widget_strings.{lang}.{name}: unknown string (known: {known})"
                )
            if not isinstance(text, str):
                raise WidgetConfigError(f"widget_strings.{lang}.{name}: expected a string")


def resolve_strings(
    theme_language: str | None, overrides: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """The widget's texts for a language, with the overrides of ``mkdocs.yml``.

    A language that is not built in (see `LANGUAGES`) starts from English and takes the
    texts given for it. ``overrides`` maps a language code to ``{string name: text}``;
    every entry is checked, only the language's own is used.

    Raises:
        WidgetConfigError: for an unknown string name or a text that is not a string.
    """
    check_strings(overrides)
    code = language_code(theme_language)
    strings = dict(STRINGS.get(code, STRINGS["en"]))
    for lang, texts in overrides.items():
        if language_code(str(lang)) == code:
            strings.update(texts)
    return strings


def site_languages(
    theme_language: str | None,
    page_languages: Iterable[str | None] = (),
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """The languages a site's pages embed: ``{code: code of its strings file}``.

    The theme's language comes first, then those of pages (front matter ``lang``, an i18n
    plugin's languages) that are built in or given in ``overrides``. One that is neither
    built in nor overridden falls back to the theme's language in the browser; one that is
    only overridden takes the English file under its own texts.

    >>> site_languages("fr_FR", ["de", None, "xx", "fr"])
    {'fr': 'fr', 'de': 'de'}
    >>> site_languages("ru", ["pt-BR"], {"ru": {"button": "Сообщить об ошибке"}})
    {'ru': 'en', 'pt': 'pt'}
    >>> site_languages("xx")
    {'en': 'en'}
    """
    given = {language_code(str(code)) for code in overrides or {}}
    out: dict[str, str] = {}
    for lang in (theme_language, *page_languages):
        code = language_code(lang) if lang else None
        if code and code not in out and (code in STRINGS or code in given):
            out[code] = code if code in STRINGS else "en"
    return out or {"en": "en"}


def branch_from_edit_uri(edit_uri: str | None) -> str | None:
    """The branch named in an ``edit_uri`` (GitHub's ``edit/BRANCH/docs/``, GitLab's
    ``-/edit/BRANCH/docs/``, Forgejo's ``src/branch/BRANCH/docs/``), or None.

    >>> branch_from_edit_uri("edit/main/docs/"), branch_from_edit_uri("blob/v2/site")
    ('main', 'v2')
    >>> branch_from_edit_uri("-/edit/main/docs/"), branch_from_edit_uri("src/branch/dev/docs")
    ('main', 'dev')
    >>> branch_from_edit_uri("?path=/docs/") is None
    True
    """
    m = re.match(r"^/?(?:-/)?(?:edit|blob|tree|src/branch)/([^/?#]+)", edit_uri or "")
    return m.group(1) if m else None


def permalink(
    repository: str,
    ref: str,
    path: str,
    start: int,
    end: int,
    *,
    forge: str = "github",
    web: str = GITHUB_WEB,
) -> str:
    """The forge's URL of lines ``start..end`` of ``path`` at ``ref`` (a commit or branch).

    ``forge`` and ``web`` are the browser settings' keys (the kind and the web base);
    the forms are `mkdocs_erratum.forges.web`'s.

    >>> permalink("o/r", "abc", "docs/a b.md", 3, 5)
    'https://github.com/o/r/blob/abc/docs/a%20b.md#L3-L5'
    >>> permalink("g/s/p", "abc", "a.md", 10, 12, forge="gitlab", web="https://gl.example")
    'https://gl.example/g/s/p/-/blob/abc/a.md#L10-12'
    """
    return forge_web.permalink(forge, f"{web}/{repository}", ref, path, start, end)


def new_issue_url(
    repository: str,
    title: str,
    body: str,
    labels: Sequence[str] = (),
    issue_form: str | None = None,
    *,
    forge: str = "github",
    web: str = GITHUB_WEB,
) -> str:
    """The forge's new-issue URL prefilled with a title, a body (and labels on GitHub).

    With an issue form, GitHub ignores ``body``: the text goes to the form's field of id
    ``report`` instead (``erratum init`` writes a form with that field). On GitLab
    ``issue_form`` names a description template (``issuable_template``).

    >>> new_issue_url("o/r", "Typo", "See @x", ["erratum"])
    'https://github.com/o/r/issues/new?title=Typo&body=See+%40x&labels=erratum'
    >>> new_issue_url("o/r", "T", "B", forge="forgejo", web="https://codeberg.org")
    'https://codeberg.org/o/r/issues/new?title=T&body=B'
    """
    return forge_web.new_issue_url(forge, f"{web}/{repository}", title, body, labels, issue_form)


def page_issue_url(
    *,
    repository: str,
    ref: str | None,
    page_title: str,
    page_url: str,
    path: str | None,
    strings: Mapping[str, str],
    labels: Sequence[str] = (),
    issue_form: str | None = None,
    forge: str = "github",
    web: str = GITHUB_WEB,
) -> str:
    """The no-JavaScript link: a prefilled issue about a whole page.

    The body names the page and links its Markdown source (at ``ref`` when known).
    """
    title = strings["issue_title"].replace("{title}", page_title)
    colon = strings["colon"]
    lines = [f"{strings['body_page']}{colon} {page_url}"]
    if path:
        source = forge_web.file_url(forge, f"{web}/{repository}", ref or "HEAD", path)
        lines.append(f"{strings['body_source']}{colon} {source}")
    lines += ["", f"### {strings['body_comment']}", "", ""]
    return new_issue_url(
        repository, title, "\n".join(lines), labels, issue_form, forge=forge, web=web
    )


def first_heading(content_html: str) -> str | None:
    """The text of the first ``<h1>`` of a page's content HTML, or None.

    This is the page title that issues name, here and in the widget (which reads the
    page's first heading the same way): permalink anchors left out, spaces collapsed.

    >>> first_heading('<p>x</p><h1 id="a">Fast &amp; <em>safe</em><a class="headerlink" '
    ...               'href="#a">&para;</a></h1><h1>Second</h1>')
    'Fast & safe'
    >>> first_heading("<h2>No top heading</h2>") is None
    True
    """
    m = re.search(r"<h1\b[^>]*>(.*?)</h1\s*>", content_html, re.S | re.I)
    if not m:
        return None
    inner = re.sub(r'<a\b[^>]*\bclass="[^"]*\bheaderlink\b.*?</a\s*>', "", m.group(1), flags=re.S)
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]*>", "", inner)).split())
    return text or None


def browser_settings(
    *,
    repository: str | None,
    commit: str | None,
    branch: str | None,
    strings: Mapping[str, str],
    labels: Sequence[str] = (),
    title: str | None = None,
    issue_form: str | None = None,
    url_cap: int = DEFAULT_URL_CAP,
    blocks: str | None = None,
    service_url: str | None = None,
    language: str | None = None,
    languages: Mapping[str, Mapping[str, str]] | None = None,
    paragraph_links: bool = True,
    forge: str = "github",
    web: str = GITHUB_WEB,
    open_reports: str = "auto",
    open_reports_max_age: int = 7,
) -> dict:
    """The settings the widget reads from the page (the same for every page of a site).

    Args:
        repository: the project path (``OWNER/NAME``, ``group/sub/project``).
        forge: ``github``, ``gitlab``, ``forgejo`` or ``gitea``: which URL forms the
            widget builds (`mkdocs_erratum.forges.web`).
        web: the forge's web base without trailing slash (``https://gitlab.example.com``).
        strings: the texts of the theme's ``language`` (see `resolve_strings`).
        languages: the texts of every language the site's pages use, by code (see
            `site_languages`), the theme's first; default: ``strings`` alone.
        paragraph_links: show the per-paragraph "report an error here" link.
        open_reports: ``widget_open_reports``; the settings carry what ``auto`` means
            here (``service`` with a ``service_url``, else ``snapshot``) or None (off).
        open_reports_max_age: days after which a snapshot is ignored (0: never).
    """
    if open_reports == "auto":
        open_reports = "service" if service_url else "snapshot"
    languages = languages or {language_code(language): strings}
    return {
        "repository": repository,
        "forge": forge,
        "web": web.rstrip("/"),
        "commit": commit,
        "branch": branch,
        "labels": list(labels),
        "form": issue_form,
        "cap": url_cap,
        "blocks": blocks,
        "service": service_url.rstrip("/") + "/" if service_url else None,
        "links": paragraph_links,
        "known": None if open_reports == "off" else open_reports,
        "age": open_reports_max_age,
        **language_settings(languages, title),
    }


def language_settings(languages: Mapping[str, Mapping[str, str]], title: str | None = None) -> dict:
    """The part of `browser_settings` that holds the languages: ``lang`` (the theme's, the
    first of ``languages``), ``languages`` (each one's strings file) and ``strings``.

    Each language embeds `PAGE_STRINGS` and the texts that differ from its strings file
    (``widget_strings``, ``title``); the dialog loads the rest from that file.

    >>> language_settings({"de": STRINGS["de"], "fr": STRINGS["fr"]}, "Erratum: {title}")
    ... # doctest: +ELLIPSIS
    {'lang': 'de', 'languages': {'de': 'de', 'fr': 'fr'}, 'strings': {'de': {'button': ...
    """
    files: dict[str, str] = {}
    embedded: dict[str, dict[str, str]] = {}
    for code, resolved in languages.items():
        files[code] = code if code in STRINGS else "en"
        own = dict(resolved, **({"issue_title": title} if title else {}))
        base = STRINGS[files[code]]
        embedded[code] = {
            name: text for name, text in own.items() if name in PAGE_STRINGS or text != base[name]
        }
    return {"lang": next(iter(embedded)), "languages": files, "strings": embedded}


def _script_json(data: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no comments)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def head_tags(settings: Mapping, asset_url: str, page_lang: str | None = None) -> str:
    """The tags for ``<head>``: stylesheet, settings and the deferred module script.

    ``asset_url`` is the page-relative URL of `ASSET_DIR` with a trailing slash;
    ``page_lang`` is the code of the page's language (see `page_language`) when it is not
    the site's (``settings["lang"]``): the widget speaks it, and the build works it out
    so that the widget need not. It is a ``<meta>`` in ``<head>`` so that it follows
    Material's instant navigation, which swaps ``<head>`` but not the end of ``<body>``.
    """
    base = _attr(asset_url)
    lang = f'<meta name="erratum-lang" content="{_attr(page_lang)}">' if page_lang else ""
    return (
        f'<link rel="stylesheet" href="{base}erratum.css">{lang}'
        f'<script type="application/json" id="erratum-config">{_script_json(settings)}</script>'
        f'<script type="module" src="{base}erratum.js"></script>'
    )


def body_tags(
    issue_url: str, strings: Mapping[str, str], page_title: str = "", lang: str | None = None
) -> str:
    """The link for readers without JavaScript (the widget hides it and adds its button).

    ``page_title`` (MkDocs' title of the page) is what the widget names a page that has
    no first heading; ``lang`` is the language of ``strings`` when it is the page's own
    rather than the site's.
    """
    label = html_lib.escape(strings["button"], quote=False)
    title = f' data-erratum-title="{_attr(page_title)}"' if page_title else ""
    lang_attr = f' lang="{_attr(lang)}"' if lang else ""
    return (
        f'<p class="erratum-nojs"{title}{lang_attr}><a href="{_attr(issue_url)}" '
        f'target="_blank" rel="noopener">{label}</a></p>'
    )


def inject(html: str, head: str, body: str) -> str:
    """``html`` with ``head`` before ``</head>`` and ``body`` before the last ``</body>``.

    The page content is untouched; a page without those tags gets nothing added.

    >>> inject("<head></head><body><p>x</p></body>", "<H>", "<B>")
    '<head><H></head><body><p>x</p><B></body>'
    """
    head_end = html.find("</head>")
    body_end = html.rfind("</body>")
    if head_end < 0 or body_end < head_end:
        return html
    return "".join((html[:head_end], head, html[head_end:body_end], body, html[body_end:]))


def source_file_name(path: str) -> str | None:
    """Where the lines of repository file ``path`` go, relative to ``site_dir``.

    >>> source_file_name("docs/a.md")
    'assets/erratum/src/docs/a.md.json'
    >>> source_file_name("../x.md") is None
    True
    """
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        return None
    return f"{SOURCE_DIR}/{path}.json"


def covered_spans(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The line spans that ``ranges`` (inclusive pairs) cover, merged and in order.

    >>> covered_spans([(5, 6), (2, 3), (3, 4), (9, 9), (7, 7)])
    [(2, 7), (9, 9)]
    """
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1] + 1:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def source_file_text(lines: Sequence[str], spans: Iterable[tuple[int, int]]) -> str:
    """The JSON a source file holds: the committed lines that some block covers.

    ``{"lines": [...]}`` where item ``n - 1`` is line ``n``, or null when no block of the
    site covers it: the widget only ever needs whole blocks, and unreported text (such as
    HTML comments) is not published. ``spans``: `covered_spans`' (lines past the file's
    end are left out).

    >>> source_file_text(["a", "b", "c", "d"], [(2, 2), (4, 9)])
    '{"lines":[null,"b",null,"d"]}'
    """
    out: list[str | None] = []
    for a, b in spans:
        a, b = max(a, 1), min(b, len(lines))
        if a <= b:
            out.extend([None] * (a - 1 - len(out)))
            out.extend(lines[a - 1 : b])
    return json.dumps({"lines": out}, ensure_ascii=False, separators=(",", ":"))


def source_texts(
    files: Mapping[str, Sequence[str]], ranges: Iterable[tuple[str, int, int]]
) -> dict[str, str]:
    """Each file's `source_file_text` for ``ranges`` (path, first line, last line): those
    of one page, in the source map's worker (`SourceMapExtension.page_texts`), or those of
    every page that names a file, after the build.

    >>> source_texts({"a.md": ["x", "y", "z"]}, [("a.md", 3, 3), ("a.md", 1, 1)])
    {'a.md': '{"lines":["x",null,"z"]}'}
    """
    pairs: dict[str, list[tuple[int, int]]] = {}
    for path, start, end in ranges:
        pairs.setdefault(path, []).append((start, end))
    return {path: source_file_text(files[path], covered_spans(got)) for path, got in pairs.items()}


def asset_text(name: str) -> str:
    """The text of asset ``name`` as the site gets it.

    The package holds the readable sources and, in ``assets/dist/``, the JS and CSS
    minified by terser and Lightning CSS (``make widget``; a test checks they match the
    sources). A strings file leaves out `PAGE_STRINGS`, which the page's settings hold.
    """
    if name.endswith((".js", ".css")):
        with open(os.path.join(_ASSET_SOURCES, "dist", name), encoding="utf-8") as fh:
            return fh.read()
    with open(os.path.join(_ASSET_SOURCES, name), encoding="utf-8") as fh:
        strings = {k: v for k, v in json.loads(fh.read()).items() if k not in PAGE_STRINGS}
    return json.dumps(strings, ensure_ascii=False, separators=(",", ":")) + "\n"


def site_assets(settings: Mapping) -> list[str]:
    """The assets a site with these settings loads: the code, and the strings file of
    each language it speaks (``settings["languages"]``: what the dialog fetches).

    >>> site_assets({"languages": {"en": "en", "fr-CA": "fr", "fr": "fr"}})[4:]
    ['strings.en.json', 'strings.fr.json']
    """
    wanted = {f"strings.{name}.json" for name in settings["languages"].values()}
    return [name for name in ASSETS if name.endswith((".js", ".css")) or name in wanted]


def write_site_files(site_dir: str, sources: Mapping[str, str], assets: Iterable[str]) -> None:
    """Copy the widget's ``assets`` (`site_assets`) into ``site_dir`` and write one source
    file per Markdown file.

    ``sources`` maps a repository path to its `source_file_text`.
    """
    target = os.path.join(site_dir, *ASSET_DIR.split("/"))
    os.makedirs(target, exist_ok=True)
    for name in assets:
        with open(os.path.join(target, name), "w", encoding="utf-8") as fh:
            fh.write(asset_text(name))
    for path, text in sources.items():
        name = source_file_name(path)
        if name is None:
            continue
        out = os.path.join(site_dir, *name.split("/"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
