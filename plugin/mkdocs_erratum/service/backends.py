"""Where the service sends reports: a `Backend` protocol and its two implementations.

``git``: a local repository (work tree or bare); each report becomes a branch
``erratum/<report id>`` holding one commit that replaces exactly the reported lines (or
changes nothing, when the reader only commented), with the report in the commit message.
What may change is the gate's decision (`mkdocs_erratum.gate`), as for ``erratum fix``:
the paths' scope, read from the repository's own tree (no symbolic link anywhere on a
path), the replacements' safety, and where the reported lines are (`gate.plan_file`).
The branch is created with a compare-and-swap on the ref, so a report makes at most one
branch however often it is retried. ``github``: through the gateway and the fixer.

A backend is called from a worker thread. It either returns a `Delivery`, raises
`RetryLater` (a transient failure: the worker retries with backoff) or `Refused` (the
report cannot be applied: it ends ``rejected`` with the reason).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mkdocs_erratum import gate
from mkdocs_erratum.report import Report, ReportError, format_report_block
from mkdocs_erratum.service.store import BRANCH_CREATED
from mkdocs_erratum.text_rules import fenced, neutralise, web_address

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

    `gate.apply_blocks` over lines (kept for callers that hold lines, not text).

    Raises:
        Refused: when two ranges overlap.

    >>> replace_lines(["a", "b", "c", "d"], [(2, 3, "B\\nC\\nX")])
    ['a', 'B', 'C', 'X', 'd']
    """
    edits = [(gate.Relocation(gate.SAME, start, end), text) for start, end, text in blocks]
    try:
        return gate.apply_blocks("\n".join(lines), edits).split("\n")
    except gate.GateError:
        raise Refused("Two reported blocks overlap; send them as separate reports.") from None


def commit_message(report: Report) -> str:
    """The commit message of a report's branch: summary, comment, page, the report block.

    The reader's comment is neutralised and fenced, so it can neither mention anyone nor
    open a fence that `gate.report_from_commit` would read; no trailer is written.
    """
    first = report.blocks[0]
    more = f" and {len(report.blocks) - 1} more" if len(report.blocks) > 1 else ""
    verb = "correct" if any(b.replacement is not None for b in report.blocks) else "report"
    subject = f"erratum: {verb} {first.path} lines {first.start}-{first.end}{more}"
    parts = [" ".join(subject.split()), ""]
    if report.comment.strip():
        parts += [fenced(neutralise(report.comment.strip()), "text"), ""]
    parts += [f"Page: {web_address(report.page_url)}", f"Report: {report.id}", ""]
    parts.append(format_report_block(report))
    return "\n".join(parts) + "\n"


_GIT_KINDS = {"040000": gate.FOLDER, "100644": gate.FILE, "100755": gate.FILE, "120000": gate.LINK}


class GitBackend:
    """Reports become branches of a local git repository."""

    name = "git"

    def __init__(
        self,
        repository: str,
        base_branch: str = "",
        *,
        docs_dirs: Sequence[str] = ("docs",),
        markdown: gate.MarkdownConfig | None = None,
        manifest: Callable[[], Any] | None = None,
    ):
        self.repository = os.path.abspath(repository)
        self.base_branch = base_branch or "HEAD"
        self._docs_dirs = tuple(docs_dirs)
        self._markdown = markdown
        self._manifest = manifest
        """The service's current site manifest (a `manifest.Manifest`), when it has one:
        then its docs folders and Markdown configuration are the gate's, as at intake."""
        if self._git("rev-parse", "--git-dir", check=False) is None:
            raise ValueError(f"git_repository: {self.repository} is not a git repository")

    @property
    def docs_dirs(self) -> tuple[str, ...]:
        """Folders whose Markdown files reports may change (`gate.check_scope`)."""
        site = self._site()
        return tuple(site.docs_dirs) if site is not None else self._docs_dirs

    @property
    def markdown(self) -> gate.MarkdownConfig | None:
        """The site's Markdown configuration, for `gate.check_replacement`."""
        site = self._site()
        return site.markdown if site is not None else self._markdown

    def _site(self):
        if self._manifest is None:
            return None
        try:
            return self._manifest()
        except Exception as exc:  # unreadable now: try again later, never guess
            raise RetryLater(f"the site manifest cannot be read: {exc}") from None

    def cost(self, report: Report) -> int:
        return 1

    def find(self, report: Report) -> Delivery | None:
        branch = BRANCH_PREFIX + report.id
        if self._git("rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False):
            return Delivery(BRANCH_CREATED, branch=branch)
        return None

    def deliver(self, report: Report) -> Delivery:
        docs_dirs, markdown = self.docs_dirs, self.markdown
        problems = gate.check_report(report, docs_dirs, markdown)
        if problems:
            raise Refused(_one_line(problems[0]).replace("`", ""))
        base = self._base_commit(report)
        tree_view = _GitTree(self, base)
        by_path: dict[str, list] = {}
        for block in report.blocks:
            by_path.setdefault(block.path, []).append(block)
        new_files: dict[str, tuple[str, bytes]] = {}
        for path, blocks in by_path.items():
            reason = gate.check_scope(path, docs_dirs, tree_view)
            if reason:
                raise Refused(_one_line(f"{path}: {reason}."))
            mode = tree_view.modes[path]
            data = self._git_bytes("show", f"{base}:{path}")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(f"{path} is not UTF-8 text.") from None
            plan = gate.plan_file(path, text, blocks)
            lost = plan.problems + plan.ambiguous + plan.gone + plan.already_fixed
            if lost:
                raise Refused(_one_line(f"{lost[0]}.").replace("`", ""))
            if plan.changed:
                new_files[path] = (mode, plan.new_text.encode("utf-8"))
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
                found.append((name, gate.report_from_commit(message)))
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


class _GitTree:
    """`gate.SourceTree` of a commit of a `GitBackend`'s repository (``git ls-tree``)."""

    def __init__(self, backend: GitBackend, commit: str):
        self.backend = backend
        self.commit = commit
        self.modes: dict[str, str] = {}

    def kinds(self, paths: Sequence[str]) -> dict[str, str]:
        out = self.backend._git("ls-tree", "-t", "-z", self.commit, "--", *paths, check=False)
        out = out or ""
        kinds = {}
        for entry in out.split("\0"):
            meta, _, name = entry.partition("\t")
            if not name or len(meta.split()) != 3:
                continue
            mode = meta.split()[0]
            self.modes[name] = mode
            kinds[name] = _GIT_KINDS.get(mode, gate.OTHER)
        return {p: kinds[p] for p in paths if p in kinds}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]
