"""Git plumbing for the forge stand-ins: read and write a real repository without a checkout.

Every write goes through a private index file and ``git update-ref`` with the old value,
so a concurrent push to the same repository (by a test) is never overwritten silently.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass


class GitError(RuntimeError):
    """A git command failed; the message holds its stderr."""


@dataclass(frozen=True)
class TreeEntry:
    """One entry of ``git ls-tree``: mode (``100644``, ``120000``, ``040000``), type, sha."""

    mode: str
    kind: str
    sha: str
    path: str


class GitStore:
    """One git repository (bare or not) that a stand-in serves as a forge's repository."""

    def __init__(self, git_dir: str):
        self.git_dir = os.path.abspath(git_dir)

    def git(self, *args: str, data: bytes | None = None, env: dict | None = None) -> bytes:
        """Run ``git`` in this repository and return its stdout.

        Raises:
            GitError: when git exits with a non-zero status.
        """
        proc = subprocess.run(
            ["git", "-C", self.git_dir, *args],
            input=data,
            capture_output=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    def default_branch(self) -> str:
        """The branch HEAD names (``main`` for a detached HEAD: a forge still names one)."""
        try:
            return self.git("symbolic-ref", "--short", "HEAD").decode().strip()
        except GitError:
            return "main"

    def resolve(self, ref: str) -> str | None:
        """The commit sha that ``ref`` (branch name, full ref or sha) points to, or None."""
        for candidate in (f"refs/heads/{ref}", ref):
            try:
                return (
                    self.git("rev-parse", "--verify", "-q", f"{candidate}^{{commit}}")
                    .decode()
                    .strip()
                )
            except GitError:
                continue
        return None

    def branches(self) -> dict[str, str]:
        """Branch name -> commit sha."""
        out = self.git("for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads")
        return dict(line.split(" ", 1) for line in out.decode().splitlines() if line)

    def entry(self, commit: str, path: str) -> TreeEntry | None:
        """The tree entry at ``path`` in ``commit`` (no symlink is followed), or None."""
        out = self.git("ls-tree", "-z", commit, "--", path).decode()
        for item in out.split("\0"):
            if not item:
                continue
            meta, name = item.split("\t", 1)
            mode, kind, sha = meta.split()
            if name == path:
                return TreeEntry(mode, kind, sha, name)
        return None

    def list_dir(self, commit: str, path: str) -> list[TreeEntry]:
        """Entries directly inside the folder ``path`` ("" for the root)."""
        spec = f"{commit}:{path}" if path else f"{commit}^{{tree}}"
        out = self.git("ls-tree", "-z", spec).decode()
        entries = []
        for item in out.split("\0"):
            if item:
                meta, name = item.split("\t", 1)
                mode, kind, sha = meta.split()
                entries.append(TreeEntry(mode, kind, sha, f"{path}/{name}" if path else name))
        return entries

    def blob(self, sha: str) -> bytes:
        """The bytes of a blob."""
        return self.git("cat-file", "blob", sha)

    def commit_info(self, sha: str) -> dict:
        """Author, committer, message, tree and parents of a commit."""
        fmt = "%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%T%x00%P%x00%B"
        fields = self.git("show", "-s", f"--format={fmt}", sha).decode().split("\0")
        return {
            "author": {"name": fields[0], "email": fields[1], "date": fields[2]},
            "committer": {"name": fields[3], "email": fields[4], "date": fields[5]},
            "tree": fields[6],
            "parents": fields[7].split(),
            "message": fields[8].rstrip("\n"),
        }

    def write_file(
        self,
        branch: str,
        parent: str,
        path: str,
        content: bytes,
        message: str,
        author: tuple[str, str],
        committer: tuple[str, str],
    ) -> tuple[str, str]:
        """Commit ``content`` at ``path`` on top of ``parent`` and move ``branch`` there.

        Returns:
            (commit sha, blob sha).

        Raises:
            GitError: when ``branch`` no longer points at ``parent`` (a concurrent write).
        """
        sha = self.write_files(branch, parent, {path: content}, message, author, committer)
        return sha, self.entry(sha, path).sha

    def write_files(
        self,
        branch: str,
        parent: str,
        files: dict[str, bytes],
        message: str,
        author: tuple[str, str],
        committer: tuple[str, str],
        *,
        new_branch: bool = False,
    ) -> str:
        """Commit ``files`` (path -> content) on top of ``parent``, one commit, and point
        ``branch`` at it (``new_branch``: create it; else it must point at ``parent``).

        Returns:
            The commit sha.

        Raises:
            GitError: when ``branch`` moved meanwhile, or exists while ``new_branch``.
        """
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.git("read-tree", parent, env=env)
            for path, content in files.items():
                blob = self.git("hash-object", "-w", "--stdin", data=content).decode().strip()
                self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self.git("write-tree", env=env).decode().strip()
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
        }
        commit = self.git(
            "commit-tree", tree, "-p", parent, "-F", "-", data=message.encode(), env=env
        )
        sha = commit.decode().strip()
        self.git("update-ref", f"refs/heads/{branch}", sha, "0" * 40 if new_branch else parent)
        return sha

    def create_branch(self, branch: str, sha: str) -> None:
        """Create ``refs/heads/<branch>`` at ``sha``; fails if it exists."""
        self.git("update-ref", f"refs/heads/{branch}", sha, "0" * 40)

    def has_commit(self, sha: str) -> bool:
        """Whether ``sha`` names a commit in this repository (or its alternates)."""
        try:
            self.git("cat-file", "-e", f"{sha}^{{commit}}")
        except GitError:
            return False
        return True

    def fork_to(self, target_dir: str) -> GitStore:
        """A bare clone sharing this repository's objects (as GitHub forks share a network)."""
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--shared", self.git_dir, target_dir],
            check=True,
            capture_output=True,
        )
        return GitStore(target_dir)
