"""Repository facts on a real git repository: committed text of modified files."""

from __future__ import annotations

import pytest

from mkdocs_erratum import repository
from mkdocs_erratum.repository import read_repository
from tests.conftest import git

COMMITTED = {
    "docs/index.md": b"# Index\n\nCommitted.\n",
    "docs/a b.md": b"Spaces in the name\r\nand CRLF.\n",
    "docs/clean.md": b"Never touched.\n",
    "docs/empty.md": b"",
    "docs/line\nbreak.md": b"A newline in the name.\n",
}


@pytest.fixture
def edited_repo(tmp_path):
    for name, data in COMMITTED.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "pages")
    for name in ("docs/index.md", "docs/a b.md", "docs/empty.md", "docs/line\nbreak.md"):
        (tmp_path / name).write_bytes(b"Edited, not committed.\n")
    (tmp_path / "docs" / "new.md").write_bytes(b"Staged, not committed.\n")
    git(tmp_path, "add", "docs/new.md")
    return tmp_path


def test_modified_files_read_at_head_in_one_batch(edited_repo, monkeypatch):
    facts = read_repository(str(edited_repo))
    assert facts.modified == {
        "docs/index.md",
        "docs/a b.md",
        "docs/empty.md",
        "docs/line\nbreak.md",
        "docs/new.md",
    }
    shows = []
    real_git = repository._git
    monkeypatch.setattr(repository, "_git", lambda *a, **k: shows.append(a) or real_git(*a, **k))
    for name in ("docs/index.md", "docs/a b.md", "docs/empty.md", "docs/line\nbreak.md"):
        assert facts.committed_text(name) == COMMITTED[name]
    assert facts.committed_text("docs/new.md") is None  # not at HEAD: the working copy
    assert facts.committed_text("docs/clean.md") is None  # unchanged: the working copy
    # Only the name a batch request cannot hold (a newline) went through `git show`.
    assert [args[-1] for args in shows] == [f"{facts.commit}:docs/line\nbreak.md"]


def test_too_many_modified_files_are_read_one_by_one(edited_repo, monkeypatch):
    monkeypatch.setattr(repository, "MAX_BATCH_FILES", 1)
    facts = read_repository(str(edited_repo))
    assert facts.committed_text("docs/a b.md") == COMMITTED["docs/a b.md"]
    assert facts.committed_text("docs/new.md") is None


@pytest.mark.parametrize(
    ("names", "out", "expected"),
    [
        (["a"], b"", {}),  # git said nothing: each file is read when asked for
        (["a", "b"], b"9 blob 3\nabc\n", {"a": b"abc"}),  # cut short after the first
        (["a"], b"9 blob 9\nabc\n", {}),  # a blob shorter than announced
        (["x blob 1"], b"c:x blob 1 missing\n", {"x blob 1": None}),
        (["s"], b"9 commit 2\nxy\n", {"s": None}),  # not a file's text
    ],
)
def test_batch_output_is_parsed_strictly(names, out, expected):
    assert repository._batch_blobs(names, out) == expected


def test_facts_read_from_a_subfolder_name_files_from_the_root(edited_repo):
    """All the git commands start at once from the site's folder (a subfolder, here):
    the modified files are still named from the root, whatever diff.relative says."""
    git(edited_repo, "config", "diff.relative", "true")
    git(edited_repo, "remote", "add", "origin", "https://github.com/acme/guide.git")
    facts = read_repository(str(edited_repo / "docs"))
    assert facts.root == str(edited_repo)
    assert facts.branch == "main" and facts.remote_url == "https://github.com/acme/guide.git"
    assert "docs/index.md" in facts.modified and "index.md" not in facts.modified
    assert facts.committed_text("docs/index.md") == COMMITTED["docs/index.md"]


def test_a_repository_without_commits_has_a_root_and_a_branch(tmp_path):
    git(tmp_path, "init", "-q", "-b", "draft")
    facts = read_repository(str(tmp_path))
    assert (facts.root, facts.commit, facts.branch) == (str(tmp_path), None, "draft")
    assert facts.modified == frozenset()
