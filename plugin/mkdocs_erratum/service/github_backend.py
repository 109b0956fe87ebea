"""The ``github`` backend: reports become issues, or pull requests when they carry a fix.

Everything goes through `mkdocs_erratum.github_gateway.Gateway`, whose creates look up the
report id first and are never blindly re-sent; this module only decides what to create
and maps the gateway's failures onto the worker's `RetryLater` / `Refused`. A report with
a replacement becomes a pull request from branch ``erratum/<report id>`` (when the
settings allow pull requests); its lines are found at the head of the default branch
where the build saw them, else as the same text elsewhere in the file; if they are gone
the report is filed as an issue instead, so nothing the reader wrote is lost.
"""

from __future__ import annotations

import difflib
import threading

from mkdocs_erratum.github_gateway import (
    Gateway,
    GatewayError,
    issue_title,
    report_marker,
)
from mkdocs_erratum.report import Report, format_report_block, text_hash
from mkdocs_erratum.service.backends import (
    BRANCH_PREFIX,
    Delivery,
    Refused,
    RetryLater,
    commit_message,
    replace_lines,
)
from mkdocs_erratum.service.settings import ServiceSettings
from mkdocs_erratum.service.store import ISSUE_OPENED, PULL_REQUEST_OPENED

_PERMANENT_STATUSES = frozenset({404, 410, 422})


def relocate(lines: list[str], start: int, end: int, digest: str) -> int | None:
    """Where lines ``start..end`` (with `text_hash` ``digest``) are now: a new start, or None.

    The same place first; else the only other place holding the same text.

    >>> relocate(["x", "a", "b"], 1, 2, text_hash("a\\nb"))
    2
    >>> relocate(["a", "a"], 3, 3, text_hash("a")) is None  # two places: ambiguous
    True
    """
    size = end - start + 1
    if end <= len(lines) and text_hash("\n".join(lines[start - 1 : end])) == digest:
        return start
    found = [
        i + 1
        for i in range(len(lines) - size + 1)
        if text_hash("\n".join(lines[i : i + size])) == digest
    ]
    return found[0] if len(found) == 1 else None


class GitHubBackend:
    """Reports become GitHub issues and pull requests through the gateway."""

    name = "github"

    def __init__(self, make_gateway, *, pull_requests: bool = True, limit_pause: float = 60.0):
        self._make_gateway = make_gateway
        self._local = threading.local()
        self.pull_requests = pull_requests
        self.limit_pause = limit_pause

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> GitHubBackend:
        def make_gateway() -> Gateway:
            # No pauses inside the gateway: the worker's limiter paces content creation.
            return Gateway(
                settings.github_repository,
                token=settings.github_token,
                api_url=settings.github_api_url or None,
                timeout=15,  # an int: PyGithub refuses a float
                attempts=3,
                backoff=0.5,
                max_wait=60.0,
                request_interval=0,
                write_interval=0,
            )

        return cls(
            make_gateway,
            pull_requests=settings.github_pull_requests,
            limit_pause=settings.github_limit_pause_seconds,
        )

    @property
    def gateway(self) -> Gateway:
        """One gateway per worker thread (PyGithub objects are not shared across threads)."""
        gateway = getattr(self._local, "gateway", None)
        if gateway is None:
            gateway = self._local.gateway = self._make_gateway()
        return gateway

    def cost(self, report: Report) -> int:
        """Content-creating requests a delivery makes (branch, file, pull; or one issue)."""
        return 3 if self._wants_pull_request(report) else 1

    def find(self, report: Report) -> Delivery | None:
        try:
            if self._wants_pull_request(report):
                pull = self.gateway.find_pull_request(BRANCH_PREFIX + report.id, report.id)
                if pull is not None:
                    return Delivery(PULL_REQUEST_OPENED, pull.number, pull.url, pull.branch)
            issue = self.gateway.find_issue(report.id)
        except GatewayError as exc:
            raise self._retry(exc) from None
        if issue is None:
            return None
        if issue.is_pull_request:
            return Delivery(PULL_REQUEST_OPENED, issue.number, issue.url)
        return Delivery(ISSUE_OPENED, issue.number, issue.url)

    def deliver(self, report: Report) -> Delivery:
        try:
            if self._wants_pull_request(report):
                delivery = self._pull_request(report)
                if delivery is not None:
                    return delivery
            issue = self.gateway.open_issue(report, title=issue_title(report))
        except GatewayError as exc:
            if exc.status in _PERMANENT_STATUSES:
                raise Refused(f"GitHub refused the report ({exc.status}).") from None
            raise self._retry(exc) from None
        return Delivery(ISSUE_OPENED, issue.number, issue.url)

    def _retry(self, exc: GatewayError) -> RetryLater:
        # The gateway already honoured Retry-After; still limited: pause every send.
        limited = exc.status in (403, 429)
        return RetryLater(str(exc), self.limit_pause if limited else None)

    def _wants_pull_request(self, report: Report) -> bool:
        return self.pull_requests and any(b.replacement is not None for b in report.blocks)

    def _pull_request(self, report: Report) -> Delivery | None:
        """Open the pull request, or None when the lines are gone (then: an issue).

        `Gateway.open_pull_request` looks the branch and the report id up first.
        """
        gateway = self.gateway
        branch = BRANCH_PREFIX + report.id
        base = gateway.default_branch()
        changes: dict[str, str] = {}
        diffs: list[str] = []
        for path in dict.fromkeys(b.path for b in report.blocks):
            current = gateway.read_file(path, base)
            if current is None:
                return None
            newline = "\r\n" if "\r\n" in current.text else "\n"
            lines = current.text.replace("\r\n", "\n").split("\n")
            spans = []
            for block in report.blocks:
                if block.path != path or block.replacement is None:
                    continue
                start = relocate(lines, block.start, block.end, block.original_sha256)
                if start is None:
                    return None
                spans.append((start, start + block.end - block.start, block.replacement))
            try:
                new_lines = replace_lines(lines, spans)
            except Refused:
                return None
            changes[path] = newline.join(new_lines)
            diffs.extend(
                difflib.unified_diff(lines, new_lines, f"a/{path}", f"b/{path}", lineterm="")
            )
        body = _pull_request_body(report, "\n".join(diffs))
        pull = gateway.open_pull_request(
            branch=branch,
            changes=changes,
            message=commit_message(report),
            title=issue_title(report).replace("Erratum:", "Erratum fix:", 1),
            body=body,
            base=base,
            report_id=report.id,
        )
        return Delivery(PULL_REQUEST_OPENED, pull.number, pull.url, pull.branch)


def _pull_request_body(report: Report, diff: str) -> str:
    fence = "```"
    while fence in diff:
        fence += "`"
    parts = []
    if report.comment:
        parts += [report.comment.strip(), ""]
    parts += [
        f"Page: {report.page_url}",
        "",
        f"{fence}diff",
        diff,
        fence,
        "",
        "Sent through the erratum correction service by a reader.",
        "",
        format_report_block(report),
        "",
        report_marker(report.id),
    ]
    return "\n".join(parts)


__all__ = ["GitHubBackend", "relocate"]
