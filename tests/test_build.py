"""Real `mkdocs build` and `properdocs build` runs of a fixture site, element by element."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lhtml

FIXTURE = Path(__file__).parent / "sites" / "basic"
ATTR_RE = re.compile(r'\sdata-erratum-[\w-]+="[^"]*"')

INDEX_EXPECTED = [
    ("h1", "Welcome to the fixture", "docs/index.md#L5-L5"),
    ("p", "This site exercises the source map from", "docs/index.md#L7-L8"),
    ("div", "A note with a title The note body spans", "docs/index.md#L12-L15"),
    ("p", "A note with a title", "docs/index.md#L12-L12"),
    ("p", "The note body spans two lines of text.", "docs/index.md#L14-L15"),
    ("div", "First tabSecond tab Content of the first", "docs/index.md#L17-L23"),
    ("label", "First tab", "docs/index.md#L17-L17"),
    ("label", "Second tab", "docs/index.md#L21-L21"),
    ("div", "Content of the first tab.", "docs/index.md#L19-L19"),
    ("p", "Content of the first tab.", "docs/index.md#L19-L19"),
    ("div", "Content of the second tab.", "docs/index.md#L23-L23"),
    ("p", "Content of the second tab.", "docs/index.md#L23-L23"),
    ("ol", 'A list item with code: print("hello from', "docs/index.md#L25-L31"),
    ("li", 'A list item with code: print("hello from', "docs/index.md#L25-L29"),
    ("p", "A list item with code:", "docs/index.md#L25-L25"),
    ("div", 'print("hello from a list")', "docs/index.md#L27-L29"),
    ("li", "A list item with a footnote1.", "docs/index.md#L31-L31"),
    ("p", "A list item with a footnote1.", "docs/index.md#L31-L31"),
    ("table", "Name Value alpha 1 beta", "docs/index.md#L33-L36"),
    ("tr", "Name Value", "docs/index.md#L33-L33"),
    ("th", "Name", "docs/index.md#L33-L33"),
    ("th", "Value", "docs/index.md#L33-L33"),
    ("tr", "alpha 1", "docs/index.md#L35-L35"),
    ("td", "alpha", "docs/index.md#L35-L35"),
    ("td", "1", "docs/index.md#L35-L35"),
    ("tr", "beta", "docs/index.md#L36-L36"),
    ("td", "beta", "docs/index.md#L36-L36"),
    ("td", "", "docs/index.md#L36-L36"),
    ("p", "A paragraph that lives in a snippet file", "docs/snippets/shared.md#L1-L1"),
    ("p", "Nested snippet paragraph.", "docs/snippets/nested.md#L1-L1"),
    ("hr", "", "docs/index.md#L40-L40"),
    ("p", "Closing words of the HTML page.", "docs/index.md#L42-L42"),
    ("li", "The footnote text lives here. ↩", "docs/index.md#L44-L44"),
    ("p", "The footnote text lives here. ↩", "docs/index.md#L44-L44"),
]
SETUP_EXPECTED = [
    ("h1", "Setting up", "docs/guide/setup.md#L1-L1"),
    ("dl", "Term one The first definition.", "docs/guide/setup.md#L3-L4"),
    ("dt", "Term one", "docs/guide/setup.md#L3-L3"),
    ("dd", "The first definition.", "docs/guide/setup.md#L4-L4"),
    ("div", "Card paragraph inside raw HTML.", "docs/guide/setup.md#L6-L10"),
    ("p", "Card paragraph inside raw HTML.", "docs/guide/setup.md#L8-L8"),
    ("p", "A paragraph with attributes.", "docs/guide/setup.md#L12-L13"),
    ("details", "Collapsible Hidden details body.", "docs/guide/setup.md#L15-L16"),
    ("summary", "Collapsible", "docs/guide/setup.md#L15-L15"),
    ("p", "Hidden details body.", "docs/guide/setup.md#L16-L16"),
]
CONTENT = "article, [role=main], main"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def make_site(root: Path, *, sub: str = "", in_git: bool = True, extra: str = "") -> Path:
    """Copy the fixture to ``root/sub`` (``root`` is the repository); return the config path."""
    site = root / sub if sub else root
    shutil.copytree(FIXTURE, site)
    config = site / "mkdocs.yml"
    config.write_text(config.read_text() + extra)
    if in_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "fixture")
    return config


def run_build(config: Path, out: Path, *args: str, tool: str = "mkdocs", plugins: bool = True):
    if plugins and "plugins:" not in config.read_text():
        config.write_text(config.read_text() + "\nplugins:\n  - erratum\n")
    proc = subprocess.run(
        [sys.executable, "-m", tool, "build", "-f", str(config), "-d", str(out), *args],
        capture_output=True,
        text=True,
        cwd=config.parent,  # snippet base paths are relative to it, as for a user
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    return proc


def content(page: Path):
    doc = lhtml.parse(str(page)).getroot()
    for selector in CONTENT.split(","):
        found = doc.cssselect(selector.strip())
        if found:
            return found[0]
    raise AssertionError(f"no content element in {page}")


def annotated(page: Path) -> list[tuple[str, str, str]]:
    out = []
    for el in content(page).iter():
        value = el.get("data-erratum-src")
        if value is not None:
            text = re.sub(r"\s+", " ", el.text_content()).replace("¶", "").strip()
            out.append((el.tag, text[:40].strip(), value))
    return out


def values(rows):
    return [value for _, _, value in rows]


def test_fixture_site_element_by_element(tmp_path):
    config = make_site(tmp_path / "repo")
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert annotated(tmp_path / "out" / "index.html") == INDEX_EXPECTED
    assert annotated(tmp_path / "out" / "guide" / "setup" / "index.html") == SETUP_EXPECTED


@pytest.mark.parametrize(
    ("tool", "theme"),
    [
        ("mkdocs", "readthedocs"),
        ("mkdocs", "material"),
        ("properdocs", "mkdocs"),
        ("properdocs", "material"),
    ],
)
def test_themes_and_hosts_get_the_same_map_and_unchanged_content(tmp_path, tool, theme):
    config = make_site(tmp_path / "repo", extra=f"\ntheme:\n  name: {theme}\n")
    plain = run_build(config, tmp_path / "plain", tool=tool, plugins=False)
    assert plain.returncode == 0, plain.stderr
    proc = run_build(config, tmp_path / "out", tool=tool)
    assert proc.returncode == 0, proc.stderr
    assert values(annotated(tmp_path / "out" / "index.html")) == values(INDEX_EXPECTED)
    assert values(annotated(tmp_path / "out/guide/setup/index.html")) == values(SETUP_EXPECTED)
    for page in ("index.html", "guide/setup/index.html"):
        with_plugin = lhtml.tostring(content(tmp_path / "out" / page), encoding="unicode")
        without = lhtml.tostring(content(tmp_path / "plain" / page), encoding="unicode")
        assert ATTR_RE.sub("", with_plugin) == without


def test_strict_build_of_clean_site_has_no_warning(tmp_path):
    config = make_site(tmp_path / "repo", extra="\nrepo_url: https://github.com/acme/fixture\n")
    proc = run_build(config, tmp_path / "out", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr


def test_docs_dir_nested_deep_in_the_repository(tmp_path):
    config = make_site(tmp_path / "repo", sub="projects/handbook")
    proc = run_build(config, tmp_path / "out", "--no-directory-urls")
    assert proc.returncode == 0, proc.stderr
    expected = [v.replace("docs/", "projects/handbook/docs/", 1) for v in values(INDEX_EXPECTED)]
    assert values(annotated(tmp_path / "out" / "index.html")) == expected
    assert (tmp_path / "out" / "guide" / "setup.html").exists()


def test_site_outside_git_is_annotated_with_one_warning(tmp_path):
    config = make_site(tmp_path / "site", in_git=False)
    env_home = tmp_path / "home"
    env_home.mkdir()
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("not in a git repository") == 1
    assert values(annotated(tmp_path / "out" / "index.html")) == values(INDEX_EXPECTED)


def test_unknown_option_names_the_option(tmp_path):
    config = make_site(tmp_path / "repo", extra="\nplugins:\n  - erratum:\n      colour: red\n")
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode != 0
    assert "colour" in proc.stderr


def test_rebuild_in_one_process_follows_the_new_commit(tmp_path, monkeypatch):
    # `mkdocs serve` rebuilds in the same process: nothing may leak between builds.
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    repo = tmp_path / "repo"
    config_path = make_site(repo, extra="\nplugins:\n  - erratum\n")
    monkeypatch.chdir(config_path.parent)
    config = load_config(str(config_path), site_dir=str(tmp_path / "out"))
    build(config)
    first = values(annotated(tmp_path / "out" / "index.html"))
    page = repo / "docs" / "index.md"
    page.write_text(page.read_text().replace("# Welcome", "Inserted line.\n\n# Welcome", 1))
    git(repo, "commit", "-qam", "insert two lines")
    config = load_config(str(config_path), site_dir=str(tmp_path / "out"))
    build(config)
    second = values(annotated(tmp_path / "out" / "index.html"))
    assert first == values(INDEX_EXPECTED)
    assert second[0] == "docs/index.md#L5-L5"  # the new paragraph
    assert second[1] == "docs/index.md#L7-L7"  # the heading moved down two lines


def test_many_paragraphs_and_deep_nesting_do_not_break_the_build(tmp_path):
    repo = tmp_path / "repo"
    config = make_site(repo)
    many = "\n\n".join(f"Paragraph number {n} of a very long page." for n in range(20_000))
    (repo / "docs" / "many.md").write_text(many + "\n")
    nested = "".join("> " * depth + f"Level {depth} quote\n>\n" for depth in range(1, 60))
    nested += "\n" + "".join("    " * d + f"- item at depth {d}\n" for d in range(40))
    (repo / "docs" / "nested.md").write_text(nested)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "big pages")
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    rows = annotated(tmp_path / "out" / "many" / "index.html")
    assert len(rows) == 20_000
    assert rows[-1][2] == "docs/many.md#L39999-L39999"
    assert annotated(tmp_path / "out" / "nested" / "index.html")


def test_uncommitted_edits_are_mapped_against_the_committed_file(tmp_path):
    repo = tmp_path / "repo"
    config = make_site(repo, extra="\nplugins:\n  - erratum\n")
    page = repo / "docs" / "index.md"
    page.write_text(page.read_text().replace("# Welcome", "Not committed yet.\n\n# Welcome", 1))
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    rows = annotated(tmp_path / "out" / "index.html")
    assert ("p", "Not committed yet.") not in [(tag, text) for tag, text, _ in rows]
    assert values(rows) == values(INDEX_EXPECTED)  # the lines of the committed file
