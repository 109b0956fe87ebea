"""GitHub as a `Forge`, through PyGithub: the only importer of PyGithub.

`GitHubForge` serves one repository (``OWNER/NAME``) with token or GitHub App credentials
and offers what erratum does on GitHub (see `mkdocs_erratum.forges.base.Forge`): open an
issue for a report, open a pull request that changes files on a new branch (in the
repository, or in a fork when the credentials cannot push), comment, label, and find
what was already created for a report.

Never twice the same thing (see `mkdocs_erratum.forges.base`): every create first looks
the report id up, and a create that failed in a way that may have happened anyway (5xx,
timeout, secondary rate limit) is retried only after another look-up. PyGithub's own
retry would re-send a POST blindly after a 502, so it is kept for reads only (GET, HEAD).

Where GitHub is: `api_url_from` (``--api-url``, else ``GITHUB_API_URL``, else
https://api.github.com). Not here: what to change in a file (``corrections``, ``gate``)
nor what the texts say (``fixer``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from datetime import timezone
from typing import TypeVar

import requests
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.Repository import Repository

from . import web
from .base import (
    REPORT_LABEL,
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
from .detect import web_url_from_api

DEFAULT_API_URL = "https://api.github.com"
_T = TypeVar("_T")

# PyGithub prints each refused request (INFO, to its own stderr handler): every failure
# here ends in one ForgeError that says the same with context, so only warnings pass.
logging.getLogger("github").setLevel(logging.WARNING)


def api_url_from(option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Where GitHub's API is: ``option``, else ``GITHUB_API_URL``, else api.github.com.

    >>> api_url_from(None, {})
    'https://api.github.com'
    >>> api_url_from(None, {"GITHUB_API_URL": "https://ghe.example/api/v3/"})
    'https://ghe.example/api/v3'
    >>> api_url_from("http://127.0.0.1:8080", {"GITHUB_API_URL": "https://x"})
    'http://127.0.0.1:8080'
    """
    environ = os.environ if environ is None else environ
    return (option or environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


class GitHubForge:
    """GitHub as erratum uses it, for one repository (a `mkdocs_erratum.forges.base.Forge`).

    Args:
        repository: ``OWNER/NAME``.
        token: a personal access token or ``GITHUB_TOKEN``; or give the App options.
        app_id, app_private_key, installation_id: GitHub App installation auth (the
            installation is looked up from the repository when not given).
        api_url: the API base (see `api_url_from`).
        timeout: whole seconds to wait for one answer.
        attempts: tries for a request that failed in a retryable way (5xx, timeout,
            secondary rate limit).
        backoff: first pause between tries, doubled each time (seconds).
        max_wait: the longest ``Retry-After`` honoured; longer waits fail instead.
        request_interval, write_interval: pauses PyGithub keeps between requests and
            between writes (GitHub asks integrations for about 1 s between writes).
        fork_timeout: how long to wait for a new fork to answer.
        web_url: the web base (default: from the API URL: ``api.github.com`` is
            ``github.com``, a GitHub Enterprise ``HOST/api/v3`` is ``HOST``); the
            repository's own ``html_url`` is used once it was read.

    Raises:
        ForgeError: when no credentials are given or the App installation is missing.
    """

    kind = "github"
    has_issues = True
    has_pull_requests = True

    def __init__(
        self,
        repository: str,
        *,
        token: str | None = None,
        app_id: int | str | None = None,
        app_private_key: str | None = None,
        installation_id: int | None = None,
        api_url: str | None = None,
        timeout: int = 15,
        attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        request_interval: float = 0.25,
        write_interval: float = 1.0,
        fork_timeout: float = 60.0,
        web_url: str | None = None,
        anonymous: bool = False,
    ):
        self.repository = self.project = repository
        self._web_base = (web_url or web_url_from_api(api_url_from(api_url))).rstrip("/")
        self.api_url = api_url_from(api_url)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.fork_timeout = fork_timeout
        retry = GithubRetry(
            total=self.attempts - 1,
            backoff_factor=backoff / 2,
            # Reads only: a re-sent POST could create twice (see the module docstring).
            allowed_methods=frozenset({"GET", "HEAD"}),
            secondary_rate_wait=min(60.0, max_wait),
            max_rate_limit_wait=max_wait,
        )
        options = dict(
            base_url=self.api_url,
            timeout=max(1, math.ceil(timeout)),  # PyGithub wants whole seconds
            retry=retry,
            per_page=100,
            seconds_between_requests=request_interval or None,
            seconds_between_writes=write_interval or None,
        )
        if token:
            auth: Auth.Auth | None = Auth.Token(token)
        elif app_id and app_private_key:
            app_auth = Auth.AppAuth(app_id, app_private_key)
            if installation_id is None:
                owner, name = repository.split("/", 1)
                integration = GithubIntegration(auth=app_auth, **options)
                installation_id = self._call(
                    "find the GitHub App installation",
                    lambda: integration.get_repo_installation(owner, name).id,
                )
            auth = app_auth.get_installation_auth(int(installation_id))
        elif anonymous:  # reads of a public repository (60 requests an hour)
            auth = None
        else:
            raise ForgeError(
                "no GitHub credentials: set GITHUB_TOKEN (or the GitHub App id and private key)"
            )
        self._github = Github(auth=auth, **options)
        self._is_app = not token
        self._repo: Repository | None = None
        self._login: str | None = None

    @classmethod
    def from_environment(
        cls,
        repository: str,
        *,
        api_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        **options,
    ) -> GitHubForge:
        """A forge with credentials from the environment.

        ``GITHUB_TOKEN``; else ``ERRATUM_APP_ID`` with ``ERRATUM_APP_PRIVATE_KEY`` (PEM
        text) or ``ERRATUM_APP_PRIVATE_KEY_PATH``, and optional ``ERRATUM_INSTALLATION_ID``.
        """
        env = os.environ if environ is None else environ
        key = env.get("ERRATUM_APP_PRIVATE_KEY")
        if not key and env.get("ERRATUM_APP_PRIVATE_KEY_PATH"):
            with open(env["ERRATUM_APP_PRIVATE_KEY_PATH"], encoding="utf-8") as fh:
                key = fh.read()
        installation = env.get("ERRATUM_INSTALLATION_ID")
        return cls(
            repository,
            token=env.get("GITHUB_TOKEN") or None,
            app_id=env.get("ERRATUM_APP_ID") or None,
            app_private_key=key,
            installation_id=int(installation) if installation else None,
            api_url=api_url_from(api_url, env),
            **options,
        )

    # -- who we are -------------------------------------------------------------------

    @property
    def repo(self) -> Repository:
        """The PyGithub repository object (read once)."""
        if self._repo is None:
            self._repo = self._call(
                f"read repository {self.repository}", lambda: self._github.get_repo(self.repository)
            )
        return self._repo

    def identity(self) -> str | None:
        """The user the credentials act as, or None for an integration.

        Integration tokens (a GitHub App installation, or the ``GITHUB_TOKEN`` of a
        workflow) cannot read ``/user``: they are None here and never fork.
        """
        if self._login is None and not self._is_app:
            try:
                self._login = self._call(
                    "read the authenticated user", lambda: self._github.get_user().login
                )
            except ForgeError as exc:
                if exc.status not in (401, 403, 404):
                    raise
                self._is_app = True  # an integration token: remember, ask once
        return self._login

    @property
    def web_url(self) -> str:
        """The repository's page (``https://github.com/OWNER/NAME`` on github.com)."""
        if self._repo is not None:
            return self._repo.html_url.rstrip("/")
        return f"{self._web_base}/{self.repository}"

    def can_push(self) -> bool:
        """Whether the credentials can create branches in the repository itself.

        GitHub tells a user's permissions with the repository; for an integration
        token (a workflow's ``GITHUB_TOKEN``) it tells nothing, and the workflow's
        ``permissions:`` decide: we try to push, and a refusal is reported as such.
        """
        if self._is_app:
            return True
        permissions = self.repo.permissions
        if permissions is None:
            return True
        return bool(permissions.push)

    def commit_email(self, login: str) -> str | None:
        """The ``ID+login@users.noreply...`` address GitHub credits commits to."""
        host = urllib.parse.urlsplit(self.api_url).hostname or "github.com"
        host = "github.com" if host == "api.github.com" else host
        try:
            user_id = self._call(f"read user {login}", lambda: self._github.get_user(login).id)
        except ForgeError:
            return f"{login}@users.noreply.{host}"
        return f"{user_id}+{login}@users.noreply.{host}"

    # -- reading ----------------------------------------------------------------------

    def default_branch(self) -> str:
        """The repository's default branch."""
        return self.repo.default_branch

    def head_commit(self, branch: str, repository: Repository | None = None) -> str | None:
        """The commit ``branch`` points to, or None when there is no such branch."""
        repo = repository or self.repo
        try:
            return self._call(
                f"read branch {branch}", lambda: repo.get_git_ref(f"heads/{branch}").object.sha
            )
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise

    def read_file(
        self, path: str, ref: str, repository: Repository | None = None
    ) -> FileVersion | None:
        """The text of ``path`` at ``ref`` (branch or commit), or None when absent.

        Raises:
            ForgeError: when ``path`` is a folder, a symlink (GitHub answers a symlink
                with its target: we notice the other path), or not UTF-8 text.
        """
        repo = repository or self.repo
        try:
            content = self._call(f"read {path}", lambda: repo.get_contents(path, ref=ref))
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        if isinstance(content, list):
            raise ObjectKindError(f"{path} is a folder, not a file", "other")
        if content.type != "file" or content.path != path:
            raise ObjectKindError(
                f"{path} is a symbolic link; erratum does not change links", "link"
            )
        if content.encoding != "base64":
            # GitHub leaves out the content of files over 1 MB.
            raise NotEditable(f"{path} is larger than 1 MB; erratum only edits smaller files")
        try:
            text = content.decoded_content.decode("utf-8")
        except UnicodeDecodeError:
            raise NotEditable(f"{path} is not UTF-8 text") from None
        commit = ref if re.fullmatch(r"[0-9a-f]{40}", ref) else (self.head_commit(ref, repo) or ref)
        return FileVersion(path, text, content.sha, commit)

    def read_issue(self, number: int) -> IssueInfo:
        """An issue (or pull request) by number."""
        issue = self._call(f"read issue #{number}", lambda: self.repo.get_issue(number))
        return _issue_info(issue)

    def issue_comments(self, number: int) -> list[tuple[str, str]]:
        """``(author login, body)`` of each comment of issue ``number``, oldest first."""
        issue = self._call(f"read issue #{number}", lambda: self.repo.get_issue(number))
        return self._call(
            f"list comments of #{number}",
            lambda: [(c.user.login if c.user else "", c.body or "") for c in issue.get_comments()],
        )

    def open_issues(self, label: str | None = REPORT_LABEL) -> list[IssueInfo]:
        """Open issues (not pull requests) carrying ``label`` (any label: None), newest first."""
        labels = {"labels": [label]} if label else {}
        return self._call(
            "list issues",
            lambda: [
                _issue_info(i)
                for i in self.repo.get_issues(state="open", **labels)
                if i.pull_request is None
            ],
        )

    def open_pull_requests(self) -> list[IssueInfo]:
        """Open pull requests, newest first, as `IssueInfo` (``is_pull_request``)."""
        return self._call(
            "list pull requests",
            lambda: [
                IssueInfo(
                    number=p.number,
                    url=p.html_url,
                    title=p.title or "",
                    body=p.body or "",
                    labels=tuple(label.name for label in p.labels),
                    state=p.state,
                    author=p.user.login if p.user else "",
                    is_pull_request=True,
                    created_at=_iso(p.created_at),
                )
                for p in self.repo.get_pulls(state="open", sort="created", direction="desc")
            ],
        )

    # -- finding what exists ----------------------------------------------------------

    def find_issue(self, report_id: str) -> IssueInfo | None:
        """The issue erratum opened for ``report_id`` (any state), or None."""
        marker = report_marker(report_id)
        # Listing is consistent at once (search is not); our own issues, newest first.
        login = self.identity()
        mine = {"creator": login} if login else {}
        recent = self._call(
            "list issues",
            lambda: self.repo.get_issues(state="all", sort="created", **mine).get_page(0),
        )
        for issue in recent:
            if issue.pull_request is None and marker in (issue.body or ""):
                return _issue_info(issue)
        return self._search(report_id, "issue")

    def find_pull_request(
        self, branch: str, report_id: str | None = None
    ) -> PullRequestInfo | None:
        """The pull request from ``branch`` (here or in our fork), or one marked with the id."""
        owners = [self.repo.owner.login]
        login = self.identity() if not self.can_push() else None
        if login:
            owners.insert(0, login)
        for owner in owners:
            pulls = self._call(
                "list pull requests",
                lambda owner=owner: list(
                    self.repo.get_pulls(state="all", head=f"{owner}:{branch}")
                ),
            )
            for pull in pulls:
                return PullRequestInfo(
                    pull.number, pull.html_url, branch, pull.head.repo.full_name, created=False
                )
        if report_id:
            found = self._search(report_id, "pr")
            if found is not None:
                pull = self._call("read pull request", lambda: self.repo.get_pull(found.number))
                return PullRequestInfo(
                    pull.number, pull.html_url, pull.head.ref, pull.head.repo.full_name, False
                )
        return None

    def _search(self, report_id: str, kind: str) -> IssueInfo | None:
        """Search fallback (GitHub's index lags: a miss here proves nothing)."""
        query = f'"{report_id}" repo:{self.repository} is:{kind} in:body'
        try:
            results = self._call("search", lambda: self._github.search_issues(query).get_page(0))
        except ForgeError:
            return None
        for issue in results:
            if report_marker(report_id) in (issue.body or ""):
                return _issue_info(issue)
        return None

    # -- creating (idempotent) --------------------------------------------------------

    def open_issue(
        self,
        *,
        report_id: str,
        title: str,
        body: str,
        labels: Iterable[str] = (REPORT_LABEL,),
    ) -> IssueInfo:
        """Open the issue for ``report_id``, or return the one already opened for it."""
        text = with_marker(body, report_id)
        label_list = list(labels)
        return self._create(
            f"open an issue for {report_id}",
            lookup=lambda: self.find_issue(report_id),
            create=lambda: _issue_info(self.repo.create_issue(title, body=text, labels=label_list)),
        )

    def comment(self, number: int, body: str, *, key: str) -> str:
        """Comment on issue ``number`` unless a comment with the same ``key`` exists.

        Returns:
            The comment's page URL (the existing one when it was already there).
        """
        marker = comment_marker(key)
        issue = self._call(f"read issue #{number}", lambda: self.repo.get_issue(number))

        def lookup() -> str | None:
            comments = self._call("list comments", lambda: list(issue.get_comments()))
            return next((c.html_url for c in comments if marker in (c.body or "")), None)

        return self._create(
            f"comment on #{number}",
            lookup=lookup,
            create=lambda: issue.create_comment(f"{body}\n\n{marker}").html_url,
        )

    def comment_pull_request(self, number: int, body: str, *, key: str) -> str:
        """`comment` on pull request ``number`` (its conversation is an issue's)."""
        return self.comment(number, body, key=key)

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        """Add ``labels`` to issue ``number`` (adding a label twice is harmless)."""
        names = list(labels)
        url = f"{self.repo.url}/issues/{number}/labels"
        # PyGithub sends a bare list; GitHub's description documents the object form.
        self._call(
            f"label #{number}",
            lambda: self._github.requester.requestJsonAndCheck(
                "POST", url, input={"labels": names}
            ),
            retry=True,
        )

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
        """Commit ``changes`` (path -> new text) on a new ``branch`` and open a pull request.

        The branch starts at the head of ``base`` (default branch by default), in the
        repository when the credentials can push there, else in a fork (created if
        needed, and waited for). Each step first checks whether it is already done, so
        calling this again after any failure completes the work without duplicates.

        Returns:
            The pull request; ``created`` is False when it already existed.
        """
        existing = self.find_pull_request(branch, report_id)
        if existing is not None:
            return existing
        base, base_sha = start_of_branch(self, base, self.repository)
        target = self.repo if self.can_push() else self._fork_repository()
        self._ensure_branch(target, branch, base_sha)
        for path, text in changes.items():
            self._ensure_file(target, branch, path, text, message)
        head = (
            branch if target.full_name == self.repo.full_name else f"{target.owner.login}:{branch}"
        )
        marked = with_marker(body, report_id)

        def create() -> PullRequestInfo:
            try:
                pull = self.repo.create_pull(
                    base=base, head=head, title=title, body=marked, maintainer_can_modify=True
                )
            except GithubException as exc:
                if exc.status == 422 and "already exists" in str(exc.data):
                    found = self.find_pull_request(branch)
                    if found is not None:
                        return found
                raise
            return PullRequestInfo(pull.number, pull.html_url, branch, target.full_name, True)

        return self._create(
            f"open a pull request from {head}",
            lookup=lambda: self.find_pull_request(branch),
            create=create,
        )

    def fork(self) -> str:
        """Our fork of the repository (``OWNER/NAME``), created if needed and waited for."""
        return self._fork_repository().full_name

    def permalink(self, commit: str, path: str, start: int, end: int) -> str:
        """``https://github.com/OWNER/NAME/blob/SHA/path#L10-L12``."""
        return web.permalink(self.kind, self.web_url, commit, path, start, end)

    def _fork_repository(self) -> Repository:
        """Our fork of the repository, created if needed and waited for until it answers."""
        fork = self._create(
            f"fork {self.repository}",
            lookup=lambda: None,  # creating a fork that exists returns it: safe to repeat
            create=self.repo.create_fork,
        )
        deadline = time.monotonic() + self.fork_timeout
        pause = 0.25
        last = None
        while True:
            try:
                ready = self._github.get_repo(fork.full_name)
                if ready.get_git_ref(f"heads/{ready.default_branch}").object.sha:
                    return ready
            except (GithubException, requests.RequestException) as exc:
                # A new fork answers 404 (or 409, empty) until GitHub has copied it; 5xx and
                # network errors may pass. Anything else (401, 403...) will not: say it.
                status = getattr(exc, "status", None)
                if status is not None and status not in (404, 409) and status < 500:
                    raise _wrap(f"read the fork {fork.full_name}", exc) from None
                last = _wrap(f"read the fork {fork.full_name}", exc)
            if time.monotonic() > deadline:
                said = f"; last: {last}" if last else ""
                raise ForgeError(
                    f"the fork {fork.full_name} did not answer within "
                    f"{self.fork_timeout:.0f} s{said}",
                    status=last.status if last else None,
                    transient=True,
                )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _ensure_branch(self, target: Repository, branch: str, sha: str) -> None:
        def create() -> bool:
            try:
                target.create_git_ref(f"refs/heads/{branch}", sha)
            except GithubException as exc:
                if exc.status == 422 and "already exists" in str(exc.data):
                    return True
                raise
            return True

        self._create(
            f"create branch {branch} in {target.full_name}",
            lookup=lambda: True if self.head_commit(branch, target) else None,
            create=create,
        )

    def _ensure_file(self, target: Repository, branch: str, path: str, text: str, message: str):
        def lookup() -> bool | None:
            current = self.read_file(path, branch, target)
            return True if current is not None and current.text == text else None

        def create() -> bool:
            current = self.read_file(path, branch, target)
            if current is None:
                target.create_file(path, message, text, branch=branch)
            else:
                target.update_file(path, message, text, current.sha, branch=branch)
            return True

        self._create(f"commit {path} on {branch}", lookup=lookup, create=create, conflicts=True)

    # -- plumbing ---------------------------------------------------------------------

    def _create(
        self,
        what: str,
        *,
        lookup: Callable[[], _T | None],
        create: Callable[[], _T],
        conflicts: bool = False,
    ) -> _T:
        """Look up, then create; after a failure that may have created it anyway, repeat.

        ``conflicts``: a 409 (stale sha) is retried too, after a fresh look-up.
        """
        for attempt in range(self.attempts):
            found = lookup()
            if found is not None:
                if attempt > 0 and dataclasses.is_dataclass(found) and hasattr(found, "created"):
                    # Found after our own failed try: that try did create it.
                    found = dataclasses.replace(found, created=True)
                return found
            try:
                return create()
            except (GithubException, requests.RequestException) as exc:
                wait = self._retry_wait(exc, attempt, conflicts)
                if wait is None or attempt == self.attempts - 1:
                    raise _wrap(what, exc) from None
                time.sleep(wait)
        raise AssertionError("unreachable")

    def _call(self, what: str, action: Callable[[], _T], retry: bool = False) -> _T:
        """Run ``action``; wrap PyGithub and network errors in a `ForgeError`.

        ``retry``: retry a write that is safe to repeat (e.g. adding a label).
        """
        attempts = self.attempts if retry else 1
        for attempt in range(attempts):
            try:
                return action()
            except (GithubException, requests.RequestException) as exc:
                wait = self._retry_wait(exc, attempt, False) if retry else None
                if wait is None or attempt == attempts - 1:
                    raise _wrap(what, exc) from None
                time.sleep(wait)
        raise AssertionError("unreachable")

    def _retry_wait(self, exc: Exception, attempt: int, conflicts: bool) -> float | None:
        """Seconds to wait before retrying after ``exc``, or None if it is not retryable."""
        pause = self.backoff * (2**attempt)
        if isinstance(exc, requests.RequestException):
            return pause
        assert isinstance(exc, GithubException)
        status = exc.status
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        message = str(exc.data).lower()
        limited = status in (403, 429) and ("retry-after" in headers or "rate limit" in message)
        if not (status >= 500 or limited or (conflicts and status == 409)):
            return None
        if "retry-after" in headers:
            try:
                after = float(headers["retry-after"])
            except ValueError:
                after = pause
            if after > self.max_wait:
                return None
            return after
        return pause


def _issue_info(issue) -> IssueInfo:
    return IssueInfo(
        number=issue.number,
        url=issue.html_url,
        title=issue.title,
        body=issue.body or "",
        labels=tuple(label.name for label in issue.labels),
        state=issue.state,
        author=issue.user.login if issue.user else "",
        is_pull_request=issue.pull_request is not None,
        created_at=_iso(issue.created_at),
    )


def _iso(moment) -> str | None:
    """A PyGithub datetime as ISO 8601 in UTC (``...Z``), None when absent."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _wrap(what: str, exc: Exception) -> ForgeError:
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.data or "").strip().splitlines()
        detail = message[0] if message else ""
        errors = data.get("errors") or []
        extra = "; ".join(
            str(e.get("message") or e.get("code")) for e in errors if isinstance(e, dict)
        )
        text = f"GitHub refused to {what}: {exc.status} {detail}" + (f" ({extra})" if extra else "")
        return ForgeError(text.strip(), exc.status)
    return ForgeError(
        f"could not reach GitHub to {what}: {type(exc).__name__}: {exc}", transient=True
    )


def connect(
    target: ForgeTarget,
    *,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
    **options,
) -> GitHubForge:
    """A `GitHubForge` for ``target`` (see `mkdocs_erratum.forges.base` for the options).

    Without ``token``: ``GITHUB_TOKEN``, else the GitHub App variables of
    `GitHubForge.from_environment`.
    """
    env = os.environ if environ is None else environ
    if token:
        return GitHubForge(
            target.project, token=token, api_url=target.api_url, web_url=target.web_url, **options
        )
    return GitHubForge.from_environment(
        target.project, api_url=target.api_url, environ=env, web_url=target.web_url, **options
    )


__all__ = [
    "DEFAULT_API_URL",
    "GitHubForge",
    "api_url_from",
    "connect",
]
