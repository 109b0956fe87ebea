"""Which forge and project a site names: the forges' kinds and `ForgeTarget`.

Apart from `mkdocs_erratum.forges.base` (which re-exports both) so that a site's build,
which detects its forge, does not load the forges' protocol and data.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("github", "gitlab", "forgejo", "gitea")
"""The hosted forges a site can name (the ``forge`` option, ``--forge``)."""


@dataclass(frozen=True)
class ForgeTarget:
    """Which forge and project: what `mkdocs_erratum.forges.detect` finds."""

    kind: str
    """One of `KINDS`."""
    web_url: str
    """The forge's web base without trailing slash (``https://gitlab.example.com``)."""
    api_url: str
    """The REST API base (``https://gitlab.example.com/api/v4``)."""
    project: str
    """The project path: ``OWNER/NAME``, or ``group/sub/project`` on GitLab."""

    @property
    def project_url(self) -> str:
        """The project's page.

        >>> ForgeTarget("gitlab", "https://gitlab.com", "", "g/sub/p").project_url
        'https://gitlab.com/g/sub/p'
        """
        return f"{self.web_url}/{self.project}"
