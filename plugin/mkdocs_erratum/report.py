"""The one report schema shared by the widget, the issue body, the fixer and the service.

A report says: on this page, built from this commit, these lines of this Markdown file
are wrong; here is what the reader suggests instead. It is serialised as JSON; inside an
issue body it sits in a fenced block whose info string is ``erratum-report`` so that
`parse_issue_body` finds it again. Nothing here talks to GitHub or MkDocs.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_VERSION = 1
REPORT_FENCE_INFO = "erratum-report"
MAX_TEXT_CHARS = 20_000
"""Longest original or replacement text a block may carry (characters)."""
MAX_COMMENT_CHARS = 5_000
MAX_BLOCKS = 20

_REPORT_ID_RE = re.compile(r"^r-[0-9a-f]{16}$")
_BLOCK_RE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?:json[ \t]+)?" + re.escape(REPORT_FENCE_INFO) + r"[ \t]*\n"
    r"(?P<body>.*?)\n(?P=fence)[ \t]*$",
    re.M | re.S,
)


class ReportError(ValueError):
    """A report that does not follow the schema; the message says which field is wrong."""


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
    """``OWNER/NAME`` on GitHub, when the site knows it."""
    commit: str | None = None
    """The commit the site was built from (40 hex digits), when known."""
    branch: str | None = None
    id: str = field(default_factory=new_report_id)
    reporter: str | None = None
    """The reporter's GitHub login, when they gave one."""
    version: int = REPORT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return asdict(self)

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
        if repository is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
            raise ReportError("repository: expected OWNER/NAME")
        return cls(
            page_url=_field(data, "page_url", str),
            blocks=blocks,
            comment=comment,
            repository=repository,
            commit=commit,
            branch=_field(data, "branch", str, default=None),
            id=report_id,
            reporter=_field(data, "reporter", str, default=None),
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
    payload = report.to_json()
    fence = "```"
    while fence in payload:
        fence += "`"
    return f"{fence}json {REPORT_FENCE_INFO}\n{payload}\n{fence}"


def parse_issue_body(body: str) -> Report:
    """Find and validate the report carried by an issue body.

    Raises:
        ReportError: when the body has no report block or the block is invalid.
    """
    match = _BLOCK_RE.search(body.replace("\r\n", "\n"))
    if not match:
        raise ReportError(f"issue body: no ```{REPORT_FENCE_INFO} block found")
    return Report.from_json(match.group("body"))


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
