"""Facts about the git repository a site is built from: root, commit, branch, remote.

Read once per build with plain ``git`` commands. A site outside any repository is a
normal case: `RepositoryFacts.root` is then None and paths are relative to the folder
of ``mkdocs.yml``.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RepositoryFacts:
    """What a build knows about its repository."""

    base_dir: str
    """Absolute folder that source paths are relative to (git root, or the config folder)."""
    root: str | None = None
    """Absolute git root, or None when the site is not in a git repository."""
    commit: str | None = None
    """Full SHA of HEAD, or None (not in git, or no commit yet)."""
    branch: str | None = None
    """Current branch, or None (detached HEAD or not in git)."""
    default_branch: str | None = None
    """The default branch of ``origin`` (what ``origin/HEAD`` names), when git knows it."""
    remote_url: str | None = None
    """URL of the ``origin`` remote, when there is one."""
    modified: frozenset[str] = field(default_factory=frozenset)
    """Tracked files (relative to root) whose working copy differs from HEAD."""

    def relative_path(self, abs_path: str) -> str | None:
        """``abs_path`` relative to `base_dir` with forward slashes, or None if outside.

        >>> RepositoryFacts("/repo").relative_path("/repo/docs/a b.md")
        'docs/a b.md'
        >>> RepositoryFacts("/repo").relative_path("/elsewhere/x.md") is None
        True
        """
        rel = os.path.relpath(self._real_path(abs_path), self._real_base_dir)
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            return None
        return rel.replace(os.sep, "/")

    @functools.cached_property
    def _real_base_dir(self) -> str:
        return os.path.realpath(self.base_dir)  # asked for every page: resolved once

    @functools.cached_property
    def _real_dirs(self) -> dict[str, str]:
        return {}

    def _real_path(self, path: str) -> str:
        """`os.path.realpath`, with each folder resolved once: pages share folders."""
        folder, name = os.path.split(path)
        if not os.path.isabs(path) or name in ("", ".", "..") or os.path.islink(path):
            return os.path.realpath(path)
        real = self._real_dirs.get(folder)
        if real is None:
            real = self._real_dirs[folder] = os.path.realpath(folder)
        return os.path.join(real, name)

    def committed_text(self, rel_path: str) -> bytes | None:
        """The bytes of ``rel_path`` at HEAD when its working copy differs, else None."""
        if self.root is None or self.commit is None or rel_path not in self.modified:
            return None
        out = _git(self.root, "show", f"{self.commit}:{rel_path}", text=False)
        return out


def read_repository(start_dir: str) -> RepositoryFacts:
    """Collect `RepositoryFacts` for the repository containing ``start_dir``.

    Two steps of ``git`` (a few milliseconds each, on every build): where HEAD is, then
    the remote and the modified files, asked side by side.
    """
    start_dir = os.path.abspath(start_dir)
    # Root, commit and the ref HEAD names ("HEAD" when detached), in one process.
    head = _git(start_dir, "rev-parse", "--show-toplevel", "HEAD", "--symbolic-full-name", "HEAD")
    if head is not None and head.count("\n") == 2:
        root, commit, ref = head.split("\n")
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    else:  # not in git, or no commit yet
        root = _git(start_dir, "rev-parse", "--show-toplevel")
        if root is None:
            return RepositoryFacts(base_dir=start_dir)
        commit = None
        branch = _git(root, "symbolic-ref", "-q", "--short", "HEAD")
    remote, remote_head, modified = _git_each(
        root,
        ["config", "--get", "remote.origin.url"],
        # Set by `git clone` (or `git remote set-head origin --auto`): "origin/main".
        ["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
        ["diff", "--name-only", "-z", "HEAD"] if commit else None,
    )
    return RepositoryFacts(
        base_dir=root,
        root=root,
        commit=commit or None,
        branch=branch or None,
        default_branch=remote_head.removeprefix("origin/") if remote_head else None,
        remote_url=remote or None,
        modified=frozenset(p for p in (modified or "").split("\0") if p),
    )


def _git(cwd: str, *args: str, text: bool = True):
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=text, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() if text else proc.stdout


def _git_each(cwd: str, *commands: list[str] | None) -> list[str | None]:
    """The output of each ``git`` command (None for a failure or a None command), run
    side by side."""
    started = []
    for args in commands:
        try:
            started.append(
                subprocess.Popen(
                    ["git", *args],
                    cwd=cwd,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL,
                    text=True,
                )
                if args is not None
                else None
            )
        except OSError:
            started.append(None)
    out: list[str | None] = []
    for proc in started:
        if proc is None:
            out.append(None)
            continue
        try:
            stdout, _ = proc.communicate(timeout=30)
        except subprocess.SubprocessError:
            proc.kill()
            proc.communicate()
            out.append(None)
            continue
        out.append(stdout.strip() if proc.returncode == 0 else None)
    return out
