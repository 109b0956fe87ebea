"""A GitHub stand-in: the REST operations our gateway uses, backed by a real git repository.

It is not a GitHub emulator. It answers the operations listed in
``make_openapi_subset.OPERATIONS`` the way github.com does for the cases our code meets,
keeps issues, pull requests, comments and labels in memory, and writes branches and
commits into real git repositories (the served one, and bare clones for forks). Every
request and every answer is checked against GitHub's own OpenAPI description (the
committed subset); problems are collected in `GitHubStandIn.violations`.

Faults are injected on demand (`GitHubStandIn.inject`, or ``POST /_standin/faults``):
a secondary rate limit (403 with ``Retry-After``), a 502 before or after the work is
done, and slow answers (the work is done, the answer comes late).
"""

from __future__ import annotations

import base64
import json
import posixpath
import shlex
import time
import urllib.parse

from .git_store import GitError
from .serving import ApiError, Fault, HostedRepo, Record, Route, StandInServer
from .spec import ApiDescription, load_description

MAX_BODY_CHARS = 65_536
"""GitHub refuses issue, pull request and comment bodies longer than this."""

WORKFLOW_LOGIN = "github-actions[bot]"
"""Who a workflow's ``GITHUB_TOKEN`` (an installation token, ``ghs_...``) acts as."""

SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


_ROUTES: list[Route] = [
    Route("GET", "/user", "get_user"),
    Route("GET", "/users/{username}", "get_user_by_name"),
    Route("GET", "/repos/{owner}/{repo}", "get_repo"),
    Route("GET", "/repos/{owner}/{repo}/installation", "get_installation"),
    Route("POST", "/app/installations/{installation_id}/access_tokens", "create_token"),
    Route("GET", "/repos/{owner}/{repo}/branches/{branch}", "get_branch"),
    Route("GET", "/repos/{owner}/{repo}/git/ref/{ref}", "get_ref"),
    Route("POST", "/repos/{owner}/{repo}/git/refs", "create_ref"),
    Route("GET", "/repos/{owner}/{repo}/contents/{path}", "get_contents"),
    Route("PUT", "/repos/{owner}/{repo}/contents/{path}", "put_contents"),
    Route("POST", "/repos/{owner}/{repo}/forks", "create_fork"),
    Route("GET", "/repos/{owner}/{repo}/pulls", "list_pulls"),
    Route("POST", "/repos/{owner}/{repo}/pulls", "create_pull"),
    Route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "get_pull"),
    Route("GET", "/repos/{owner}/{repo}/issues", "list_issues"),
    Route("POST", "/repos/{owner}/{repo}/issues", "create_issue"),
    Route("GET", "/repos/{owner}/{repo}/issues/{issue_number}", "get_issue"),
    Route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "list_comments"),
    Route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "create_comment"),
    Route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "add_labels"),
    Route("GET", "/search/issues", "search_issues"),
    Route("path", "ref", "branch"),
]


class GitHubStandIn(StandInServer):
    """The GitHub stand-in. Start with `start`, stop with `stop`; `url` is its API base.

    Args:
        git_dir: the git repository served as ``repository`` (bare or with a work tree).
        repository: ``OWNER/NAME``.
        tokens: access token -> login. Logins in ``collaborators`` (and the owner) can push.
            Default: ``maintainer-token`` (can push), ``reader-token`` (cannot: forks),
            ``ghs_workflow-token`` (a workflow's ``GITHUB_TOKEN``: an integration).
        collaborators: logins with write access to ``repository``.
        known_users: other logins that exist (e.g. reporters), for ``GET /users/{login}``.
        fork_delay: seconds before a new fork answers (GitHub forks asynchronously).
        app_id: the GitHub App id accepted in app JWTs; its installation token pushes as
            ``erratum-app[bot]``.
        workflows_open_pulls: the repository setting "Allow GitHub Actions to create and
            approve pull requests" (off by default on GitHub).
    """

    routes = tuple(_ROUTES)
    greedy = ("path", "ref", "branch")
    name = "GitHub"

    def __init__(
        self,
        git_dir: str,
        repository: str,
        *,
        tokens: dict[str, str] | None = None,
        collaborators: set[str] | frozenset[str] = frozenset({"maintainer"}),
        known_users: set[str] | frozenset[str] = frozenset(),
        fork_delay: float = 0.0,
        app_id: int = 1,
        workflows_open_pulls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        description: ApiDescription | None = None,
    ):
        owner, _ = repository.split("/")
        self.tokens = dict(
            tokens
            or {
                "maintainer-token": "maintainer",
                "reader-token": "reader",
                "ghs_workflow-token": WORKFLOW_LOGIN,
            }
        )
        self.app_id = app_id
        self.app_login = "erratum-app[bot]"
        self.workflows_open_pulls = workflows_open_pulls
        self.fork_delay = fork_delay
        super().__init__(description or load_description(), host, port)
        self._serve_repo(
            git_dir,
            repository,
            owner_type="Organization",
            collaborators={*collaborators, self.app_login, WORKFLOW_LOGIN},
            logins={*self.tokens.values(), *known_users, *collaborators, owner, self.app_login},
        )
        self.rate_remaining = 5000

    # -- what tests use ---------------------------------------------------------------

    # -- request handling -------------------------------------------------------------

    def _count_request(self) -> None:
        self.rate_remaining = max(0, self.rate_remaining - 1)

    def _fault_answer(self, fault: Fault) -> tuple | None:
        if fault.kind == "secondary_limit":
            return 403, _error(SECONDARY_LIMIT_MESSAGE), {"Retry-After": str(fault.retry_after)}
        if fault.kind == "forbidden":
            return 403, _error("Resource not accessible by integration"), {}
        return super()._fault_answer(fault)

    def _error(self, message: str) -> dict:
        return _error(message)

    def answer_headers(self, path: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(self.rate_remaining),
            "X-RateLimit-Used": str(5000 - self.rate_remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": "search" if "/search/" in path else "core",
            "X-GitHub-Request-Id": f"STANDIN:{len(self.requests)}",
        }

    def _authenticate(self, headers: dict[str, str], template: str) -> str | None:
        value = headers.get("Authorization", "")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token.count(".") == 2:
            claims = _jwt_claims(token)
            if str(claims.get("iss")) != str(self.app_id):
                raise ApiError(401, "A JSON web token could not be decoded")
            return "app"
        login = self.tokens.get(token)
        if login is None:
            raise ApiError(401, "Bad credentials")
        return login

    # -- JSON shapes ------------------------------------------------------------------

    def _user(self, login: str) -> dict:
        kind = "Organization" if login == self.repo.owner else "User"
        if login.endswith("[bot]"):
            kind = "Bot"
        return {
            "login": login,
            "id": self.user_ids.get(login, 0),
            "node_id": f"U_{login}",
            "url": f"{self.url}/users/{login}",
            "html_url": f"{self.url}/{login}",
            "avatar_url": f"{self.url}/_standin/avatars/{login}",
            "type": kind,
            "site_admin": False,
        }

    def _repo_json(self, repo: HostedRepo, user: str | None, full: bool = True) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        data = {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {**self._user(repo.owner), "type": repo.owner_type},
            "private": False,
            "visibility": "public",
            "html_url": f"{self.url}/{repo.full_name}",
            "url": api,
            "fork": repo.parent is not None,
            "default_branch": repo.default_branch,
            "archived": False,
            "disabled": False,
        }
        if user is not None and not user.endswith("[bot]"):
            # GitHub tells a user's permissions; an integration token gets none.
            push = repo.can_push(user)
            data["permissions"] = {
                "admin": user == repo.owner,
                "maintain": push,
                "push": push,
                "triage": push,
                "pull": True,
            }
        if full and repo.parent is not None:
            parent = self._repo_json(repo.parent, None, full=False)
            data["parent"] = parent
            data["source"] = parent
        return data

    def _record_json(self, repo: HostedRepo, record: Record) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        data = {
            "id": record.id,
            "node_id": f"I_{record.id}",
            "number": record.number,
            "title": record.title,
            "body": record.body,
            "user": self._user(record.user),
            "labels": [self._label(repo, name) for name in record.labels],
            "state": record.state,
            "locked": False,
            "comments": len(record.comments),
            "created_at": record.created_at,
            "updated_at": record.created_at,
            "closed_at": None,
            "url": f"{api}/issues/{record.number}",
            "repository_url": api,
            "comments_url": f"{api}/issues/{record.number}/comments",
            "html_url": f"{self.url}/{repo.full_name}/issues/{record.number}",
            "author_association": "NONE",
        }
        if record.pull is not None:
            data["html_url"] = f"{self.url}/{repo.full_name}/pull/{record.number}"
            data["pull_request"] = {
                "url": f"{api}/pulls/{record.number}",
                "html_url": data["html_url"],
                "diff_url": data["html_url"] + ".diff",
                "patch_url": data["html_url"] + ".patch",
                "merged_at": None,
            }
        return data

    def _label(self, repo: HostedRepo, name: str) -> dict:
        return {
            "id": abs(hash((repo.full_name, name))) % 10**9,
            "node_id": f"L_{name}",
            "url": f"{self.url}/repos/{repo.full_name}/labels/{urllib.parse.quote(name)}",
            "name": name,
            "color": "d73a4a",
            "default": False,
            "description": None,
        }

    def _pull_json(self, repo: HostedRepo, record: Record) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        pull = record.pull or {}
        head_repo = self.repos[pull["head_repo"].lower()]
        head_sha = head_repo.store.resolve(pull["head_ref"]) or pull["head_sha"]
        issue = self._record_json(repo, record)
        return {
            **{k: issue[k] for k in ("id", "node_id", "number", "title", "body", "user", "labels")},
            **{k: issue[k] for k in ("state", "locked", "created_at", "updated_at", "closed_at")},
            "url": f"{api}/pulls/{record.number}",
            "html_url": issue["html_url"],
            "issue_url": issue["url"],
            "comments_url": issue["comments_url"],
            "diff_url": issue["html_url"] + ".diff",
            "patch_url": issue["html_url"] + ".patch",
            "merged": False,
            "merged_at": None,
            "draft": False,
            "maintainer_can_modify": True,
            "head": {
                "label": f"{head_repo.owner}:{pull['head_ref']}",
                "ref": pull["head_ref"],
                "sha": head_sha,
                "user": self._user(head_repo.owner),
                "repo": self._repo_json(head_repo, None, full=False),
            },
            "base": {
                "label": f"{repo.owner}:{pull['base_ref']}",
                "ref": pull["base_ref"],
                "sha": pull["base_sha"],
                "user": self._user(repo.owner),
                "repo": self._repo_json(repo, None, full=False),
            },
            "author_association": "NONE",
            "comments": len(record.comments),
        }

    def _content_json(self, repo: HostedRepo, path: str, sha: str, kind: str, ref: str, raw=None):
        api = f"{self.url}/repos/{repo.full_name}"
        quoted = urllib.parse.quote(path)
        data = {
            "type": kind,
            "name": posixpath.basename(path),
            "path": path,
            "sha": sha,
            "size": len(raw) if raw is not None else 0,
            "url": f"{api}/contents/{quoted}?ref={urllib.parse.quote(ref)}",
            "git_url": f"{api}/git/blobs/{sha}",
            "html_url": f"{self.url}/{repo.full_name}/blob/{ref}/{quoted}",
            "download_url": f"{self.url}/_standin/raw/{repo.full_name}/{ref}/{quoted}",
        }
        data["_links"] = {"self": data["url"], "git": data["git_url"], "html": data["html_url"]}
        if kind == "file" and raw is not None:
            # Like GitHub: files over 1 MB come without their content.
            big = len(raw) > 1_000_000
            data["content"] = "" if big else base64.b64encode(raw).decode()
            data["encoding"] = "none" if big else "base64"
        return data

    # -- lookups ----------------------------------------------------------------------

    def _need_push(self, repo: HostedRepo, user: str | None) -> None:
        if user is None:
            raise ApiError(401, "Requires authentication")
        if not repo.can_push(user):
            raise ApiError(403, "Resource not accessible by personal access token")

    # -- operations -------------------------------------------------------------------

    def _op_get_user(self, user, params, query, payload):
        if user is None or user == "app":
            raise ApiError(401, "Requires authentication")
        if user.endswith("[bot]"):
            raise ApiError(403, "Resource not accessible by integration")
        data = {**self._user(user), "user_view_type": "private"}
        return 200, self._complete("GET", "/user", 200, data)

    def _op_get_user_by_name(self, user, params, query, payload):
        login = params["username"]
        if login not in self.user_ids:
            raise ApiError(404, "Not Found")
        data = {**self._user(login), "user_view_type": "public"}
        return 200, self._complete("GET", "/users/{username}", 200, data)

    def _op_get_repo(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        data = self._repo_json(repo, None if user == "app" else user)
        return 200, self._complete("GET", "/repos/{owner}/{repo}", 200, data)

    def _op_get_installation(self, user, params, query, payload):
        if user != "app":
            raise ApiError(401, "A JSON web token could not be decoded")
        repo = self._find_repo(params["owner"], params["repo"])
        data = {
            "id": 77,
            "app_id": self.app_id,
            "account": self._user(repo.owner),
            "target_type": "Organization",
            "repository_selection": "selected",
            "access_tokens_url": f"{self.url}/app/installations/77/access_tokens",
            "permissions": {"contents": "write", "issues": "write", "pull_requests": "write"},
        }
        return 200, self._complete("GET", "/repos/{owner}/{repo}/installation", 200, data)

    def _op_create_token(self, user, params, query, payload):
        if user != "app" or params["installation_id"] != "77":
            raise ApiError(401, "A JSON web token could not be decoded")
        token = f"ghs_standin{next(self._ids)}"
        self.tokens[token] = self.app_login
        data = {
            "token": token,
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
            "permissions": {"contents": "write", "issues": "write", "pull_requests": "write"},
            "repository_selection": "selected",
        }
        template = "/app/installations/{installation_id}/access_tokens"
        return 201, self._complete("POST", template, 201, data)

    def _op_get_branch(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        sha = repo.store.resolve(params["branch"])
        if sha is None:
            raise ApiError(404, "Branch not found")
        data = {
            "name": params["branch"],
            "commit": {"sha": sha, "url": f"{self.url}/repos/{repo.full_name}/commits/{sha}"},
            "protected": False,
        }
        return 200, self._complete("GET", "/repos/{owner}/{repo}/branches/{branch}", 200, data)

    def _ref_json(self, repo: HostedRepo, ref: str, sha: str) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        return {
            "ref": ref,
            "node_id": f"REF_{sha[:8]}",
            "url": f"{api}/git/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{api}/git/commits/{sha}"},
        }

    def _op_get_ref(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        ref = params["ref"]
        sha = repo.store.resolve(f"refs/{ref}") if ref.startswith("heads/") else None
        if sha is None:
            raise ApiError(404, "Not Found")
        data = self._ref_json(repo, f"refs/{ref}", sha)
        return 200, self._complete("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 200, data)

    def _op_create_ref(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        self._need_push(repo, user)
        ref, sha = payload["ref"], payload["sha"]
        if not ref.startswith("refs/heads/") or ref.count("/") < 2:
            raise ApiError(422, "Reference name is not valid")
        if repo.store.resolve(ref) is not None:
            raise ApiError(422, "Reference already exists")
        if not repo.store.has_commit(sha):
            raise ApiError(422, "Object does not exist")
        repo.store.create_branch(ref.removeprefix("refs/heads/"), sha)
        data = self._ref_json(repo, ref, sha)
        return 201, self._complete("POST", "/repos/{owner}/{repo}/git/refs", 201, data)

    def _op_get_contents(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        ref = query.get("ref") or repo.default_branch
        commit = self._commit_of(repo, ref)
        path = params["path"].strip("/")
        template = "/repos/{owner}/{repo}/contents/{path}"
        entry = repo.store.entry(commit, path)
        if entry is None:
            raise ApiError(404, "Not Found")
        if entry.kind == "tree":
            items = [
                self._content_json(repo, e.path, e.sha, "dir" if e.kind == "tree" else "file", ref)
                for e in repo.store.list_dir(commit, path)
            ]
            return 200, self._complete("GET", template, 200, items)
        if entry.mode == "120000":
            target = repo.store.blob(entry.sha).decode(errors="replace")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            hit = None if resolved.startswith("../") else repo.store.entry(commit, resolved)
            if hit is not None and hit.kind == "blob" and hit.mode != "120000":
                # GitHub answers a symlink to a file in the repository with that file.
                raw = repo.store.blob(hit.sha)
                data = self._content_json(repo, resolved, hit.sha, "file", ref, raw)
                return 200, self._complete("GET", template, 200, data)
            data = self._content_json(repo, path, entry.sha, "symlink", ref)
            data["target"] = target
            return 200, self._complete("GET", template, 200, data)
        raw = repo.store.blob(entry.sha)
        data = self._content_json(repo, path, entry.sha, "file", ref, raw)
        return 200, self._complete("GET", template, 200, data)

    def _op_put_contents(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        self._need_push(repo, user)
        path = params["path"].strip("/")
        branch = payload.get("branch") or repo.default_branch
        head = repo.store.resolve(f"refs/heads/{branch}")
        if head is None:
            raise ApiError(404, f"Branch {branch} not found")
        existing = repo.store.entry(head, path)
        if existing is not None and existing.kind == "tree":
            raise ApiError(422, f"{path} is a directory")
        given = payload.get("sha")
        if existing is not None and not given:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if existing is not None and given != existing.sha:
            raise ApiError(409, f"{path} does not match {given}")
        content = base64.b64decode(payload["content"], validate=True)
        name = user or "ghost"
        email = f"{self.user_ids.get(name, 0)}+{name}@users.noreply.standin.invalid"
        committer = payload.get("committer") or {"name": name, "email": email}
        author = payload.get("author") or committer
        try:
            sha, blob = repo.store.write_file(
                branch,
                head,
                path,
                content,
                payload["message"],
                (author["name"], author["email"]),
                (committer["name"], committer["email"]),
            )
        except GitError as exc:
            raise ApiError(409, f"{path} does not match: {exc}") from None
        info = repo.store.commit_info(sha)
        api = f"{self.url}/repos/{repo.full_name}"
        data = {
            "content": self._content_json(repo, path, blob, "file", branch, content),
            "commit": {
                "sha": sha,
                "node_id": f"C_{sha[:8]}",
                "url": f"{api}/git/commits/{sha}",
                "html_url": f"{self.url}/{repo.full_name}/commit/{sha}",
                "author": info["author"],
                "committer": info["committer"],
                "message": info["message"],
                "tree": {"sha": info["tree"], "url": f"{api}/git/trees/{info['tree']}"},
                "parents": [
                    {"sha": p, "url": f"{api}/git/commits/{p}", "html_url": f"{self.url}/c/{p}"}
                    for p in info["parents"]
                ],
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                },
            },
        }
        data["content"].pop("content", None)
        data["content"].pop("encoding", None)
        status = 201 if existing is None else 200
        return status, self._complete("PUT", "/repos/{owner}/{repo}/contents/{path}", status, data)

    def _op_create_fork(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        if user is None or user == "app":
            raise ApiError(403, "Resource not accessible by integration")
        owner = (payload or {}).get("organization") or user
        name = (payload or {}).get("name") or repo.name
        fork = self.repos.get(f"{owner}/{name}".lower()) or self._new_fork(repo, owner, name)
        data = self._repo_json(fork, user)
        return 202, self._complete("POST", "/repos/{owner}/{repo}/forks", 202, data)

    def _op_list_pulls(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        state = query.get("state", "open")
        head = query.get("head")
        base = query.get("base")
        found = []
        for record in sorted(self.pulls(repo), key=lambda r: -r.number):
            pull = record.pull or {}
            head_owner = pull["head_repo"].split("/")[0]
            if state != "all" and record.state != state:
                continue
            if head and head.lower() != f"{head_owner}:{pull['head_ref']}".lower():
                continue
            if base and base != pull["base_ref"]:
                continue
            found.append(self._pull_json(repo, record))
        items, link = self._page(found, query, f"/repos/{repo.full_name}/pulls")
        return 200, self._complete("GET", "/repos/{owner}/{repo}/pulls", 200, items), link

    def _op_create_pull(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        if user is None:
            raise ApiError(401, "Requires authentication")
        if user == WORKFLOW_LOGIN and not self.workflows_open_pulls:
            raise ApiError(
                403, "GitHub Actions is not permitted to create or approve pull requests."
            )
        head, base = payload["head"], payload["base"]
        head_owner, _, head_ref = head.rpartition(":")
        head_repo = repo
        if head_owner and head_owner.lower() != repo.owner.lower():
            head_repo = next(
                (r for r in self.repos.values() if r.parent is repo and r.owner == head_owner),
                None,
            )
        invalid = [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
        if head_repo is None or head_repo.visible_at > time.time():
            raise ApiError(422, "Validation Failed", invalid)
        head_sha = head_repo.store.resolve(f"refs/heads/{head_ref}")
        base_sha = repo.store.resolve(f"refs/heads/{base}")
        if head_sha is None:
            raise ApiError(422, "Validation Failed", invalid)
        if base_sha is None:
            raise ApiError(422, "Validation Failed", [{**invalid[0], "field": "base"}])
        for record in self.pulls(repo):
            pull = record.pull or {}
            same = (pull["head_repo"], pull["head_ref"], pull["base_ref"])
            if record.state == "open" and same == (head_repo.full_name, head_ref, base):
                message = f"A pull request already exists for {head_repo.owner}:{head_ref}."
                raise ApiError(
                    422,
                    "Validation Failed",
                    [{"resource": "PullRequest", "code": "custom", "message": message}],
                )
        if head_sha == base_sha:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "code": "custom", "message": "No commits between"}],
            )
        body = payload.get("body") or ""
        if len(body) > MAX_BODY_CHARS:
            raise ApiError(422, "Validation Failed", [_too_long("PullRequest")])
        pull = {
            "head_repo": head_repo.full_name,
            "head_ref": head_ref,
            "head_sha": head_sha,
            "base_ref": base,
            "base_sha": base_sha,
        }
        record = self._new_record(repo, payload["title"], body, user, [], pull)
        return 201, self._complete(
            "POST", "/repos/{owner}/{repo}/pulls", 201, self._pull_json(repo, record)
        )

    def _op_get_pull(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        record = self._record(repo, params["pull_number"])
        if record.pull is None:
            raise ApiError(404, "Not Found")
        template = "/repos/{owner}/{repo}/pulls/{pull_number}"
        return 200, self._complete("GET", template, 200, self._pull_json(repo, record))

    def _op_list_issues(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        state = query.get("state", "open")
        labels = [x for x in query.get("labels", "").split(",") if x]
        creator = query.get("creator")
        records = sorted(
            repo.records.values(), key=lambda r: r.number, reverse=query.get("direction") != "asc"
        )
        found = [
            self._record_json(repo, r)
            for r in records
            if (state == "all" or r.state == state)
            and all(label in r.labels for label in labels)
            and (creator is None or r.user == creator)
        ]
        items, link = self._page(found, query, f"/repos/{repo.full_name}/issues")
        return 200, self._complete("GET", "/repos/{owner}/{repo}/issues", 200, items), link

    def _op_create_issue(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        if user is None:
            raise ApiError(401, "Requires authentication")
        body = payload.get("body") or ""
        if len(body) > MAX_BODY_CHARS:
            raise ApiError(422, "Validation Failed", [_too_long("Issue")])
        labels = [str(x) for x in payload.get("labels") or []] if repo.can_push(user) else []
        record = self._new_record(repo, str(payload["title"]), body, user, labels)
        data = self._record_json(repo, record)
        return 201, self._complete("POST", "/repos/{owner}/{repo}/issues", 201, data)

    def _op_get_issue(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        record = self._record(repo, params["issue_number"])
        template = "/repos/{owner}/{repo}/issues/{issue_number}"
        return 200, self._complete("GET", template, 200, self._record_json(repo, record))

    def _comment_json(self, repo: HostedRepo, record: Record, comment: dict) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        return {
            "id": comment["id"],
            "node_id": f"IC_{comment['id']}",
            "url": f"{api}/issues/comments/{comment['id']}",
            "html_url": f"{self.url}/{repo.full_name}/issues/{record.number}#c{comment['id']}",
            "issue_url": f"{api}/issues/{record.number}",
            "body": comment["body"],
            "user": self._user(comment["user"]),
            "created_at": comment["created_at"],
            "updated_at": comment["created_at"],
            "author_association": "NONE",
        }

    def _op_list_comments(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        record = self._record(repo, params["issue_number"])
        found = [self._comment_json(repo, record, c) for c in record.comments]
        items, link = self._page(
            found, query, f"/repos/{repo.full_name}/issues/{record.number}/comments"
        )
        template = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
        return 200, self._complete("GET", template, 200, items), link

    def _op_create_comment(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        if user is None:
            raise ApiError(401, "Requires authentication")
        record = self._record(repo, params["issue_number"])
        body = payload["body"]
        if len(body) > MAX_BODY_CHARS:
            raise ApiError(422, "Validation Failed", [_too_long("IssueComment")])
        comment = self._new_comment(record, user, body)
        template = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
        return 201, self._complete("POST", template, 201, self._comment_json(repo, record, comment))

    def _op_add_labels(self, user, params, query, payload):
        repo = self._find_repo(params["owner"], params["repo"])
        self._need_push(repo, user)
        record = self._record(repo, params["issue_number"])
        names = payload.get("labels", []) if isinstance(payload, dict) else payload
        for name in names:
            name = name["name"] if isinstance(name, dict) else str(name)
            if name not in record.labels:
                record.labels.append(name)
        data = [self._label(repo, name) for name in record.labels]
        template = "/repos/{owner}/{repo}/issues/{issue_number}/labels"
        return 200, self._complete("POST", template, 200, data)

    def _op_search_issues(self, user, params, query, payload):
        terms, filters = _parse_search(query.get("q", ""))
        found = []
        for repo in self.repos.values():
            if "repo" in filters and repo.full_name.lower() not in filters["repo"]:
                continue
            for record in sorted(repo.records.values(), key=lambda r: -r.number):
                if _search_hit(record, terms, filters):
                    item = self._record_json(repo, record)
                    item["score"] = 1.0
                    found.append(item)
        items, link = self._page(found, query, "/search/issues")
        data = {"total_count": len(found), "incomplete_results": False, "items": items}
        return 200, self._complete("GET", "/search/issues", 200, data), link


def _too_long(resource: str) -> dict:
    return {
        "resource": resource,
        "code": "custom",
        "field": "body",
        "message": f"body is too long (maximum is {MAX_BODY_CHARS} characters)",
    }


def _parse_search(q: str) -> tuple[list[str], dict[str, set[str]]]:
    try:
        words = shlex.split(q)
    except ValueError:
        words = q.split()
    terms, filters = [], {}
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key in ("repo", "is", "type", "state", "label", "in", "author"):
            filters.setdefault(key, set()).add(value.lower())
        else:
            terms.append(word.lower())
    return terms, filters


def _search_hit(record: Record, terms: list[str], filters: dict[str, set[str]]) -> bool:
    kinds = {"pr", "pull-request"} if record.pull is not None else {"issue"}
    for key in ("is", "type"):
        for value in filters.get(key, ()):
            if value in ("open", "closed"):
                if value != record.state:
                    return False
            elif value not in kinds:
                return False
    if "state" in filters and record.state not in filters["state"]:
        return False
    if "author" in filters and record.user.lower() not in filters["author"]:
        return False
    if not filters.get("label", set()) <= {label.lower() for label in record.labels}:
        return False
    text = f"{record.title}\n{record.body}".lower()
    return all(term in text for term in terms)


def _error(message: str) -> dict:
    return {"message": message, "documentation_url": "https://docs.github.com/rest"}


def _jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        return {}
