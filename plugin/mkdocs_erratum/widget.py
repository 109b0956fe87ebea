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
import shutil
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

from .text_rules import neutralise  # noqa: F401 (re-exported: the one rule for reader text)

ASSET_DIR = "assets/erratum"
"""Where the widget's files go in the built site (relative to ``site_dir``)."""
SOURCE_DIR = ASSET_DIR + "/src"
"""Where the per-file source lines go: ``SOURCE_DIR/<repository path>.json``."""
ASSETS = ("erratum.js", "erratum.css")
DEFAULT_URL_CAP = 6000

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "button": "Report an error",
        "banner": "Select the paragraphs that contain an error",
        "continue": "Continue",
        "cancel": "Cancel",
        "close": "Close",
        "correction": "Suggested correction",
        "comment": "What is wrong?",
        "open_issue": "Open an issue on GitHub",
        "send": "Send",
        "loading": "Loading the original text…",
        "load_failed": "The original text could not be loaded. Please try again later.",
        "opened": "The issue opens in a new tab. Submit it there to send the report.",
        "copied": "The report was too long for a link: it is in your clipboard. "
        "Paste it into the issue that opened in a new tab.",
        "copy_below": "The report was too long for a link. Copy the text below and paste "
        "it into the issue that opened in a new tab.",
        "sending": "Sending…",
        "queued": "Thank you! Your report is queued and will be filed shortly.",
        "issue_opened": "Thank you! Your report is issue #{number}:",
        "pull_request_opened": "Thank you! Your correction is pull request #{number}:",
        "branch_created": "Thank you! Your correction is on branch {branch}.",
        "rejected": "Your report was rejected: {reason}",
        "send_failed": "Sending failed: {message} Your text is kept; you can try again.",
        "issue_title": "Error on page “{title}”",
        "colon": ":",
        "body_page": "Page",
        "body_line": "line",
        "body_lines": "lines",
        "body_change": "Suggested change",
        "body_comment": "What is wrong",
        "body_pasted": "The full report did not fit in a link. The reader's clipboard "
        "holds it: it should be pasted below.",
        "body_source": "Source",
    },
    "fr": {
        "button": "Signaler une erreur",
        "banner": "Sélectionnez les paragraphes qui contiennent une erreur",
        "continue": "Continuer",
        "cancel": "Annuler",
        "close": "Fermer",
        "correction": "Correction proposée",
        "comment": "Quelle est l'erreur\u202f?",
        "open_issue": "Ouvrir une issue sur GitHub",
        "send": "Envoyer",
        "loading": "Chargement du texte original…",
        "load_failed": "Le texte original n'a pas pu être chargé. Réessayez plus tard.",
        "opened": "L'issue s'ouvre dans un nouvel onglet. Validez-la pour envoyer le signalement.",
        "copied": "Le signalement était trop long pour un lien\u202f: il est dans votre "
        "presse-papiers. Collez-le dans l'issue ouverte dans un nouvel onglet.",
        "copy_below": "Le signalement était trop long pour un lien. Copiez le texte "
        "ci-dessous et collez-le dans l'issue ouverte dans un nouvel onglet.",
        "sending": "Envoi…",
        "queued": "Merci\u202f! Votre signalement est en file d'attente.",
        "issue_opened": "Merci\u202f! Votre signalement est l'issue n°\u00a0{number}\u202f:",
        "pull_request_opened": "Merci\u202f! Votre correction est la pull request "
        "n°\u00a0{number}\u202f:",
        "branch_created": "Merci\u202f! Votre correction est sur la branche {branch}.",
        "rejected": "Votre signalement a été refusé\u202f: {reason}",
        "send_failed": "L'envoi a échoué\u202f: {message} Votre texte est conservé\u202f; "
        "vous pouvez réessayer.",
        "issue_title": "Erreur sur la page «\u202f{title}\u202f»",
        "colon": "\u202f:",
        "body_page": "Page",
        "body_line": "ligne",
        "body_lines": "lignes",
        "body_change": "Modification proposée",
        "body_comment": "Quelle est l'erreur",
        "body_pasted": "Le signalement complet ne tenait pas dans un lien. Il est dans le "
        "presse-papiers du lecteur et devrait être collé ci-dessous.",
        "body_source": "Source",
    },
}


class WidgetConfigError(ValueError):
    """A widget option with a wrong value; the message names the option."""


def language_code(theme_language: str | None) -> str:
    """The two-letter code of a theme's language (English when unset).

    >>> language_code("fr_CA"), language_code("pt-BR"), language_code(None)
    ('fr', 'pt', 'en')
    """
    return (theme_language or "en").replace("_", "-").split("-")[0].lower() or "en"


def resolve_strings(
    theme_language: str | None, overrides: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """The widget's texts for the theme's language, with the overrides of ``mkdocs.yml``.

    Built-in languages are English and French; any other language starts from English
    and takes the texts given for it. ``overrides`` maps a language code to
    ``{string name: text}``; every entry is checked, only the page language's is used.

    Raises:
        WidgetConfigError: for an unknown string name or a text that is not a string.
    """
    code = language_code(theme_language)
    strings = dict(STRINGS.get(code, STRINGS["en"]))
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
            if language_code(str(lang)) == code:
                strings[name] = text
    return strings


def branch_from_edit_uri(edit_uri: str | None) -> str | None:
    """The branch named in a GitHub ``edit_uri`` (``edit/BRANCH/docs/``), or None.

    >>> branch_from_edit_uri("edit/main/docs/"), branch_from_edit_uri("blob/v2/site")
    ('main', 'v2')
    >>> branch_from_edit_uri("?path=/docs/") is None
    True
    """
    m = re.match(r"^/?(?:edit|blob|tree)/([^/?#]+)", edit_uri or "")
    return m.group(1) if m else None


def permalink(repository: str, ref: str, path: str, start: int, end: int) -> str:
    """The GitHub URL of lines ``start..end`` of ``path`` at ``ref`` (a commit or branch).

    >>> permalink("o/r", "abc", "docs/a b.md", 3, 5)
    'https://github.com/o/r/blob/abc/docs/a%20b.md#L3-L5'
    """
    return f"https://github.com/{repository}/blob/{quote(ref)}/{quote(path)}#L{start}-L{end}"


def new_issue_url(
    repository: str,
    title: str,
    body: str,
    labels: Sequence[str] = (),
    issue_form: str | None = None,
) -> str:
    """A ``/issues/new`` URL prefilled with a title, a body and labels.

    With an issue form, GitHub ignores ``body``: the text goes to the form's field of id
    ``report`` instead (``erratum init`` writes a form with that field).

    >>> new_issue_url("o/r", "Typo", "See @x", ["erratum"])
    'https://github.com/o/r/issues/new?title=Typo&body=See+%40x&labels=erratum'
    """
    params: list[tuple[str, str]] = []
    if issue_form:
        params.append(("template", issue_form))
    params.append(("title", title))
    params.append(("report" if issue_form else "body", body))
    if labels:
        params.append(("labels", ",".join(labels)))
    return f"https://github.com/{repository}/issues/new?{urlencode(params)}"


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
) -> str:
    """The no-JavaScript link: a prefilled issue about a whole page.

    The body names the page and links its Markdown source (at ``ref`` when known).
    """
    title = strings["issue_title"].replace("{title}", page_title)
    colon = strings["colon"]
    lines = [f"{strings['body_page']}{colon} {page_url}"]
    if path:
        source = f"https://github.com/{repository}/blob/{quote(ref or 'HEAD')}/{quote(path)}"
        lines.append(f"{strings['body_source']}{colon} {source}")
    lines += ["", f"### {strings['body_comment']}", "", ""]
    return new_issue_url(repository, title, "\n".join(lines), labels, issue_form)


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
) -> dict:
    """The settings the widget reads from the page (the same for every page of a site)."""
    texts = dict(strings)
    if title:
        texts["issue_title"] = title
    return {
        "repository": repository,
        "commit": commit,
        "branch": branch,
        "labels": list(labels),
        "form": issue_form,
        "cap": url_cap,
        "blocks": blocks,
        "service": service_url.rstrip("/") + "/" if service_url else None,
        "strings": texts,
    }


def _script_json(data: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no comments)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def head_tags(settings: Mapping, asset_url: str) -> str:
    """The tags for ``<head>``: stylesheet, settings and the deferred module script.

    ``asset_url`` is the page-relative URL of `ASSET_DIR` with a trailing slash.
    """
    base = _attr(asset_url)
    return (
        f'<link rel="stylesheet" href="{base}erratum.css">'
        f'<script type="application/json" id="erratum-config">{_script_json(settings)}</script>'
        f'<script type="module" src="{base}erratum.js"></script>'
    )


def body_tags(issue_url: str, strings: Mapping[str, str], page_title: str = "") -> str:
    """The link for readers without JavaScript (the widget hides it and adds its button).

    ``page_title`` (MkDocs' title of the page) is what the widget names a page that has
    no first heading.
    """
    label = html_lib.escape(strings["button"], quote=False)
    title = f' data-erratum-title="{_attr(page_title)}"' if page_title else ""
    return (
        f'<p class="erratum-nojs"{title}><a href="{_attr(issue_url)}" target="_blank" '
        f'rel="noopener">{label}</a></p>'
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
    return html[:head_end] + head + html[head_end:body_end] + body + html[body_end:]


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


def covered_lines(ranges: Iterable[tuple[int, int]]) -> set[int]:
    """The 1-based line numbers that ``ranges`` (inclusive pairs) cover.

    >>> sorted(covered_lines([(2, 3), (3, 4)]))
    [2, 3, 4]
    """
    return {n for a, b in ranges for n in range(a, b + 1)}


def source_file_text(lines: Sequence[str], covered: Iterable[int]) -> str:
    """The JSON a source file holds: the committed lines that some block covers.

    ``{"lines": [...]}`` where item ``n - 1`` is line ``n``, or null when no block of the
    site covers it: the widget only ever needs whole blocks, and unreported text (such as
    HTML comments) is not published.

    >>> source_file_text(["a", "b", "c"], {2})
    '{"lines":[null,"b"]}'
    """
    wanted = {n for n in covered if 1 <= n <= len(lines)}
    last = max(wanted, default=0)
    out = [lines[n - 1] if n in wanted else None for n in range(1, last + 1)]
    return json.dumps({"lines": out}, ensure_ascii=False, separators=(",", ":"))


def is_repository_name(name: str) -> bool:
    """Whether ``name`` looks like a GitHub ``OWNER/NAME``.

    >>> is_repository_name("mkdocs/mkdocs"), is_repository_name("https://github.com/a/b")
    (True, False)
    """
    return re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


def write_site_files(site_dir: str, sources: Mapping[str, tuple[Sequence[str], set[int]]]) -> None:
    """Copy the widget's assets into ``site_dir`` and write one source file per Markdown file.

    ``sources`` maps a repository path to (its committed lines, the lines blocks cover).
    """
    package_assets = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
    target = os.path.join(site_dir, *ASSET_DIR.split("/"))
    os.makedirs(target, exist_ok=True)
    for name in ASSETS:
        shutil.copyfile(os.path.join(package_assets, name), os.path.join(target, name))
    for path, (lines, covered) in sources.items():
        name = source_file_name(path)
        if name is None:
            continue
        out = os.path.join(site_dir, *name.split("/"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(source_file_text(lines, covered))
