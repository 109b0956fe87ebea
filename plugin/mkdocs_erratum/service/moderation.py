"""Moderation: accepted reports wait ``held`` until a maintainer approves or rejects them.

With ``moderation = true`` the app stores each accepted report `HELD` instead of queued,
so nothing the reader wrote reaches the forge (or the repository) before a person looked.
`Moderation` is what both doors use, the ``/api/admin`` API (``erratum review``) and the
``/admin`` page (`mkdocs_erratum.service.admin`): list held reports with their diff, and
decide. Approval passes each report through the gate of intake again
(`mkdocs_erratum.gate.check_report` with the current manifest's docs folders and Markdown
configuration, which may have changed while it waited); one that no longer passes ends
rejected with the gate's reason instead of being sent. (The manifest's own check is not
repeated: a report made on an earlier build is relocated when it is sent, as any other.)
Rejected reports are kept for audit for ``rejected_retention_days`` and then deleted
(`Moderation.purge`). Every decision logs the count of held reports left
(``moderation_decided``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from mkdocs_erratum import gate
from mkdocs_erratum.corrections import report_diff
from mkdocs_erratum.report import Report, ReportError
from mkdocs_erratum.service.logs import log_event
from mkdocs_erratum.service.store import HELD, ReportRecord, ReportStore

REJECTED_BY_MAINTAINER = "Rejected by a maintainer."
"""The reason a rejected report carries when the maintainer gave none."""
ALL = "all"
"""Decide on every held report (``{"approve": "all"}``)."""
DAY = 86_400.0


@dataclass(frozen=True)
class HeldReport:
    """A held report as a maintainer reviews it."""

    id: str
    created_at: float
    page_url: str
    comment: str
    diff: str
    """The change it asks for, as a unified diff (`report_diff`)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """What one decision did."""

    approved: list[str]
    rejected: list[str]
    refused: dict[str, str]
    """Reports asked to be approved that the gate now refuses: id -> reason (rejected)."""
    not_held: list[str]
    """Ids that were not held (unknown, already decided): left as they are."""
    held: int
    """Reports still held after the decision."""

    def to_dict(self) -> dict:
        return asdict(self)


class Moderation:
    """Held reports over the store, and the gate that approval goes through again.

    Args:
        store: the service's store.
        manifest: a callable giving the current site manifest (it may raise: then the
            approval fails and nothing changes).
        retention_days: days a rejected report is kept before `purge` deletes it.
        wake: called after reports were queued (the worker's ``wake``).
    """

    def __init__(
        self,
        store: ReportStore,
        manifest: Callable[[], object],
        retention_days: float,
        wake: Callable[[], None] = lambda: None,
    ):
        self.store = store
        self.manifest = manifest
        self.retention_days = retention_days
        self.wake = wake

    def held(self, limit: int | None = None) -> list[HeldReport]:
        """Held reports, oldest first, each with its diff and the reader's comment."""
        return [_held_report(record) for record in self.store.held_records(limit)]

    def held_count(self) -> int:
        return self.store.counts().get(HELD, 0)

    def decide(
        self,
        approve: Iterable[str] | str = (),
        reject: Iterable[str] | str = (),
        reason: str = "",
    ) -> Decision:
        """Approve and reject held reports (`ALL`: every one held now).

        An id both approved and rejected is rejected. Approved reports are judged by the
        gate again against the current manifest first.

        Raises:
            Exception: whatever the manifest callable raises (nothing is changed then).
        """
        everyone = None
        if ALL in (approve, reject):
            everyone = [r.id for r in self.store.held_records()]
        reject_ids = list(dict.fromkeys(everyone if reject == ALL else reject))
        approve_ids = [
            i
            for i in dict.fromkeys(everyone if approve == ALL else approve)
            if i not in set(reject_ids)
        ]
        refused = self._judge(approve_ids) if approve_ids else {}
        released = self.store.release([i for i in approve_ids if i not in refused])
        if released:
            self.wake()
        why = " ".join(reason.split()) or REJECTED_BY_MAINTAINER
        rejected = self.store.dismiss(reject_ids, why)
        for report_id, why in refused.items():
            self.store.dismiss([report_id], f"No longer accepted: {why}")
        asked = set(approve_ids) | set(reject_ids)
        decided = set(released) | set(rejected) | set(refused)
        decision = Decision(
            approved=released,
            rejected=rejected,
            refused=refused,
            not_held=sorted(asked - decided),
            held=self.held_count(),
        )
        log_event(
            "moderation_decided",
            approved=len(released),
            rejected=len(rejected),
            refused=len(refused),
            held=decision.held,
        )
        return decision

    def purge(self, now: float | None = None) -> int:
        """Delete rejected reports older than the retention; logs how many."""
        now = time.time() if now is None else now
        purged = self.store.purge_rejected(now - self.retention_days * DAY)
        if purged:
            log_event("reports_purged", count=purged, retention_days=self.retention_days)
        return purged

    def _judge(self, report_ids: list[str]) -> dict[str, str]:
        """Reports among ``report_ids`` that the gate refuses now: id -> reason."""
        current = self.manifest()
        wanted = set(report_ids)
        refused = {}
        for record in self.store.held_records():
            if record.id not in wanted:
                continue
            try:
                report = Report.from_json(record.report)
            except ReportError as exc:
                refused[record.id] = _one_line(str(exc))
                continue
            problems = gate.check_report(report, current.docs_dirs, current.markdown)
            if problems:
                refused[record.id] = _one_line(problems[0].replace("`", ""))
        return refused


def _held_report(record: ReportRecord) -> HeldReport:
    try:
        report = Report.from_json(record.report)
    except ReportError as exc:  # stored by an older version: shown, never sent as is
        return HeldReport(record.id, record.created_at, "", "", f"(unreadable report: {exc})")
    return HeldReport(
        record.id, record.created_at, report.page_url, report.comment, report_diff(report)
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


__all__ = ["ALL", "REJECTED_BY_MAINTAINER", "Decision", "HeldReport", "Moderation"]
