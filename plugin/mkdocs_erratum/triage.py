"""Open reports seen together: the triage view, the readers' markers and duplicate joining.

``erratum list``, the service's ``GET /api/reports?page=...`` and the build-time snapshot
the widget reads all come from `triage_view`: open reports (`OpenReport`, read from a
forge by `collect_open_reports`), each block found again in the file as it is now
(`locate`), grouped by page and by block, with counts, age, state and staleness. The view
carries no reader text (no comment, no original, no replacement, no login): numbers,
links, paths, line numbers and states only, so it may be published.

**Which reports are "the same"** (`same_lines`, used by `find_duplicate`): a new report
joins an open one when one of its blocks and one of the open report's blocks

1. name the same file,
2. are found again (`mkdocs_erratum.corrections.relocate_block`, in the file as it is
   now) on lines that overlap, and
3. reported the same original text (the same ``original_sha256``).

A report on other lines of the same file, or on the same lines once their text changed,
is not the same and gets its own issue. Pure functions here, except `collect_open_reports`
and `FileLines` which read a forge through the `mkdocs_erratum.forges.base.Forge` verbs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .corrections import (
    ALREADY_FIXED,
    AMBIGUOUS,
    FUZZY,
    GONE,
    MOVED,
    SAME,
    Relocation,
    relocate_block,
    split_lines,
)
from .forges.base import Forge, ForgeError, IssueInfo
from .report import (
    REPORT_FENCE_INFO,
    AmbiguousReport,
    Report,
    ReportBlock,
    ReportError,
    parse_issue_body,
)
from .text_rules import web_address

VIEW_VERSION = 1
ISSUE, PULL_REQUEST = "issue", "pull_request"
ISSUE_ONLY = "issue only"
PULL_REQUEST_OPEN = "pull request open"
NEEDS_REVIEW = "needs review"
REVIEW_LABELS = frozenset({"erratum-needs-review", "erratum-ambiguous", "erratum-already-fixed"})
"""Labels `mkdocs_erratum.fixer` puts on an issue it could not turn into a pull request."""
STALE = frozenset({FUZZY, GONE, ALREADY_FIXED, AMBIGUOUS, "file gone"})
"""Where a block stands when its text changed since it was reported."""
_FIXES_RE = re.compile(r"^Fixes #(\d+)\b", re.MULTILINE)

LinesAt = Callable[[str, "str | None"], "list[str] | ForgeError | None"]
"""``(path, ref) -> the file's lines`` (`split_lines`), None when absent, or the error."""


@dataclass(frozen=True)
class OpenReport:
    """An open issue or pull/merge request that carries a report."""

    number: int
    url: str
    kind: str
    """`ISSUE` or `PULL_REQUEST`."""
    report: Report | None
    """None when the issue carries more than one report (a person must look)."""
    created_at: str | None = None
    """ISO 8601, as the forge says, when it says."""
    labels: tuple[str, ...] = ()
    pull_request: tuple[int, str] | None = None
    """An issue's open pull/merge request (``Fixes #N``): its number and page."""

    @property
    def state(self) -> str:
        """`PULL_REQUEST_OPEN`, `NEEDS_REVIEW` or `ISSUE_ONLY`.

        >>> OpenReport(1, "u", ISSUE, None).state
        'needs review'
        """
        if self.kind == PULL_REQUEST or self.pull_request is not None:
            return PULL_REQUEST_OPEN
        if self.report is None or REVIEW_LABELS & set(self.labels):
            return NEEDS_REVIEW
        return ISSUE_ONLY


@dataclass(frozen=True)
class Located:
    """One block of an open report, and where its lines are now."""

    open: OpenReport
    block: ReportBlock
    where: Relocation | None
    """None when the file is gone or could not be read (see ``status``)."""
    status: str
    """``unchanged``, ``moved to Lx-Ly``, ``changed (now about Lx-Ly)``, ``changed``,
    ``already fixed``, ``ambiguous``, ``file gone`` or ``not read: ...``."""

    @property
    def lines(self) -> tuple[int, int]:
        """The lines now when found, else as reported."""
        if self.where is not None and self.where.found:
            return self.where.start, self.where.end
        return self.block.start, self.block.end

    @property
    def stale(self) -> bool:
        """Whether the reported text changed since (not merely moved)."""
        return self.status == "file gone" or (self.where is not None and self.where.how in STALE)


@dataclass
class FileLines:
    """`LinesAt` over a forge, each (path, ref) read once; errors kept, not raised."""

    forge: Forge
    cache: dict = field(default_factory=dict)

    def __call__(self, path: str, ref: str | None):
        if not ref:
            return None
        if (path, ref) not in self.cache:
            try:
                version = self.forge.read_file(path, ref)
                self.cache[path, ref] = split_lines(version.text) if version else None
            except ForgeError as exc:
                self.cache[path, ref] = exc
        return self.cache[path, ref]


def status_of(where: Relocation) -> str:
    """The words `erratum list` prints for a relocation.

    >>> status_of(Relocation("moved", 5, 6))
    'moved to L5-L6'
    """
    return {
        SAME: "unchanged",
        MOVED: f"moved to L{where.start}-L{where.end}",
        FUZZY: f"changed (now about L{where.start}-L{where.end})",
        ALREADY_FIXED: "already fixed",
        AMBIGUOUS: "ambiguous",
        GONE: "changed",
    }[where.how]


def locate(reports: Iterable[OpenReport], lines_at: LinesAt, head: str | None) -> list[Located]:
    """Each block of each report, found again in its file at ``head``.

    The file at the report's own commit, when it can be read, tells which copy of a
    repeated text was reported (`relocate_block`'s ``built_lines``).
    """
    out = []
    for open_report in reports:
        if open_report.report is None:
            continue
        report = open_report.report
        for block in report.blocks:
            lines = lines_at(block.path, head)
            if isinstance(lines, ForgeError):
                out.append(Located(open_report, block, None, f"not read: {_one_line(lines)}"))
                continue
            if lines is None:
                out.append(Located(open_report, block, None, "file gone"))
                continue
            built = lines_at(block.path, report.commit) if report.commit != head else None
            where = relocate_block(lines, block, built if isinstance(built, list) else None)
            out.append(Located(open_report, block, where, status_of(where)))
    return out


def same_lines(a: Located, b: Located) -> bool:
    """Whether two located blocks are the same report (see the module docstring).

    >>> r = OpenReport(1, "u", ISSUE, None)
    >>> blk = ReportBlock("docs/a.md", 3, 3, None, "ab" * 32)
    >>> same_lines(Located(r, blk, Relocation("same", 3, 3), ""),
    ...            Located(r, blk, Relocation("moved", 3, 4), ""))
    True
    """
    if a.block.path != b.block.path or a.block.original_sha256 != b.block.original_sha256:
        return False
    if a.where is None or b.where is None or not (a.where.found and b.where.found):
        return False
    return a.where.start <= b.where.end and b.where.start <= a.where.end


def find_duplicate(
    new: Located | Sequence[Located], open_blocks: Iterable[Located]
) -> tuple[Located, Located] | None:
    """The first open block that is the same as one of the new report's located blocks.

    Returns:
        ``(new block, open block)``, or None. An open pull request wins over an issue.
    """
    fresh = [new] if isinstance(new, Located) else list(new)
    found = [(n, o) for o in open_blocks for n in fresh if same_lines(n, o)]
    found.sort(key=lambda pair: pair[1].open.state != PULL_REQUEST_OPEN)
    return found[0] if found else None


def collect_open_reports(forge: Forge, label: str) -> tuple[list[OpenReport], int]:
    """The open issues and pull/merge requests of ``forge`` that carry a report.

    An issue is a report when it carries a report block, labelled ``label`` or not
    (GitHub drops a prefilled link's labels for readers who cannot triage); an issue
    labelled ``label`` without a valid block is counted as skipped. A pull request is
    tied to the issue its body says it fixes (``Fixes #N``); one without an issue (the
    service's) counts by the report block its body carries.

    Returns:
        ``(open reports, skipped)``.
    """
    found: list[OpenReport] = []
    skipped = 0
    pulls: list[IssueInfo] = forge.open_pull_requests() if forge.has_pull_requests else []
    fixes: dict[int, tuple[int, str]] = {}
    for pull in pulls:
        match = _FIXES_RE.search(pull.body or "")
        if match:
            fixes.setdefault(int(match.group(1)), (pull.number, pull.url))
            continue
        if REPORT_FENCE_INFO not in pull.body:
            continue
        try:
            report = parse_issue_body(pull.body[:262_144])
        except ReportError:
            continue
        found.append(
            OpenReport(pull.number, pull.url, PULL_REQUEST, report, pull.created_at, pull.labels)
        )
    for issue in forge.open_issues(None) if forge.has_issues else []:
        body = issue.body[:262_144]
        if label not in issue.labels and REPORT_FENCE_INFO not in body:
            continue  # an ordinary issue
        try:
            report: Report | None = parse_issue_body(body)
        except AmbiguousReport:
            report = None
        except ReportError:
            skipped += 1
            continue
        found.append(
            OpenReport(
                issue.number,
                issue.url,
                ISSUE,
                report,
                issue.created_at,
                issue.labels,
                fixes.get(issue.number),
            )
        )
    return found, skipped


def triage_view(
    located: Sequence[Located],
    reports: Sequence[OpenReport],
    *,
    skipped: int = 0,
    head: str | None = None,
    now: float | None = None,
) -> dict:
    """The open reports grouped by page and block, as plain JSON-ready data.

    Pages sort by address, blocks by path and line; a page's and a block's ``count`` is
    the number of distinct reports on it. No reader text is included.
    """
    now = time.time() if now is None else now
    pages: dict[str, dict[tuple[str, int, int], list[Located]]] = {}
    for item in located:
        page = web_address(item.open.report.page_url)
        key = (item.block.path, *item.lines)
        pages.setdefault(page, {}).setdefault(key, []).append(item)
    out_pages = []
    for page in sorted(pages):
        blocks = []
        for (path, start, end), items in sorted(pages[page].items()):
            entries = [_entry(item, now) for item in sorted(items, key=lambda i: i.open.number)]
            blocks.append(
                {
                    "path": path,
                    "lines": [start, end],
                    "count": len({e["number"] for e in entries}),
                    "stale": any(e["stale"] for e in entries),
                    "reports": entries,
                }
            )
        numbers = {e["number"] for b in blocks for e in b["reports"]}
        out_pages.append({"page": page, "count": len(numbers), "blocks": blocks})
    review = [r for r in reports if r.report is None]
    return {
        "version": VIEW_VERSION,
        "generated_at": _iso(now),
        "head": head,
        "reports": len({r.number for r in reports}),
        "stale": len({i.open.number for i in located if i.stale}),
        "skipped": skipped,
        "needs_review": [_link(r, now) for r in review],
        "pages": out_pages,
    }


def view_for_page(view: dict, page_key: Callable[[str], bool]) -> dict:
    """``view`` with only the pages ``page_key`` accepts (by address)."""
    return {**view, "pages": [p for p in view["pages"] if page_key(p["page"])]}


def short_age(seconds: float) -> str:
    """A short age, e.g. ``5 min``, ``3 h``, ``2 d``.

    >>> short_age(30), short_age(300), short_age(7200), short_age(200_000)
    ('just now', '5 min', '2 h', '2 d')
    """
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86_400)} d"


def age_days(created_at: str | None, now: float) -> float | None:
    """Days since an ISO 8601 time (None when unknown or unreadable).

    >>> age_days("2026-01-01T00:00:00Z", datetime(2026, 1, 3, tzinfo=timezone.utc).timestamp())
    2.0
    """
    if not created_at:
        return None
    try:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return round(max(0.0, now - moment.timestamp()) / 86_400, 2)


def _entry(item: Located, now: float) -> dict:
    entry = _link(item.open, now)
    entry.update(
        status=item.status,
        stale=item.stale,
        reported_lines=[item.block.start, item.block.end],
    )
    return entry


def _link(open_report: OpenReport, now: float) -> dict:
    pull = open_report.pull_request
    return {
        "number": open_report.number,
        "url": open_report.url,
        "kind": open_report.kind,
        "state": open_report.state,
        "created_at": open_report.created_at,
        "age_days": age_days(open_report.created_at, now),
        "pull_request": {"number": pull[0], "url": pull[1]} if pull else None,
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


__all__ = [
    "ISSUE",
    "ISSUE_ONLY",
    "NEEDS_REVIEW",
    "PULL_REQUEST",
    "PULL_REQUEST_OPEN",
    "FileLines",
    "Located",
    "OpenReport",
    "age_days",
    "collect_open_reports",
    "find_duplicate",
    "locate",
    "same_lines",
    "short_age",
    "status_of",
    "triage_view",
    "view_for_page",
]
