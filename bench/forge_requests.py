"""Requests and time per correction on each hosted forge, side by side, over the stand-ins.

For GitHub, GitLab and Forgejo in turn: a fresh copy of the tests' docs repository, its
stand-in (validated against the forge's description), a reader's issue carrying one
report, then `fix_issue` through the forge, twice (the second run must open nothing).
Counts the HTTP requests each run sends (reads and writes) and times it, and prints
each forge beside GitHub's as a ratio. With ``--fork``, the token cannot push and the
correction goes through a fork.

    .venv/bin/python bench/forge_requests.py [--runs 5] [--fork]

Not a test: it asserts nothing about speed and only prints (it does check that each
forge opened exactly one request, so the figures are of a working fix).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import DOCS_FILES, git  # noqa: E402

from mkdocs_erratum.fixer import fix_issue, issue_body  # noqa: E402
from mkdocs_erratum.report import Report, ReportBlock, text_hash  # noqa: E402
from tests.forges.harnesses import HARNESSES  # noqa: E402

FORGES = ("github", "gitlab", "forgejo")
TYPO = "The quick brown fox jumsp over the lazy dog."


def docs_repo(root: Path) -> Path:
    """The tests' docs repository (``tests/conftest.py``), in ``root``."""
    for rel, text in DOCS_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def one_run(name: str, fork: bool) -> tuple[list[tuple[int, int]], list[float]]:
    """(reads, writes) and seconds of the first and the second fix of one report."""
    block = ReportBlock(
        "docs/index.md", 3, 3, TYPO, text_hash(TYPO), TYPO.replace("jumsp", "jumps")
    )
    report = Report(page_url="https://acme.example/", blocks=[block], comment="Typo")
    with tempfile.TemporaryDirectory() as tmp:
        harness = HARNESSES[name](docs_repo(Path(tmp) / "docs"))
        try:
            number = harness.add_issue("Erratum", issue_body(report), "alice")
            counts, seconds = [], []
            for _ in range(2):
                before = len(harness.standin.requests)
                started = time.perf_counter()
                outcome = fix_issue(harness.forge(can_push=not fork), number, docs_dirs=["docs"])
                seconds.append(time.perf_counter() - started)
                sent = harness.standin.requests[before:]
                reads = sum(1 for method, _ in sent if method == "GET")
                counts.append((reads, len(sent) - reads))
                if not outcome.ok:
                    raise SystemExit(f"{name}: {outcome.message}")
            if len(harness.pull_requests()) != 1:
                raise SystemExit(f"{name}: {len(harness.pull_requests())} requests opened")
        finally:
            harness.close()
    return counts, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fork", action="store_true", help="a token that cannot push")
    args = parser.parse_args()
    results = {}
    for name in FORGES:
        runs = [one_run(name, args.fork) for _ in range(args.runs)]
        counts = runs[0][0]
        first = statistics.median(r[1][0] for r in runs) * 1000
        second = statistics.median(r[1][1] for r in runs) * 1000
        results[name] = (counts, first, second)
    base = results["github"]
    mode = "through a fork" if args.fork else "in the project"
    print(f"one report fixed {mode}, then fixed again; median of {args.runs} runs")
    print(f"{'forge':<8} {'1st: GET':>8} {'writes':>6} {'ms':>7} {'2nd: GET':>9} {'writes':>6} "
          f"{'ms':>7}  requests vs GitHub (1st, 2nd)")  # fmt: skip
    (b1, bw1), (b2, bw2) = base[0]
    for name, (((r1, w1), (r2, w2)), first, second) in results.items():
        print(
            f"{name:<8} {r1:>8} {w1:>6} {first:>7.0f} {r2:>9} {w2:>6} {second:>7.0f}  "
            f"{(r1 + w1) / (b1 + bw1):.2f}, {(r2 + w2) / (b2 + bw2):.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
