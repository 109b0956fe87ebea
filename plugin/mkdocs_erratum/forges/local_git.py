"""A local git repository as a `Forge`: reports become branches, nothing else.

What the service's ``git`` backend delivers to: a repository (work tree or bare) on the
service's machine. A correction becomes branch ``erratum/<report id>`` holding one
commit that replaces exactly the relocated lines (a report without a correction: an
empty commit); the commit message is the report's only record, and carries its block
(`mkdocs_erratum.gate.report_from_commit` reads it back, `recorded_reports` lists them).
Refs are written with plumbing (``commit-tree``, ``update-ref``) and never touch the work
tree or the checked-out branch. A branch is created with a compare-and-swap on the ref,
so a report makes at most one branch however often it is retried.

There are no issues, comments, labels, forks or pull requests here: `has_issues` and
`has_pull_requests` are False, and those verbs raise `Unsupported`. Plain ``git``
commands; no client library.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from .base import (
    LOCAL_GIT,
    REPORT_LABEL,
    FileVersion,
    ForgeError,
    IssueInfo,
    NotEditable,
    ObjectKindError,
    PullRequestInfo,
    Unsupported,
    start_of_branch,
)

_ZERO_SHA = "0" * 40
_FILE_MODES = ("100644", "100755")
_LINK_MODE = "120000"
_FOLDER_MODE = "040000"


class LocalGitForge:
    """A local repository, for the service's ``git`` backend and for tests.

    Args:
        repository: the repository's folder (work tree or bare).
        base_branch: the branch reports start from (default: what ``HEAD`` names).
        author_name, author_email: who the commits are by.

    Raises:
        ForgeError: when ``repository`` is not a git repository.
    """

    kind = LOCAL_GIT
    has_issues = False
    has_pull_requests = False

    def __init__(
        self,
        repository: str,
        base_branch: str = "",
        *,
        author_name: str = "erratum service",
        author_email: str = "erratum@localhost",
    ):
        self.project = os.path.abspath(repository)
        self.web_url = Path(self.project).as_uri()
        self.base_branch = base_branch
        self._author = {
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
        }
        if self._git("rev-parse", "--git-dir", check=False) is None:
            raise ForgeError(f"{self.project} is not a git repository")

    # -- who we are -------------------------------------------------------------------

    def identity(self) -> str | None:
        return None

    def can_push(self) -> bool:
        return True

    def commit_email(self, login: str) -> str | None:
        return None

    # -- reading ----------------------------------------------------------------------

    def default_branch(self) -> str:
        """``base_branch``, else the branch ``HEAD`` names."""
        if self.base_branch:
            return self.base_branch
        head = self._git("symbolic-ref", "-q", "--short", "HEAD", check=False)
        if not head:
            raise ForgeError(f"{self.project}: HEAD names no branch; set the base branch")
        return head

    def head_commit(self, branch: str) -> str | None:
        return self._git(
            "rev-parse", "--verify", "-q", f"refs/heads/{branch}^{{commit}}", check=False
        )

    def read_file(self, path: str, ref: str) -> FileVersion | None:
        commit = self._git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
        if commit is None:
            return None
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        entries = self._tree_entries(commit, prefixes)
        for prefix in prefixes[:-1]:
            mode = entries.get(prefix, (None, None))[0]
            if mode is None:
                return None
            if mode == _LINK_MODE:
                raise ObjectKindError(f"{prefix} is a symbolic link", "link", at=prefix)
            if mode != _FOLDER_MODE:
                raise ObjectKindError(f"{prefix} is not a folder", "other", at=prefix)
        mode, sha = entries.get(path, (None, None))
        if mode is None:
            return None
        if mode == _LINK_MODE:
            raise ObjectKindError(
                f"{path} is a symbolic link; erratum does not change links", "link"
            )
        if mode not in _FILE_MODES:
            raise ObjectKindError(f"{path} is not a regular file", "other")
        data = self._run(("cat-file", "blob", sha), None, None, True) or b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotEditable(f"{path} is not UTF-8 text") from None
        return FileVersion(path, text, sha, commit)

    def find_pull_request(
        self, branch: str, report_id: str | None = None
    ) -> PullRequestInfo | None:
        """The branch, when it exists (there are no pull requests here)."""
        if self.head_commit(branch) is None:
            return None
        return PullRequestInfo(None, None, branch, self.project, created=False)

    def recorded_reports(self, prefix: str = "erratum/") -> list[tuple[str, str]]:
        """``(branch, commit message)`` of every branch under ``prefix``, oldest first."""
        out = self._git(
            "for-each-ref",
            "--sort=committerdate",
            "--format=%(refname:short)%00%(contents)%00%00",
            f"refs/heads/{prefix}",
        )
        found = []
        for entry in (out or "").split("\0\0"):
            name, _, message = entry.strip("\n").partition("\0")
            if name:
                found.append((name, message))
        return found

    # -- creating ---------------------------------------------------------------------

    def open_pull_request(
        self,
        *,
        branch: str,
        changes: Mapping[str, str],
        message: str,
        title: str,
        body: str,
        base: str | None = None,
        report_id: str | None = None,
    ) -> PullRequestInfo:
        """Branch ``branch`` with one commit of ``changes`` (may be empty) and ``message``.

        ``title`` and ``body`` have nowhere to go: the message is the record.
        """
        existing = self.find_pull_request(branch)
        if existing is not None:
            return existing
        base, base_sha = start_of_branch(self, base, self.project)
        tree = self._write_tree(base_sha, changes)
        commit = self._git(
            "commit-tree", tree, "-p", base_sha, "-F", "-", input=message, env=self._author
        )
        # Create-only: the ref must not exist yet, so a retry can never make a second one.
        if self._git("update-ref", f"refs/heads/{branch}", commit, _ZERO_SHA, check=False) is None:
            existing = self.find_pull_request(branch)
            if existing is None:
                raise ForgeError(f"could not create branch {branch}", transient=True)
            return existing
        return PullRequestInfo(None, None, branch, self.project, created=True)

    def permalink(self, commit: str, path: str, start: int, end: int) -> str:
        """``file:///repo/path@SHA#L10-L12`` (nothing serves it; it names the lines)."""
        return f"{self.web_url}/{quote(path)}@{commit}#L{start}-L{end}"

    # -- what a local repository does not have ---------------------------------------

    def read_issue(self, number: int) -> IssueInfo:
        raise self._no("issues")

    def issue_comments(self, number: int) -> list[tuple[str, str]]:
        raise self._no("issues")

    def open_issues(self, label: str | None = REPORT_LABEL) -> list[IssueInfo]:
        raise self._no("issues")

    def find_issue(self, report_id: str) -> IssueInfo | None:
        raise self._no("issues")

    def open_pull_requests(self) -> list[IssueInfo]:
        return []  # branches are the deliveries: nothing to join or to list here

    def open_issue(
        self,
        *,
        report_id: str,
        title: str,
        body: str,
        labels: Iterable[str] = (REPORT_LABEL,),
    ) -> IssueInfo:
        raise self._no("issues")

    def comment(self, number: int, body: str, *, key: str) -> str:
        raise self._no("comments")

    def comment_pull_request(self, number: int, body: str, *, key: str) -> str:
        raise self._no("pull requests")

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        raise self._no("labels")

    def fork(self) -> str:
        raise self._no("forks")

    # -- plumbing ---------------------------------------------------------------------

    def _no(self, what: str) -> Unsupported:
        return Unsupported(f"a local git repository has no {what}")

    def _tree_entries(self, commit: str, paths: list[str]) -> dict[str, tuple[str, str]]:
        """``path -> (mode, object sha)`` for those of ``paths`` that exist at ``commit``."""
        out = self._git("ls-tree", "-t", "-z", commit, "--", *paths, check=False) or ""
        entries = {}
        for entry in out.split("\0"):
            meta, _, name = entry.partition("\t")
            fields = meta.split()
            if name and len(fields) == 3:
                entries[name] = (fields[0], fields[2])
        return entries

    def _write_tree(self, base: str, changes: Mapping[str, str]) -> str:
        if not changes:
            return self._git("rev-parse", f"{base}^{{tree}}")
        modes = self._tree_entries(base, list(changes))
        with tempfile.TemporaryDirectory(prefix="erratum-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self._git("read-tree", base, env=env)
            for path, text in changes.items():
                mode = modes.get(path, ("100644", ""))[0]
                blob = self._git("hash-object", "-w", "--stdin", input=text)
                self._git("update-index", "--cacheinfo", f"{mode},{blob},{path}", env=env)
            return self._git("write-tree", env=env)

    def _git(
        self, *args: str, check: bool = True, input: str | None = None, env: dict | None = None
    ) -> str | None:
        data = input.encode("utf-8") if input is not None else None
        out = self._run(args, data, env, check)
        return None if out is None else out.decode("utf-8", errors="replace").strip()

    def _run(self, args, data, env, check) -> bytes | None:
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.project,
                input=data,
                capture_output=True,
                env={**os.environ, **(env or {})},
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ForgeError(f"git {args[0]}: {exc}", transient=True) from exc
        if proc.returncode != 0:
            if check:
                message = proc.stderr.decode("utf-8", errors="replace").strip()
                raise ForgeError(f"git {args[0]} failed: {message[:300]}", transient=True)
            return None
        return proc.stdout


__all__ = ["LocalGitForge"]
