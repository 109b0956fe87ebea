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
