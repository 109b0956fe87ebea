"""Where the erratum plugin spends its time: one in-process build, timed per phase.

Run by `bench/build_time.py` after its side-by-side runs (in a process of its own, so
that the timers do not touch the measured builds); it can also be run alone:

    .venv/bin/python bench/phases.py path/to/mkdocs.yml

Prints one JSON object of seconds. First, of a build that maps every page in MkDocs'
process (``sourcemap_worker: false``): the whole build, Markdown conversion, the source
map's part of it (extension), and its phases: claim and capture (preprocessors),
source (reading the committed file and splicing includes), walk (element tree to
tokens and blocks), prepare (source lines reduced to their words and coded for the
aligner), align (rendered words against source words), ranges (blocks to line
ranges), annotate (setting the attributes); then each plugin hook (the widget's files
are written in on_post_page and on_post_build). Then, under ``with_worker``, of a build
with the worker (sites of 16 pages or more), what stays in MkDocs' main thread, in CPU
seconds: the whole build, handoff (reading the page's files, flattening and pickling the
tree, inserting placeholders), placeholders, and finish (waiting for the worker's
ranges and filling them in, fill being the second part).
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


def timed(owner, name: str, phase: str, clock=time.perf_counter) -> None:
    original = getattr(owner, name, None)
    if original is None:  # an older version of the plugin: its phases are fewer
        return

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            totals[phase] += clock() - start

    setattr(owner, name, wrapper)


def in_process_phases(config_file: str) -> dict[str, float]:
    """One build with every page mapped in MkDocs' process: the whole split."""
    for hook in ("on_config", "on_page_markdown", "on_page_content", "on_post_page"):
        if hasattr(ErratumPlugin, hook):
            timed(ErratumPlugin, hook, hook)
    timed(ErratumPlugin, "on_post_build", "on_post_build")
    build_once(config_file, worker=False)
    totals["ranges"] = totals.pop("map", 0.0) - totals["align"] - totals["prepare"]
    order = ["build", "markdown", "extension", "claim", "capture", "source", "walk"]
    order += ["prepare", "align", "ranges", "annotate"]
    order += ["on_config", "on_page_markdown", "on_page_content", "on_post_page"]
    order += ["on_post_build"]
    return {k: round(totals[k], 3) for k in order if k in totals}


def worker_phases(config_file: str) -> dict[str, float]:
    """One build with the worker (when the site is large enough): what stays in MkDocs'
    process, in CPU seconds of its main thread (the worker's own time is the walk,
    prepare, align and ranges above)."""
    totals.clear()
    timed(extension, "_defer_page", "handoff", clock=time.thread_time)
    timed(extension._DeferredPage, "__init__", "placeholders", clock=time.thread_time)
    timed(extension.SourceMapExtension, "finish_page", "finish", clock=time.thread_time)
    timed(extension._DeferredPage, "fill", "fill", clock=time.thread_time)
    build_once(config_file, worker=True, clock=time.thread_time)
    found = {k: round(v, 3) for k, v in totals.items()}
    return {"build_main_thread_cpu": found.pop("build"), **found}


def build_once(config_file: str, *, worker: bool, clock=time.perf_counter) -> None:
    with tempfile.TemporaryDirectory(prefix="erratum-phases-") as out:
        config = load_config(os.path.basename(config_file), site_dir=out)
        plugin = config.plugins.get("erratum")
        if plugin is not None:
            plugin.config["sourcemap_worker"] = worker
        start = clock()
        build(config)
        totals["build"] = clock() - start


def main() -> None:
    config_file = os.path.abspath(sys.argv[1])
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
    os.chdir(os.path.dirname(config_file))
    split = in_process_phases(config_file)
    split["with_worker"] = worker_phases(config_file)
    print(json.dumps(split))


if __name__ == "__main__":
    main()
