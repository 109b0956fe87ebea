"""GitLab and Forgejo under test: each stand-in with the forge client that talks to it.

`HOSTED` names one `Hosted` per forge; a `Hosted` starts the stand-in on the docs
repository and makes clients tuned for tests (short back-off, short timeouts). GitLab
serves the project in a subgroup (``acme/writers/docs``), so every test that uses it
goes through URL-encoded project paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mkdocs_erratum.forges.base import ForgeTarget
from tests.standin.forgejo_server import ForgejoStandIn
from tests.standin.gitlab_server import GitLabStandIn


@dataclass(frozen=True)
class Kind:
    """What differs between the hosted forges in these tests."""

    name: str
    project: str
    api_path: str
    issues_path: str
    """A regular expression matching the issue-creating POST's path."""
    commit_path: str
    """A regular expression matching the POST that commits the files."""
    pulls_path: str
    """A regular expression matching the POST that opens the pull/merge request."""
    project_path: str
    """A regular expression matching the project's own GET."""


KINDS = {
    "gitlab": Kind(
        "gitlab",
        "acme/writers/docs",
        "/api/v4",
        r"/issues$",
        r"/repository/commits$",
        r"/merge_requests$",
        r"^/api/v4/projects/acme%2Fwriters%2Fdocs$",
    ),
    "forgejo": Kind(
        "forgejo",
        "acme/docs",
        "/api/v1",
        r"/issues$",
        r"/contents$",
        r"/pulls$",
        r"^/api/v1/repos/acme/docs$",
    ),
}


class Hosted:
    """A running stand-in of ``kind`` on ``docs_repo``, and clients for it."""

    def __init__(self, kind: str, docs_repo: Path, **standin_options):
        self.kind = KINDS[kind]
        self.repo = docs_repo
        server = GitLabStandIn if kind == "gitlab" else ForgejoStandIn
        self.standin = server(
            str(docs_repo), self.kind.project, known_users={"alice"}, **standin_options
        ).start()

    @property
    def target(self) -> ForgeTarget:
        url = self.standin.url
        return ForgeTarget(self.kind.name, url, url + self.kind.api_path, self.kind.project)

    def forge(self, token: str = "maintainer-token", target: ForgeTarget | None = None, **options):
        """A new client (nothing cached), tuned for tests (``target``: another server)."""
        settings = dict(backoff=0.05, timeout=5, fork_timeout=10)
        settings.update(options)
        if self.kind.name == "gitlab":
            from mkdocs_erratum.forges import gitlab

            return gitlab.connect(target or self.target, token=token, **settings)
        from mkdocs_erratum.forges import forgejo

        return forgejo.connect(target or self.target, token=token, **settings)

    def stop(self) -> None:
        self.standin.stop()
        assert self.standin.violations == [], "\n".join(self.standin.violations)
