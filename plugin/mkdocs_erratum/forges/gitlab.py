"""GitLab (gitlab.com or self-hosted) as a `Forge`, through python-gitlab.

The only importer of python-gitlab. A `GitLabForge` serves one project, ``group/project``
or ``group/sub/project`` (subgroups: python-gitlab URL-encodes the path), with a
personal, group or project access token (``GITLAB_TOKEN``, sent as ``PRIVATE-TOKEN``)
or a CI job's ``CI_JOB_TOKEN`` (``JOB-TOKEN``: it acts as no user, reads, and GitLab
refuses most writes it would need).

A correction is one commit and one merge request: ``POST /projects/:id/repository/
commits`` with ``start_sha`` (and ``start_project`` from a fork) creates the branch and
changes every file at once, then ``POST /projects/:id/merge_requests`` opens the merge
request. When the token has less than Developer access to the project, the commit goes
to our fork (created and waited for: GitLab imports forks asynchronously) and the merge
request targets the project.

Never twice the same thing (see `mkdocs_erratum.forges.base`): python-gitlab retries
only what GitLab refused with 429 (nothing was done: it waits ``Retry-After``);
``retry_transient_errors`` is off, since it would re-send a POST after a 502. Creates
go through `retrying.Attempts.create`: look up, create, and after a failure that may
have happened after GitLab did the work, look up again.

Where GitLab is: the target's ``api_url`` (``https://gitlab.example.com/api/v4``);
python-gitlab wants the instance's base, without ``/api/v4``.
"""

from __future__ import annotations

import base64
import os
import posixpath
import time
import urllib.parse
from collections.abc import Iterable, Mapping

import gitlab
import requests
from gitlab.exceptions import GitlabError

from . import web
from .base import (
    REPORT_LABEL,
    TOKEN_VARIABLES,
    FileVersion,
    ForgeError,
    ForgeTarget,
    IssueInfo,
    NotEditable,
    ObjectKindError,
    PullRequestInfo,
    comment_marker,
    report_marker,
    start_of_branch,
    with_marker,
)
from .retrying import Attempts, Failure

DEVELOPER = 30
"""GitLab's access level that may push branches and open merge requests."""
_SYMLINK = "120000"


class GitLabForge:
    """One GitLab project, as erratum uses it (see `mkdocs_erratum.forges.base.Forge`).

    Args:
        project: ``group/project`` or ``group/sub/project``.
        api_url: the REST base (``https://gitlab.com/api/v4``).
        web_url: the instance's web base (default: ``api_url`` without ``/api/v4``).
        token: a personal, group or project access token (``api`` scope).
        job_token: a CI job's ``CI_JOB_TOKEN``, when there is no ``token``.
        timeout: seconds to wait for one answer.
        attempts, backoff, max_wait: retries (see `retrying.Attempts`).
        fork_timeout: how long to wait for a new fork to be imported.
        request_interval, write_interval: accepted for the common options; GitLab asks
            for no pause between requests.

    Raises:
        ForgeError: when no token is given.
    """

    kind = "gitlab"
    has_issues = True
    has_pull_requests = True

    def __init__(
        self,
        project: str,
        *,
        api_url: str = "https://gitlab.com/api/v4",
        web_url: str | None = None,
        token: str | None = None,
        job_token: str | None = None,
        timeout: float = 15,
        attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        fork_timeout: float = 60.0,
        request_interval: float = 0.0,
        write_interval: float = 0.0,
    ):
        if not (token or job_token):
            raise ForgeError(
                "no GitLab credentials: set GITLAB_TOKEN (a project access token with the "
                "api scope) or run in GitLab CI (CI_JOB_TOKEN)"
            )
        base = api_url.rstrip("/").removesuffix("/api/v4")
        self.project = project.strip("/")
        self.web_url = f"{(web_url or base).rstrip('/')}/{self.project}"
        self.fork_timeout = fork_timeout
        self._job = not token
        self._retry = Attempts(_classify, attempts=attempts, backoff=backoff, max_wait=max_wait)
        self._gl = gitlab.Gitlab(
            base,
            private_token=token or None,
            job_token=None if token else job_token,
            timeout=timeout,
            per_page=100,
            retry_transient_errors=False,
            keep_base_url=True,
        )
        self._project = None
        self._login: str | None = None
        self._fork = None

    # -- who we are -------------------------------------------------------------------

    @property
    def _p(self):
        """The python-gitlab project (read once)."""
        if self._project is None:
            self._project = self._read(
                f"read project {self.project}", lambda: self._gl.projects.get(self.project)
            )
        return self._project

    def identity(self) -> str | None:
        """The token's username; None for ``CI_JOB_TOKEN``, which has no user."""
        if self._login is None and not self._job:
            self._read("read the authenticated user", self._gl.auth)
            self._login = self._gl.user.username if self._gl.user else None
        return self._login

    def can_push(self) -> bool:
        """Developer access or more to the project (a job token: True, and GitLab says)."""
        if self._job:
            return True
        permissions = getattr(self._p, "permissions", None) or {}
        levels = [
            (permissions.get(kind) or {}).get("access_level") or 0
            for kind in ("project_access", "group_access")
        ]
        return max(levels) >= DEVELOPER

    def commit_email(self, login: str) -> str | None:
        """GitLab's private commit address, ``ID-login@users.noreply.HOST``."""
        try:
            users = self._read(
                f"read user {login}", lambda: self._gl.users.list(username=login, get_all=False)
            )
        except ForgeError:
            return None
        if not users:
            return None
        host = urllib.parse.urlsplit(self.web_url).hostname or "gitlab.com"
        return f"{users[0].id}-{login}@users.noreply.{host}"

    # -- reading ----------------------------------------------------------------------

    def default_branch(self) -> str:
        return self._p.default_branch

    def head_commit(self, branch: str, project=None) -> str | None:
        project = project or self._p
        try:
            found = self._read(f"read branch {branch}", lambda: project.branches.get(branch))
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        return found.commit["id"]

    def read_file(self, path: str, ref: str, project=None) -> FileVersion | None:
        """The text of ``path`` at ``ref``; links and folders are told apart by the tree.

        GitLab's files API serves a symbolic link as its own blob (the target's path),
        so the entry's mode is read from the tree of its folder first.
        """
        project = project or self._p
        entry = self._tree_entry(project, path, ref)
        if entry is None:
            return None
        if entry["mode"] == _SYMLINK:
            raise ObjectKindError(
                f"{path} is a symbolic link; erratum does not change links", "link", at=path
            )
        if entry["type"] != "blob":
            raise ObjectKindError(f"{path} is a folder, not a file", "other", at=path)
        found = self._file(project, path, ref)
        if found is None:
            return None
        raw = base64.b64decode(found.content)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotEditable(f"{path} is not UTF-8 text") from None
        return FileVersion(path, text, found.blob_id, found.commit_id)

    def _tree_entry(self, project, path: str, ref: str) -> dict | None:
        """The tree entry of ``path`` at ``ref``, or None; a link on the way raises."""
        folder, name = posixpath.split(path)
        entries = self._tree(project, folder, ref)
        if entries is None and folder:
            self._check_folders(project, folder, ref)
            return None
        return next((e for e in entries or [] if e["name"] == name), None)

    def _check_folders(self, project, folder: str, ref: str) -> None:
        """Raise when a part of ``folder`` is a link (``folder``'s tree was a 404)."""
        parts = folder.split("/")
        for depth in range(len(parts)):
            above = "/".join(parts[:depth])
            at = "/".join(parts[: depth + 1])
            entry = next(
                (e for e in self._tree(project, above, ref) or [] if e["name"] == parts[depth]),
                None,
            )
            if entry is None:
                return
            if entry["mode"] == _SYMLINK:
                raise ObjectKindError(
                    f"{at} is a symbolic link; erratum does not change links", "link", at=at
                )
            if entry["type"] != "tree":
                return  # a file where a folder should be: the path does not exist

    def _tree(self, project, folder: str, ref: str) -> list[dict] | None:
        try:
            return self._read(
                f"list {folder or 'the root'} at {ref}",
                lambda: project.repository_tree(path=folder, ref=ref, get_all=True),
            )
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise

    def _file(self, project, path: str, ref: str):
        try:
            return self._read(f"read {path}", lambda: project.files.get(file_path=path, ref=ref))
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise

    def read_issue(self, number: int) -> IssueInfo:
        return _issue_info(self._issue(number))

    def _issue(self, number: int):
        return self._read(f"read issue #{number}", lambda: self._p.issues.get(number))

    def issue_comments(self, number: int) -> list[tuple[str, str]]:
        """Notes by people (not GitLab's system notes), oldest first."""
        issue = self._p.issues.get(number, lazy=True)
        notes = self._read(
            f"list the notes of #{number}",
            lambda: issue.notes.list(sort="asc", order_by="created_at", get_all=True),
        )
        return [(n.author["username"], n.body or "") for n in notes if not n.system]

    def open_issues(self, label: str | None = REPORT_LABEL) -> list[IssueInfo]:
        labels = {"labels": [label]} if label else {}
        found = self._read(
            "list open issues",
            lambda: self._p.issues.list(
                state="opened", order_by="created_at", sort="desc", get_all=True, **labels
            ),
        )
        return [_issue_info(i) for i in found]

    def open_pull_requests(self) -> list[IssueInfo]:
        found = self._read(
            "list open merge requests",
            lambda: self._p.mergerequests.list(
                state="opened", order_by="created_at", sort="desc", get_all=True
            ),
        )
        return [_issue_info(mr, is_pull_request=True) for mr in found]

    # -- finding what exists for a report ---------------------------------------------------

    def find_issue(self, report_id: str) -> IssueInfo | None:
        """GitLab's issue search reads the database: consistent at once."""
        marker = report_marker(report_id)
        found = self._read(
            "search issues",
            lambda: self._p.issues.list(
                search=report_id, state="all", get_all=False, **{"in": "description"}
            ),
        )
        return next((_issue_info(i) for i in found if marker in (i.description or "")), None)

    def find_pull_request(
        self, branch: str, report_id: str | None = None
    ) -> PullRequestInfo | None:
        sources = {self._p.id: self.project}
        fork = self._own_fork() if not self.can_push() else None
        if fork is not None:
            sources[fork.id] = fork.path_with_namespace
        found = self._read(
            "list merge requests",
            lambda: self._p.mergerequests.list(source_branch=branch, state="all", get_all=False),
        )
        for mr in found:
            if mr.source_project_id in sources:
                return _pull_info(mr, sources[mr.source_project_id], created=False)
        if report_id:
            marker = report_marker(report_id)
            found = self._read(
                "search merge requests",
                lambda: self._p.mergerequests.list(
                    search=report_id, state="all", get_all=False, **{"in": "description"}
                ),
            )
            for mr in found:
                if marker in (mr.description or "") and mr.source_project_id in sources:
                    return _pull_info(mr, sources[mr.source_project_id], created=False)
        return None

    # -- creating ---------------------------------------------------------------------

    def open_issue(
        self,
        *,
        report_id: str,
        title: str,
        body: str,
        labels: Iterable[str] = (REPORT_LABEL,),
    ) -> IssueInfo:
        data = {"title": title, "description": with_marker(body, report_id)}
        names = list(labels)
        if names:
            data["labels"] = ",".join(names)  # GitLab creates labels it does not have
        return self._retry.create(
            f"open an issue for {report_id}",
            lookup=lambda: self.find_issue(report_id),
            create=lambda: _issue_info(self._p.issues.create(data)),
        )

    def comment(self, number: int, body: str, *, key: str) -> str:
        return self._note(self._issue(number), f"#{number}", body, key)

    def comment_pull_request(self, number: int, body: str, *, key: str) -> str:
        """A note on merge request ``number`` (GitLab numbers them apart from issues)."""
        mr = self._read(f"read merge request !{number}", lambda: self._p.mergerequests.get(number))
        return self._note(mr, f"!{number}", body, key)

    def _note(self, thread, name: str, body: str, key: str) -> str:
        """A note on an issue or merge request, unless one carries the key's marker."""
        marker = comment_marker(key)

        def lookup() -> str | None:
            notes = self._read(f"list the notes of {name}", lambda: thread.notes.list(get_all=True))
            return next(
                (f"{thread.web_url}#note_{n.id}" for n in notes if marker in (n.body or "")), None
            )

        def create() -> str:
            note = thread.notes.create({"body": f"{body}\n\n{marker}"})
            return f"{thread.web_url}#note_{note.id}"

        return self._retry.create(f"comment on {name}", lookup=lookup, create=create)

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        names = ",".join(labels)
        self._retry.call(
            f"label #{number}",
            lambda: self._p.issues.update(number, {"add_labels": names}),
            retry=True,
        )

    def fork(self) -> str:
        return self._fork_project().path_with_namespace

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
        """One commit (``start_sha`` and file actions) on ``branch``, then the merge request."""
        existing = self.find_pull_request(branch, report_id)
        if existing is not None:
            return existing
        base, base_sha = start_of_branch(self, base, self.project)
        source = self._p if self.can_push() else self._fork_project()
        self._retry.create(
            f"commit on {branch} in {source.path_with_namespace}",
            lookup=lambda: True if self._has_texts(source, branch, changes) else None,
            create=lambda: self._commit(source, branch, base_sha, changes, message),
            conflicts=True,
        )
        data = {
            "source_branch": branch,
            "target_branch": base,
            "title": title,
            "description": with_marker(body, report_id),
            "target_project_id": self._p.id,
        }
        head_project = source.path_with_namespace

        def create() -> PullRequestInfo:
            try:
                mr = source.mergerequests.create(data)
            except GitlabError as exc:
                if exc.response_code == 409 and "already exists" in str(exc.error_message):
                    found = self.find_pull_request(branch)
                    if found is not None:
                        return found
                raise
            return _pull_info(mr, head_project, created=True)

        return self._retry.create(
            f"open a merge request from {head_project}:{branch}",
            lookup=lambda: self.find_pull_request(branch),
            create=create,
        )

    def permalink(self, commit: str, path: str, start: int, end: int) -> str:
        return web.permalink(self.kind, self.web_url, commit, path, start, end)

    # -- plumbing ---------------------------------------------------------------------

    def _has_texts(self, project, branch: str, changes: Mapping[str, str]) -> bool:
        """Whether ``branch`` exists in ``project`` with every file as wanted."""
        if self.head_commit(branch, project) is None:
            return False
        for path, text in changes.items():
            found = self._file(project, path, branch)
            if found is None or base64.b64decode(found.content) != text.encode("utf-8"):
                return False
        return True

    def _commit(self, project, branch: str, base_sha: str, changes, message: str) -> bool:
        """Commit ``changes`` on ``branch``: a new branch from ``base_sha`` (one call), or,
        when the branch is there (an earlier try), the files that still differ."""
        data: dict = {"branch": branch, "commit_message": message}
        if self.head_commit(branch, project) is None:
            data["start_sha"] = base_sha
            if project.id != self._p.id:
                data["start_project"] = self._p.id
            wanted = dict(changes)
        else:
            wanted = {}
            for path, text in changes.items():
                found = self._file(project, path, branch)
                if found is None or base64.b64decode(found.content) != text.encode("utf-8"):
                    wanted[path] = text
            if not wanted:
                return True
        data["actions"] = [
            {"action": "update", "file_path": path, "content": text, "encoding": "text"}
            for path, text in wanted.items()
        ]
        project.commits.create(data)
        return True

    def _own_fork(self):
        """Our fork of the project, if we have one (None for a job token)."""
        if self._fork is not None:
            return self._fork
        login = self.identity()
        if login is None:
            return None
        forks = self._read(
            f"list the forks of {self.project}",
            lambda: self._p.forks.list(owned=True, get_all=True),
        )
        mine = [f for f in forks if f.namespace["full_path"].lower() == login.lower()]
        return mine[0] if mine else None

    def _fork_project(self):
        """Our fork, created if needed and waited for until GitLab has imported it."""
        if self._job:
            raise ForgeError(
                "a CI_JOB_TOKEN cannot fork: give erratum a GITLAB_TOKEN with Developer access"
            )
        if self._fork is not None:
            return self._fork
        made = self._retry.create(
            f"fork {self.project}",
            lookup=self._own_fork,
            create=lambda: self._p.forks.create({}),
        )
        deadline = time.monotonic() + self.fork_timeout
        pause = 0.25
        while True:
            fork = self._read(f"read the fork {made.id}", lambda: self._gl.projects.get(made.id))
            if getattr(fork, "import_status", "none") in ("finished", "none"):
                self._fork = fork
                return fork
            if getattr(fork, "import_status", "") == "failed":
                raise ForgeError(f"GitLab could not create the fork {fork.path_with_namespace}")
            if time.monotonic() > deadline:
                raise ForgeError(
                    f"the fork {fork.path_with_namespace} was not ready within "
                    f"{self.fork_timeout:.0f} s",
                    transient=True,
                )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _read(self, what: str, action):
        return self._retry.call(what, action, retry=True)


def _issue_info(issue, is_pull_request: bool = False) -> IssueInfo:
    """An issue, or a merge request (its ``iid`` and ``description`` alike)."""
    return IssueInfo(
        number=issue.iid,
        url=issue.web_url,
        title=issue.title,
        body=issue.description or "",
        labels=tuple(issue.labels or ()),
        state="open" if issue.state == "opened" else "closed",
        author=(issue.author or {}).get("username", ""),
        is_pull_request=is_pull_request,
        created_at=getattr(issue, "created_at", None),
    )


def _pull_info(mr, head_project: str, *, created: bool) -> PullRequestInfo:
    return PullRequestInfo(mr.iid, mr.web_url, mr.source_branch, head_project, created)


def _classify(what: str, exc: Exception) -> Failure | None:
    """A python-gitlab or network error as a neutral `Failure` (see `retrying`)."""
    if isinstance(exc, GitlabError):
        status = exc.response_code
        detail = exc.error_message
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        text = " ".join(str(detail or "").split())[:300]
        error = ForgeError(f"GitLab refused to {what}: {status or ''} {text}".strip(), status)
        return Failure(error, conflict=status == 409)
    if isinstance(exc, requests.RequestException):
        error = ForgeError(
            f"could not reach GitLab to {what}: {type(exc).__name__}: {exc}", transient=True
        )
        return Failure(error)
    return None


def connect(
    target: ForgeTarget,
    *,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
    **options,
) -> GitLabForge:
    """A `GitLabForge` for ``target``: ``token``, else ``GITLAB_TOKEN``, else ``CI_JOB_TOKEN``."""
    env = os.environ if environ is None else environ
    job_token = None
    if not token:
        private, job = TOKEN_VARIABLES["gitlab"]
        token = env.get(private) or None
        job_token = None if token else env.get(job) or None
    return GitLabForge(
        target.project,
        api_url=target.api_url,
        web_url=target.web_url,
        token=token,
        job_token=job_token,
        **options,
    )


__all__ = ["GitLabForge", "connect"]
