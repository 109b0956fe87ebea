"""Build time with and without the erratum plugin, measured side by side.

Builds one site (a generated site of N pages by default, or a corpus folder) without
and with `plugins: [erratum]`, and with the plugin but ``sourcemap_worker: false``
(`--no-alone` skips that one), alternating, and prints the median of the pairwise
ratios of wall-clock and CPU times (goals: <= 1.05 on the generated site and the
Material corpus, <= 1.10 on the MkDocs corpus; the CPU time counts the worker's), then
where the plugin's time goes: two more builds, in a process of their own, timed per
phase by `bench/phases.py` (`--no-phases` skips them).

    .venv/bin/python bench/build_time.py                      # generated 1,000 pages
    .venv/bin/python bench/build_time.py --pages 300 --runs 5
    .venv/bin/python bench/build_time.py --corpus ../shared/corpus/material
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    *("report", "error", "page", "source", "line", "reader", "maintainer", "commit"),
    *("branch", "issue", "fix", "paragraph", "list", "table", "code", "block", "theme"),
    *("admonition", "footnote", "plugin", "markdown", "build", "site", "docs", "range"),
    *("alignment", "file", "repository", "widget", "service", "token", "review", "merge"),
]


def sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def generated_page(rng: random.Random, n: int) -> str:
    parts = [f"# Page {n}\n", sentence(rng, 30) + "\n"]
    for section in range(6):
        parts.append(f"## Section {section} of page {n}\n")
        parts.append(" ".join(sentence(rng) for _ in range(4)) + "\n")
        parts.append("\n".join(f"- {sentence(rng, 8)}" for _ in range(4)) + "\n")
        if section % 2 == 0:
            parts.append(
                "| Key | Value |\n|-----|-------|\n"
                + "".join(f"| {rng.choice(WORDS)} | {sentence(rng, 4)} |\n" for _ in range(4))
            )
        if section % 3 == 0:
            parts.append(
                "```python\n"
                + "\n".join(
                    f"value_{i} = '{rng.choice(WORDS)}'  # {rng.choice(WORDS)}" for i in range(6)
                )
                + "\n```\n"
            )
        if section % 3 == 1:
            parts.append('!!! note "Remember"\n\n    ' + sentence(rng, 20) + "\n")
        parts.append(f"A claim worth a footnote[^{section}].\n\n[^{section}]: {sentence(rng)}\n")
    return "\n".join(parts)


def make_generated_site(root: Path, pages: int) -> None:
    rng = random.Random(1)
    docs = root / "docs"
    docs.mkdir(parents=True)
    for n in range(pages):
        (docs / f"page-{n:04d}.md").write_text(generated_page(rng, n))
    (docs / "index.md").write_text("# Generated site\n\n" + sentence(rng, 40) + "\n")
    (root / "mkdocs.yml").write_text(
        "site_name: Generated\ntheme:\n  name: material\nmarkdown_extensions:\n"
        "  - admonition\n  - footnotes\n  - tables\n  - toc:\n      permalink: true\n"
        "  - pymdownx.superfences\n"
    )


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def compile_plugin(python: str) -> None:
    """Write the bytecode of the installed plugin, as pip does when it installs a wheel.

    An editable install under ``PYTHONDONTWRITEBYTECODE`` (set on the development
    machine) would otherwise compile the plugin's modules anew in every build (~30 ms),
    which MkDocs and the other installed packages, compiled by pip, do not pay.
    """
    find = "import mkdocs_erratum, os; print(os.path.dirname(mkdocs_erratum.__file__))"
    where = subprocess.run(
        [python, "-c", find], capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run([python, "-m", "compileall", "-q", where], check=True, capture_output=True)


def build(python: str, config: Path, out: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one build (CPU time is steadier on a busy machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(out)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"build failed ({config.name}):\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="a site folder with mkdocs.yml (default: generate one)")
    parser.add_argument("--pages", type=int, default=1000, help="pages of the generated site")
    parser.add_argument("--runs", type=int, default=3, help="builds of each kind")
    parser.add_argument("--no-phases", action="store_true", help="skip the per-phase split")
    parser.add_argument(
        "--no-alone",
        action="store_true",
        help="skip the third build of each run (the plugin without its worker process)",
    )
    ns = parser.parse_args()
    phases = None
    with tempfile.TemporaryDirectory(prefix="erratum-bench-") as tmp:
        repo = Path(tmp) / "repo"
        if ns.corpus:
            shutil.copytree(ns.corpus, repo)
        else:
            print(f"generating a site of {ns.pages} pages ...", file=sys.stderr)
            make_generated_site(repo, ns.pages)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "bench")
        base = (repo / "mkdocs.yml").read_text()
        plain, with_plugin = repo / "_plain.yml", repo / "_erratum.yml"
        alone = repo / "_alone.yml"
        plain.write_text(base + "\nplugins: []\n")
        with_plugin.write_text(base + "\nplugins:\n  - erratum\n")
        alone.write_text(base + "\nplugins:\n  - erratum:\n      sourcemap_worker: false\n")
        compile_plugin(sys.executable)
        plain_runs, plugin_runs, alone_runs = [], [], []
        for run in range(ns.runs):
            plain_runs.append(build(sys.executable, plain, Path(tmp) / "out0"))
            plugin_runs.append(build(sys.executable, with_plugin, Path(tmp) / "out1"))
            line = (
                f"run {run + 1}/{ns.runs}: without {plain_runs[-1][0]:.2f} s, "
                f"with {plugin_runs[-1][0]:.2f} s"
            )
            if not ns.no_alone:
                alone_runs.append(build(sys.executable, alone, Path(tmp) / "out2"))
                line += f", with and no worker {alone_runs[-1][0]:.2f} s"
            print(line + " (wall)", file=sys.stderr)
        if not ns.no_phases:
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).with_name("phases.py")), str(with_plugin)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                sys.exit(f"phase split failed:\n{proc.stderr[-3000:]}")
            phases = json.loads(proc.stdout.strip().splitlines()[-1])

    def median_ratio(k: int, runs: list[tuple[float, float]]) -> float | None:
        if not runs:
            return None
        pairs = zip(plain_runs, runs, strict=True)
        return round(statistics.median(b[k] / a[k] for a, b in pairs), 3)

    print(
        json.dumps(
            {
                "site": ns.corpus or f"generated:{ns.pages}",
                "without_s": round(statistics.median(r[0] for r in plain_runs), 3),
                "with_s": round(statistics.median(r[0] for r in plugin_runs), 3),
                "ratio": median_ratio(0, plugin_runs),
                "cpu_ratio": median_ratio(1, plugin_runs),
                # sourcemap_worker: false, every page mapped in MkDocs' own process
                "ratio_no_worker": median_ratio(0, alone_runs),
                "cpu_ratio_no_worker": median_ratio(1, alone_runs),
                "phases_s": phases,
            }
        )
    )


if __name__ == "__main__":
    main()
