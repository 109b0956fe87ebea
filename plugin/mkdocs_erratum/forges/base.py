"""The forge interface: what erratum asks of GitHub, GitLab, Forgejo/Gitea or local git.

The fixer (``erratum fix``), ``erratum list`` and the service's delivery talk to a forge
only through the `Forge` protocol below, and catch only the neutral errors defined here
(`ForgeError` and its kinds). Each forge lives in its own module, ``forges/<name>.py``,
the only module that imports that forge's client library (PyGithub, python-gitlab,
httpx for the Forgejo API). `mkdocs_erratum.forges.factory` imports a forge module by
name only when it is used. Pure data and text here: no client library, no I/O.

A forge module provides ``connect(target, *, token=None, environ=None, **options)``
returning a `Forge` for ``target`` (a `ForgeTarget`: kind, web base, API URL, project
path). ``token`` given wins; else the module reads the variables `TOKEN_VARIABLES`
names for its kind from ``environ`` (default ``os.environ``). The common ``options``
are `CONNECT_OPTIONS`; a module ignores those that mean nothing to it.

**Never twice the same thing.** Everything erratum creates carries the report id, and
every create looks first:

- an issue's body carries `report_marker` (``<!-- erratum-report-id: r-... -->``);
- a pull/merge request comes from the branch ``erratum/<issue number or report id>``,
  and its body carries the same marker;
- a comment carries `comment_marker` of its key (``<!-- erratum:KEY -->``);
- a branch that exists is not created again, and a file whose text on the branch is
  already the wanted one is not committed again.

Client libraries re-send requests on their own (PyGithub re-sends a POST after a 502 if
allowed to). A forge module lets its client retry reads only, and retries a create only
after looking again, when the failure may have happened after the forge did the work
(no answer, a timeout, 5xx, a rate limit). So running ``erratum fix`` twice, or a job
retried by the service, opens nothing new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .target import KINDS, ForgeTarget

LOCAL_GIT = "git"
"""The kind of `mkdocs_erratum.forges.local_git.LocalGitForge` (the service's git backend)."""

TOKEN_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "github": ("GITHUB_TOKEN",),
    "gitlab": ("GITLAB_TOKEN", "CI_JOB_TOKEN"),
    "forgejo": ("FORGEJO_TOKEN", "GITEA_TOKEN"),
    "gitea": ("GITEA_TOKEN", "FORGEJO_TOKEN"),
}
"""Environment variables holding a token, per kind, the first one set wins."""

CONNECT_OPTIONS = (
    "timeout",  # seconds to wait for one answer
    "attempts",  # tries for a request that failed in a retryable way
    "backoff",  # first pause between tries, doubled each time (seconds)
    "max_wait",  # the longest Retry-After honoured; longer waits fail instead
    "request_interval",  # pause kept between two requests (seconds; 0: none)
    "write_interval",  # pause kept between two writes (seconds; 0: none)
    "anonymous",  # no token: read a public project without credentials (where allowed)
)
"""Keyword options every ``connect`` accepts (see the module docstring)."""

REPORT_LABEL = "erratum"
"""The label that marks report issues (set by the issue form, watched by the workflow)."""
BRANCH_PREFIX = "erratum/"
"""Branches erratum creates are ``erratum/<issue number>`` or ``erratum/<report id>``."""

_ID_MARKER = "<!-- erratum-report-id: {id} -->"
_ID_MARKER_RE = re.compile(r"<!-- erratum-report-id: (r-[0-9a-f]{16}) -->")


# -- errors --------------------------------------------------------------------------------


class ForgeError(RuntimeError):
    """The forge refused or failed; the message is one line a person can act on.

    It names the forge and what was asked (``GitLab refused to open a merge request:
    403 ...``); the token never appears in it.
    """

    def __init__(self, message: str, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.status = status
        """The forge's HTTP status; None when it did not answer or nothing was asked."""
        self.transient = transient or (status is not None and (status >= 500 or status == 429))
        """Whether trying again later may work (no answer, 5xx, rate limits)."""


class NotEditable(ForgeError):
    """The path exists at that ref but erratum does not edit it: too large, not UTF-8
    text, or not a regular file (see `ObjectKindError`). A property of the report's
    path, not a failure of the forge: the fixer refuses the report with this message."""


class ObjectKindError(NotEditable):
    """A path that is not a regular file: ``kind`` is ``"link"`` (a symbolic link) or
    ``"other"`` (a folder, a submodule), as `mkdocs_erratum.gate` names them.

    ``at`` is the part of the path that has that kind: the path itself, or a folder on
    it (``docs/up`` when ``docs/up`` is a link and ``docs/up/a.md`` was asked), for a
    forge that can tell; the folders before it are folders.
    """

    def __init__(self, message: str, kind: str, at: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.at = at


class Unsupported(ForgeError):
    """A verb this forge does not have (the local git forge has no issues)."""


# -- data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueInfo:
    """An issue (or a pull/merge request when the forge lists them together)."""

    number: int
    """The number people write after ``#`` (GitLab's ``iid``, not its global id)."""
    url: str
    """The issue's page."""
    title: str
    body: str
    labels: tuple[str, ...]
    state: str
    """``open`` or ``closed`` (GitLab's ``opened`` is reported as ``open``)."""
    author: str
    """The login of whoever opened it, as the forge names them ("" when unknown)."""
    is_pull_request: bool = False
    created_at: str | None = None
    """When it was opened, ISO 8601 (``2026-12-02T07:00:00Z``), or None when not told."""


@dataclass(frozen=True)
class PullRequestInfo:
    """A pull or merge request opened (or found) for a report; on a forge without pull
    requests (local git), the branch alone: ``number`` and ``url`` are None."""

    number: int | None
    url: str | None
    branch: str
    head_project: str
    """The project holding the branch: the project itself or a fork."""
    created: bool
    """False when it already existed (nothing new was opened)."""


@dataclass(frozen=True)
class FileVersion:
    """A file read at a ref."""

    path: str
    text: str
    """The file's text exactly as stored (line ends and byte-order mark kept)."""
    sha: str
    """The forge's id of this version (blob sha), what an update may need."""
    commit: str
    """The full commit sha it was read at."""


# -- markers -------------------------------------------------------------------------------


def report_marker(report_id: str) -> str:
    """The hidden line that ties a body to a report id.

    >>> report_marker("r-0123456789abcdef")
    '<!-- erratum-report-id: r-0123456789abcdef -->'
    """
    return _ID_MARKER.format(id=report_id)


def report_ids_in(text: str) -> list[str]:
    """Report ids marked in ``text`` (see `report_marker`).

    >>> report_ids_in("x\\n<!-- erratum-report-id: r-0123456789abcdef -->")
    ['r-0123456789abcdef']
    """
    return _ID_MARKER_RE.findall(text or "")


def comment_marker(key: str) -> str:
    """The hidden line that makes a comment findable by its key.

    >>> comment_marker("r-0123456789abcdef:pull")
    '<!-- erratum:r-0123456789abcdef:pull -->'
    """
    return f"<!-- erratum:{key} -->"


def with_marker(body: str, report_id: str | None) -> str:
    """``body`` ending with the report marker (unchanged when it has it, or no id).

    >>> with_marker("Hi", "r-0123456789abcdef")
    'Hi\\n\\n<!-- erratum-report-id: r-0123456789abcdef -->'
    """
    if report_id is None or report_marker(report_id) in body:
        return body
    return f"{body}\n\n{report_marker(report_id)}"


# -- the protocol --------------------------------------------------------------------------


@runtime_checkable
class Forge(Protocol):
    """One project on one forge, as erratum uses it.

    Every method raises `ForgeError` (or one of its kinds) for a refusal or a failure,
    never a client library's exception. Reads that find nothing return None; they raise
    only when the forge refused or failed.
    """

    kind: str
    """``github``, ``gitlab``, ``forgejo``, ``gitea`` or ``git`` (local)."""
    project: str
    """The project path (``OWNER/NAME``, ``group/sub/project``; a folder for local git)."""
    web_url: str
    """The project's page (``https://gitlab.com/group/sub/project``), without trailing
    slash; for local git, a ``file://`` URL of the repository."""
    has_issues: bool
    """Whether the issue verbs work (False: they raise `Unsupported`)."""
    has_pull_requests: bool
    """Whether ``open_pull_request`` opens a pull/merge request (False: the branch and
    its commit are the whole delivery, and the commit message is the only record)."""

    # -- who we are --------------------------------------------------------------------

    def identity(self) -> str | None:
        """The login the credentials act as, or None for an integration token (a GitHub
        App, a workflow's ``GITHUB_TOKEN``, GitLab's ``CI_JOB_TOKEN``) that has no user.
        Read once and remembered."""

    def can_push(self) -> bool:
        """Whether the credentials may create branches in the project itself; when False,
        `open_pull_request` works in `fork`. When the forge cannot tell (an integration
        token), True: the push is tried and a refusal is reported as such."""

    def commit_email(self, login: str) -> str | None:
        """The address the forge credits commits to for user ``login`` (GitHub:
        ``ID+login@users.noreply.github.com``), or None when it has none."""

    # -- reading -----------------------------------------------------------------------

    def default_branch(self) -> str:
        """The project's default branch."""

    def head_commit(self, branch: str) -> str | None:
        """The full sha ``branch`` points to, or None when there is no such branch."""

    def read_file(self, path: str, ref: str) -> FileVersion | None:
        """The text of ``path`` at ``ref`` (a branch or a full commit sha), or None when
        the path does not exist there. ``FileVersion.commit`` is the commit it was read at
        (``ref`` itself when it is a sha).

        Raises:
            ObjectKindError: ``path`` is a folder, a submodule (``"other"``) or a symbolic
                link (``"link"``; a forge that answers a link with its target's content
                must notice it and raise this).
            NotEditable: the forge will not serve its text (GitHub's contents API stops
                at 1 MB), or it is not UTF-8. (The gate refuses files over
                `mkdocs_erratum.gate.MAX_FILE_BYTES` whatever the forge serves.)
        """

    def read_issue(self, number: int) -> IssueInfo:
        """The issue ``number`` (a 404 raises `ForgeError` with status 404)."""

    def issue_comments(self, number: int) -> list[tuple[str, str]]:
        """``(author login, body)`` of each comment of issue ``number``, oldest first.
        System notes (GitLab's "changed the label") are left out."""

    def open_issues(self, label: str | None = REPORT_LABEL) -> list[IssueInfo]:
        """Open issues, not pull/merge requests, carrying ``label`` (None: all of them),
        newest first, every page."""

    def open_pull_requests(self) -> list[IssueInfo]:
        """Open pull/merge requests of the project (any head branch), newest first, every
        page, as `IssueInfo` with ``is_pull_request=True`` (``number``: the request's
        number, GitLab's iid). [] on a forge without pull requests."""

    # -- finding what exists for a report --------------------------------------------------

    def find_issue(self, report_id: str) -> IssueInfo | None:
        """The issue (any state) whose body carries `report_marker` of ``report_id``, or
        None. Look where the forge is consistent at once first (the newest issues, of
        our own identity when known), a search index after."""

    def find_pull_request(
        self, branch: str, report_id: str | None = None
    ) -> PullRequestInfo | None:
        """The pull/merge request (any state) from ``branch``, in the project or in our
        fork, else one whose body carries the marker of ``report_id``; None when none.
        On a forge without pull requests: the branch, when it exists."""

    # -- creating (each one idempotent: see the module docstring) --------------------------

    def open_issue(
        self,
        *,
        report_id: str,
        title: str,
        body: str,
        labels: Iterable[str] = (REPORT_LABEL,),
    ) -> IssueInfo:
        """Open the issue for ``report_id``, or return the one `find_issue` finds.

        The body gets `report_marker` appended when it lacks it (`with_marker`). Labels
        that do not exist yet are created by the forge or by this method.
        """

    def comment(self, number: int, body: str, *, key: str) -> str:
        """Comment ``body`` on issue ``number`` unless a comment carrying
        `comment_marker` of ``key`` is there; the marker is appended to the body.

        Returns:
            The comment's page URL (the existing comment's when it was there).
        """

    def comment_pull_request(self, number: int, body: str, *, key: str) -> str:
        """`comment`, on pull/merge request ``number``: the same marker rule, idempotent by
        ``key`` (GitHub and Forgejo: the issue comments of the request; GitLab: a note on
        the merge request). Raises `Unsupported` on a forge without pull requests."""

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        """Add ``labels`` to issue ``number``, keeping its other labels; adding a label
        it has changes nothing. Labels missing from the project are created."""

    def fork(self) -> str:
        """Our fork of the project, created when missing and waited for until it answers
        (it may take a while to be copied); returns the fork's project path. Forking a
        project we already forked returns that fork. Called by `open_pull_request` when
        `can_push` is False."""

    def open_pull_request(
        self,
        *,
        branch: str,
        changes: Mapping[str, str],
        message: str,
        title: str,
        body: str,
        base: str | None = None,
        report_id: str | None = None,
    ) -> PullRequestInfo:
        """Commit ``changes`` (path -> new text, exactly as given) on a new ``branch``
        and open a pull/merge request into ``base`` (the default branch when None).

        The branch starts at the head of ``base``, in the project when `can_push`, else
        in `fork`; the changes are one commit with ``message`` (more than one file may
        take one commit per file where the forge's API has no multi-file commit). The
        request's body is ``body`` with the marker of ``report_id`` (`with_marker`).
        Each step first checks whether it is done (request from the branch, branch,
        file text), so calling this again after any failure completes the work and
        creates nothing twice. On a forge without pull requests the branch is the
        result, and ``changes`` may be empty (an empty commit that records a report).

        Returns:
            The request; ``created`` is False when it already existed.
        """

    def permalink(self, commit: str, path: str, start: int, end: int) -> str:
        """The forge's page of lines ``start..end`` of ``path`` at ``commit`` (see
        `mkdocs_erratum.forges.web.permalink`)."""


__all__ = [
    "BRANCH_PREFIX",
    "CONNECT_OPTIONS",
    "KINDS",
    "LOCAL_GIT",
    "REPORT_LABEL",
    "TOKEN_VARIABLES",
    "FileVersion",
    "Forge",
    "ForgeError",
    "ForgeTarget",
    "IssueInfo",
    "NotEditable",
    "ObjectKindError",
    "PullRequestInfo",
    "Unsupported",
    "comment_marker",
    "report_ids_in",
    "report_marker",
    "with_marker",
]


def start_of_branch(forge: Forge, base: str | None, where: str) -> tuple[str, str]:
    """``base`` (the default branch when None) and its head commit, where a pull request's
    branch starts; ``where`` names the project in the error when the branch is missing."""
    base = base or forge.default_branch()
    commit = forge.head_commit(base)
    if commit is None:
        raise ForgeError(f"branch {base} not found in {where}")
    return base, commit
