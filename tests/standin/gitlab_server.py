"""A GitLab stand-in: the REST v4 operations our GitLab forge uses, backed by real git.

Not a GitLab emulator: it answers what ``python-gitlab`` sends for erratum's verbs, the
way GitLab does for the cases our code meets. Projects live in namespaces with
subgroups (``group/sub/project``), addressed by numeric id or URL-encoded path.
Issues, merge requests (numbered apart, as GitLab does) and notes live in memory;
commits are real commits in real git repositories (the served one, and bare clones for
forks, which GitLab imports asynchronously: a new fork is ``import_status: started``
and refuses commits until ``fork_delay`` has passed).

Validation: requests and answers of the operations in GitLab's own description are
checked against ``gitlab_subset.json``. GitLab's description lacks issues, notes,
labels and ``GET /user``; those routes (`NOT_VALIDATED`) are modelled on GitLab's REST
documentation (``doc/api/issues.md``, ``notes.md``, ``users.md``: labels are created
when an issue is given one, as GitLab does, so ``labels.md`` is not needed) and are
counted in ``unvalidated`` instead.

Tokens: ``PRIVATE-TOKEN`` (personal or project access tokens) act as a user;
``JOB-TOKEN`` (``CI_JOB_TOKEN``) acts as no user: it reads, and GitLab refuses its
writes to these APIs (403).
"""

from __future__ import annotations

import base64
import posixpath
import time

from .git_store import GitError
from .serving import ApiError, Fault, HostedRepo, Record, Route, StandInServer
from .spec import ApiDescription, load_description

JOB = "ci-job"
"""Who a ``JOB-TOKEN`` acts as (no user: GitLab's CI_JOB_TOKEN)."""
DEVELOPER = 30
"""GitLab's access level that may push to unprotected branches and open merge requests."""

_P = "/api/v4/projects/{id}"
ROUTES = (
    Route("GET", _P, "get_project"),
    Route("GET", f"{_P}/repository/tree", "list_tree"),
    Route("GET", f"{_P}/repository/files/{{file_path}}", "get_file"),
    Route("GET", f"{_P}/repository/branches/{{branch}}", "get_branch"),
    Route("POST", f"{_P}/repository/commits", "create_commit"),
    Route("GET", f"{_P}/merge_requests", "list_merge_requests"),
    Route("POST", f"{_P}/merge_requests", "create_merge_request"),
    Route("GET", f"{_P}/merge_requests/{{merge_request_iid}}", "get_merge_request"),
    Route("POST", f"{_P}/fork", "create_fork"),
    Route("GET", f"{_P}/forks", "list_forks"),
    Route("GET", "/api/v4/users", "list_users"),
    # Not in GitLab's description: modelled on its REST documentation.
    Route("GET", "/api/v4/user", "get_user", validated=False),
    Route("GET", f"{_P}/issues", "list_issues", validated=False),
    Route("POST", f"{_P}/issues", "create_issue", validated=False),
    Route("GET", f"{_P}/issues/{{issue_iid}}", "get_issue", validated=False),
    Route("PUT", f"{_P}/issues/{{issue_iid}}", "edit_issue", validated=False),
    Route("GET", f"{_P}/issues/{{issue_iid}}/notes", "list_notes", validated=False),
    Route("POST", f"{_P}/issues/{{issue_iid}}/notes", "create_note", validated=False),
    Route("GET", f"{_P}/merge_requests/{{merge_request_iid}}/notes", "list_notes", validated=False),
    Route(
        "POST", f"{_P}/merge_requests/{{merge_request_iid}}/notes", "create_note", validated=False
    ),
)
NOT_VALIDATED = [(r.method, r.template) for r in ROUTES if not r.validated]
"""The routes GitLab's description lacks (issues, notes, labels, the current user)."""

MAX_DESCRIPTION_CHARS = 1_048_576
"""GitLab refuses issue and merge request descriptions longer than this."""
_TOO_LONG = {"description": ["is too long (maximum is 1048576 characters)"]}


class GitLabStandIn(StandInServer):
    """The GitLab stand-in. Start with `start`, stop with `stop`; `url` is the instance
    (python-gitlab's ``url``: the API is under ``/api/v4``).

    Args:
        git_dir: the git repository served as ``project``.
        project: ``namespace/.../name`` (subgroups allowed).
        tokens: ``PRIVATE-TOKEN`` value -> username. Default: ``maintainer-token``
            (Developer access: pushes), ``reader-token`` (no access: forks).
        members: usernames with Developer access to ``project``.
        known_users: other usernames that exist (reporters).
        job_tokens: ``JOB-TOKEN`` values accepted (CI_JOB_TOKEN), default ``job-token``.
        fork_delay: seconds a new fork stays ``import_status: started``.
    """

    routes = ROUTES
    greedy = ()
    name = "GitLab"
    page_size = 20
    counts_pages = True

    def __init__(
        self,
        git_dir: str,
        project: str,
        *,
        tokens: dict[str, str] | None = None,
        members: set[str] | frozenset[str] = frozenset({"maintainer"}),
        known_users: set[str] | frozenset[str] = frozenset(),
        job_tokens: set[str] | frozenset[str] = frozenset({"job-token"}),
        fork_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        description: ApiDescription | None = None,
    ):
        super().__init__(description or load_description("gitlab_subset.json"), host, port)
        self.tokens = dict(tokens or {"maintainer-token": "maintainer", "reader-token": "reader"})
        self.job_tokens = set(job_tokens)
        self.fork_delay = fork_delay
        self._serve_repo(
            git_dir,
            project,
            owner_type="group",
            collaborators=members,
            logins={*self.tokens.values(), *known_users, *members},
        )

    # -- what tests use ---------------------------------------------------------------

    def merge_requests(self, repo: HostedRepo | None = None) -> list[Record]:
        """Merge requests into ``repo`` (default: the served project)."""
        return list((repo or self.repo).merge_requests.values())

    # -- hooks ------------------------------------------------------------------------

    def _fault_answer(self, fault: Fault) -> tuple | None:
        if fault.kind == "forbidden":
            return 403, self._error("403 Forbidden"), {}
        return super()._fault_answer(fault)

    def _authenticate(self, headers: dict[str, str], template: str) -> str | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        if "job-token" in lowered:
            if lowered["job-token"] not in self.job_tokens:
                raise ApiError(401, "401 Unauthorized")
            return JOB
        token = lowered.get("private-token")
        if token is None and lowered.get("authorization", "").lower().startswith("bearer "):
            token = lowered["authorization"][7:]
        if token is None:
            return None
        login = self.tokens.get(token)
        if login is None:
            raise ApiError(401, "401 Unauthorized")
        return login

    def answer_headers(self, path: str) -> dict[str, str]:
        return {"RateLimit-Limit": "2000", "X-Request-Id": f"standin-{len(self.requests)}"}

    # -- JSON shapes ------------------------------------------------------------------

    def _user(self, login: str) -> dict:
        return {
            "id": self.user_ids.get(login, 0),
            "username": login,
            "name": login.title(),
            "state": "active",
            "locked": False,
            "avatar_url": f"{self.url}/uploads/-/system/user/avatar/{login}.png",
            "web_url": f"{self.url}/{login}",
        }

    def _namespace(self, repo: HostedRepo) -> dict:
        kind = "group" if repo.owner_type == "group" else "user"
        return {
            "id": abs(hash(repo.owner)) % 10**6,
            "name": repo.owner.rsplit("/", 1)[-1],
            "path": repo.owner.rsplit("/", 1)[-1],
            "kind": kind,
            "full_path": repo.owner,
            "web_url": f"{self.url}/{'groups/' if kind == 'group' else ''}{repo.owner}",
        }

    def _project_json(self, repo: HostedRepo, user: str | None, full: bool = True) -> dict:
        ready = repo.visible_at <= time.time()
        data = {
            "id": repo.id,
            "name": repo.name,
            "path": repo.name,
            "name_with_namespace": repo.full_name.replace("/", " / "),
            "path_with_namespace": repo.full_name,
            "default_branch": repo.default_branch,
            "web_url": f"{self.url}/{repo.full_name}",
            "http_url_to_repo": f"{self.url}/{repo.full_name}.git",
            "visibility": "public",
            "namespace": self._namespace(repo),
            "archived": False,
            "empty_repo": False,
            "issues_enabled": True,
            "merge_requests_enabled": True,
            "created_at": "2026-01-01T00:00:00.000Z",
            "import_status": "finished" if ready else "started",
        }
        if repo.parent is not None:
            data["forked_from_project"] = self._project_json(repo.parent, None, full=False)
        if full and user is not None:
            # GitLab tells the caller's own access to this project (null when none).
            access = {"access_level": DEVELOPER, "notification_level": 3}
            data["permissions"] = {"project_access": access} if repo.can_push(user) else {}
        return data

    def _issue_json(self, repo: HostedRepo, record: Record) -> dict:
        return {
            "id": record.id,
            "iid": record.number,
            "project_id": repo.id,
            "title": record.title,
            "description": record.body,
            "state": "opened" if record.state == "open" else "closed",
            "created_at": record.created_at,
            "updated_at": record.created_at,
            "labels": list(record.labels),
            "author": self._user(record.user),
            "type": "ISSUE",
            "user_notes_count": len(record.comments),
            "web_url": f"{self.url}/{repo.full_name}/-/issues/{record.number}",
            "references": {
                "short": f"#{record.number}",
                "full": f"{repo.full_name}#{record.number}",
            },
        }

    def _mr_json(self, repo: HostedRepo, record: Record) -> dict:
        pull = record.pull or {}
        source = self.repos[pull["head_repo"].lower()]
        return {
            "id": record.id,
            "iid": record.number,
            "project_id": repo.id,
            "title": record.title,
            "description": record.body,
            "state": "opened" if record.state == "open" else record.state,
            "created_at": record.created_at,
            "updated_at": record.created_at,
            "target_branch": pull["base_ref"],
            "source_branch": pull["head_ref"],
            "source_project_id": source.id,
            "target_project_id": repo.id,
            "author": self._user(record.user),
            "labels": list(record.labels),
            "sha": source.store.resolve(pull["head_ref"]) or pull["head_sha"],
            "web_url": f"{self.url}/{repo.full_name}/-/merge_requests/{record.number}",
            "draft": False,
            "merge_status": "can_be_merged",
        }

    def _note_json(self, record: Record, comment: dict) -> dict:
        return {
            "id": comment["id"],
            "type": None,
            "body": comment["body"],
            "author": self._user(comment["user"]),
            "created_at": comment["created_at"],
            "updated_at": comment["created_at"],
            "system": comment.get("system", False),
            "noteable_id": record.id,
            "noteable_type": "MergeRequest" if record.pull else "Issue",
            "noteable_iid": record.number,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }

    # -- lookups ----------------------------------------------------------------------

    def _project(self, ident: str, *, ready: bool = False) -> HostedRepo:
        """The project by numeric id or ``namespace/name`` path."""
        if ident.isdigit():
            repo = next((r for r in self.repos.values() if r.id == int(ident)), None)
        else:
            repo = self.repos.get(ident.lower())
        if repo is None:
            raise ApiError(404, "404 Project Not Found")
        if ready and repo.visible_at > time.time():
            # A fork being imported has no repository yet.
            raise ApiError(404, "404 Project Not Found")
        return repo

    def _need_user(self, user: str | None) -> str:
        if user is None:
            raise ApiError(401, "401 Unauthorized")
        if user == JOB:
            raise ApiError(403, "403 Forbidden")
        return user

    def _need_developer(self, repo: HostedRepo, user: str | None) -> str:
        user = self._need_user(user)
        if not repo.can_push(user):
            raise ApiError(403, "403 Forbidden")
        return user

    def _email(self, login: str) -> str:
        return f"{self.user_ids.get(login, 0)}-{login}@users.noreply.standin.invalid"

    # -- operations -------------------------------------------------------------------

    def _op_get_user(self, user, params, query, payload):
        if user is None or user == JOB:
            raise ApiError(401, "401 Unauthorized")
        return 200, {**self._user(user), "email": self._email(user), "bot": False}

    def _op_list_users(self, user, params, query, payload):
        wanted = query.get("username")
        found = [
            self._user(login)
            for login in sorted(self.user_ids)
            if wanted is None or login.lower() == wanted.lower()
        ]
        items, headers = self._page(found, query, "/api/v4/users")
        return 200, self._complete("GET", "/api/v4/users", 200, items), headers

    def _op_get_project(self, user, params, query, payload):
        repo = self._project(params["id"])
        return 200, self._complete("GET", _P, 200, self._project_json(repo, user))

    def _op_list_tree(self, user, params, query, payload):
        repo = self._project(params["id"], ready=True)
        commit = self._commit_of(repo, query.get("ref"))
        folder = query.get("path", "").strip("/")
        if folder:
            entry = repo.store.entry(commit, folder)
            if entry is None or entry.kind != "tree":
                raise ApiError(404, "404 Tree Not Found")
        items = [
            {
                "id": e.sha,
                "name": posixpath.basename(e.path),
                "type": e.kind,
                "path": e.path,
                "mode": e.mode,
            }
            for e in repo.store.list_dir(commit, folder)
        ]
        template = f"{_P}/repository/tree"
        items, headers = self._page(items, query, template.replace("{id}", str(repo.id)))
        return 200, self._complete("GET", template, 200, items), headers

    def _op_get_file(self, user, params, query, payload):
        repo = self._project(params["id"], ready=True)
        ref = query.get("ref")
        if not ref:
            raise ApiError(400, "ref is missing")
        commit = repo.store.resolve(ref)
        path = params["file_path"]
        entry = repo.store.entry(commit, path) if commit else None
        if entry is None or entry.kind != "blob":
            raise ApiError(404, "404 File Not Found")
        # Like GitLab: a symbolic link is served as its own blob (the target's path).
        raw = repo.store.blob(entry.sha)
        data = {
            "file_name": posixpath.basename(path),
            "file_path": path,
            "size": len(raw),
            "encoding": "base64",
            "content": base64.b64encode(raw).decode(),
            "content_sha256": "",
            "ref": ref,
            "blob_id": entry.sha,
            "commit_id": commit,
            "last_commit_id": commit,
            "execute_filemode": entry.mode == "100755",
        }
        return 200, data

    def _op_get_branch(self, user, params, query, payload):
        repo = self._project(params["id"], ready=True)
        name = params["branch"]
        sha = repo.store.resolve(f"refs/heads/{name}")
        if sha is None:
            raise ApiError(404, "404 Branch Not Found")
        info = repo.store.commit_info(sha)
        data = {
            "name": name,
            "merged": False,
            "protected": name == repo.default_branch,
            "default": name == repo.default_branch,
            "developers_can_push": False,
            "developers_can_merge": False,
            "can_push": repo.can_push(user),
            "web_url": f"{self.url}/{repo.full_name}/-/tree/{name}",
            "commit": self._commit_json(repo, sha, info),
        }
        template = f"{_P}/repository/branches/{{branch}}"
        return 200, self._complete("GET", template, 200, data)

    def _commit_json(self, repo: HostedRepo, sha: str, info: dict) -> dict:
        return {
            "id": sha,
            "short_id": sha[:8],
            "title": info["message"].split("\n", 1)[0],
            "message": info["message"],
            "author_name": info["author"]["name"],
            "author_email": info["author"]["email"],
            "authored_date": info["author"]["date"],
            "committer_name": info["committer"]["name"],
            "committer_email": info["committer"]["email"],
            "committed_date": info["committer"]["date"],
            "created_at": info["committer"]["date"],
            "parent_ids": info["parents"],
            "web_url": f"{self.url}/{repo.full_name}/-/commit/{sha}",
        }

    def _op_create_commit(self, user, params, query, payload):
        repo = self._project(params["id"], ready=True)
        user = self._need_developer(repo, user)
        branch = payload["branch"]
        head = repo.store.resolve(f"refs/heads/{branch}")
        start_branch, start_sha = payload.get("start_branch"), payload.get("start_sha")
        source = repo
        if payload.get("start_project") is not None:
            source = self._project(str(payload["start_project"]), ready=True)
        if head is not None and (start_branch or start_sha) and not payload.get("force"):
            raise ApiError(
                400,
                f"A branch called '{branch}' already exists. "
                "Switch to that branch in order to make changes",
            )
        if head is None:
            if start_sha:
                start = start_sha if source.store.has_commit(start_sha) else None
            elif start_branch:
                start = source.store.resolve(f"refs/heads/{start_branch}")
            else:
                raise ApiError(400, "You can only create or edit files when you are on a branch")
            if start is None or not repo.store.has_commit(start):
                raise ApiError(400, "Invalid start branch or sha")
            parent = start
        else:
            parent = head
        files: dict[str, bytes] = {}
        for action in payload["actions"]:
            kind, path = action["action"], action["file_path"]
            entry = repo.store.entry(parent, path)
            if kind == "update" and (entry is None or entry.kind != "blob"):
                raise ApiError(400, "A file with this name doesn't exist")
            if kind == "create" and entry is not None:
                raise ApiError(400, "A file with this name already exists")
            if kind not in ("create", "update"):
                raise ApiError(400, f"the stand-in does not do '{kind}'")
            content = action.get("content") or ""
            if action.get("encoding") == "base64":
                files[path] = base64.b64decode(content, validate=True)
            else:
                files[path] = content.encode("utf-8")
        name = payload.get("author_name") or user.title()
        email = payload.get("author_email") or self._email(user)
        try:
            sha = repo.store.write_files(
                branch,
                parent,
                files,
                payload["commit_message"],
                author=(name, email),
                committer=(user.title(), self._email(user)),
                new_branch=head is None,
            )
        except GitError as exc:
            raise ApiError(409, f"Could not commit: {exc}") from None
        data = self._commit_json(repo, sha, repo.store.commit_info(sha))
        return 200, self._complete("POST", f"{_P}/repository/commits", 200, data)

    def _op_list_merge_requests(self, user, params, query, payload):
        repo = self._project(params["id"])
        state = query.get("state", "all")
        found = []
        for record in sorted(repo.merge_requests.values(), key=lambda r: -r.number):
            item = self._mr_json(repo, record)
            if state != "all" and item["state"] != state:
                continue
            if query.get("source_branch") not in (None, item["source_branch"]):
                continue
            if query.get("target_branch") not in (None, item["target_branch"]):
                continue
            wanted_source = query.get("source_project_id")
            if wanted_source is not None and int(wanted_source) != item["source_project_id"]:
                continue
            if query.get("search") and query["search"] not in record.title + record.body:
                continue
            found.append(item)
        template = f"{_P}/merge_requests"
        items, headers = self._page(found, query, template.replace("{id}", str(repo.id)))
        return 200, self._complete("GET", template, 200, items), headers

    def _op_create_merge_request(self, user, params, query, payload):
        source = self._project(params["id"], ready=True)
        user = self._need_user(user)
        target = source
        if payload.get("target_project_id") is not None:
            target = self._project(str(payload["target_project_id"]), ready=True)
            if target is not source and source.parent is not target:
                raise ApiError(422, "Validation failed: target project is not the fork's parent")
        if not source.can_push(user):
            raise ApiError(403, "403 Forbidden")
        head_ref, base = payload["source_branch"], payload["target_branch"]
        head_sha = source.store.resolve(f"refs/heads/{head_ref}")
        base_sha = target.store.resolve(f"refs/heads/{base}")
        if head_sha is None:
            raise ApiError(422, {"source_branch": ["is invalid"]})
        if base_sha is None:
            raise ApiError(422, {"target_branch": ["is invalid"]})
        for record in target.merge_requests.values():
            pull = record.pull or {}
            same = (pull["head_repo"], pull["head_ref"], pull["base_ref"])
            if record.state == "open" and same == (source.full_name, head_ref, base):
                raise ApiError(
                    409,
                    [
                        "Another open merge request already exists for this source branch: "
                        f"!{record.number}"
                    ],
                )
        body = payload.get("description") or ""
        self._check_length(body, MAX_DESCRIPTION_CHARS, _TOO_LONG)
        pull = {
            "head_repo": source.full_name,
            "head_ref": head_ref,
            "head_sha": head_sha,
            "base_ref": base,
            "base_sha": base_sha,
        }
        record = self._new_record(
            target, payload["title"], body, user, [], pull, into=target.merge_requests
        )
        data = self._mr_json(target, record)
        return 201, self._complete("POST", f"{_P}/merge_requests", 201, data)

    def _op_get_merge_request(self, user, params, query, payload):
        repo = self._project(params["id"])
        record = self._record(repo, params["merge_request_iid"], repo.merge_requests)
        template = f"{_P}/merge_requests/{{merge_request_iid}}"
        return 200, self._complete("GET", template, 200, self._mr_json(repo, record))

    def _op_create_fork(self, user, params, query, payload):
        repo = self._project(params["id"])
        user = self._need_user(user)
        namespace = (payload or {}).get("namespace_path") or user
        name = (payload or {}).get("path") or repo.name
        if f"{namespace}/{name}".lower() in self.repos:
            raise ApiError(
                409, {"name": ["has already been taken"], "path": ["has already been taken"]}
            )
        fork = self._new_fork(repo, namespace, name)
        data = self._project_json(fork, user)
        return 201, self._complete("POST", f"{_P}/fork", 201, data)

    def _op_list_forks(self, user, params, query, payload):
        repo = self._project(params["id"])
        owned = query.get("owned") in ("true", "1")
        found = [
            self._project_json(r, user)
            for r in self.repos.values()
            if r.parent is repo and (not owned or r.owner == user)
        ]
        template = f"{_P}/forks"
        items, headers = self._page(found, query, template.replace("{id}", str(repo.id)))
        return 200, self._complete("GET", template, 200, items), headers

    def _op_list_issues(self, user, params, query, payload):
        repo = self._project(params["id"])
        state = query.get("state", "all")
        labels = [x for x in query.get("labels", "").split(",") if x]
        author = query.get("author_username")
        search = query.get("search")
        records = sorted(
            repo.records.values(), key=lambda r: r.number, reverse=query.get("sort") != "asc"
        )
        found = [
            self._issue_json(repo, r)
            for r in records
            if (state == "all" or self._issue_json(repo, r)["state"] == state)
            and all(label in r.labels for label in labels)
            and (author is None or r.user == author)
            and (search is None or search.lower() in f"{r.title}\n{r.body}".lower())
        ]
        template = f"/api/v4/projects/{repo.id}/issues"
        items, headers = self._page(found, query, template)
        return 200, items, headers

    def _op_create_issue(self, user, params, query, payload):
        repo = self._project(params["id"])
        user = self._need_user(user)
        body = payload.get("description") or ""
        self._check_length(body, MAX_DESCRIPTION_CHARS, _TOO_LONG)
        labels = _label_list(payload.get("labels")) if repo.can_push(user) else []
        record = self._new_record(repo, str(payload["title"]), body, user, labels)
        return 201, self._issue_json(repo, record)

    def _op_get_issue(self, user, params, query, payload):
        repo = self._project(params["id"])
        return 200, self._issue_json(repo, self._record(repo, params["issue_iid"]))

    def _op_edit_issue(self, user, params, query, payload):
        repo = self._project(params["id"])
        self._need_developer(repo, user)
        record = self._record(repo, params["issue_iid"])
        payload = payload or {}
        if "labels" in payload:
            record.labels = _label_list(payload["labels"])
        for name in _label_list(payload.get("add_labels")):
            if name not in record.labels:
                record.labels.append(name)
                # GitLab writes a system note for a label change.
                self._new_comment(record, user, f"added ~{name} label")["system"] = True
        return 200, self._issue_json(repo, record)

    def _noted(self, repo, params) -> tuple[Record, str]:
        """The issue or merge request a notes route names, and its path part."""
        if "merge_request_iid" in params:
            record = self._record(repo, params["merge_request_iid"], repo.merge_requests)
            return record, f"merge_requests/{record.number}"
        record = self._record(repo, params["issue_iid"])
        return record, f"issues/{record.number}"

    def _op_list_notes(self, user, params, query, payload):
        repo = self._project(params["id"])
        record, where = self._noted(repo, params)
        notes = [self._note_json(record, c) for c in record.comments]
        if query.get("sort", "desc") == "desc":
            notes.reverse()  # GitLab lists notes newest first unless asked
        template = f"/api/v4/projects/{repo.id}/{where}/notes"
        items, headers = self._page(notes, query, template)
        return 200, items, headers

    def _op_create_note(self, user, params, query, payload):
        repo = self._project(params["id"])
        user = self._need_user(user)
        record, _ = self._noted(repo, params)
        body = payload["body"]
        self._check_length(
            body, 1_000_000, {"note": ["is too long (maximum is 1000000 characters)"]}
        )
        return 201, self._note_json(record, self._new_comment(record, user, body))


def _label_list(value) -> list[str]:
    """GitLab takes labels as a comma-separated string (or, from JSON, a list)."""
    if not value:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(x).strip() for x in items if str(x).strip()]
