"""One harness per forge implementation, for the shared contract suite (``test_contract``).

A harness serves the docs repository of ``tests/conftest.py`` (``docs_repo``: a git work
tree on ``main``) through one forge, and reads back what that forge created, from the
stand-in's own records and git repositories (never through the forge under test).

Adding a forge: write a class with the `Harness` attributes and methods (in its own
module beside this one if it is long), then add it to `HARNESSES`. Every test of
``test_contract.py`` then runs on it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mkdocs_erratum.forges.base import Forge
from mkdocs_erratum.forges.github import GitHubForge
from mkdocs_erratum.forges.local_git import LocalGitForge


@dataclass(frozen=True)
class PullView:
    """A pull/merge request as the stand-in recorded it."""

    number: int
    branch: str
    body: str
    head_project: str


@dataclass(frozen=True)
class IssueView:
    """An issue as the stand-in recorded it."""

    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    comments: tuple[str, ...]


class Harness(Protocol):
    """What the contract suite needs of a forge under test."""

    name: str
    has_issues: bool
    """Whether the forge has issues (and comments, labels)."""
    forks: bool
    """Whether `forge` with ``can_push=False`` works (the forge forks)."""
    repo: Path
    """The served project's git work tree (branch ``main``): tests commit into it."""

    def forge(self, *, can_push: bool = True) -> Forge:
        """A new client (nothing cached from an earlier one); ``can_push`` False: with a
        token that may not push to the project."""

    def branch_text(self, branch: str, path: str) -> str | None:
        """``path`` on ``branch`` in the project or in a fork, None when absent."""

    def pull_requests(self) -> list[PullView]:
        """Every pull/merge request of the project ([] on a forge without them)."""

    def issues(self) -> list[IssueView]:
        """Every issue of the project ([] on a forge without them)."""

    def add_issue(self, title: str, body: str, author: str) -> int:
        """A reader's issue; returns its number."""

    def close(self) -> None:
        """Stop what the harness started; assert the stand-in saw no violation."""


def github_forge(standin, token: str = "maintainer-token", **options) -> GitHubForge:
    """A `GitHubForge` on the stand-in's ``acme/docs``, tuned for tests (no pauses)."""
    settings = dict(
        token=token,
        api_url=standin.url,
        request_interval=0,
        write_interval=0,
        backoff=0.05,
        timeout=5,
        fork_timeout=10,
    )
    settings.update(options)
    return GitHubForge("acme/docs", **settings)


def _show(git_dir: Path | str, branch: str, path: str) -> str | None:
    proc = subprocess.run(
        ["git", "show", f"refs/heads/{branch}:{path}"],
        cwd=git_dir,
        capture_output=True,
        check=False,
    )
    return proc.stdout.decode("utf-8") if proc.returncode == 0 else None


class GitHubHarness:
    """PyGithub over HTTP to the GitHub stand-in (validated against GitHub's description)."""

    name = "github"
    has_issues = True
    forks = True

    def __init__(self, docs_repo: Path):
        from tests.standin import GitHubStandIn

        self.repo = docs_repo
        self.standin = GitHubStandIn(str(docs_repo), "acme/docs", known_users={"alice"}).start()

    def forge(self, *, can_push: bool = True) -> Forge:
        return github_forge(self.standin, "maintainer-token" if can_push else "reader-token")

    def branch_text(self, branch: str, path: str) -> str | None:
        for hosted in self.standin.repos.values():
            text = _show(hosted.store.git_dir, branch, path)
            if text is not None:
                return text
        return None

    def pull_requests(self) -> list[PullView]:
        return [
            PullView(r.number, r.pull["head_ref"], r.body, r.pull["head_repo"])
            for r in self.standin.pulls()
        ]

    def issues(self) -> list[IssueView]:
        return [
            IssueView(
                r.number, r.title, r.body, tuple(r.labels), tuple(c["body"] for c in r.comments)
            )
            for r in self.standin.issues()
        ]

    def add_issue(self, title: str, body: str, author: str) -> int:
        return self.standin.add_issue(title, body, user=author, labels=["erratum"]).number

    def close(self) -> None:
        self.standin.stop()
        assert self.standin.violations == [], "\n".join(self.standin.violations)


class LocalGitHarness:
    """The local git forge on the docs repository itself (the service's git backend)."""

    name = "git"
    has_issues = False
    forks = False

    def __init__(self, docs_repo: Path):
        self.repo = docs_repo

    def forge(self, *, can_push: bool = True) -> Forge:
        return LocalGitForge(str(self.repo), "main")

    def branch_text(self, branch: str, path: str) -> str | None:
        return _show(self.repo, branch, path)

    def pull_requests(self) -> list[PullView]:
        return []

    def issues(self) -> list[IssueView]:
        return []

    def add_issue(self, title: str, body: str, author: str) -> int:
        raise AssertionError("a local git repository has no issues")

    def close(self) -> None:
        pass


HARNESSES: dict[str, type] = {
    "github": GitHubHarness,
    "git": LocalGitHarness,
}
"""Harness classes by forge name: each takes the docs repository (see `Harness`)."""

# GitLab and Forgejo (tests/forges/hosted_harnesses.py) build on the GitHub harness.
from tests.forges.hosted_harnesses import ForgejoHarness, GitLabHarness  # noqa: E402

HARNESSES.update({"gitlab": GitLabHarness, "forgejo": ForgejoHarness})
