"""The ``github`` backend: reports become issues, or pull requests when they carry a fix.

Everything goes through `mkdocs_erratum.github_gateway.Gateway`, whose creates look up the
report id first and are never blindly re-sent, and `mkdocs_erratum.fixer.fix_report`,
which relocates the reported lines at the head of the default branch, runs the gate
(`mkdocs_erratum.gate`: scope, replacement safety rendered with the site's Markdown
configuration from the manifest) and opens the pull request from branch
``erratum/<report id>``. This module only
decides what to create and maps failures onto the worker's `RetryLater` / `Refused`. When
the fixer opens nothing (the text is gone, ambiguous or already fixed) the report is
filed as an issue instead, so nothing the reader wrote is lost.
"""

from __future__ import annotations

import threading

from mkdocs_erratum import fixer
from mkdocs_erratum.github_gateway import Gateway, GatewayError, issue_body, issue_title
from mkdocs_erratum.report import Report
from mkdocs_erratum.service.backends import BRANCH_PREFIX, Delivery, Refused, RetryLater
from mkdocs_erratum.service.settings import ServiceSettings
from mkdocs_erratum.service.store import ISSUE_OPENED, PULL_REQUEST_OPENED

_PERMANENT_STATUSES = frozenset({404, 410, 422})


class GitHubBackend:
    """Reports become GitHub issues and pull requests through the gateway."""

    name = "github"

    def __init__(
        self,
        make_gateway,
        *,
        pull_requests: bool = True,
        docs_dirs: tuple[str, ...] = ("docs",),
        limit_pause: float = 60.0,
        manifest=None,
    ):
        self._make_gateway = make_gateway
        self.docs_dirs = docs_dirs
        self._manifest = manifest
        """The service's current site manifest, when it has one: its Markdown
        configuration is the gate's, as at intake."""
        self._local = threading.local()
        self.pull_requests = pull_requests
        self.limit_pause = limit_pause

    @classmethod
    def from_settings(cls, settings: ServiceSettings, manifest=None) -> GitHubBackend:
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
            docs_dirs=tuple(settings.github_docs_dirs),
            limit_pause=settings.github_limit_pause_seconds,
            manifest=manifest,
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
            note = ""
            if self._wants_pull_request(report):
                outcome = fixer.fix_report(
                    self.gateway, report, docs_dirs=self.docs_dirs, markdown=self._markdown()
                )
                pull = outcome.pull_request
                if pull is not None:
                    return Delivery(PULL_REQUEST_OPENED, pull.number, pull.url, pull.branch)
                if outcome.state == "refused":
                    raise Refused(f"The correction cannot be applied: {outcome.message}.")
                note = f"\n\nNo pull request was opened: {outcome.message}."
            issue = self.gateway.open_issue(
                report, title=issue_title(report), body=issue_body(report) + note
            )
        except fixer.FixError as exc:
            raise RetryLater(str(exc)) from None
        except GatewayError as exc:
            if exc.status in _PERMANENT_STATUSES:
                raise Refused(f"GitHub refused the report ({exc.status}).") from None
            raise self._retry(exc) from None
        return Delivery(ISSUE_OPENED, issue.number, issue.url)

    def _markdown(self):
        if self._manifest is None:
            return None
        try:
            return self._manifest().markdown
        except Exception as exc:  # unreadable now: try again later, never guess
            raise RetryLater(f"the site manifest cannot be read: {exc}") from None

    def _retry(self, exc: GatewayError) -> RetryLater:
        # The gateway already honoured Retry-After; still limited: pause every send.
        limited = exc.status in (403, 429)
        return RetryLater(str(exc), self.limit_pause if limited else None)

    def _wants_pull_request(self, report: Report) -> bool:
        return self.pull_requests and all(b.replacement is not None for b in report.blocks)


__all__ = ["GitHubBackend"]
