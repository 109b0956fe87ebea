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
        """The bytes of ``rel_path`` at HEAD when its working copy differs, else None.

        The first call reads every modified file at HEAD with one ``git cat-file
        --batch`` (a page and its includes would otherwise start one ``git show`` each).
        """
        if self.root is None or self.commit is None or rel_path not in self.modified:
            return None
        committed = self._committed
        if rel_path in committed:
            return committed[rel_path]
        return _git(self.root, "show", f"{self.commit}:{rel_path}", text=False)

    @functools.cached_property
    def _committed(self) -> dict[str, bytes | None]:
        """HEAD's bytes of each modified file (None: not at HEAD), read in one process."""
        names = sorted(p for p in self.modified if "\n" not in p)  # one request a line
        if not names or len(names) > MAX_BATCH_FILES or self.root is None:
            return {}
        request = "".join(f"{self.commit}:{name}\n" for name in names).encode()
        out = _git_input(self.root, request, "cat-file", "--batch")
        return _batch_blobs(names, out) if out is not None else {}


MAX_BATCH_FILES = 2000
"""Modified files read at once; beyond, each is read when asked for (a reformatted tree)."""


def _batch_blobs(names: list[str], out: bytes) -> dict[str, bytes | None]:
    """Each name's blob in the output of ``git cat-file --batch``, None when missing.

    >>> _batch_blobs(["a.md", "b c.md"], b"1f0e blob 2\\nhi\\nxyz:b c.md missing\\n")
    {'a.md': b'hi', 'b c.md': None}
    """
    found: dict[str, bytes | None] = {}
    pos = 0
    for name in names:
        eol = out.find(b"\n", pos)
        if eol < 0:
            break  # cut short: the rest is read one by one
        parts = out[pos:eol].split(b" ")
        if len(parts) == 3 and parts[1] in _OBJECT_TYPES and parts[2].isdigit():
            size = int(parts[2])
            if eol + 1 + size > len(out):
                break
            found[name] = out[eol + 1 : eol + 1 + size] if parts[1] == b"blob" else None
            pos = eol + 1 + size + 1  # the content, then a newline
        else:  # "<request> missing" (or ambiguous): not at HEAD
            found[name] = None
            pos = eol + 1
    return found


_OBJECT_TYPES = frozenset({b"blob", b"tree", b"commit", b"tag"})


def read_repository(start_dir: str) -> RepositoryFacts:
    """Collect `RepositoryFacts` for the repository containing ``start_dir``."""
    return RepositoryReading(start_dir).facts()


class RepositoryReading:
    """`RepositoryFacts` being read: the ``git`` commands start when it is made, side by
    side (a few milliseconds each, on every build), and `facts` waits for them. A host
    can start them early (the MkDocs plugin: while MkDocs still checks its
    configuration) and take the facts when it needs them."""

    def __init__(self, start_dir: str):
        self.start_dir = os.path.abspath(start_dir)
        self._started = _start_each(
            self.start_dir,
            # Root, commit and the ref HEAD names ("HEAD" when detached), in one process.
            ["rev-parse", "--show-toplevel", "HEAD", "--symbolic-full-name", "HEAD"],
            ["config", "--get", "remote.origin.url"],
            # Set by `git clone` (or `git remote set-head origin --auto`): "origin/main".
            ["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
            # Paths relative to the root whatever diff.relative says.
            ["diff", "--name-only", "-z", "--no-relative", "HEAD"],
        )
        self._facts: RepositoryFacts | None = None

    def facts(self) -> RepositoryFacts:
        if self._facts is None:
            self._facts = self._collect()
        return self._facts

    def _collect(self) -> RepositoryFacts:
        head, remote, remote_head, modified = _collect_each(self._started)
        if head is not None and head.count("\n") == 2:
            root, commit, ref = head.split("\n")
            branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
            if modified is None:  # a git without --no-relative: asked again from the root
                (modified,) = _git_each(root, ["diff", "--name-only", "-z", "HEAD"])
        else:  # not in git, or no commit yet
            root = _git(self.start_dir, "rev-parse", "--show-toplevel")
            if root is None:
                return RepositoryFacts(base_dir=self.start_dir)
            commit, modified = None, None
            branch = _git(root, "symbolic-ref", "-q", "--short", "HEAD")
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


def _git_input(cwd: str, data: bytes, *args: str) -> bytes | None:
    """The output of ``git args`` given ``data`` on its standard input, or None."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=data, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _git_each(cwd: str, *commands: list[str] | None) -> list[str | None]:
    """The output of each ``git`` command (None for a failure or a None command), run
    side by side."""
    return _collect_each(_start_each(cwd, *commands))


def _start_each(cwd: str, *commands: list[str] | None) -> list[subprocess.Popen | None]:
    started: list[subprocess.Popen | None] = []
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
    return started


def _collect_each(started: list[subprocess.Popen | None]) -> list[str | None]:
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
