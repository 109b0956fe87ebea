"""Forgejo and Gitea (Codeberg, or self-hosted) as a `Forge`, through their API v1 with httpx.

The only module that talks to a Forgejo or Gitea server. One implementation serves both:
Forgejo's API v1 is Gitea's (Forgejo 15 answers ``15.0.3+gitea-1.22.0``), and erratum
uses only operations both have: the repository, contents, branches, the change-files
endpoint, issues, comments, labels (by id, which every version takes), pull requests
and forks. Plain httpx rather than a generated client, so that a POST is never re-sent
by the client on its own and Gitea's answers need not match Forgejo's models.

A correction: a branch at the base commit (``POST /repos/{o}/{r}/branches``), one commit
changing every file (``POST /repos/{o}/{r}/contents``), then the pull request. When the
token cannot push, both go to our fork (created and waited for) and the pull request
names ``owner:branch``. Creates look up first and retry only after another look-up
(see `retrying`).

Tokens (``FORGEJO_TOKEN`` or ``GITEA_TOKEN``) go in ``Authorization: token ...``; the
least scopes: ``write:repository`` and ``write:issue`` (``read:user`` to read the login).
"""

from __future__ import annotations

import base64
import os
import time
import urllib.parse
from collections.abc import Iterable, Mapping

import httpx

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

PAGE = 50
"""Items per page (Forgejo's default ``MAX_RESPONSE_ITEMS``)."""
PULL_PAGES = 4
"""Pages of recently updated pull requests looked through before the issue search."""
LABEL_COLOR = "#d73a4a"
"""The color of labels erratum creates."""
_NAMES = {"forgejo": "Forgejo", "gitea": "Gitea"}


class ForgejoForge:
    """One Forgejo or Gitea repository, as erratum uses it (see `base.Forge`).

    Args:
        project: ``OWNER/NAME``.
        api_url: the API base (``https://codeberg.org/api/v1``).
        web_url: the instance's web base (default: ``api_url`` without ``/api/v1``).
        kind: ``forgejo`` or ``gitea`` (names the forge in messages and links).
        token: an access token (``write:repository``, ``write:issue``).
        timeout: seconds to wait for one answer.
        attempts, backoff, max_wait: retries (see `retrying.Attempts`).
        fork_timeout: how long to wait for a new fork to answer.
        request_interval, write_interval: pauses kept between requests and between
            writes (seconds; 0: none).

    Raises:
        ForgeError: when no token is given.
    """

    has_issues = True
    has_pull_requests = True

    def __init__(
        self,
        project: str,
        *,
        api_url: str = "https://codeberg.org/api/v1",
        web_url: str | None = None,
        kind: str = "forgejo",
        token: str | None = None,
        timeout: float = 15,
        attempts: int = 4,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        fork_timeout: float = 60.0,
        request_interval: float = 0.0,
        write_interval: float = 0.0,
    ):
        self.kind = kind
        self.forge_name = _NAMES.get(kind, kind)
        if not token:
            variables = " or ".join(TOKEN_VARIABLES.get(kind, ("FORGEJO_TOKEN",)))
            raise ForgeError(
                f"no {self.forge_name} credentials: set {variables} (a token with the "
                "write:repository and write:issue scopes)"
            )
        api_url = api_url.rstrip("/")
        self.project = project.strip("/")
        base = web_url or api_url.removesuffix("/api/v1")
        self.web_url = f"{base.rstrip('/')}/{self.project}"
        self.fork_timeout = fork_timeout
        self.request_interval = request_interval
        self.write_interval = write_interval
        self._last_request = self._last_write = 0.0
        self._retry = Attempts(
            self._classify, attempts=attempts, backoff=backoff, max_wait=max_wait
        )
        self._http = httpx.Client(
            base_url=api_url,
            headers={"Authorization": f"token {token}", "Accept": "application/json"},
            timeout=timeout,
        )
        self._repo: dict | None = None
        self._login: str | None = None
        self._identity_read = False
        self._fork: str | None = None

    # -- HTTP -------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, params=None, json=None) -> httpx.Response:
        """One request; an error answer raises `httpx.HTTPStatusError`."""
        now = time.monotonic()
        pause = max(
            self._last_request + self.request_interval - now,
            (self._last_write + self.write_interval - now) if method != "GET" else 0.0,
        )
        if pause > 0:
            time.sleep(pause)
        self._last_request = time.monotonic()
        if method != "GET":
            self._last_write = self._last_request
        answer = self._http.request(method, path, params=params, json=json)
        answer.raise_for_status()
        return answer

    def _get(self, what: str, path: str, **params):
        """A read (retried when it failed in a retryable way), as JSON."""
        return self._retry.call(
            what, lambda: self._send("GET", path, params=params).json(), retry=True
        )

    def _get_or_none(self, what: str, path: str, **params):
        try:
            return self._get(what, path, **params)
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise

    def _items(self, what: str, path: str, *, most: int | None = None, **params):
        """The items of a paged listing, page after page as they are used (at most
        ``most`` pages)."""
        page = 1
        while most is None or page <= most:
            batch = self._get(what, path, page=page, limit=PAGE, **params)
            yield from batch
            if len(batch) < PAGE:
                return
            page += 1

    def _pages(self, what: str, path: str, **params) -> list:
        """Every item of a paged listing."""
        return list(self._items(what, path, **params))

    def _classify(self, what: str, exc: Exception) -> Failure | None:
        """An httpx error as a neutral `Failure` (see `retrying`)."""
        if isinstance(exc, httpx.HTTPStatusError):
            answer = exc.response
            try:
                detail = answer.json().get("message") or ""
            except (ValueError, AttributeError):
                detail = answer.text
            text = " ".join(str(detail).split())[:300]
            status = answer.status_code
            error = ForgeError(
                f"{self.forge_name} refused to {what}: {status} {text}".strip(), status
            )
            after = answer.headers.get("Retry-After")
            wait = float(after) if after and after.isdigit() else None
            return Failure(error, retry_after=wait, conflict=status == 409)
        if isinstance(exc, httpx.TransportError):
            error = ForgeError(
                f"could not reach {self.forge_name} to {what}: {type(exc).__name__}: {exc}",
                transient=True,
            )
            return Failure(error)
        return None

    def _repo_path(self, project: str | None = None) -> str:
        return "/repos/" + "/".join(
            urllib.parse.quote(p, safe="") for p in (project or self.project).split("/")
        )

    # -- who we are -------------------------------------------------------------------

    @property
    def _r(self) -> dict:
        if self._repo is None:
            self._repo = self._get(f"read repository {self.project}", self._repo_path())
        return self._repo

    def identity(self) -> str | None:
        """The token's login; None when ``/user`` is refused (an Actions token)."""
        if not self._identity_read:
            try:
                self._login = self._get("read the authenticated user", "/user")["login"]
            except ForgeError as exc:
                if exc.status not in (401, 403):
                    raise
            self._identity_read = True
        return self._login

    def can_push(self) -> bool:
        permissions = self._r.get("permissions")
        return True if permissions is None else bool(permissions.get("push"))

    def commit_email(self, login: str) -> str | None:
        """Forgejo's and Gitea's private address, ``login@noreply.HOST``."""
        host = urllib.parse.urlsplit(self.web_url).hostname or "codeberg.org"
        return f"{login}@noreply.{host}"

    # -- reading ----------------------------------------------------------------------

    def default_branch(self) -> str:
        return self._r["default_branch"]

    def head_commit(self, branch: str, project: str | None = None) -> str | None:
        path = f"{self._repo_path(project)}/branches/{urllib.parse.quote(branch, safe='')}"
        found = self._get_or_none(f"read branch {branch}", path)
        return found["commit"]["id"] if found else None

    def read_file(self, path: str, ref: str, project: str | None = None) -> FileVersion | None:
        found = self._contents(path, ref, project)
        if found is None:
            return None
        if isinstance(found, list) or found.get("type") in ("dir", "submodule"):
            raise ObjectKindError(f"{path} is a folder, not a file", "other")
        if found.get("type") == "symlink":
            raise ObjectKindError(
                f"{path} is a symbolic link; erratum does not change links", "link"
            )
        if found.get("content") is None:
            raise NotEditable(f"{path} is too large for {self.forge_name} to serve its content")
        try:
            text = base64.b64decode(found["content"]).decode("utf-8")
        except UnicodeDecodeError:
            raise NotEditable(f"{path} is not UTF-8 text") from None
        commit = ref if _is_sha(ref) else (self.head_commit(ref, project) or ref)
        return FileVersion(path, text, found["sha"], commit)

    def _contents(self, path: str, ref: str, project: str | None = None):
        quoted = urllib.parse.quote(path)
        return self._get_or_none(
            f"read {path}", f"{self._repo_path(project)}/contents/{quoted}", ref=ref
        )

    def read_issue(self, number: int) -> IssueInfo:
        return _issue_info(
            self._get(f"read issue #{number}", f"{self._repo_path()}/issues/{number}")
        )

    def issue_comments(self, number: int) -> list[tuple[str, str]]:
        found = self._get(
            f"list the comments of #{number}", f"{self._repo_path()}/issues/{number}/comments"
        )
        return [((c.get("user") or {}).get("login", ""), c.get("body") or "") for c in found]

    def open_issues(self, label: str | None = REPORT_LABEL) -> list[IssueInfo]:
        labels = {"labels": label} if label else {}
        found = self._pages(
            "list open issues", f"{self._repo_path()}/issues", state="open", type="issues", **labels
        )
        return [_issue_info(i) for i in found]

    def open_pull_requests(self) -> list[IssueInfo]:
        found = self._pages("list open pull requests", f"{self._repo_path()}/pulls", state="open")
        found.sort(key=lambda p: -p["number"])  # newest first
        return [_issue_info(p, is_pull_request=True) for p in found]

    # -- finding what exists for a report ---------------------------------------------------

    def find_issue(self, report_id: str) -> IssueInfo | None:
        """Our newest issues first (consistent at once), then the issue search (``q``)."""
        marker = report_marker(report_id)
        login = self.identity()
        mine = {"created_by": login} if login else {}
        path = f"{self._repo_path()}/issues"
        for params in ({"page": 1, "limit": PAGE, **mine}, {"q": report_id, "limit": PAGE}):
            found = self._get("list issues", path, state="all", type="issues", **params)
            for issue in found:
                if marker in (issue.get("body") or ""):
                    return _issue_info(issue)
        return None

    def find_pull_request(
        self, branch: str, report_id: str | None = None
    ) -> PullRequestInfo | None:
        """By head branch (the repository's or our fork's), else by the report's marker."""
        heads = {self.project.lower()}
        if not self.can_push() and self.identity():
            heads.add(f"{self.identity()}/{self.project.split('/')[1]}".lower())
        marker = report_marker(report_id) if report_id else None
        by_marker = None
        # Recently updated first: a request erratum opened or found is near the top.
        pulls = self._items(
            "list pull requests",
            f"{self._repo_path()}/pulls",
            most=PULL_PAGES,
            state="all",
            sort="recentupdate",
        )
        for pull in pulls:
            head = pull.get("head") or {}
            repo = ((head.get("repo") or {}).get("full_name") or "").lower()
            if head.get("ref") == branch and repo in heads:
                return _pull_info(pull, created=False)
            if by_marker is None and marker and marker in (pull.get("body") or ""):
                by_marker = _pull_info(pull, created=False)
        if by_marker is None and marker:
            # Older ones: the issue search (it lists pull requests too) finds the marker.
            found = self._get(
                "search pull requests",
                f"{self._repo_path()}/issues",
                state="all",
                type="pulls",
                q=report_id,
                limit=PAGE,
            )
            for hit in found:
                if marker in (hit.get("body") or ""):
                    path = f"{self._repo_path()}/pulls/{hit['number']}"
                    return _pull_info(self._get("read a pull request", path), created=False)
        return by_marker

    # -- creating ---------------------------------------------------------------------

    def open_issue(
        self,
        *,
        report_id: str,
        title: str,
        body: str,
        labels: Iterable[str] = (REPORT_LABEL,),
    ) -> IssueInfo:
        names = list(labels)
        data = {"title": title, "body": with_marker(body, report_id)}

        def create() -> IssueInfo:
            if names and self.can_push():
                data["labels"] = self._label_ids(names)
            return _issue_info(self._send("POST", f"{self._repo_path()}/issues", json=data).json())

        return self._retry.create(
            f"open an issue for {report_id}",
            lookup=lambda: self.find_issue(report_id),
            create=create,
        )

    def comment(self, number: int, body: str, *, key: str) -> str:
        marker = comment_marker(key)
        path = f"{self._repo_path()}/issues/{number}/comments"

        def lookup() -> str | None:
            found = self._get(f"list the comments of #{number}", path)
            return next((c["html_url"] for c in found if marker in (c.get("body") or "")), None)

        def create() -> str:
            return self._send("POST", path, json={"body": f"{body}\n\n{marker}"}).json()["html_url"]

        return self._retry.create(f"comment on #{number}", lookup=lookup, create=create)

    def comment_pull_request(self, number: int, body: str, *, key: str) -> str:
        """A pull request's conversation is its issue's (they share the numbers)."""
        return self.comment(number, body, key=key)

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        ids = self._label_ids(list(labels))
        path = f"{self._repo_path()}/issues/{number}/labels"
        self._retry.call(
            f"label #{number}", lambda: self._send("POST", path, json={"labels": ids}), retry=True
        )

    def _label_ids(self, names: list[str]) -> list[int]:
        """The ids of labels ``names``, creating those the repository lacks."""
        path = f"{self._repo_path()}/labels"
        known = {label["name"]: label["id"] for label in self._pages("list labels", path)}
        for name in names:
            if name not in known:
                made = self._retry.create(
                    f"create label {name}",
                    lookup=lambda name=name: next(
                        (x["id"] for x in self._pages("list labels", path) if x["name"] == name),
                        None,
                    ),
                    create=lambda name=name: self._send(
                        "POST", path, json={"name": name, "color": LABEL_COLOR}
                    ).json()["id"],
                )
                known[name] = made
        return [known[name] for name in names]

    def fork(self) -> str:
        """Our fork (``login/NAME``), created if needed and waited for."""
        if self._fork is not None:
            return self._fork
        login = self.identity()
        if login is None:
            raise ForgeError(f"this {self.forge_name} token has no user and cannot fork")
        name = f"{login}/{self.project.split('/')[1]}"

        def lookup() -> str | None:
            found = self._get_or_none(f"read {name}", self._repo_path(name))
            parent = ((found or {}).get("parent") or {}).get("full_name", "")
            return name if found and parent.lower() == self.project.lower() else None

        self._retry.create(
            f"fork {self.project}",
            lookup=lookup,
            create=lambda: self._send("POST", f"{self._repo_path()}/forks", json={}).json(),
        )
        deadline = time.monotonic() + self.fork_timeout
        pause = 0.25
        while self.head_commit(self.default_branch(), name) is None:
            if time.monotonic() > deadline:
                raise ForgeError(
                    f"the fork {name} did not answer within {self.fork_timeout:.0f} s",
                    transient=True,
                )
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
        self._fork = name
        return name

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
        """A branch at the base commit, one commit of every change, then the pull request."""
        existing = self.find_pull_request(branch, report_id)
        if existing is not None:
            return existing
        base, base_sha = start_of_branch(self, base, self.project)
        target = self.project if self.can_push() else self.fork()
        self._retry.create(
            f"create branch {branch} in {target}",
            lookup=lambda: True if self.head_commit(branch, target) else None,
            create=lambda: self._send(
                "POST",
                f"{self._repo_path(target)}/branches",
                json={"new_branch_name": branch, "old_ref_name": base_sha},
            ),
        )
        self._retry.create(
            f"commit on {branch} in {target}",
            lookup=lambda: True if not self._file_changes(target, branch, changes) else None,
            create=lambda: self._commit(target, branch, changes, message),
            conflicts=True,
        )
        owner = target.split("/")[0]
        head = branch if target == self.project else f"{owner}:{branch}"
        data = {"head": head, "base": base, "title": title, "body": with_marker(body, report_id)}

        def create() -> PullRequestInfo:
            try:
                made = self._send("POST", f"{self._repo_path()}/pulls", json=data).json()
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 409:
                    found = self.find_pull_request(branch)
                    if found is not None:
                        return found
                raise
            return _pull_info(made, created=True)

        return self._retry.create(
            f"open a pull request from {head}",
            lookup=lambda: self.find_pull_request(branch),
            create=create,
        )

    def permalink(self, commit: str, path: str, start: int, end: int) -> str:
        return web.permalink(self.kind, self.web_url, commit, path, start, end)

    # -- plumbing ---------------------------------------------------------------------

    def _file_changes(self, target: str, branch: str, changes: Mapping[str, str]) -> list[dict]:
        """The change-files operations still needed on ``branch`` (with each file's sha)."""
        operations = []
        for path, text in changes.items():
            found = self._contents(path, branch, target)
            data = base64.b64encode(text.encode("utf-8")).decode()
            if found is None or isinstance(found, list):
                operations.append({"operation": "create", "path": path, "content": data})
            elif base64.b64decode(found.get("content") or "") != text.encode("utf-8"):
                operations.append(
                    {"operation": "update", "path": path, "content": data, "sha": found["sha"]}
                )
        return operations

    def _commit(self, target: str, branch: str, changes, message: str) -> bool:
        operations = self._file_changes(target, branch, changes)
        if operations:
            self._send(
                "POST",
                f"{self._repo_path(target)}/contents",
                json={"branch": branch, "message": message, "files": operations},
            )
        return True


def _is_sha(ref: str) -> bool:
    return len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)


def _issue_info(issue: dict, is_pull_request: bool = False) -> IssueInfo:
    return IssueInfo(
        number=issue["number"],
        url=issue.get("html_url", ""),
        title=issue.get("title", ""),
        body=issue.get("body") or "",
        labels=tuple(label["name"] for label in issue.get("labels") or ()),
        state=issue.get("state", "open"),
        author=(issue.get("user") or {}).get("login", ""),
        is_pull_request=is_pull_request or issue.get("pull_request") is not None,
        created_at=issue.get("created_at"),
    )


def _pull_info(pull: dict, *, created: bool) -> PullRequestInfo:
    head = pull.get("head") or {}
    return PullRequestInfo(
        pull["number"],
        pull.get("html_url"),
        head.get("ref", ""),
        (head.get("repo") or {}).get("full_name", ""),
        created,
    )


def connect(
    target: ForgeTarget,
    *,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
    **options,
) -> ForgejoForge:
    """A `ForgejoForge` for ``target`` (kind ``forgejo`` or ``gitea``): ``token``, else the
    first of ``TOKEN_VARIABLES[kind]`` set in ``environ``."""
    env = os.environ if environ is None else environ
    if not token:
        token = next((env[v] for v in TOKEN_VARIABLES.get(target.kind, ()) if env.get(v)), None)
    return ForgejoForge(
        target.project,
        api_url=target.api_url,
        web_url=target.web_url,
        kind=target.kind,
        token=token,
        **options,
    )


__all__ = ["ForgejoForge", "connect"]
