"""Configuration schema of the ``erratum`` MkDocs plugin.

Every option has a docstring: the configuration reference of our site is generated from
them. Options are grouped by prefix (``sourcemap_*`` for the source map, ``forge*`` for
the forge, ``widget_*`` for the reader widget). Values are checked here, by the schema,
when MkDocs loads the configuration: a wrong value stops the build with MkDocs' message
naming the option (``Plugin 'erratum' option 'widget_url_cap': ...``). What needs the
repository (does the issue form exist?) is checked by the plugin once it knows it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.base import ValidationError

from mkdocs_erratum.forges.target import KINDS
from mkdocs_erratum.text_rules import is_project_path
from mkdocs_erratum.widget import STRINGS

URL_CAP_RANGE = (1000, 100_000)
"""Accepted values of ``widget_url_cap``: below 1,000 characters no report fits."""
OPEN_REPORTS_SOURCES = ("auto", "service", "snapshot", "off")
"""Accepted values of ``widget_open_reports``."""


class RepositoryName(c.Type):
    """A project path: ``OWNER/NAME``, or ``group/sub/project`` on GitLab."""

    type_name = "`OWNER/NAME`"

    def __init__(self) -> None:
        super().__init__(str)

    def run_validation(self, value: object) -> str:
        value = super().run_validation(value)
        if not is_project_path(value):
            raise ValidationError(
                f"expected OWNER/NAME (group/sub/project on GitLab), not {value!r}"
            )
        return value


class BoundedInt(c.Type):
    """An integer within ``[low, high]``."""

    @property
    def type_name(self) -> str:
        return f"integer from {self.low} to {self.high}"

    def __init__(self, low: int, high: int, default: int) -> None:
        super().__init__(int, default=default)
        self.low, self.high = low, high

    def run_validation(self, value: object) -> int:
        if isinstance(value, bool):  # a bool is an int to Python, not to a reader
            raise ValidationError(f"expected an integer, not {value!r}")
        value = super().run_validation(value)
        if not self.low <= value <= self.high:
            raise ValidationError(f"expected {self.low} to {self.high}, not {value}")
        return value


class IssueFormName(c.Type):
    """A file name in ``.github/ISSUE_TEMPLATE/``."""

    type_name = "file name"

    def __init__(self) -> None:
        super().__init__(str)

    def run_validation(self, value: object) -> str:
        value = super().run_validation(value)
        if not re.fullmatch(r"[\w.-]+\.ya?ml", value):
            raise ValidationError(
                f"expected the file name of an issue form in .github/ISSUE_TEMPLATE/ "
                f"(such as erratum.yml), not {value!r}"
            )
        return value


class CssSelector(c.Type):
    """A CSS selector list, parsed by soupsieve (the parser Beautiful Soup uses)."""

    type_name = "CSS selector"

    def __init__(self) -> None:
        super().__init__(str)

    def run_validation(self, value: object) -> str:
        import soupsieve  # imported here: only sites that set widget_blocks pay for it

        value = super().run_validation(value)
        try:
            soupsieve.compile(value)
        except soupsieve.SelectorSyntaxError as exc:
            first = str(exc).splitlines()[0]
            raise ValidationError(f"{value!r} is not a valid CSS selector: {first}") from None
        except NotImplementedError as exc:  # pseudo-elements: they select no element
            raise ValidationError(f"{value!r} cannot select blocks: {exc}") from None
        return value


class HttpURL(c.URL):
    """An absolute ``http://`` or ``https://`` URL."""

    type_name = "http(s) URL"

    def run_validation(self, value: object) -> str:
        if (
            isinstance(value, str)
            and value.strip()
            and urlsplit(value).scheme
            not in (
                "http",
                "https",
            )
        ):
            raise ValidationError(f"expected an http:// or https:// URL, not {value!r}")
        try:
            return super().run_validation(value)
        except ValidationError:
            raise ValidationError(f"expected an http:// or https:// URL, not {value!r}") from None


class WidgetStrings(c.DictOfItems):
    """``{language: {string name: text}}`` where every name is one of the widget's."""

    type_name = "mapping of language to a mapping of string name to text"

    def __init__(self) -> None:
        super().__init__(c.DictOfItems(c.Type(str)), default={})

    def run_validation(self, value: object) -> dict:
        # Named messages first ("fr.buton: ..."); the nested DictOfItems would only say
        # which type it expected.
        known = set(STRINGS["en"])
        for lang, texts in value.items() if isinstance(value, dict) else ():
            if not isinstance(texts, dict):
                raise ValidationError(
                    f"{lang}: expected a mapping of string names to texts, such as {{button: ...}}"
                )
            for name, text in texts.items():
                if name not in known:
                    raise ValidationError(
                        f"{lang}.{name} is not a string of the widget "
                        f"(known: {', '.join(sorted(known))})"
                    )
                if not isinstance(text, str):
                    raise ValidationError(f"{lang}.{name}: expected a text, not {text!r}")
        return super().run_validation(value)


class ErratumConfig(base.Config):
    """Options of the ``erratum`` plugin."""

    enabled = c.Type(bool, default=True)
    """Turn the whole plugin off (no attributes, no widget) without removing it."""

    sourcemap_enabled = c.Type(bool, default=True)
    """Annotate every reportable block with ``data-erratum-src="PATH#LA-LB"``. The widget
    needs it: without it there is nothing to select."""

    sourcemap_worker = c.Type(bool, default=True)
    """Map pages in a second process while MkDocs converts the next ones, on sites of
    16 pages or more, on Linux machines with two CPUs or more, under ``mkdocs build``:
    the build takes less time (not less CPU), and the attributes are the same.
    ``false`` maps every page in MkDocs' own process. (Zensical renders pages in
    workers of its own: there the extension always maps a page as it converts it.)"""

    widget_enabled = c.Type(bool, default=True)
    """Add the reader widget ("Report an error") and the source files it loads."""

    forge = c.Optional(c.Choice(KINDS))
    """The forge of the repository: ``github``, ``gitlab``, ``forgejo`` or ``gitea``.
    Told from the host of ``repo_url`` (then of the git remote ``origin``) for
    github.com, gitlab.com and codeberg.org; set it for a self-hosted forge. It decides
    the form of the widget's links (new issue, permalinks) and which forge ``erratum
    fix`` and ``erratum list`` talk to."""

    forge_api_url = c.Optional(HttpURL())
    """The forge's REST API base for ``erratum fix`` and ``erratum list``, when it is not
    the usual one on the host of ``repo_url`` (``https://api.github.com`` or
    ``HOST/api/v3``, ``HOST/api/v4`` on GitLab, ``HOST/api/v1`` on Forgejo and Gitea)."""

    widget_repository = c.Optional(RepositoryName())
    """Project ``OWNER/NAME`` (``group/sub/project`` on GitLab) that issues go to, on the
    forge of ``repo_url``; defaults to the project of ``repo_url``, then of the git
    remote ``origin``. Without any of them (nor ``service_url``) the widget is left out,
    with a warning."""

    widget_branch = c.Optional(c.Type(str))
    """Branch named in reports. Defaults to the branch of an ``edit_uri`` that you wrote
    yourself (such as ``edit/main/docs/``; MkDocs' own default ``edit/master/docs/`` is
    ignored), then to the branch being built, then to the default branch of the git
    remote ``origin``. Links use the build's commit whenever there is one."""

    widget_labels = c.ListOfItems(c.Type(str), default=[])
    """Labels the widget asks GitHub to put on the issues it opens. GitHub applies labels
    from a link only for readers who may triage the repository: for everyone else, the
    workflow that ``erratum init`` writes labels report issues itself."""

    widget_title = c.Optional(c.Type(str))
    """Issue title template; ``{title}`` is the page title (its first heading, else the
    title in the navigation). Defaults to the language's ``issue_title`` string."""

    widget_issue_form = c.Optional(IssueFormName())
    """File name of an issue form in ``.github/ISSUE_TEMPLATE/`` (e.g. ``erratum.yml``,
    written by ``erratum init``): the report then fills its field of id ``report`` instead
    of the issue body, and the form's labels apply to every report. The build warns when
    the file is not in the repository."""

    widget_url_cap = BoundedInt(*URL_CAP_RANGE, default=6000)
    """Longest issue URL the widget opens, from 1000 to 100000 characters (GitHub answers
    414 to long URLs); longer reports are shortened, then copied to the clipboard."""

    widget_strings = WidgetStrings()
    """Texts per language overriding the built-in ones (English, French, German, Spanish,
    Italian, Portuguese, Dutch, Japanese and Simplified Chinese), e.g.
    ``{fr: {button: "Une erreur ?"}}``, or adding a language. Each page shows the language
    of its front matter's ``lang``, else of ``<html lang>``, else the theme's, else
    English. Every name must be one of the built-in strings; ``open_issue`` may name the
    forge as ``{forge}``, ``body_line`` and ``body_lines`` the lines as ``{start}`` and
    ``{end}``."""

    widget_paragraph_links = c.Type(bool, default=True)
    """Show a small "report an error here" link in the margin of the block under the
    mouse, the focused or the touched block (one tab stop for the page: the arrow keys
    move it from block to block). It opens the dialog on that block. ``false`` leaves the
    page-level button alone."""

    widget_blocks = c.Optional(CssSelector())
    """CSS selector limiting which annotated blocks readers can select (default: all),
    such as ``.md-content p, .md-content li``. It is checked at build time."""

    widget_open_reports = c.Choice(OPEN_REPORTS_SOURCES, default="auto")
    """Where the widget reads the open reports it marks ("Already reported (#12)", and
    "Add to #12" in the dialog): ``service`` (``GET /api/reports?page=...`` of
    ``service_url``), ``snapshot`` (``_erratum/open-reports.json`` at the site's root,
    written by ``erratum list --json --output``), ``auto`` (the service when
    ``service_url`` is set, else the snapshot) or ``off``. Read only once the reader acts
    (the first press, or the selection mode), with the dialog."""

    widget_open_reports_max_age = BoundedInt(0, 3650, default=7)
    """Days after which the widget ignores a snapshot (by its ``generated_at``): an old
    list would mark errors fixed since. ``0``: whatever its age."""

    service_url = c.Optional(HttpURL())
    """Base URL (``http://`` or ``https://``) of an ``erratum serve`` service: the widget
    then sends reports there ("Send") instead of opening a GitHub issue."""
