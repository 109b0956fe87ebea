"""The contract suite's harnesses for GitLab and Forgejo (registered in `harnesses`).

Each serves the docs repository through its stand-in (GitLab in a subgroup,
``acme/writers/docs``) and reads back what the forge created from the stand-in's own
records and git repositories, as the GitHub harness does: only starting the stand-in
and making a client differ.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs_erratum.forges.base import Forge
from tests.forges.harnesses import GitHubHarness
from tests.forges.hosted import Hosted


class HostedHarness(GitHubHarness):
    """A forge of `tests.forges.hosted.KINDS` (``kind``) on its stand-in."""

    kind = ""

    def __init__(self, docs_repo: Path):
        self.repo = docs_repo
        self.hosted = Hosted(self.kind, docs_repo)
        self.standin = self.hosted.standin

    def forge(self, *, can_push: bool = True) -> Forge:
        return self.hosted.forge("maintainer-token" if can_push else "reader-token")


class GitLabHarness(HostedHarness):
    """python-gitlab over HTTP to the GitLab stand-in."""

    name = kind = "gitlab"


class ForgejoHarness(HostedHarness):
    """httpx over HTTP to the Forgejo stand-in."""

    name = kind = "forgejo"
