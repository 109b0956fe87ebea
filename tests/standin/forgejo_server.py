"""A Forgejo/Gitea stand-in: the API v1 operations our Forgejo forge uses, backed by real git.

Not a Forgejo emulator: it answers what `mkdocs_erratum.forges.forgejo` sends for
erratum's verbs, the way Forgejo 15 (API ``15.0.3+gitea-1.22.0``, which Gitea 1.22
shares) does for the cases our code meets. Issues, pull requests (one numbering, as on
Forgejo), comments and labels live in memory; branches and commits are real, in real git
repositories (the served one, and bare clones for forks). Every request and answer is
checked against Forgejo's own description (``forgejo_subset.json``); problems go to
``violations``.

Tokens go in ``Authorization: token ...`` (or ``Bearer``). Logins in ``collaborators``
(and the owner) have write access; others fork.
"""

from __future__ import annotations

import base64
import posixpath

from .git_store import GitError
from .serving import ApiError, HostedRepo, Record, Route, StandInServer
from .spec import ApiDescription, load_description

PREFIX = "/api/v1"
_R = PREFIX + "/repos/{owner}/{repo}"
ROUTES = (
    Route("GET", PREFIX + "/user", "get_user"),
    Route("GET", _R, "get_repo"),
    Route("GET", _R + "/contents/{filepath}", "get_contents"),
    Route("POST", _R + "/contents", "change_files"),
    Route("GET", _R + "/branches/{branch}", "get_branch"),
    Route("POST", _R + "/branches", "create_branch"),
    Route("POST", _R + "/forks", "create_fork"),
    Route("GET", _R + "/pulls", "list_pulls"),
    Route("POST", _R + "/pulls", "create_pull"),
    Route("GET", _R + "/pulls/{index}", "get_pull"),
    Route("GET", _R + "/issues", "list_issues"),
    Route("POST", _R + "/issues", "create_issue"),
    Route("GET", _R + "/issues/{index}", "get_issue"),
    Route("GET", _R + "/issues/{index}/comments", "list_comments"),
    Route("POST", _R + "/issues/{index}/comments", "create_comment"),
    Route("POST", _R + "/issues/{index}/labels", "add_labels"),
    Route("GET", _R + "/labels", "list_labels"),
    Route("POST", _R + "/labels", "create_label"),
)


class ForgejoStandIn(StandInServer):
    """The Forgejo stand-in. Start with `start`, stop with `stop`; `url` is the instance
    (the API is under ``/api/v1``).

    Args:
        git_dir: the git repository served as ``repository``.
        repository: ``OWNER/NAME``.
        tokens: token -> login. Default: ``maintainer-token`` (writes),
            ``reader-token`` (reads only: forks).
        collaborators: logins with write access to ``repository``.
        known_users: other logins that exist (reporters).
        fork_delay: seconds before a new fork's repository answers.
    """

    routes = ROUTES
    greedy = ("filepath", "branch")
    name = "Forgejo"
    page_size_key = "limit"
    counts_pages = True

    def __init__(
        self,
        git_dir: str,
        repository: str,
        *,
        tokens: dict[str, str] | None = None,
        collaborators: set[str] | frozenset[str] = frozenset({"maintainer"}),
        known_users: set[str] | frozenset[str] = frozenset(),
        fork_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        description: ApiDescription | None = None,
    ):
        super().__init__(description or load_description("forgejo_subset.json"), host, port)
        self.tokens = dict(tokens or {"maintainer-token": "maintainer", "reader-token": "reader"})
        self.fork_delay = fork_delay
        self._serve_repo(
            git_dir,
            repository,
            owner_type="Organization",
            collaborators=collaborators,
            logins={*self.tokens.values(), *known_users, *collaborators, repository.split("/")[0]},
        )
        self.labels: dict[str, dict[str, int]] = {}
        """Repository full name -> label name -> label id."""

    # -- what tests use ---------------------------------------------------------------

    def add_issue(self, title: str, body: str, *, user: str = "reader", labels=()) -> Record:
        with self._lock:
            for name in labels:
                self._label_id(self.repo, name)
            return super().add_issue(title, body, user=user, labels=labels)

    # -- hooks ------------------------------------------------------------------------

    def _described(self, template: str) -> str:
        return template.removeprefix(PREFIX)

    def _error(self, message: str) -> dict:
        return {"message": message, "url": f"{self.url}/api/swagger"}

    def _authenticate(self, headers: dict[str, str], template: str) -> str | None:
        value = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        login = self.tokens.get(token) if scheme.lower() in ("token", "bearer") else None
        if login is None:
            raise ApiError(401, "user does not exist [uid: 0, name: ]")
        return login

    # -- JSON shapes ------------------------------------------------------------------

    def _user(self, login: str) -> dict:
        return {
            "id": self.user_ids.get(login, 0),
            "login": login,
            "login_name": "",
            "full_name": login.title(),
            "email": f"{login}@noreply.standin.invalid",
            "avatar_url": f"{self.url}/avatars/{login}",
            "html_url": f"{self.url}/{login}",
            "active": True,
            "is_admin": False,
            "restricted": False,
            "visibility": "public",
            "created": "2026-01-01T00:00:00Z",
        }

    def _repo_json(self, repo: HostedRepo, user: str | None, full: bool = True) -> dict:
        data = {
            "id": repo.id,
            "owner": self._user(repo.owner),
            "name": repo.name,
            "full_name": repo.full_name,
            "description": "",
            "empty": False,
            "private": False,
            "fork": repo.parent is not None,
            "archived": False,
            "mirror": False,
            "html_url": f"{self.url}/{repo.full_name}",
            "url": f"{self.url}{PREFIX}/repos/{repo.full_name}",
            "clone_url": f"{self.url}/{repo.full_name}.git",
            "default_branch": repo.default_branch,
            "has_issues": True,
            "has_pull_requests": True,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
        if user is not None:
            push = repo.can_push(user)
            data["permissions"] = {"admin": user == repo.owner, "push": push, "pull": True}
        if full and repo.parent is not None:
            data["parent"] = self._repo_json(repo.parent, None, full=False)
        return data

    def _label_id(self, repo: HostedRepo, name: str) -> int:
        table = self.labels.setdefault(repo.full_name, {})
        if name not in table:
            table[name] = next(self._ids)
        return table[name]

    def _label_json(self, repo: HostedRepo, name: str) -> dict:
        label_id = self._label_id(repo, name)
        return {
            "id": label_id,
            "name": name,
            "color": "d73a4a",
            "description": "",
            "exclusive": False,
            "is_archived": False,
            "url": f"{self.url}{PREFIX}/repos/{repo.full_name}/labels/{label_id}",
        }

    def _issue_json(self, repo: HostedRepo, record: Record) -> dict:
        kind = "pulls" if record.pull is not None else "issues"
        data = {
            "id": record.id,
            "number": record.number,
            "title": record.title,
            "body": record.body,
            "user": self._user(record.user),
            "labels": [self._label_json(repo, n) for n in record.labels],
            "state": record.state,
            "is_locked": False,
            "comments": len(record.comments),
            "created_at": record.created_at,
            "updated_at": record.created_at,
            "html_url": f"{self.url}/{repo.full_name}/{kind}/{record.number}",
            "url": f"{self.url}{PREFIX}/repos/{repo.full_name}/issues/{record.number}",
            "repository": {"id": repo.id, "name": repo.name, "owner": repo.owner},
        }
        data["repository"]["full_name"] = repo.full_name
        if record.pull is not None:
            data["pull_request"] = {"merged": False, "draft": False, "html_url": data["html_url"]}
        return data

    def _pull_json(self, repo: HostedRepo, record: Record) -> dict:
        pull = record.pull or {}
        head_repo = self.repos[pull["head_repo"].lower()]
        issue = self._issue_json(repo, record)
        head_sha = head_repo.store.resolve(f"refs/heads/{pull['head_ref']}") or pull["head_sha"]
        return {
            **{k: issue[k] for k in ("id", "number", "title", "body", "user", "labels", "state")},
            **{k: issue[k] for k in ("is_locked", "comments", "created_at", "updated_at")},
            "html_url": issue["html_url"],
            "url": issue["html_url"],
            "diff_url": issue["html_url"] + ".diff",
            "patch_url": issue["html_url"] + ".patch",
            "merged": False,
            "mergeable": True,
            "draft": False,
            "allow_maintainer_edit": True,
            "head": {
                "label": f"{head_repo.owner}:{pull['head_ref']}",
                "ref": pull["head_ref"],
                "sha": head_sha,
                "repo_id": head_repo.id,
                "repo": self._repo_json(head_repo, None, full=False),
            },
            "base": {
                "label": pull["base_ref"],
                "ref": pull["base_ref"],
                "sha": pull["base_sha"],
                "repo_id": repo.id,
                "repo": self._repo_json(repo, None, full=False),
            },
        }

    def _comment_json(self, repo: HostedRepo, record: Record, comment: dict) -> dict:
        return {
            "id": comment["id"],
            "body": comment["body"],
            "user": self._user(comment["user"]),
            "created_at": comment["created_at"],
            "updated_at": comment["created_at"],
            "html_url": f"{self.url}/{repo.full_name}/issues/{record.number}"
            f"#issuecomment-{comment['id']}",
            "issue_url": f"{self.url}/{repo.full_name}/issues/{record.number}",
            "pull_request_url": "",
        }

    def _content_json(self, repo: HostedRepo, path: str, entry, ref: str, commit: str) -> dict:
        kinds = {"tree": "dir", "commit": "submodule"}
        kind = "symlink" if entry.mode == "120000" else kinds.get(entry.kind, "file")
        data = {
            "name": posixpath.basename(path),
            "path": path,
            "sha": entry.sha,
            "last_commit_sha": commit,
            "type": kind,
            "size": 0,
            "url": f"{self.url}{PREFIX}/repos/{repo.full_name}/contents/{path}?ref={ref}",
            "html_url": f"{self.url}/{repo.full_name}/src/branch/{ref}/{path}",
            "git_url": f"{self.url}{PREFIX}/repos/{repo.full_name}/git/blobs/{entry.sha}",
            "download_url": f"{self.url}/{repo.full_name}/raw/branch/{ref}/{path}",
        }
        data["_links"] = {"self": data["url"], "git": data["git_url"], "html": data["html_url"]}
        if kind in ("file", "symlink"):
            raw = repo.store.blob(entry.sha)
            data["size"] = len(raw)
            if kind == "file":
                data["encoding"] = "base64"
                data["content"] = base64.b64encode(raw).decode()
            else:
                data["target"] = raw.decode(errors="replace")
        return data

    def _commit_response(self, repo: HostedRepo, sha: str) -> dict:
        info = repo.store.commit_info(sha)
        api = f"{self.url}{PREFIX}/repos/{repo.full_name}/git"
        return {
            "sha": sha,
            "url": f"{api}/commits/{sha}",
            "html_url": f"{self.url}/{repo.full_name}/commit/{sha}",
            "author": info["author"],
            "committer": info["committer"],
            "message": info["message"],
            "tree": {"sha": info["tree"], "url": f"{api}/trees/{info['tree']}"},
            "parents": [{"sha": p, "url": f"{api}/commits/{p}"} for p in info["parents"]],
            "created": info["committer"]["date"],
        }

    # -- lookups ----------------------------------------------------------------------

    def _repo(self, params) -> HostedRepo:
        return self._find_repo(params["owner"], params["repo"])

    def _need_user(self, user: str | None) -> str:
        if user is None:
            raise ApiError(401, "token is required")
        return user

    def _need_push(self, repo: HostedRepo, user: str | None) -> str:
        user = self._need_user(user)
        if not repo.can_push(user):
            raise ApiError(403, "user should have a permission to write to a repo")
        return user

    # -- operations -------------------------------------------------------------------

    def _op_get_user(self, user, params, query, payload):
        user = self._need_user(user)
        return 200, self._complete("GET", PREFIX + "/user", 200, self._user(user))

    def _op_get_repo(self, user, params, query, payload):
        repo = self._repo(params)
        return 200, self._complete("GET", _R, 200, self._repo_json(repo, user))

    def _op_get_contents(self, user, params, query, payload):
        repo = self._repo(params)
        ref = query.get("ref") or repo.default_branch
        commit = self._commit_of(repo, ref)
        path = params["filepath"].strip("/")
        entry = repo.store.entry(commit, path)
        if entry is None:
            raise ApiError(404, "GetContentsOrList")
        template = _R + "/contents/{filepath}"
        if entry.kind == "tree":
            items = [
                self._content_json(repo, e.path, e, ref, commit)
                for e in repo.store.list_dir(commit, path)
            ]
            return 200, items
        data = self._content_json(repo, path, entry, ref, commit)
        return 200, self._complete("GET", template, 200, data)

    def _op_change_files(self, user, params, query, payload):
        repo = self._repo(params)
        user = self._need_push(repo, user)
        base = payload.get("branch") or repo.default_branch
        parent = repo.store.resolve(f"refs/heads/{base}")
        if parent is None:
            raise ApiError(404, f"branch does not exist [name: {base}]")
        target = payload.get("new_branch") or base
        if target != base and repo.store.resolve(f"refs/heads/{target}") is not None:
            raise ApiError(422, f"branch already exists [name: {target}]")
        files: dict[str, bytes] = {}
        for item in payload["files"]:
            path, operation = item["path"], item["operation"]
            entry = repo.store.entry(parent, path)
            if operation == "update":
                if entry is None:
                    raise ApiError(404, f"file does not exist [path: {path}]")
                if item.get("sha") != entry.sha:
                    raise ApiError(409, f"sha does not match [given: {item.get('sha')}]")
            elif operation == "create" and entry is not None:
                raise ApiError(422, f"repository file already exists [path: {path}]")
            elif operation not in ("create", "update"):
                raise ApiError(422, f"the stand-in does not {operation} files")
            files[path] = base64.b64decode(item.get("content") or "", validate=True)
        email = self._user(user)["email"]
        committer = payload.get("committer") or {"name": user.title(), "email": email}
        author = payload.get("author") or committer
        message = payload.get("message") or f"Update {', '.join(files)}"
        try:
            sha = repo.store.write_files(
                target,
                parent,
                files,
                message,
                (author["name"], author["email"]),
                (committer["name"], committer["email"]),
                new_branch=target != base,
            )
        except GitError as exc:
            raise ApiError(409, f"could not commit: {exc}") from None
        contents = [
            self._content_json(repo, path, repo.store.entry(sha, path), target, sha)
            for path in files
        ]
        data = {
            "files": contents,
            "commit": self._commit_response(repo, sha),
            "verification": {"verified": False, "reason": "gpg.error.not_signed_commit"},
        }
        return 201, self._complete("POST", _R + "/contents", 201, data)

    def _branch_json(self, repo: HostedRepo, name: str, sha: str, user: str | None) -> dict:
        info = repo.store.commit_info(sha)
        return {
            "name": name,
            "commit": {
                "id": sha,
                "message": info["message"],
                "url": f"{self.url}/{repo.full_name}/commit/{sha}",
                "author": {"name": info["author"]["name"], "email": info["author"]["email"]},
                "committer": {
                    "name": info["committer"]["name"],
                    "email": info["committer"]["email"],
                },
                "timestamp": info["committer"]["date"],
            },
            "protected": False,
            "user_can_push": repo.can_push(user),
            "user_can_merge": repo.can_push(user),
            "effective_branch_protection_name": "",
        }

    def _op_get_branch(self, user, params, query, payload):
        repo = self._repo(params)
        sha = repo.store.resolve(f"refs/heads/{params['branch']}")
        if sha is None:
            raise ApiError(404, f"branch does not exist [name: {params['branch']}]")
        data = self._branch_json(repo, params["branch"], sha, user)
        return 200, self._complete("GET", _R + "/branches/{branch}", 200, data)

    def _op_create_branch(self, user, params, query, payload):
        repo = self._repo(params)
        user = self._need_push(repo, user)
        name = payload["new_branch_name"]
        start = payload.get("old_ref_name") or payload.get("old_branch_name") or repo.default_branch
        sha = repo.store.resolve(start)
        if sha is None:
            raise ApiError(404, "The old branch does not exist")
        if repo.store.resolve(f"refs/heads/{name}") is not None:
            raise ApiError(409, "The branch with the same name already exists.")
        repo.store.create_branch(name, sha)
        data = self._branch_json(repo, name, sha, user)
        return 201, self._complete("POST", _R + "/branches", 201, data)

    def _op_create_fork(self, user, params, query, payload):
        repo = self._repo(params)
        user = self._need_user(user)
        owner = (payload or {}).get("organization") or user
        name = (payload or {}).get("name") or repo.name
        if f"{owner}/{name}".lower() in self.repos:
            raise ApiError(409, "repository is already forked by user")
        fork = self._new_fork(repo, owner, name)
        return 202, self._complete("POST", _R + "/forks", 202, self._repo_json(fork, user))

    def _op_list_pulls(self, user, params, query, payload):
        repo = self._repo(params)
        state = query.get("state", "open")
        found = [
            self._pull_json(repo, r)
            for r in sorted(self.pulls(repo), key=lambda r: -r.number)
            if state == "all" or r.state == state
        ]
        items, headers = self._page(found, query, f"{PREFIX}/repos/{repo.full_name}/pulls")
        return 200, self._complete("GET", _R + "/pulls", 200, items), headers

    def _op_create_pull(self, user, params, query, payload):
        repo = self._repo(params)
        user = self._need_user(user)
        head_owner, _, head_ref = payload["head"].rpartition(":")
        head_repo = repo
        if head_owner and head_owner.lower() != repo.owner.lower():
            head_repo = self.repos.get(f"{head_owner}/{repo.name}".lower())
            if head_repo is None or head_repo.parent is not repo:
                raise ApiError(404, "the head repository is not a fork of the base")
        base = payload["base"]
        head_sha = head_repo.store.resolve(f"refs/heads/{head_ref}")
        base_sha = repo.store.resolve(f"refs/heads/{base}")
        if head_sha is None or base_sha is None:
            raise ApiError(404, "no such branch")
        for record in self.pulls(repo):
            pull = record.pull or {}
            same = (pull["head_repo"], pull["head_ref"], pull["base_ref"])
            if record.state == "open" and same == (head_repo.full_name, head_ref, base):
                raise ApiError(
                    409,
                    f"pull request already exists for these targets [id: {record.id}, "
                    f"issue_id: {record.id}, head_repo_id: {head_repo.id}, "
                    f"base_repo_id: {repo.id}, head_branch: {head_ref}, base_branch: {base}]",
                )
        if head_sha == base_sha:
            raise ApiError(422, "There are no changes between the head and the base")
        pull = {
            "head_repo": head_repo.full_name,
            "head_ref": head_ref,
            "head_sha": head_sha,
            "base_ref": base,
            "base_sha": base_sha,
        }
        record = self._new_record(repo, payload["title"], payload.get("body") or "", user, [], pull)
        data = self._pull_json(repo, record)
        return 201, self._complete("POST", _R + "/pulls", 201, data)

    def _op_get_pull(self, user, params, query, payload):
        repo = self._repo(params)
        record = self._record(repo, params["index"])
        if record.pull is None:
            raise ApiError(404, "pull request does not exist")
        return 200, self._complete("GET", _R + "/pulls/{index}", 200, self._pull_json(repo, record))

    def _op_list_issues(self, user, params, query, payload):
        repo = self._repo(params)
        state = query.get("state", "open")
        kind = query.get("type")
        labels = [x for x in query.get("labels", "").split(",") if x]
        creator = query.get("created_by")
        words = (query.get("q") or "").lower()
        found = [
            self._issue_json(repo, r)
            for r in sorted(repo.records.values(), key=lambda r: -r.number)
            if (state == "all" or r.state == state)
            and (kind is None or (kind == "pulls") == (r.pull is not None))
            and all(label in r.labels for label in labels)
            and (creator is None or r.user == creator)
            and words in f"{r.title}\n{r.body}".lower()
        ]
        items, headers = self._page(found, query, f"{PREFIX}/repos/{repo.full_name}/issues")
        return 200, self._complete("GET", _R + "/issues", 200, items), headers

    def _op_create_issue(self, user, params, query, payload):
        repo = self._repo(params)
        user = self._need_user(user)
        by_id = {v: k for k, v in self.labels.get(repo.full_name, {}).items()}
        names = [by_id[i] for i in payload.get("labels") or [] if i in by_id]
        if not repo.can_push(user):
            names = []  # Forgejo drops labels from those who may not set them
        record = self._new_record(
            repo, str(payload["title"]), payload.get("body") or "", user, names
        )
        data = self._issue_json(repo, record)
        return 201, self._complete("POST", _R + "/issues", 201, data)

    def _op_get_issue(self, user, params, query, payload):
        repo = self._repo(params)
        record = self._record(repo, params["index"])
        data = self._issue_json(repo, record)
        return 200, self._complete("GET", _R + "/issues/{index}", 200, data)

    def _op_list_comments(self, user, params, query, payload):
        repo = self._repo(params)
        record = self._record(repo, params["index"])
        data = [self._comment_json(repo, record, c) for c in record.comments]
        return 200, self._complete("GET", _R + "/issues/{index}/comments", 200, data)

    def _op_create_comment(self, user, params, query, payload):
        repo = self._repo(params)
        user = self._need_user(user)
        record = self._record(repo, params["index"])
        comment = self._new_comment(record, user, payload["body"])
        data = self._comment_json(repo, record, comment)
        return 201, self._complete("POST", _R + "/issues/{index}/comments", 201, data)

    def _op_add_labels(self, user, params, query, payload):
        repo = self._repo(params)
        self._need_push(repo, user)
        record = self._record(repo, params["index"])
        by_id = {v: k for k, v in self.labels.get(repo.full_name, {}).items()}
        for item in payload.get("labels") or []:
            name = by_id.get(item) if isinstance(item, int) else str(item)
            if name is None or name not in self.labels.get(repo.full_name, {}):
                continue  # like Forgejo: an unknown label is left out
            if name not in record.labels:
                record.labels.append(name)
        data = [self._label_json(repo, n) for n in record.labels]
        return 200, self._complete("POST", _R + "/issues/{index}/labels", 200, data)

    def _op_list_labels(self, user, params, query, payload):
        repo = self._repo(params)
        found = [self._label_json(repo, n) for n in self.labels.get(repo.full_name, {})]
        items, headers = self._page(found, query, f"{PREFIX}/repos/{repo.full_name}/labels")
        return 200, self._complete("GET", _R + "/labels", 200, items), headers

    def _op_create_label(self, user, params, query, payload):
        repo = self._repo(params)
        self._need_push(repo, user)
        name = payload["name"]
        if name in self.labels.get(repo.full_name, {}):
            raise ApiError(422, "label already exists")
        self._label_id(repo, name)
        return 201, self._complete("POST", _R + "/labels", 201, self._label_json(repo, name))
