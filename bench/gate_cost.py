"""Cost of the gate per report: what `gate.check_report` adds to every intake and fix.

Times, in one process, the gate's checks of typical reports (scope by name, each
replacement rendered twice with the site's Markdown configuration and read by lxml and
the HTML5 tokenizer), for MkDocs' default configuration and a Material-like one, with 1,
5 and 20 blocks of about 200 characters. Prints the median and p95 per report and per
block, beside the cost of parsing the report's issue body (CommonMark) for scale.

    .venv/bin/python bench/gate_cost.py [--runs 200]

Not a test: it asserts nothing and only prints.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mkdocs_erratum import gate  # noqa: E402
from mkdocs_erratum.fixer import issue_body  # noqa: E402
from mkdocs_erratum.report import Report, ReportBlock, text_hash  # noqa: E402

CONFIGS = {
    "mkdocs defaults": gate.MarkdownConfig(),
    "material-like": gate.MarkdownConfig.from_mkdocs(
        [
            "admonition",
            "attr_list",
            "def_list",
            "footnotes",
            "md_in_html",
            {"toc": {"permalink": True}},
            "pymdownx.details",
            "pymdownx.superfences",
            "pymdownx.highlight",
            "pymdownx.inlinehilite",
            "pymdownx.tabbed",
            "pymdownx.tasklist",
            "pymdownx.emoji",
        ]
    ),
}
ORIGINAL = (
    "The **quick** brown fox jumsp over the [lazy dog](https://example.org/dog/) while "
    "the `cat` watches from the window, and nobody in the garden seems to mind at all."
)


def report(blocks: int) -> Report:
    items = [
        ReportBlock(
            f"docs/page{i}.md",
            3 + 4 * i,
            3 + 4 * i,
            ORIGINAL,
            text_hash(ORIGINAL),
            ORIGINAL.replace("jumsp", "jumps"),
        )
        for i in range(blocks)
    ]
    return Report(page_url="https://example.org/p/", blocks=items, comment="Typo.")


def timed(action, runs: int) -> list[float]:
    action()  # warm: the Markdown instance and its extensions load once per thread
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"{'configuration':<17} {'blocks':>6} {'median':>10} {'p95':>10} {'per block':>10}")
    for name, config in CONFIGS.items():
        for blocks in (1, 5, 20):
            r = report(blocks)
            assert gate.check_report(r, ["docs"], config) == []
            times = timed(lambda r=r, c=config: gate.check_report(r, ["docs"], c), args.runs)
            median = statistics.median(times)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(
                f"{name:<17} {blocks:>6} {median * 1000:>8.2f}ms {p95 * 1000:>8.2f}ms "
                f"{median / blocks * 1000:>8.2f}ms"
            )
    body = issue_body(report(5))
    times = timed(lambda: gate.report_from_issue(body, "reader"), args.runs)
    print(
        f"reading the report of an issue body (5 blocks): {statistics.median(times) * 1000:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
