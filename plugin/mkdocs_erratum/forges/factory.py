"""A `Forge` for a kind: imports that forge's module by name, only when it is used.

``github`` is `mkdocs_erratum.forges.github`, ``gitlab`` is ``forges.gitlab``, and
``forgejo`` and ``gitea`` are both ``forges.forgejo``; each module provides ``connect``
(see `mkdocs_erratum.forges.base`). Importing this module imports no client library.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from .base import KINDS, Forge, ForgeError, ForgeTarget

MODULES: Mapping[str, str] = {
    "github": "github",
    "gitlab": "gitlab",
    "forgejo": "forgejo",
    "gitea": "forgejo",
}
"""The module of ``mkdocs_erratum.forges`` that serves each kind."""

NAMES: Mapping[str, str] = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "forgejo": "Forgejo",
    "gitea": "Gitea",
    "git": "local git",
}
"""How messages name each kind."""


def connect(
    target: ForgeTarget,
    *,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
    **options,
) -> Forge:
    """A `Forge` for ``target``, with ``token`` or the kind's token variables.

    Raises:
        ForgeError: for an unknown kind, a forge whose module or client library is not
            installed, or missing credentials.
    """
    if target.kind not in MODULES:
        raise ForgeError(f"unknown forge {target.kind!r}: expected one of {', '.join(KINDS)}")
    name = f"{__package__}.{MODULES[target.kind]}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ForgeError(
            f"{NAMES[target.kind]} support is not available here ({exc.name} is not "
            "installed): pip install 'mkdocs-erratum'"
        ) from None
    return module.connect(target, token=token, environ=environ, **options)


__all__ = ["MODULES", "NAMES", "connect"]
