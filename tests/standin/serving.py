"""What every forge stand-in shares: routes, faults, validation, records and the HTTP loop.

A stand-in (`server.GitHubStandIn`, `gitlab_server.GitLabStandIn`,
`forgejo_server.ForgejoStandIn`) is a `StandInServer` with a route table and one
``_op_<name>`` method per route. This module receives a request, injects the faults a
test asked for, authenticates, calls the operation, and checks the request and its
answer against the forge's description (`spec.ApiDescription`): problems go to
``violations``. Routes the description lacks are marked ``validated=False`` and their
requests are counted in ``unvalidated`` instead.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .git_store import GitStore
from .spec import ApiDescription


class ApiError(Exception):
    """An error answer: status, the forge's message, and optional validation errors."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class Fault:
    """A fault to inject into the next matching requests.

    ``kind`` is one of ``secondary_limit`` (403 + Retry-After, nothing done; on GitLab
    and Forgejo, 429 + Retry-After), ``bad_gateway`` (502, nothing done),
    ``bad_gateway_after`` (the work is done, then 502), ``slow`` (the work is done, the
    answer waits ``delay`` seconds), ``forbidden`` (403, nothing done).
    """

    kind: str
    method: str = "*"
    path: str = ""
    """Regular expression searched in the request path."""
    times: int = 1
    retry_after: int = 1
    delay: float = 2.0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.fired < self.times
            and self.method in ("*", method)
            and re.search(self.path, path) is not None
        )


@dataclass
class Record:
    """An issue, or a pull request (an issue with ``pull`` set)."""

    number: int
    id: int
    title: str
    body: str
    user: str
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    created_at: str = ""
    comments: list[dict] = field(default_factory=list)
    pull: dict | None = None
    """head_repo, head_ref, base_ref, base_sha for a pull request."""


@dataclass
class HostedRepo:
    """A repository the stand-in serves (``owner`` may be ``group/sub`` on GitLab)."""

    owner: str
    name: str
    store: GitStore
    id: int
    default_branch: str = "main"
    owner_type: str = "User"
    parent: HostedRepo | None = None
    visible_at: float = 0.0
    collaborators: set[str] = field(default_factory=set)
    records: dict[int, Record] = field(default_factory=dict)
    merge_requests: dict[int, Record] = field(default_factory=dict)
    """GitLab numbers merge requests apart from issues; the others keep one sequence."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def can_push(self, login: str | None) -> bool:
        return login is not None and (login == self.owner or login in self.collaborators)


@dataclass(frozen=True)
class Route:
    """One operation: method, path template, handler name, and whether it is validated."""

    method: str
    template: str
    handler: str
    validated: bool = True

    def regex(self, greedy: tuple[str, ...]) -> re.Pattern:
        def group(match: re.Match) -> str:
            name = match.group(1)
            return f"(?P<{name}>.+)" if name in greedy else f"(?P<{name}>[^/]+)"

        return re.compile(re.sub(r"\{(\w+)\}", group, self.template))


def now() -> str:
    """The time as forges write it in JSON."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StandInServer:
    """A threaded HTTP stand-in for one forge; subclasses give routes and operations.

    Class attributes: ``routes`` (`Route` list), ``greedy`` (path parameters that may
    hold slashes), ``name`` (the forge's name in messages), and how lists are paged
    (``page_size_key``, ``page_size``, ``counts_pages``: see `_page`).
    """

    routes: tuple[Route, ...] = ()
    greedy: tuple[str, ...] = ()
    name = "forge"
    page_size_key = "per_page"
    page_size = 30
    counts_pages = False

    def __init__(self, description: ApiDescription, host: str = "127.0.0.1", port: int = 0):
        self.description = description
        self._compiled = [(r, r.regex(self.greedy)) for r in self.routes]
        self._validity = {(r.method, r.template): r.validated for r in self.routes}
        self._ids = itertools.count(1000)
        self._lock = threading.RLock()
        self._workdir = tempfile.TemporaryDirectory(prefix="standin-")
        self.repos: dict[str, HostedRepo] = {}
        self.faults: list[Fault] = []
        self.violations: list[str] = []
        self.unvalidated: list[tuple[str, str]] = []
        """(method, template) of requests to routes the description lacks."""
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every API request received, faulted ones included."""
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's base URL (``http://127.0.0.1:PORT``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and remove the forks' folders."""
        self._server.shutdown()
        self._server.server_close()
        self._workdir.cleanup()

    def _serve_repo(
        self, git_dir: str, full_name: str, *, owner_type: str, collaborators, logins
    ) -> HostedRepo:
        """Serve ``git_dir`` as ``full_name`` (`repo`) and give ``logins`` their ids."""
        owner, _, name = full_name.rpartition("/")
        store = GitStore(git_dir)
        self.repo = HostedRepo(
            owner,
            name,
            store,
            next(self._ids),
            default_branch=store.default_branch(),
            owner_type=owner_type,
            collaborators=set(collaborators),
        )
        self.repos[full_name.lower()] = self.repo
        self.user_ids = {login: next(self._ids) for login in sorted(logins)}
        return self.repo

    # -- what tests use ---------------------------------------------------------------

    def add_issue(self, title: str, body: str, *, user: str = "reader", labels=()) -> Record:
        """Create an issue directly, as a reader would in the forge's web page (no size
        limit: to test what the forge would refuse)."""
        with self._lock:
            return self._new_record(self.repo, title, body, user, list(labels))

    def issues(self, repo: HostedRepo | None = None) -> list[Record]:
        """Issues (not pull requests) of ``repo`` (default: the served repository)."""
        return [r for r in (repo or self.repo).records.values() if r.pull is None]

    def pulls(self, repo: HostedRepo | None = None) -> list[Record]:
        """Pull/merge requests into ``repo`` (default: the served repository)."""
        records = [
            *(repo or self.repo).records.values(),
            *(repo or self.repo).merge_requests.values(),
        ]
        return [r for r in records if r.pull is not None]

    def fork_of(self, login: str) -> HostedRepo | None:
        """The fork of the served repository owned by ``login``, if any."""
        return self.repos.get(f"{login}/{self.repo.name}".lower())

    def inject(self, kind: str, **options: Any) -> Fault:
        """Add a `Fault` (see its docstring for ``kind`` and options)."""
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def count(self, method: str, pattern: str) -> int:
        """How many requests (including faulted ones) matched ``method`` and ``pattern``."""
        return sum(1 for m, p in self.requests if m == method and re.search(pattern, p))

    # -- request handling -------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes):
        """Answer one request: (status, JSON-ready body or None, extra headers)."""
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path.rstrip("/") or "/"
        query = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        if path.startswith("/_standin/"):
            return self._control(method, path, body)
        with self._lock:
            self.requests.append((method, path))
            self._count_request()
        fault = self._take_fault(method, path)
        early = self._fault_answer(fault) if fault is not None else None
        if early is not None:
            return self._finish(method, path, query, headers, body, None, early)
        route = self._match_route(method, path)
        if route is None:
            return 404, self._error("Not Found"), {}
        template, params, handler = route
        try:
            with self._lock:
                user = self._authenticate(headers, template)
                payload = self._payload(headers, body)
                result = getattr(self, "_op_" + handler)(user, params, dict(query), payload)
            answer = result if len(result) == 3 else (*result, {})
        except ApiError as exc:
            err = self._error(exc.message)
            if exc.errors is not None:
                err["errors"] = exc.errors
            answer = (exc.status, err, {})
        except (ValueError, KeyError, TypeError) as exc:
            answer = (400, self._error(f"Problems parsing JSON: {exc}"), {})
        if fault is not None and fault.kind == "bad_gateway_after":
            answer = (502, self._error("Server Error"), {})
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        return self._finish(method, path, query, headers, body, (template, params), answer)

    def _payload(self, headers: dict[str, str], body: bytes) -> Any:
        """The request body: JSON, or a form (python-gitlab sends some as forms)."""
        if not body:
            return None
        kind = (headers.get("Content-Type") or "").split(";")[0].strip()
        if kind == "application/x-www-form-urlencoded":
            return dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        return json.loads(body)

    def _fault_answer(self, fault: Fault) -> tuple | None:
        """The answer of a fault that stops the request before any work, or None."""
        if fault.kind == "secondary_limit":
            message = "Too Many Requests"
            return 429, self._error(message), {"Retry-After": str(fault.retry_after)}
        if fault.kind == "bad_gateway":
            return 502, self._error("Server Error"), {}
        if fault.kind == "forbidden":
            return 403, self._error("403 Forbidden"), {}
        return None

    def _finish(self, method, path, query, headers, body, route, answer):
        status, data, extra = answer
        if route is None:
            matched = self._match_route(method, path)
            route = matched[:2] if matched else None
        if route is not None and not self._validated(method, route[0]):
            with self._lock:
                self.unvalidated.append((method, route[0]))
            return status, data, extra
        out = json.dumps(data).encode() if data is not None else b""
        response_headers = {"Content-Type": "application/json; charset=utf-8", **extra}
        if route is not None:
            problems = self.description.validate(
                method,
                self._described(route[0]),
                route[1],
                query,
                headers,
                body,
                status,
                out,
                response_headers,
            )
            if problems:
                with self._lock:
                    self.violations.extend(problems)
        return status, data, extra

    def _described(self, template: str) -> str:
        """The description's path for a route template (a prefix may differ)."""
        return template

    def _validated(self, method: str, template: str) -> bool:
        return self._validity.get((method, template), True)

    def _match_route(self, method: str, path: str) -> tuple[str, dict[str, str], str] | None:
        """(path template, decoded path parameters, handler name) for a request, or None."""
        for route, regex in self._compiled:
            match = regex.fullmatch(path)
            if match and route.method == method:
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                return route.template, params, route.handler
        return None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.fired += 1
                    return fault
        return None

    def _control(self, method: str, path: str, body: bytes):
        if path == "/_standin/faults" and method == "POST":
            items = json.loads(body or b"[]")
            for item in items if isinstance(items, list) else [items]:
                self.inject(**item)
            return 200, {"faults": len(self.faults)}, {}
        if path == "/_standin/state" and method == "GET":
            return 200, self.state(), {}
        return 404, self._error("Not Found"), {}

    def state(self) -> dict:
        """Records, branches and violations as plain data (``GET /_standin/state``)."""
        with self._lock:
            return {
                "repos": {
                    repo.full_name: {
                        "branches": repo.store.branches(),
                        "records": [
                            {
                                "number": r.number,
                                "title": r.title,
                                "body": r.body,
                                "user": r.user,
                                "labels": r.labels,
                                "state": r.state,
                                "comments": [c["body"] for c in r.comments],
                                "pull": r.pull,
                            }
                            for r in [*repo.records.values(), *repo.merge_requests.values()]
                        ],
                    }
                    for repo in self.repos.values()
                },
                "violations": list(self.violations),
            }

    # -- hooks a forge gives ----------------------------------------------------------

    def _count_request(self) -> None:
        """Called for every API request (GitHub counts its rate limit)."""

    def _error(self, message: str) -> dict:
        return {"message": message}

    def _authenticate(self, headers: dict[str, str], template: str) -> str | None:
        raise NotImplementedError

    def answer_headers(self, path: str) -> dict[str, str]:
        """Headers every answer carries (rate limits, request ids)."""
        return {}

    # -- JSON shapes and records -------------------------------------------------------

    def _complete(self, method: str, template: str, status: int, value: Any) -> Any:
        """``value`` with what the description requires of the answer filled in."""
        schema = self.description.response_schema(method, self._described(template), status)
        return self.description.complete(schema, value, url=self.url)

    def _new_fork(self, repo: HostedRepo, owner: str, name: str) -> HostedRepo:
        """A fork of ``repo`` as ``owner/name`` (a bare clone sharing its objects), which
        answers after ``fork_delay`` seconds (forges fork asynchronously)."""
        store = repo.store.fork_to(os.path.join(self._workdir.name, f"{owner}-{name}.git"))
        fork = HostedRepo(
            owner,
            name,
            store,
            next(self._ids),
            default_branch=repo.default_branch,
            parent=repo,
            visible_at=time.time() + getattr(self, "fork_delay", 0.0),
        )
        self.repos[fork.full_name.lower()] = fork
        return fork

    @staticmethod
    def _check_length(text: str, most: int, message) -> None:
        """Refuse (400 or what ``message`` says) a body longer than ``most`` characters."""
        if len(text) > most:
            raise ApiError(400, message)

    def _find_repo(self, owner: str, name: str) -> HostedRepo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None or repo.visible_at > time.time():
            raise ApiError(404, "Not Found")
        return repo

    def _commit_of(self, repo: HostedRepo, ref: str | None) -> str:
        sha = repo.store.resolve(ref or repo.default_branch)
        if sha is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        return sha

    def _new_record(self, repo, title, body, user, labels, pull=None, into=None) -> Record:
        records = repo.records if into is None else into
        number = max(records, default=0) + 1
        record = Record(
            number,
            next(self._ids),
            title,
            body,
            user,
            labels,
            created_at=now(),
            pull=pull,
        )
        records[number] = record
        return record

    def _record(self, repo: HostedRepo, number: str, records=None) -> Record:
        records = repo.records if records is None else records
        record = records.get(int(number)) if str(number).isdigit() else None
        if record is None:
            raise ApiError(404, "Not Found")
        return record

    def _page(self, items: list, query: dict, template: str) -> tuple[list, dict[str, str]]:
        """One page of ``items`` and the ``Link`` header to the next page, if any.

        The page size is ``per_page`` (``limit`` on Forgejo: `page_size_key`), at most
        100; forges that count (`counts_pages`) add their total and next-page headers.
        """
        key = self.page_size_key
        per_page = min(int(query.get(key, self.page_size)), 100)
        page = max(int(query.get("page", 1)), 1)
        headers = {}
        if page * per_page < len(items):
            args = {**query, "page": str(page + 1), key: str(per_page)}
            url = f"{self.url}{template}?{urllib.parse.urlencode(args)}"
            headers["Link"] = f'<{url}>; rel="next"'
            if self.counts_pages:
                headers["X-Next-Page"] = str(page + 1)
        if self.counts_pages:
            headers.update(
                {"X-Total": str(len(items)), "X-Total-Count": str(len(items)), "X-Page": str(page)}
            )
        return items[(page - 1) * per_page : page * per_page], headers

    def _new_comment(self, record: Record, user: str, body: str) -> dict:
        comment = {"id": next(self._ids), "body": body, "user": user, "created_at": now()}
        record.comments.append(comment)
        return comment


def _make_handler(standin: StandInServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm and
            # delayed ACKs hold every answer back about 40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format, *args):  # quiet: tests read the records
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            status, data, extra = standin.handle(self.command, self.path, headers, body)
            out = json.dumps(data).encode() if data is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(out)))
            for key, value in {**standin.answer_headers(self.path), **extra}.items():
                self.send_header(key, value)
            self.end_headers()
            # The client may have given up waiting (a slow-answer fault).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
