"""The one report schema shared by the widget, the issue body, the fixer and the service.

A report says: on this page, built from this commit, these lines of this Markdown file
are wrong; here is what the reader suggests instead. It is serialised as JSON; inside an
issue body or a commit message it sits in a fenced block whose info string is exactly
``json erratum-report``, and `parse_issue_body` finds it again by parsing the text as
CommonMark (markdown-it-py, as GitHub does): only a top-level fence counts, so a block a
reader typed inside a quote, a list or another fence is never taken for the report.

One issue, one report: two different report blocks mean a person must look
(`AmbiguousReport`), except in the long-report case. A report too long for a link is
opened as a short block that says it is truncated (``"truncated": true``, no texts) and
carries the report id; the complete block the reader pastes, in the body or in a comment
of their own (the caller decides whose comments count), has the same id and wins.
Nothing here talks to GitHub or MkDocs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .text_rules import fenced, is_project_path

REPORT_VERSION = 1
REPORT_FENCE_INFO = "erratum-report"
REPORT_INFO = "json " + REPORT_FENCE_INFO
"""The exact info string of a report's fenced block."""
MAX_TEXT_CHARS = 20_000
"""Longest original or replacement text a block may carry (characters)."""
MAX_COMMENT_CHARS = 5_000
MAX_BLOCKS = 20

_REPORT_ID_RE = re.compile(r"^r-[0-9a-f]{16}$")


@functools.cache
def _commonmark():
    """The CommonMark parser GitHub follows; imported on first use, so a build never pays."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


class ReportError(ValueError):
    """A report that does not follow the schema; the message says which field is wrong."""


class AmbiguousReport(ReportError):
    """A text carries more than one distinct report: a person must look."""


def text_hash(text: str) -> str:
    """The hash that identifies an original text: sha256 of its UTF-8 bytes, hex.

    >>> text_hash("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_report_id() -> str:
    """A fresh random report id, e.g. ``r-0123456789abcdef``."""
    return "r-" + secrets.token_hex(8)


@dataclass
class ReportBlock:
    """One reported block: lines ``start..end`` (1-based, inclusive) of ``path``."""

    path: str
    start: int
    end: int
    original: str | None = None
    """The original lines, joined with newlines (may be dropped to shorten a URL)."""
    original_sha256: str = ""
    """`text_hash` of the original lines; always present, it identifies them."""
    replacement: str | None = None
    """The reader's suggested text for the whole range, or None."""


@dataclass
class Report:
    """A reader's report about one page."""

    page_url: str
    blocks: list[ReportBlock]
    comment: str = ""
    repository: str | None = None
    """The project path (``OWNER/NAME``, ``group/sub/project``), when the site knows it."""
    commit: str | None = None
    """The commit the site was built from (40 hex digits), when known."""
    branch: str | None = None
    id: str = field(default_factory=new_report_id)
    reporter: str | None = None
    """A login the reader typed: never trusted (not credited, not pinged, not a trailer).

    Who reported is the author of the issue as the forge says, never this field."""
    version: int = REPORT_VERSION
    truncated: bool = False
    """The short block of a report too long for a link: no texts, locators and id only."""
    joins: int | None = None
    """The open issue or pull request the reader chose to add this report to ("Add to
    #12" in the widget). A hint, never trusted alone: the report joins an open thread
    only when `mkdocs_erratum.triage.same_lines` says it is the same report."""

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (``truncated`` only when true, ``joins``
        only when set)."""
        data = asdict(self)
        if not self.truncated:
            del data["truncated"]
        if self.joins is None:
            del data["joins"]
        return data

    def to_json(self) -> str:
        """The report as compact JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """Validate plain data and build a report.

        Raises:
            ReportError: naming the first field that is missing or wrong.
        """
        if not isinstance(data, dict):
            raise ReportError("report: expected a JSON object")
        version = data.get("version")
        if version != REPORT_VERSION:
            raise ReportError(f"version: unsupported report version {version!r}")
        report_id = _field(data, "id", str)
        if not _REPORT_ID_RE.match(report_id):
            raise ReportError("id: expected 'r-' followed by 16 lowercase hex digits")
        blocks_data = _field(data, "blocks", list)
        if not 1 <= len(blocks_data) <= MAX_BLOCKS:
            raise ReportError(f"blocks: expected 1 to {MAX_BLOCKS} blocks")
        blocks = [_block_from_dict(i, b) for i, b in enumerate(blocks_data)]
        comment = _field(data, "comment", str, default="")
        if len(comment) > MAX_COMMENT_CHARS:
            raise ReportError(f"comment: longer than {MAX_COMMENT_CHARS} characters")
        commit = _field(data, "commit", str, default=None)
        if commit is not None and not re.fullmatch(r"[0-9a-f]{40}", commit):
            raise ReportError("commit: expected 40 lowercase hex digits")
        repository = _field(data, "repository", str, default=None)
        if repository is not None and not is_project_path(repository):
            raise ReportError("repository: expected OWNER/NAME (group/sub/project on GitLab)")
        joins = data.get("joins")
        if joins is not None and (type(joins) is not int or not 0 < joins < 2**31):
            raise ReportError("joins: expected an issue or pull request number")
        return cls(
            page_url=_field(data, "page_url", str),
            blocks=blocks,
            comment=comment,
            repository=repository,
            commit=commit,
            branch=_field(data, "branch", str, default=None),
            id=report_id,
            reporter=_field(data, "reporter", str, default=None),
            truncated=_field(data, "truncated", bool, default=False) is True,
            joins=joins,
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Parse and validate JSON text (see `from_dict`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportError(f"report: not valid JSON ({exc.msg} at {exc.pos})") from exc
        return cls.from_dict(data)


def format_report_block(report: Report) -> str:
    """The fenced block that carries ``report`` inside an issue or pull request body."""
    return fenced(report.to_json(), REPORT_INFO)


def report_blocks(text: str) -> list[str]:
    """The contents of the top-level fenced blocks of ``text`` whose info is `REPORT_INFO`.

    ``text`` is parsed as CommonMark: a fence inside a block quote, a list item, an HTML
    block or another fence is not top-level and does not count.

    >>> quoted = "> ```json erratum-report\\n> {}\\n> ```\\n\\n"
    >>> report_blocks(quoted + "```json erratum-report\\n[]\\n```")
    ['[]']
    """
    tokens = _commonmark().parse(text.replace("\r\n", "\n").replace("\0", "\ufffd"))
    return [
        t.content.rstrip("\n")
        for t in tokens
        if t.type == "fence" and t.level == 0 and t.info.strip() == REPORT_INFO
    ]


def parse_issue_body(body: str, pasted: Iterable[str] = ()) -> Report:
    """The one report carried by an issue body (and, for a long report, pasted texts).

    Args:
        body: the issue body (or a commit message).
        pasted: other texts where the reader may have pasted the complete report of a
            truncated one: the comments of the issue's own author. Only a complete block
            with the truncated block's id and locators is taken from them.

    Raises:
        AmbiguousReport: when the body carries two different reports (other than a
            truncated one and its complete version), or pasted texts disagree.
        ReportError: when the body has no report block or the block is invalid.
    """
    found = report_blocks(body)
    if not found:
        raise ReportError(f"issue body: no ```{REPORT_INFO} block found")
    reports = _distinct(found)
    if len(reports) == 1:
        (report,) = reports
        if not report.truncated:
            return report
        complete = _distinct([b for text in pasted for b in report_blocks(text)], strict=False)
        matches = [r for r in complete if _completes(report, r)]
        if len(matches) > 1:
            raise AmbiguousReport(f"{len(matches)} complete reports pasted for {report.id}")
        return matches[0] if matches else report
    short = [r for r in reports if r.truncated]
    full = [r for r in reports if not r.truncated]
    if len(short) == 1 and len(full) == 1 and _completes(short[0], full[0]):
        return full[0]
    raise AmbiguousReport(f"issue body: {len(reports)} different report blocks")


def _distinct(texts: list[str], strict: bool = True) -> list[Report]:
    """The different reports among block texts (a repeated block counts once).

    ``strict``: an invalid block raises (when it is the only one) or counts as one more
    report (a person must look); otherwise invalid blocks are skipped.
    """
    out: list[Report] = []
    errors: list[ReportError] = []
    for text in texts:
        try:
            report = Report.from_json(text)
        except ReportError as exc:
            errors.append(exc)
            continue
        if report not in out:
            out.append(report)
    if strict and errors:
        if not out and len(errors) == 1:
            raise errors[0]
        raise AmbiguousReport(
            f"issue body: {len(out) + len(errors)} report blocks, {len(errors)} invalid "
            f"({errors[0]})"
        )
    return out


def _completes(short: Report, full: Report) -> bool:
    """Whether ``full`` is the complete version of truncated ``short``."""

    def where(report: Report) -> list[tuple[str, int, int, str]]:
        return [(b.path, b.start, b.end, b.original_sha256) for b in report.blocks]

    return (
        short.truncated
        and not full.truncated
        and full.id == short.id
        and where(full) == where(short)
        and full.page_url == short.page_url
    )


def _field(data: dict, name: str, kind: type, default: Any = ...) -> Any:
    value = data.get(name, default)
    if value is ...:
        raise ReportError(f"{name}: missing")
    if (value is not None and not isinstance(value, kind)) or (value is None and default is ...):
        raise ReportError(f"{name}: expected {kind.__name__}")
    return value


def _block_from_dict(index: int, data: Any) -> ReportBlock:
    where = f"blocks[{index}]"
    if not isinstance(data, dict):
        raise ReportError(f"{where}: expected a JSON object")
    try:
        path = _field(data, "path", str)
        start = _field(data, "start", int)
        end = _field(data, "end", int)
        original = _field(data, "original", str, default=None)
        digest = _field(data, "original_sha256", str)
        replacement = _field(data, "replacement", str, default=None)
    except ReportError as exc:
        raise ReportError(f"{where}.{exc}") from None
    if not path or path.startswith("/") or "\\" in path or ".." in path.split("/"):
        raise ReportError(f"{where}.path: expected a relative path without '..'")
    if isinstance(start, bool) or isinstance(end, bool) or not 1 <= start <= end:
        raise ReportError(f"{where}: expected 1 <= start <= end")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ReportError(f"{where}.original_sha256: expected 64 lowercase hex digits")
    for name, text in (("original", original), ("replacement", replacement)):
        if text is not None and len(text) > MAX_TEXT_CHARS:
            raise ReportError(f"{where}.{name}: longer than {MAX_TEXT_CHARS} characters")
    if original is not None and text_hash(original) != digest:
        raise ReportError(f"{where}.original_sha256: does not match the original text")
    return ReportBlock(path, start, end, original, digest, replacement)
