"""A real `mkdocs build` writes the manifest the service checks reports against."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lhtml

from mkdocs_erratum.manifest import ManifestError, check_report, load_manifest
from mkdocs_erratum.report import Report, ReportBlock, text_hash

FIXTURE = Path(__file__).parent / "sites" / "basic"


def build_site(tmp_path: Path, plugin_options: str) -> tuple[Path, Path, str]:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    config = repo / "mkdocs.yml"
    config.write_text(
        config.read_text()
        + "\nrepo_url: https://github.com/acme/handbook\n"
        + "plugins:\n  - erratum"
        + plugin_options
        + "\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "fixture"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(out)],
        capture_output=True,
        text=True,
        cwd=repo,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return repo, out, commit


def test_manifest_lists_every_annotated_block_with_its_hash(tmp_path):
    repo, out, commit = build_site(tmp_path, ":\n      service_url: http://127.0.0.1:8300")
    manifest = load_manifest((out / "_erratum" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.commit == commit
    assert manifest.repository == "acme/handbook"
    assert set(manifest.data["pages"]) == {"", "guide/setup/"}
    page = lhtml.parse(str(out / "index.html")).getroot()
    shown = {el.get("data-erratum-src") for el in page.iter() if el.get("data-erratum-src")}
    listed = manifest.data["pages"][""]["ranges"]
    assert {f"{p}#L{a}-L{b}" for p, a, b, _h in listed} == shown
    for path, start, end, digest in listed:
        lines = (repo / path).read_text(encoding="utf-8").split("\n")
        assert digest == text_hash("\n".join(lines[start - 1 : end])), (path, start, end)
    # A report on a published paragraph passes; one line off, it is refused.
    lines = (repo / "docs" / "index.md").read_text(encoding="utf-8").split("\n")
    text = "\n".join(lines[6:8])
    block = ReportBlock("docs/index.md", 7, 8, text, text_hash(text), "New text.")
    report = Report(page_url="http://127.0.0.1:8000/", blocks=[block], commit=commit)
    check_report(manifest, report)
    report.blocks[0] = ReportBlock("docs/index.md", 7, 7, lines[6], text_hash(lines[6]))
    with pytest.raises(ManifestError) as caught:
        check_report(manifest, report)
    assert caught.value.code == "unknown_range"


def test_no_manifest_without_a_service(tmp_path):
    _repo, out, _commit = build_site(tmp_path, "")
    assert (out / "index.html").exists()
    assert not (out / "_erratum" / "manifest.json").exists()
