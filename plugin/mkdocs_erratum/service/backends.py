"""Where the service sends reports: a `Backend` protocol and `ForgeBackend`, over any forge.

``forge``: a hosted forge (GitHub, GitLab, Forgejo/Gitea; `mkdocs_erratum.forges`). A
report with a correction becomes a pull/merge request from branch ``erratum/<report
id>``, through the same code as ``erratum fix`` (`mkdocs_erratum.fixer.fix_report`: the
gate, relocation at the head of the default branch); any other report, or one whose
text is gone, ambiguous or already fixed, becomes an issue, so nothing the reader wrote
is lost. ``git`` (`GitBackend`): the same over `mkdocs_erratum.forges.local_git`, whose
branch is the delivery; a report without a correction is a branch with an empty commit
that records it, and one that cannot be applied is refused. Every create looks up the
report id first and is never blindly re-sent (see `mkdocs_erratum.forges.base`).

A backend is called from a worker thread. It either returns a `Delivery`, raises
`RetryLater` (a transient failure: the worker retries with backoff) or `Refused` (the
report cannot be applied: it ends ``rejected`` with the reason). This module imports no
forge library: `mkdocs_erratum.forges.factory` picks the forge's module by name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mkdocs_erratum import fixer, gate, triage
from mkdocs_erratum.forges.base import (
    BRANCH_PREFIX,
    REPORT_LABEL,
    Forge,
    ForgeError,
    PullRequestInfo,
)
from mkdocs_erratum.forges.factory import NAMES
from mkdocs_erratum.forges.local_git import LocalGitForge
from mkdocs_erratum.report import Report, ReportError
from mkdocs_erratum.service.settings import ServiceSettings
from mkdocs_erratum.service.store import (
    BRANCH_CREATED,
    ISSUE_OPENED,
    JOINED,
    PULL_REQUEST_OPENED,
)

_PERMANENT_STATUSES = frozenset({404, 410, 422})


@dataclass(frozen=True)
class Delivery:
    """What a report became."""

    state: str
    """``issue_opened``, ``pull_request_opened``, ``branch_created`` or ``joined`` (a
    comment on the open issue or pull request ``number`` of the same lines)."""
    number: int | None = None
    url: str | None = None
    branch: str | None = None


class RetryLater(Exception):
    """A transient failure; ``retry_after`` (seconds) when the other side said how long."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Refused(Exception):
    """The report cannot be applied; the message is shown to the reader as the reason."""


class Backend(Protocol):
    """What the worker needs of a backend."""

    name: str

    def find(self, report: Report) -> Delivery | None:
        """What an earlier attempt already created for ``report``, or None."""

    def deliver(self, report: Report) -> Delivery:
        """Create the branch, issue or pull request for ``report`` (at most once)."""

    def cost(self, report: Report) -> int:
        """Content-creating requests `deliver` makes (paced by the worker's limiter)."""

    def open_view(self) -> dict:
        """The triage view of open reports (`mkdocs_erratum.triage.triage_view`)."""


class OpenReports:
    """The forge's open reports, read at most every ``seconds``; what the service itself
    opens is added at once, so two readers of one typo a second apart still join.

    Shared by the worker threads (a lock around the list; a refresh reads the forge
    under it, so the others wait for it rather than read it too).
    """

    def __init__(self, seconds: float, label: str = REPORT_LABEL):
        self.seconds = seconds
        self.label = label
        self._lock = threading.Lock()
        self._reports: list[triage.OpenReport] | None = None
        self._skipped = 0
        self._read_at = 0.0
        self._view: tuple[float, dict] | None = None

    def get(self, forge: Forge) -> list[triage.OpenReport]:
        with self._lock:
            if self._reports is None or time.monotonic() - self._read_at >= self.seconds:
                self._reports, self._skipped = triage.collect_open_reports(forge, self.label)
                self._read_at = time.monotonic()
            return list(self._reports)

    def add(self, open_report: triage.OpenReport) -> None:
        with self._lock:
            if self._reports is not None:
                self._reports.insert(0, open_report)
            self._view = None

    def view(self, forge: Forge) -> dict:
        """The triage view, made again at most every ``seconds`` (files read at head)."""
        with self._lock:
            if self._view is not None and time.monotonic() - self._view[0] < self.seconds:
                return self._view[1]
        reports = self.get(forge)
        head = forge.head_commit(forge.default_branch())
        located = triage.locate(reports, triage.FileLines(forge), head)
        view = triage.triage_view(located, reports, skipped=self._skipped, head=head)
        with self._lock:
            self._view = (time.monotonic(), view)
        return view


class ForgeBackend:
    """Reports become issues and pull/merge requests (or branches) through a `Forge`.

    Args:
        make_forge: builds a forge client; one is made per worker thread (client
            libraries do not share their sessions across threads).
        name: the backend's name in logs (the forge's kind).
        pull_requests: open a pull request when some block carries a correction (the
            others are named in it, and the report's issue stays open).
        docs_dirs: folders whose Markdown files may change (None: the manifest's, else
            ``docs``).
        markdown: the site's Markdown configuration, when there is no manifest.
        limit_pause: pause of every send when the forge still answers 403/429.
        manifest: a callable giving the service's current site manifest; its docs
            folders and Markdown configuration are the gate's, as at intake.
        join_duplicates: a report on the same lines as an open issue or pull request
            becomes a comment there (`mkdocs_erratum.fixer.join_duplicate`).
        open_reports_seconds: how long the list of open reports is reused.
    """

    def __init__(
        self,
        make_forge: Callable[[], Forge],
        *,
        name: str,
        pull_requests: bool = True,
        docs_dirs: Sequence[str] | None = None,
        markdown: gate.MarkdownConfig | None = None,
        limit_pause: float = 60.0,
        manifest: Callable[[], Any] | None = None,
        join_duplicates: bool = True,
        open_reports_seconds: float = 60.0,
    ):
        self.name = name
        self.join_duplicates = join_duplicates
        self.open_reports = OpenReports(open_reports_seconds)
        self._make_forge = make_forge
        self.pull_requests = pull_requests
        self._docs_dirs = tuple(docs_dirs) if docs_dirs is not None else None
        self._markdown = markdown
        self.limit_pause = limit_pause
        self._manifest = manifest
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: ServiceSettings, manifest=None) -> ForgeBackend:
        """The ``forge`` backend the settings describe.

        Raises:
            ValueError: when the settings name no host (Gitea without an API URL).
        """
        from mkdocs_erratum.forges import factory
        from mkdocs_erratum.forges.detect import ForgeUnknown, target_for

        try:
            target = target_for(
                settings.forge_kind,
                settings.forge_project,
                api_url=settings.forge_api_url or None,
                web_url=settings.forge_web_url or None,
            )
        except ForgeUnknown as exc:
            raise ValueError(f"forge_api_url: {exc}") from None

        def make_forge() -> Forge:
            # No pauses inside the forge: the worker's limiter paces content creation.
            return factory.connect(
                target,
                token=settings.forge_token,
                timeout=15,
                attempts=3,
                backoff=0.5,
                max_wait=60.0,
                request_interval=0,
                write_interval=0,
            )

        return cls(
            make_forge,
            name=settings.forge_kind,
            pull_requests=settings.forge_pull_requests,
            docs_dirs=settings.forge_docs_dirs,
            limit_pause=settings.forge_limit_pause_seconds,
            manifest=manifest,
            join_duplicates=settings.forge_join_duplicates,
            open_reports_seconds=settings.open_reports_cache_seconds,
        )

    @property
    def forge(self) -> Forge:
        """This worker thread's forge client."""
        forge = getattr(self._local, "forge", None)
        if forge is None:
            try:
                forge = self._local.forge = self._make_forge()
            except ForgeError as exc:
                raise self._retry(exc) from None
        return forge

    @property
    def docs_dirs(self) -> tuple[str, ...]:
        """Folders whose Markdown files reports may change (`gate.check_scope`)."""
        if self._docs_dirs is not None:
            return self._docs_dirs
        site = self._site()
        return tuple(site.docs_dirs) if site is not None else ("docs",)

    @property
    def markdown(self) -> gate.MarkdownConfig | None:
        """The site's Markdown configuration, for `gate.check_replacement`."""
        site = self._site()
        return site.markdown if site is not None else self._markdown

    def cost(self, report: Report) -> int:
        """Content-creating requests a delivery makes (branch, file, pull; or one issue)."""
        return 3 if self._wants_pull_request(report) and self.forge.has_pull_requests else 1

    def find(self, report: Report) -> Delivery | None:
        forge = self.forge
        try:
            if self._wants_pull_request(report) or not forge.has_issues:
                pull = forge.find_pull_request(BRANCH_PREFIX + report.id, report.id)
                if pull is not None:
                    return _delivered(pull)
            if not forge.has_issues:
                return None
            issue = forge.find_issue(report.id)
        except ForgeError as exc:
            raise self._retry(exc) from None
        if issue is None:
            return None
        if issue.is_pull_request:
            return Delivery(PULL_REQUEST_OPENED, issue.number, issue.url)
        return Delivery(ISSUE_OPENED, issue.number, issue.url)

    def open_view(self) -> dict:
        """Open reports by page and block (no reader text), reused for a while."""
        forge = self.forge
        if not (forge.has_issues or forge.has_pull_requests):
            return triage.triage_view([], [])
        try:
            return self.open_reports.view(forge)
        except ForgeError as exc:
            raise self._retry(exc) from None

    def deliver(self, report: Report) -> Delivery:
        forge = self.forge
        try:
            # A reader's "Add to #N" (report.joins) asks to join even where joining is
            # off; either way the same-report rule decides, never the hint alone.
            wants_join = self.join_duplicates or report.joins is not None
            if wants_join and (forge.has_issues or forge.has_pull_requests):
                joined = fixer.join_duplicate(
                    forge, report, open_reports=self.open_reports.get(forge)
                )
                if joined is not None:
                    return Delivery(JOINED, *joined.joined)
            note = ""
            if self._wants_pull_request(report):
                outcome = fixer.fix_report(
                    forge, report, docs_dirs=self.docs_dirs, markdown=self.markdown, join=False
                )
                if outcome.pull_request is not None:
                    self._opened(outcome.pull_request.number, outcome.pull_request.url, report)
                    return _delivered(outcome.pull_request)
                if outcome.state == "refused" or not forge.has_issues:
                    raise Refused(f"The correction cannot be applied: {outcome.message}.")
                note = f"\n\nNo pull request was opened: {outcome.message}."
            title, body = fixer.issue_title(report), fixer.issue_body(report)
            if not forge.has_issues:
                return self._record(forge, report, title, body)
            issue = forge.open_issue(report_id=report.id, title=title, body=body + note)
            self._opened(issue.number, issue.url, report, triage.ISSUE)
        except fixer.FixError as exc:
            raise RetryLater(str(exc)) from None
        except ForgeError as exc:
            if exc.status in _PERMANENT_STATUSES:
                name = NAMES.get(forge.kind, forge.kind)
                raise Refused(f"{name} refused the report ({exc.status}).") from None
            raise self._retry(exc) from None
        return Delivery(ISSUE_OPENED, issue.number, issue.url)

    def _opened(self, number, url, report: Report, kind: str = triage.PULL_REQUEST) -> None:
        """Count what was just opened among the open reports (duplicates join it)."""
        if number is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.open_reports.add(triage.OpenReport(number, url, kind, report, stamp))

    def _record(self, forge: Forge, report: Report, title: str, body: str) -> Delivery:
        """A branch whose one empty commit records a report that changes nothing."""
        problems = gate.check_report(report, self.docs_dirs, self.markdown)
        if problems:
            raise Refused(_one_line(problems[0]).replace("`", ""))
        pull = forge.open_pull_request(
            branch=BRANCH_PREFIX + report.id,
            changes={},
            message=fixer.build_commit_message(report, [], record=True),
            title=title,
            body=body,
            report_id=report.id,
        )
        return _delivered(pull)

    def _site(self):
        if self._manifest is None:
            return None
        try:
            return self._manifest()
        except Exception as exc:  # unreadable now: try again later, never guess
            raise RetryLater(f"the site manifest cannot be read: {exc}") from None

    def _retry(self, exc: ForgeError) -> RetryLater:
        # The forge already honoured Retry-After; still limited: pause every send.
        limited = exc.status in (403, 429)
        return RetryLater(str(exc), self.limit_pause if limited else None)

    def _wants_pull_request(self, report: Report) -> bool:
        return self.pull_requests and any(b.replacement is not None for b in report.blocks)


class GitBackend(ForgeBackend):
    """Reports become branches of a local git repository (`LocalGitForge`).

    Args:
        repository: the repository (work tree or bare).
        base_branch: the branch reports start from (default: what ``HEAD`` names).

    Raises:
        ValueError: when ``repository`` is not a git repository.
    """

    def __init__(
        self,
        repository: str,
        base_branch: str = "",
        *,
        docs_dirs: Sequence[str] | None = None,
        markdown: gate.MarkdownConfig | None = None,
        manifest: Callable[[], Any] | None = None,
    ):
        try:
            LocalGitForge(repository, base_branch)
        except ForgeError as exc:
            raise ValueError(f"git_repository: {exc}") from None
        super().__init__(
            lambda: LocalGitForge(repository, base_branch),
            name="git",
            docs_dirs=docs_dirs,
            markdown=markdown,
            manifest=manifest,
        )

    def list_reports(self) -> list[tuple[str, Report]]:
        """Every report branch with the report its commit message carries, oldest first."""
        found = []
        for name, message in self.forge.recorded_reports(BRANCH_PREFIX):
            try:
                found.append((name, gate.report_from_commit(message)))
            except ReportError:
                continue  # a branch someone else named erratum/...
        return found


def _delivered(pull: PullRequestInfo) -> Delivery:
    if pull.number is None:
        return Delivery(BRANCH_CREATED, branch=pull.branch)
    return Delivery(PULL_REQUEST_OPENED, pull.number, pull.url, pull.branch)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


__all__ = ["Backend", "Delivery", "ForgeBackend", "GitBackend", "Refused", "RetryLater"]
