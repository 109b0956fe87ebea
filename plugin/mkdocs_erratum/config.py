"""Configuration schema of the ``erratum`` MkDocs plugin.

Every option has a docstring: the configuration reference of our site is generated from
them. Options are grouped by prefix (``sourcemap_*`` for the source map).
"""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c


class ErratumConfig(base.Config):
    """Options of the ``erratum`` plugin."""

    enabled = c.Type(bool, default=True)
    """Turn the whole plugin off (no attributes, no widget) without removing it."""

    sourcemap_enabled = c.Type(bool, default=True)
    """Annotate every reportable block with ``data-erratum-src="PATH#LA-LB"``."""

    widget_enabled = c.Type(bool, default=True)
    """Add the reader widget ("Report an error") and the source files it loads."""

    widget_repository = c.Optional(c.Type(str))
    """GitHub repository ``OWNER/NAME`` that issues go to; defaults to ``repo_url``, then
    to the git remote ``origin``."""

    widget_branch = c.Optional(c.Type(str))
    """Branch named in reports; defaults to the one in ``edit_uri``, then the current one."""

    widget_labels = c.ListOfItems(c.Type(str), default=[])
    """Labels of the issues the widget opens (they must exist in the repository)."""

    widget_title = c.Optional(c.Type(str))
    """Issue title template; ``{title}`` is the page title. Defaults to the language's
    ``issue_title`` string."""

    widget_issue_form = c.Optional(c.Type(str))
    """File name of an issue form in ``.github/ISSUE_TEMPLATE/`` (e.g. ``erratum.yml``):
    the report then fills its field of id ``report`` instead of the issue body."""

    widget_url_cap = c.Type(int, default=6000)
    """Longest issue URL the widget opens (GitHub answers 414 to long URLs); longer
    reports are shortened, then copied to the clipboard."""

    widget_strings = c.Type(dict, default={})
    """Texts per language overriding the built-in English and French ones, e.g.
    ``{fr: {button: "Une erreur ?"}}``; the theme's language picks the set."""

    widget_blocks = c.Optional(c.Type(str))
    """CSS selector limiting which annotated blocks readers can select (default: all)."""

    service_url = c.Optional(c.Type(str))
    """Base URL of an ``erratum serve`` service: the widget then sends reports there
    ("Send") instead of opening a GitHub issue."""
