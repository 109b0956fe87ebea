"""Real `zensical build` runs (and `mkdocs build` of the same files), then `erratum assets`.

The fixture (``tests/sites/zensical``) has front matter with blank lines after it,
admonitions, a collapsed block, tabs, snippets, a code block and a French page. The same
element-by-element table is checked under both hosts.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mkdocs_erratum.site_files import TAGS_BEGIN, make_site_files, page_file
from tests.conftest import git
from tests.test_build import annotated, run_build

# Zensical needs Python 3.11 or newer: on 3.10 (CI runs the suite there too) it does not
# install, so these tests cannot run there.
pytest.importorskip("zensical", reason="Zensical needs Python 3.11+")

FIXTURE = Path(__file__).parent / "sites" / "zensical"

INDEX = [
    ("h1", "Welcome to the fixture", "docs/index.md#L7-L7"),
    ("p", "This site is built by Zensical and by Mk", "docs/index.md#L9-L10"),
    ("div", "A note with a title The note body spans", "docs/index.md#L12-L15"),
    ("p", "A note with a title", "docs/index.md#L12-L12"),
    ("p", "The note body spans two lines of text.", "docs/index.md#L14-L15"),
    ("details", "A collapsed tip Hidden until opened.", "docs/index.md#L17-L19"),
    ("summary", "A collapsed tip", "docs/index.md#L17-L17"),
    ("p", "Hidden until opened.", "docs/index.md#L19-L19"),
    ("div", "First tabSecond tab Content of the first", "docs/index.md#L21-L28"),
    ("label", "First tab", "docs/index.md#L21-L21"),
    ("label", "Second tab", "docs/index.md#L25-L25"),
    ("div", "Content of the first tab.", "docs/index.md#L23-L23"),
    ("p", "Content of the first tab.", "docs/index.md#L23-L23"),
    ("div", "Content of the second tab, on two lines.", "docs/index.md#L27-L28"),
    ("p", "Content of the second tab, on two lines.", "docs/index.md#L27-L28"),
    ("ol", 'A list item with code: print("hello from', "docs/index.md#L30-L36"),
    ("li", 'A list item with code: print("hello from', "docs/index.md#L30-L34"),
    ("p", "A list item with code:", "docs/index.md#L30-L30"),
    ("div", 'print("hello from a list")', "docs/index.md#L32-L34"),
    ("li", "A second item.", "docs/index.md#L36-L36"),
    ("p", "A second item.", "docs/index.md#L36-L36"),
    ("p", "A paragraph that lives in an included fi", "includes/shared.md#L1-L1"),
    ("p", "It has a second paragraph, too.", "includes/shared.md#L3-L3"),
    ("table", "Name Value alpha 1", "docs/index.md#L40-L42"),
    ("tr", "Name Value", "docs/index.md#L40-L40"),
    ("th", "Name", "docs/index.md#L40-L40"),
    ("th", "Value", "docs/index.md#L40-L40"),
    ("tr", "alpha 1", "docs/index.md#L42-L42"),
    ("td", "alpha", "docs/index.md#L42-L42"),
    ("td", "1", "docs/index.md#L42-L42"),
    ("p", "Closing words of the page.", "docs/index.md#L44-L44"),
]
GUIDE = [
    ("h1", "Guide", "docs/guide.md#L1-L1"),
    ("p", "A guide page without front matter.", "docs/guide.md#L3-L3"),
    ("ul", "First point of the guide. Second point,", "docs/guide.md#L5-L6"),
    ("li", "First point of the guide.", "docs/guide.md#L5-L5"),
    ("li", "Second point, with code.", "docs/guide.md#L6-L6"),
    ("blockquote", "A quote that spans two lines.", "docs/guide.md#L8-L9"),
    ("p", "A quote that spans two lines.", "docs/guide.md#L8-L9"),
    ("div", "zensical build", "docs/guide.md#L11-L13"),
]
FRENCH = [
    ("h1", "Une page en français", "docs/fr/index.md#L6-L6"),
    ("p", "Ce paragraphe est écrit en français : il", "docs/fr/index.md#L8-L8"),
    ("div", "Attention Un avertissement dans une admo", "docs/fr/index.md#L10-L12"),
    ("p", "Attention", "docs/fr/index.md#L10-L10"),
    ("p", "Un avertissement dans une admonition.", "docs/fr/index.md#L12-L12"),
    ("p", "Un paragraphe inclus depuis un autre fic", "includes/partage.md#L1-L1"),
]
EXPECTED = {"": INDEX, "guide/": GUIDE, "fr/": FRENCH}


def make_repo(root: Path) -> Path:
    shutil.copytree(FIXTURE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fixture")
    return root


def zensical_build(root: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "zensical", "build", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def erratum_assets(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "assets", "site", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def tables(site: Path) -> dict[str, list[tuple[str, str, str]]]:
    return {url: annotated(site / page_file(url)) for url in EXPECTED}


def committed_lines(root: Path, path: str) -> list[str]:
    return git(root, "show", f"HEAD:{path}").split("\n")


def check_source_files(root: Path) -> None:
    """Every range of every page reads, in its source file, the committed lines."""
    site = root / "site"
    for url in EXPECTED:
        for _tag, _text, value in annotated(site / page_file(url)):
            path, lines = value.split("#L")
            start, end = (int(n) for n in lines.split("-L"))
            source = json.loads((site / f"assets/erratum/src/{path}.json").read_text())
            assert source["lines"][start - 1 : end] == committed_lines(root, path)[start - 1 : end]


def settings_of(html: str) -> dict:
    return json.loads(re.search(r'id="erratum-config">(.*?)</script>', html).group(1))


def site_digest(site: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("host", ["mkdocs", "zensical"])
def test_both_hosts_give_the_same_ranges_element_by_element(tmp_path, host):
    root = make_repo(tmp_path / "repo")
    if host == "mkdocs":
        proc = run_build(root / "mkdocs.yml", root / "site")
        assert proc.returncode == 0, proc.stderr
    else:
        zensical_build(root)
    assert tables(root / "site") == EXPECTED


def test_zensical_reads_the_extension_from_mkdocs_yml_too(tmp_path):
    root = make_repo(tmp_path / "repo")
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("plugins:\n  - erratum\n", "")
        + "  - erratum_sourcemap:\n      widget_labels: [erratum]\n"
    )
    (root / "zensical.toml").unlink()
    git(root, "commit", "-qam", "mkdocs.yml only")
    zensical_build(root, "-f", "mkdocs.yml")
    assert tables(root / "site") == EXPECTED
    erratum_assets(root)
    assert settings_of((root / "site/index.html").read_text())["labels"] == ["erratum"]


def test_assets_make_the_widget_files_and_tags(tmp_path):
    root = make_repo(tmp_path / "repo")
    zensical_build(root)
    proc = erratum_assets(root, "--strict")  # no warning: strict passes
    assert "3 pages with source lines, 5 source files, widget tags in 3 pages" in proc.stdout
    site = root / "site"
    commit = git(root, "rev-parse", "HEAD").strip()
    for name in ("erratum.js", "erratum.css"):
        assert (site / "assets/erratum" / name).is_file()
    check_source_files(root)
    # Only covered lines are published: the front matter is not.
    index = json.loads((site / "assets/erratum/src/docs/index.md.json").read_text())
    assert index["lines"][:7] == [None] * 6 + ["# Welcome to the fixture"]
    for url in EXPECTED:
        html = (site / page_file(url)).read_text()
        settings = settings_of(html)
        assert settings["commit"] == commit
        assert settings["repository"] == "acme/fixture"
        assert html.count(TAGS_BEGIN) == 2  # in <head>, and the link before </body>
    fr = (site / "fr/index.html").read_text()
    assert 'href="../assets/erratum/erratum.css"' in fr
    # The page's own language, from its front matter (Zensical writes <html lang="en">).
    assert '<meta name="erratum-lang" content="fr">' in fr
    assert settings_of(fr)["lang"] == "en" and set(settings_of(fr)["languages"]) == {"en", "fr"}
    assert ">Signaler une erreur</a>" in fr
    assert "https://docs.example.org/fr/" in fr  # the no-JavaScript link names the page
    # Running it again changes nothing.
    before = site_digest(site)
    erratum_assets(root)
    assert site_digest(site) == before


def test_a_second_incremental_build_after_editing_one_page(tmp_path):
    root = make_repo(tmp_path / "repo")
    zensical_build(root)
    erratum_assets(root)
    guide = root / "docs" / "guide.md"
    guide.write_text(guide.read_text().replace("# Guide\n", "# Guide\n\nA new paragraph.\n", 1))
    git(root, "commit", "-qam", "a new paragraph in the guide")
    zensical_build(root)  # Zensical renders the guide again, the other pages come from its cache
    erratum_assets(root)
    found = tables(root / "site")
    shifted = [(tag, text, re.sub(r"\d+", lambda m: str(int(m.group()) + 2), value)) for
               tag, text, value in GUIDE[1:]]  # fmt: skip
    assert found["guide/"] == [
        GUIDE[0],
        ("p", "A new paragraph.", "docs/guide.md#L3-L3"),
        *shifted,
    ]
    assert found[""] == INDEX and found["fr/"] == FRENCH
    check_source_files(root)
    commit = git(root, "rev-parse", "HEAD").strip()
    for url in EXPECTED:
        assert settings_of((root / "site" / page_file(url)).read_text())["commit"] == commit


def test_a_cached_page_mapped_on_another_version_loses_its_lines(tmp_path):
    root = make_repo(tmp_path / "repo")
    guide = root / "docs" / "guide.md"
    guide.write_text(guide.read_text().replace("# Guide\n", "# Guide\n\nNot committed.\n", 1))
    zensical_build(root)  # the guide is mapped on the committed file, as under MkDocs
    git(root, "commit", "-qam", "commit the paragraph")
    zensical_build(root)  # the guide's text is unchanged: Zensical keeps its old HTML
    proc = erratum_assets(root, "--strict", check=False)
    assert proc.returncode == 1 and "warnings in strict mode" in proc.stderr
    assert "1 page left without source lines" in proc.stderr
    assert "guide/index.html" in proc.stderr and "zensical build --clean" in proc.stderr
    assert annotated(root / "site/guide/index.html") == []
    assert TAGS_BEGIN not in (root / "site/guide/index.html").read_text()
    assert tables(root / "site")[""] == INDEX
    zensical_build(root, "--clean")
    erratum_assets(root)
    assert annotated(root / "site/guide/index.html")[1] == (
        "p",
        "Not committed.",
        "docs/guide.md#L3-L3",
    )
    check_source_files(root)


def test_service_url_writes_the_manifest(tmp_path):
    root = make_repo(tmp_path / "repo")
    config = root / "zensical.toml"
    config.write_text(
        config.read_text().replace(
            "[project.markdown_extensions.erratum_sourcemap]\n",
            '[project.markdown_extensions.erratum_sourcemap]\nservice_url = "https://fix.example.org"\n',
        )
    )
    git(root, "commit", "-qam", "a service")
    zensical_build(root)
    proc = erratum_assets(root)
    assert "manifest written" in proc.stdout
    manifest = json.loads((root / "site/_erratum/manifest.json").read_text())
    assert manifest["commit"] == git(root, "rev-parse", "HEAD").strip()
    assert manifest["site_url"] == "https://docs.example.org/"
    assert set(manifest["pages"]) == {"", "guide/", "fr/"}
    assert manifest["pages"]["fr/"]["path"] == "docs/fr/index.md"
    assert manifest["docs_dirs"] == ["docs", "includes"]
    assert ["includes/partage.md", 1, 1] in [r[:3] for r in manifest["pages"]["fr/"]["ranges"]]
    assert "pymdownx.tabbed" in manifest["markdown"]["extensions"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("[project.markdown_extensions.erratum_sourcemap]\n",
             "[project.markdown_extensions.erratum_sourcemap]\nwidget_url_cap = 5\n"),
            "widget_url_cap: expected 1000 to 100000, not 5",
        ),
        (
            ("[project.markdown_extensions.erratum_sourcemap]\n",
             "[project.markdown_extensions.erratum_sourcemap]\ncolour = 'red'\n"),
            "colour: unknown option",
        ),
        (("[project.theme]", "[project.theme"), "zensical.toml is not valid TOML"),
        (("[project.markdown_extensions.erratum_sourcemap]\n", ""),
         "erratum_sourcemap is not listed under markdown_extensions"),
    ],
)  # fmt: skip
def test_bad_configuration_is_named_and_the_site_is_left_alone(tmp_path, edit, message):
    root = make_repo(tmp_path / "repo")
    zensical_build(root)
    before = site_digest(root / "site")
    config = root / "zensical.toml"
    config.write_text(config.read_text().replace(*edit))
    proc = erratum_assets(root, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert site_digest(root / "site") == before


def test_a_site_without_source_lines_is_refused(tmp_path):
    root = make_repo(tmp_path / "repo")
    zensical_build(root)
    proc = erratum_assets(root, "-f", "missing.toml", check=False)
    assert proc.returncode == 1 and "cannot read missing.toml" in proc.stderr
    shutil.rmtree(root / "site")
    proc = erratum_assets(root, check=False)
    assert proc.returncode == 1 and "is not a built site" in proc.stderr


def test_zensical_macros_and_include_markdown(tmp_path):
    # Zensical's macros (priority 35) and include-markdown tags (36) run before the text is
    # captured; include-markdown replaces the "snippet" preprocessor after the extension
    # is set up, and the included file's lines are still named.
    root = make_repo(tmp_path / "repo")
    with (root / "zensical.toml").open("a") as fh:
        fh.write(
            "\n[project.plugins.macros]\n[project.plugins.include-markdown]\n"
            '[project.extra]\nrelease = "9.9.9"\n'
            'generated = "This sentence was generated by a macro and is in no file."\n'
        )
    with (root / "docs" / "guide.md").open("a") as fh:
        fh.write(
            "\nVersion {{ extra.release }} is named\non a continuation line.\n"
            "\n{{ extra.generated }}\n"
            '\n{% include-markdown "../includes/partage.md" %}\n'
        )
    git(root, "commit", "-qam", "macros and include-markdown")
    zensical_build(root)
    html = (root / "site/guide/index.html").read_text()
    assert "Version 9.9.9 is named" in html and "generated by a macro" in html
    assert annotated(root / "site/guide/index.html") == [
        *GUIDE,
        ("p", "Version 9.9.9 is named on a continuation", "docs/guide.md#L15-L16"),
        ("p", "Un paragraphe inclus depuis un autre fic", "includes/partage.md#L1-L1"),
    ]


def test_a_disabled_extension_writes_nothing(tmp_path):
    root = make_repo(tmp_path / "repo")
    config = root / "zensical.toml"
    table = "[project.markdown_extensions.erratum_sourcemap]\n"
    config.write_text(config.read_text().replace(table, table + "enabled = false\n"))
    git(root, "commit", "-qam", "off")
    zensical_build(root)
    assert annotated(root / "site/index.html") == []
    before = site_digest(root / "site")
    proc = erratum_assets(root)
    assert "enabled is false: nothing was written" in proc.stderr
    assert site_digest(root / "site") == before


def test_progress_is_reported_while_pages_are_read_and_written(tmp_path, monkeypatch):
    root = make_repo(tmp_path / "repo")
    zensical_build(root)
    monkeypatch.chdir(root)
    seen: list[tuple[str, int, int]] = []
    result = make_site_files("site", "zensical.toml", progress=lambda *a: seen.append(a))
    html = sorted(str(p.relative_to(root / "site")) for p in (root / "site").rglob("*.html"))
    assert [s for s in seen if s[0] == "read"] == [
        ("read", n, len(html)) for n in range(1, len(html) + 1)
    ]
    assert seen[-1] == ("write", len(html), len(html))
    assert len(html) == 4  # the three pages and 404.html
    assert result.pages == 3 and result.tagged == 3 and not result.stale
