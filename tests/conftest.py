"""Fixtures shared by the tests: a docs repository in real git, and the GitHub stand-in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

DOCS_FILES = {
    "mkdocs.yml": "site_name: Demo\nrepo_url: https://github.com/acme/docs\n",
    "docs/index.md": (
        "# Demo\n\nThe quick brown fox jumsp over the lazy dog.\n\nSecond paragraph.\n"
    ),
    "docs/guide/install.md": (
        "# Install\n\nRun pip install demo.\n\nThen run demo --help to see the the options.\n"
        "\nFinally, enjoy.\n"
    ),
    "docs/repeated.md": "# Repeated\n\nSame line.\n\nSame line.\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
    "src/demo.py": "print('demo')\n",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; return stdout."""
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def docs_repo(tmp_path: Path) -> Path:
    """A git repository (branch ``main``) holding a small MkDocs site and a symlink."""
    root = tmp_path / "docs-repo"
    for rel, text in DOCS_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "docs" / "link.md").symlink_to("index.md")
    (root / "docs" / "escape.md").symlink_to("../.github/workflows/ci.yml")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def standin(docs_repo: Path):
    """The GitHub stand-in serving ``docs_repo`` as ``acme/docs`` (checked against the spec).

    Tokens: ``maintainer-token`` (can push), ``reader-token`` (cannot: forks).
    """
    from standin import GitHubStandIn

    server = GitHubStandIn(str(docs_repo), "acme/docs", known_users={"alice"}).start()
    yield server
    server.stop()
    assert server.violations == [], "\n".join(server.violations)
