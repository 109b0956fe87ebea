#!/usr/bin/env python3
"""Score a corpus built by Zensical beside the same corpus built by MkDocs, in one run.

usage: zensical_corpus.py [CORPUS_DIR] [--runs N] [--evalmap PATH] [--keep DIR]

As `score_corpus.py` does for MkDocs: the corpus is copied into a fresh git repository
(one commit); it is built by MkDocs with ``plugins: [erratum]`` and by Zensical (0.0.73)
from the same ``mkdocs.yml`` with ``erratum_sourcemap`` added to its Markdown
extensions, then ``erratum assets``; `evalmap.py` scores both sites. Zensical is also
built without the extension, alternating, ``--clean`` each time (no cache), for the
build-time ratio. Prints one JSON line: both accuracies and their difference (goal:
within 0.001), coverage, bad attributes, content changed, the Zensical time ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
DEFAULT_CORPUS = SHARED / "corpus" / "material"
ATTR_RE = re.compile(r'\sdata-erratum-[\w-]+="[^"]*"')
TAGS_RE = re.compile(r"<!-- erratum:begin -->.*?<!-- erratum:end -->", re.S)


def run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return elapsed


def zensical_config(base: str, *, erratum: bool, keep_overrides: bool) -> str:
    """The corpus' mkdocs.yml for Zensical, which renders with its own templates: icons
    its theme lacks and MkDocs' own themes are left out, and the theme's overrides
    (``custom_dir``) unless pages name one of their templates (the Markdown and its
    extensions stay as they are)."""
    text = re.sub(r"\n  icon:\n(?:    .*\n)+", "\n", base)
    if not keep_overrides:
        text = re.sub(r"\n  custom_dir: .*", "", text)
    text = re.sub(r"\n  name: ['\"]?(?:mkdocs|readthedocs)['\"]?\n", "\n  name: material\n", text)
    if erratum:
        text = text.replace(
            "\nmarkdown_extensions:\n", "\nmarkdown_extensions:\n  - erratum_sourcemap\n", 1
        )
    return text


def names_templates(docs: Path) -> bool:
    """Whether a page's front matter names a template (``template: home.html``)."""
    return any(
        re.search(r"^template:", page.read_text(encoding="utf-8", errors="replace"), re.M)
        for page in docs.rglob("*.md")
    )


def score(evalmap: Path, site: Path, repo: Path, out: Path) -> dict:
    subprocess.run(
        [sys.executable, str(evalmap), str(site), str(repo), "--json", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.read_text())


def content(path: Path) -> str | None:
    from lxml import html as lhtml

    doc = lhtml.fromstring(TAGS_RE.sub("", path.read_text(encoding="utf-8")))
    for selector in ("article", "[role=main]", "main"):
        found = doc.cssselect(selector)
        if found:
            return ATTR_RE.sub("", lhtml.tostring(found[0], encoding="unicode"))
    return None


def changed_pages(plain: Path, annotated: Path) -> int:
    changed = 0
    for page in plain.rglob("*.html"):
        other = annotated / page.relative_to(plain)
        before = content(page)
        if before is not None and (not other.exists() or content(other) != before):
            changed += 1
    return changed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--evalmap", default=str(SHARED / "tools" / "evalmap.py"))
    ap.add_argument("--keep")
    ns = ap.parse_args()
    tmp = Path(ns.keep or tempfile.mkdtemp(prefix="erratum-zensical-"))
    repo = tmp / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(ns.corpus, repo)
    git = ["git", "-c", "user.name=corpus", "-c", "user.email=corpus@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "corpus"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    base = (repo / "mkdocs.yml").read_text()
    keep = names_templates(repo / "docs")
    (repo / "_mkdocs.yml").write_text(base + "\nplugins:\n  - erratum\n")
    (repo / "_plain.yml").write_text(
        zensical_config(base, erratum=False, keep_overrides=keep) + "\nsite_dir: _plain\n"
    )
    (repo / "_zensical.yml").write_text(
        zensical_config(base, erratum=True, keep_overrides=keep) + "\nsite_dir: _site\n"
    )
    mk_site = tmp / "mkdocs-site"
    run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", "_mkdocs.yml", "-d", str(mk_site)],
        repo,
    )
    plain_s, with_s = [], []
    for _ in range(ns.runs):
        plain_s.append(
            run([sys.executable, "-m", "zensical", "build", "--clean", "-f", "_plain.yml"], repo)
        )
        with_s.append(
            run([sys.executable, "-m", "zensical", "build", "--clean", "-f", "_zensical.yml"], repo)
        )
    assets_s = run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "assets", "_site", "-f", "_zensical.yml"], repo
    )
    z_site = repo / "_site"
    mk = score(Path(ns.evalmap), mk_site, repo, tmp / "mkdocs.json")
    zs = score(Path(ns.evalmap), z_site, repo, tmp / "zensical.json")
    result = {
        "corpus": Path(ns.corpus).name,
        "mkdocs_accuracy": mk["accuracy"],
        "zensical_accuracy": zs["accuracy"],
        "difference": round(zs["accuracy"] - mk["accuracy"], 4),
        "mkdocs_elements": mk["elements"],
        "zensical_elements": zs["elements"],
        "mkdocs_coverage": mk["coverage"],
        "zensical_coverage": zs["coverage"],
        "zensical_bad_attr": zs["bad_attr"],
        "zensical_content_changed": changed_pages(repo / "_plain", z_site),
        "zensical_plain_s": round(statistics.median(plain_s), 3),
        "zensical_erratum_s": round(statistics.median(with_s), 3),
        "zensical_ratio": round(
            statistics.median(b / a for a, b in zip(plain_s, with_s, strict=True)), 3
        ),
        "erratum_assets_s": round(assets_s, 3),
    }
    print(json.dumps(result))
    if not ns.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
