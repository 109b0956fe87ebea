"""Where the erratum plugin spends its time: one in-process build, timed per phase.

Run by `bench/build_time.py` after its side-by-side runs (in a process of its own, so
that the timers do not touch the measured builds); it can also be run alone:

    .venv/bin/python bench/phases.py path/to/mkdocs.yml

Prints one JSON object of seconds: the whole build, Markdown conversion, the source
map's part of it (extension), and its phases: claim and capture (preprocessors),
source (reading the committed file and splicing includes), walk (element tree to
tokens and blocks), prepare (source lines reduced to their words and coded for the
aligner), align (rendered words against source words), ranges (blocks to line
ranges), annotate (setting the attributes); then each plugin hook (the widget's files
are written in on_post_page and on_post_build).
"""

from __future__ import annotations

import collections
import functools
import json
import logging
import os
import sys
import tempfile
import time

from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.structure.pages import Page

from mkdocs_erratum import extension, sourcemap
from mkdocs_erratum.plugin import ErratumPlugin

totals: dict[str, float] = collections.defaultdict(float)


def timed(owner, name: str, phase: str) -> None:
    original = getattr(owner, name, None)
    if original is None:  # an older version of the plugin: its phases are fewer
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[phase] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def main() -> None:
    config_file = sys.argv[1]
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    timed(Page, "render", "markdown")
    timed(extension._Claim, "run", "claim")
    timed(extension._Capture, "run", "capture")
    timed(extension, "_annotate_page", "extension")
    timed(extension, "_page_source", "source")
    timed(extension, "_walk_page", "walk")
    timed(extension, "map_blocks", "map")
    timed(sourcemap._Mapper, "__init__", "prepare")
    timed(sourcemap._Mapper, "_align", "align")
    timed(extension, "_set_attributes", "annotate")
    for hook in ("on_config", "on_page_markdown", "on_page_content", "on_post_page"):
        if hasattr(ErratumPlugin, hook):
            timed(ErratumPlugin, hook, hook)
    timed(ErratumPlugin, "on_post_build", "on_post_build")
    os.chdir(os.path.dirname(os.path.abspath(config_file)))
    with tempfile.TemporaryDirectory(prefix="erratum-phases-") as out:
        config = load_config(os.path.basename(config_file), site_dir=out)
        start = time.perf_counter()
        build(config)
        totals["build"] = time.perf_counter() - start
    totals["ranges"] = totals.pop("map", 0.0) - totals["align"] - totals["prepare"]
    order = ["build", "markdown", "extension", "claim", "capture", "source", "walk"]
    order += ["prepare", "align"]
    order += ["ranges"]
    order += ["annotate", "on_config", "on_page_markdown", "on_page_content", "on_post_page"]
    order += ["on_post_build"]
    print(json.dumps({k: round(totals[k], 3) for k in order if k in totals}))


if __name__ == "__main__":
    main()
