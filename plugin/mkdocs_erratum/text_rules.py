"""How reader text is written into Markdown we publish: neutralised, fenced, quoted, linked.

Every place that writes reader or page text into an issue, a pull request, a comment or a
commit message goes through these functions: the widget (``assets/erratum.js`` mirrors
`neutralise` and `fence_for` rule for rule, with the same ASCII word characters), the
service, the fixer and the gateway.
Pure functions over strings; nothing here parses reports or talks to a forge.

The rules:

- `neutralise`: GitHub must not ping, link, close or render anything a reader wrote.
  A zero-width space (`ZWSP`) goes after the ``@`` of a mention, the ``#`` of ``#12``,
  the ``-`` of ``GH-12``, the first letter of a closing keyword (``fixes #1``), the
  ``:`` of ``scheme://`` and the ``www`` of ``www.`` (no autolink, so no cross-reference
  from a full issue URL). A ``<`` that could open a tag, a comment or an autolink (before
  a letter, ``/``, ``!`` or ``?``, as the HTML tokenizer reads it) becomes ``&lt;``, and
  an ``&`` that would start an entity becomes ``&amp;`` (``&#64;bob`` would render as a
  mention); ``1 < 2`` stays as it is.
  It is idempotent: neutralising twice changes nothing more.
- `fence_for` / `fenced`: a fence longer than any backtick run of the text (CommonMark
  4.5), so no line of the text can close it and nothing inside opens another.
- `code_span`: one inline code span whatever the text holds.
- `web_address`: a page URL reduced to a plain http(s) address without query or
  fragment, or a placeholder; we only ever write it as plain text or in a link we build.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

ZWSP = "\u200b"
"""The zero-width space that breaks mentions, references and autolinks."""

# @login, @org/team: GitHub notifies them. Not e-mail addresses (a word character before).
_MENTION_RE = re.compile(r"(?<![\w@])@(?=[A-Za-z0-9])", re.ASCII)
# #123, owner/repo#123 (GitHub links and cross-references them), GH-123.
_HASH_REF_RE = re.compile(r"#(?=\d)")
_GH_REF_RE = re.compile(r"\b(GH)-(?=\d)", re.I | re.ASCII)
# close, closes, closed, fix, fixes, fixed, resolve, resolves, resolved (+ an optional colon)
_KEYWORD_RE = re.compile(
    r"\b([cfr])(?=(?:lose[sd]?|ix(?:e[sd])?|esolve[sd]?)\b:?\s*"
    r"(?:#|GH-|[\w.-]+/[\w.-]+#|[A-Za-z][\w+.-]*://|www\.))",
    re.I | re.ASCII,
)
_SCHEME_RE = re.compile(r"(?<=[A-Za-z0-9+.-])://")
_WWW_RE = re.compile(r"\b(www)(?=\.)", re.I | re.ASCII)
# An ampersand that starts an entity, except the three this function itself writes.
_ENTITY_RE = re.compile(r"&(?!(?:lt|gt|amp);)(?=#?[A-Za-z0-9])")
_TAG_OPEN_RE = re.compile(r"<(?=[A-Za-z/!?])")
_BACKTICKS_RE = re.compile(r"`+")
_WEB_ADDRESS_RE = re.compile(r"https?://[^\s<>()\[\]`\"'\\]+")
NOT_A_WEB_ADDRESS = "(a page address that is not a plain web link)"
_PROJECT_PATH_RE = re.compile(r"[\w.-]+(?:/[\w.-]+)+", re.ASCII)


def neutralise(text: str) -> str:
    """Reader text made inert in GitHub Markdown (see the module docstring).

    >>> neutralise("<b>@bob</b> fixes #12, 1 < 2")
    '&lt;b>@\\u200bbob&lt;/b> f\\u200bixes #\\u200b12, 1 < 2'
    >>> neutralise("we fix it; Closes: o/r#3")
    'we fix it; C\\u200bloses: o/r#\\u200b3'
    >>> neutralise("mail a@b.org, 50 # and @ alone")
    'mail a@b.org, 50 # and @ alone'
    >>> neutralise("see https://github.com/o/r/issues/1 and GH-2")
    'see https:\\u200b//github.com/o/r/issues/1 and GH-\\u200b2'
    >>> neutralise(neutralise("&#64;x <i> #1")) == neutralise("&#64;x <i> #1")
    True
    """
    text = _ENTITY_RE.sub("&amp;", text)
    text = _TAG_OPEN_RE.sub("&lt;", text)
    text = _MENTION_RE.sub("@" + ZWSP, text)
    text = _HASH_REF_RE.sub("#" + ZWSP, text)
    text = _GH_REF_RE.sub(lambda m: m.group(1) + "-" + ZWSP, text)
    text = _KEYWORD_RE.sub(lambda m: m.group(1) + ZWSP, text)
    text = _SCHEME_RE.sub(":" + ZWSP + "//", text)
    return _WWW_RE.sub(lambda m: m.group(1) + ZWSP, text)


def fence_for(text: str, char: str = "`") -> str:
    """A fence of ``char`` longer than any run of it in ``text`` (at least three).

    >>> fence_for("a ``` b")
    '````'
    >>> fence_for("plain")
    '```'
    """
    runs = [len(r) for r in re.findall(re.escape(char) + "+", text)]
    return char * max(3, max(runs, default=0) + 1)


def fenced(text: str, info: str = "") -> str:
    """``text`` as a fenced code block that no line of it can close.

    >>> fenced("a\\n```\\nb", "text")
    '````text\\na\\n```\\nb\\n````'
    """
    fence = fence_for(text)
    return f"{fence}{info}\n{text}\n{fence}"


def code_span(text: str) -> str:
    """``text`` as one inline code span, whatever backticks or newlines it holds.

    >>> code_span("a`b")
    '``a`b``'
    """
    text = " ".join(text.split())
    runs = [len(r) for r in _BACKTICKS_RE.findall(text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def plain_page_url(url: str) -> str:
    """``url`` without its query and fragment (they say nothing of the page, may track).

    >>> plain_page_url("https://x.example/a/?utm=1#top")
    'https://x.example/a/'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    return urlunsplit(parts._replace(query="", fragment=""))


def web_address(url: str) -> str:
    """``url`` as a plain http(s) address without query or fragment, else a placeholder.

    >>> web_address("https://x.example/a/?q=1#f")
    'https://x.example/a/'
    >>> web_address("https://x.example/\\nCo-authored-by: mallory")
    '(a page address that is not a plain web link)'
    """
    url = plain_page_url(url) if len(url) <= 2000 else ""
    if _WEB_ADDRESS_RE.fullmatch(url):
        return url
    return NOT_A_WEB_ADDRESS


def is_project_path(text: str) -> bool:
    """Whether ``text`` is a project path we may put in a URL: ``OWNER/NAME``, or
    ``group/sub/project`` on GitLab (ASCII letters, digits, ``_``, ``.``, ``-``; no
    ``.`` or ``..`` part).

    >>> is_project_path("mkdocs/mkdocs"), is_project_path("g/sub/p"), is_project_path("o/.github")
    (True, True, True)
    >>> is_project_path("https://github.com/a/b"), is_project_path("a/../b"), is_project_path("a")
    (False, False, False)
    """
    return _PROJECT_PATH_RE.fullmatch(text) is not None and not any(
        part in (".", "..") for part in text.split("/")
    )


def one_line(text: str) -> str:
    """``text`` on one line (newlines and runs of spaces become one space), neutralised.

    For reader text in a place that must stay one line, such as a list item we write.

    >>> one_line("a\\n\\n- b @c")
    'a - b @\\u200bc'
    """
    return neutralise(" ".join(text.split()))


__all__ = [
    "NOT_A_WEB_ADDRESS",
    "ZWSP",
    "code_span",
    "fence_for",
    "fenced",
    "is_project_path",
    "neutralise",
    "one_line",
    "plain_page_url",
    "web_address",
]
