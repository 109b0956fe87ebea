"""Where the service sends reports: a `Backend` protocol and its two implementations.

``git``: a local repository (work tree or bare); each report becomes a branch
``erratum/<report id>`` holding one commit that replaces exactly the reported lines (or
changes nothing, when the reader only commented), with the report in the commit message.
The branch is created with a compare-and-swap on the ref, so a report makes at most one
branch however often it is retried. ``github``: through the gateway and the fixer.

A backend is called from a worker thread. It either returns a `Delivery`, raises
`RetryLater` (a transient failure: the worker retries with backoff) or `Refused` (the
report cannot be applied: it ends ``rejected`` with the reason).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Protocol

from mkdocs_erratum.report import (
    Report,
    ReportError,
    format_report_block,
    parse_issue_body,
    text_hash,
)
from mkdocs_erratum.service.store import BRANCH_CREATED

BRANCH_PREFIX = "erratum/"
_ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Delivery:
    """What a report became."""

    state: str
    """``issue_opened``, ``pull_request_opened`` or ``branch_created``."""
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


def replace_lines(lines: list[str], blocks: list[tuple[int, int, str]]) -> list[str]:
    """Replace line ranges of a file, each ``(start, end, new text)``, 1-based inclusive.

    Raises:
        Refused: when two ranges overlap.

    >>> replace_lines(["a", "b", "c", "d"], [(2, 3, "B\\nC\\nX")])
    ['a', 'B', 'C', 'X', 'd']
    """
    ordered = sorted(blocks, reverse=True)
    for (start, _end, _text), (_s2, end2, _t2) in itertools.pairwise(ordered):
        if end2 >= start:
            raise Refused("Two reported blocks overlap; send them as separate reports.")
    out = list(lines)
    for start, end, text in ordered:
        out[start - 1 : end] = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return out


def commit_message(report: Report) -> str:
    """The commit message of a report's branch: summary, comment, page, the report block."""
    first = report.blocks[0]
    more = f" and {len(report.blocks) - 1} more" if len(report.blocks) > 1 else ""
    verb = "correct" if any(b.replacement is not None for b in report.blocks) else "report"
    subject = f"erratum: {verb} {first.path} lines {first.start}-{first.end}{more}"
    parts = [subject, ""]
    if report.comment:
        parts += [report.comment, ""]
    parts += [f"Page: {report.page_url}", f"Report: {report.id}", "", format_report_block(report)]
    if report.reporter:
        parts += ["", f"Reported-by: {report.reporter}"]
    return "\n".join(parts) + "\n"


class GitBackend:
    """Reports become branches of a local git repository."""

    name = "git"

    def __init__(self, repository: str, base_branch: str = ""):
        self.repository = os.path.abspath(repository)
        self.base_branch = base_branch or "HEAD"
        if self._git("rev-parse", "--git-dir", check=False) is None:
            raise ValueError(f"git_repository: {self.repository} is not a git repository")

    def cost(self, report: Report) -> int:
        return 1

    def find(self, report: Report) -> Delivery | None:
        branch = BRANCH_PREFIX + report.id
        if self._git("rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False):
            return Delivery(BRANCH_CREATED, branch=branch)
        return None

    def deliver(self, report: Report) -> Delivery:
        base = self._base_commit(report)
        by_path: dict[str, list] = {}
        for block in report.blocks:
            by_path.setdefault(block.path, []).append(block)
        new_files: dict[str, tuple[str, bytes]] = {}
        for path, blocks in by_path.items():
            entry = self._git("ls-tree", base, "--", path, check=False)
            if not entry:
                raise Refused(f"{path} does not exist in the repository.")
            mode, kind, _sha = entry.split("\t", 1)[0].split()
            if kind != "blob" or mode not in ("100644", "100755"):
                raise Refused(f"{path} is not a regular file.")
            data = self._git_bytes("show", f"{base}:{path}")
            text = data.decode("utf-8", errors="replace")
            bom = text.startswith("\ufeff")
            newline = "\r\n" if "\r\n" in text else "\n"
            lines = (text[1:] if bom else text).replace("\r\n", "\n").replace("\r", "\n")
            lines = lines.split("\n")
            for block in blocks:
                if (
                    block.end > len(lines)
                    or text_hash("\n".join(lines[block.start - 1 : block.end]))
                    != block.original_sha256
                ):
                    raise Refused(
                        f"Lines {block.start}-{block.end} of {path} no longer hold the "
                        "reported text."
                    )
            changes = [(b.start, b.end, b.replacement) for b in blocks if b.replacement is not None]
            if changes:
                out = newline.join(replace_lines(lines, changes))
                new_files[path] = (mode, (("\ufeff" if bom else "") + out).encode("utf-8"))
        tree = self._git("rev-parse", f"{base}^{{tree}}")
        if new_files:
            tree = self._write_tree(base, new_files)
        env = {
            "GIT_AUTHOR_NAME": "erratum service",
            "GIT_AUTHOR_EMAIL": "erratum@localhost",
            "GIT_COMMITTER_NAME": "erratum service",
            "GIT_COMMITTER_EMAIL": "erratum@localhost",
        }
        commit = self._git(
            "commit-tree", tree, "-p", base, "-F", "-", input=commit_message(report), env=env
        )
        branch = BRANCH_PREFIX + report.id
        # Create-only: the ref must not exist yet, so a retry can never make a second one.
        created = self._git("update-ref", f"refs/heads/{branch}", commit, _ZERO_SHA, check=False)
        if created is None:
            existing = self.find(report)
            if existing is None:
                raise RetryLater(f"could not create branch {branch}")
            return existing
        return Delivery(BRANCH_CREATED, branch=branch)

    def list_reports(self) -> list[tuple[str, Report]]:
        """Every report branch with the report its commit message carries, oldest first.

        For ``erratum list`` and ``erratum fix`` on a site that uses the git backend.
        """
        out = self._git(
            "for-each-ref",
            "--sort=committerdate",
            "--format=%(refname:short)%00%(contents)%00%00",
            f"refs/heads/{BRANCH_PREFIX}",
        )
        found = []
        for entry in (out or "").split("\0\0"):
            name, _, message = entry.strip("\n").partition("\0")
            if not name:
                continue
            try:
                found.append((name, parse_issue_body(message)))
            except ReportError:
                continue  # a branch someone else named erratum/...
        return found

    def _base_commit(self, report: Report) -> str:
        if report.commit and self._git(
            "rev-parse", "--verify", "-q", f"{report.commit}^{{commit}}", check=False
        ):
            return report.commit
        base = self._git("rev-parse", "--verify", "-q", f"{self.base_branch}^{{commit}}")
        return base

    def _write_tree(self, base: str, files: dict[str, tuple[str, bytes]]) -> str:
        with tempfile.TemporaryDirectory(prefix="erratum-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self._git("read-tree", base, env=env)
            for path, (mode, data) in files.items():
                blob = self._git("hash-object", "-w", "--stdin", input_bytes=data)
                self._git("update-index", "--cacheinfo", f"{mode},{blob},{path}", env=env)
            return self._git("write-tree", env=env)

    def _git(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        input_bytes: bytes | None = None,
        env: dict | None = None,
    ) -> str | None:
        data = input.encode("utf-8") if input is not None else input_bytes
        out = self._run(args, data, env, check)
        return None if out is None else out.decode("utf-8", errors="replace").strip()

    def _git_bytes(self, *args: str) -> bytes:
        return self._run(args, None, None, True) or b""

    def _run(self, args, data, env, check) -> bytes | None:
        full_env = {**os.environ, **(env or {})}
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.repository,
                input=data,
                capture_output=True,
                env=full_env,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise RetryLater(f"git {args[0]}: {exc}") from exc
        if proc.returncode != 0:
            if check:
                message = proc.stderr.decode("utf-8", errors="replace").strip()
                raise RetryLater(f"git {args[0]} failed: {message[:300]}")
            return None
        return proc.stdout
