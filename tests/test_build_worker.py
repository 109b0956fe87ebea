"""Real `mkdocs build` runs of a site large enough for the source map's worker process:
the same attributes as when every page is aligned in MkDocs' own process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
from test_build import INDEX_EXPECTED, SETUP_EXPECTED, annotated, git, make_site, run_build

from mkdocs_erratum import page_worker
from mkdocs_erratum.sourcemap import Kind, RenderedBlock, SourceLine, map_blocks

COPIES = page_worker.MIN_PAGES
BUILD_DATE_RE = re.compile(r"Build Date UTC : [^\n]*")
WATCH_HOOK = r"""
import json
import os
from pathlib import Path


def on_post_page(output, page, **kwargs):
    # How many child processes of this build are the source map's worker, as each
    # page is written (read from /proc: each process's parent and command line).
    workers = 0
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid() and b"mkdocs_erratum.page_worker" in command:
            workers += 1
            # Its scheduling priority against this process's (field 19 of stat).
            with open(Path(__file__).parent / "nice.txt", "a") as fh:
                fh.write(f"{int(fields[16]) - os.nice(0)}\n")
    with open(Path(__file__).parent / "children.txt", "a") as fh:
        fh.write(f"{workers}\n")
    return output
"""


def large_site(root: Path) -> tuple[Path, Path]:
    """The fixture, with COPIES more pages (copies of its index), in git; its configs with
    the worker (the default) and without."""
    config = make_site(root, in_git=False, extra="\nrepo_url: https://github.com/acme/fixture\n")
    for n in range(COPIES):
        shutil.copy(root / "docs" / "index.md", root / "docs" / f"copy{n}.md")
    (root / "watch.py").write_text(WATCH_HOOK)
    text = config.read_text().replace("  - hooks.py\n", "  - hooks.py\n  - watch.py\n")
    config.write_text(f"{text}\nplugins:\n  - erratum\n")
    alone = root / "alone.yml"
    alone.write_text(f"{text}\nplugins:\n  - erratum:\n      sourcemap_worker: false\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "fixture")
    return config, alone


def site_texts(site: Path) -> dict[str, str]:
    """Every page's HTML (without the build date that the theme writes in it) and every
    JSON file (the source files the widget loads)."""
    return {
        str(page.relative_to(site)): BUILD_DATE_RE.sub("", page.read_text(encoding="utf-8"))
        for page in sorted(site.rglob("*"))
        if page.suffix in (".html", ".json")
    }


def test_worker_gives_every_page_the_same_attributes(tmp_path):
    built = {}
    for worker, config in zip((True, False), large_site(tmp_path / "repo"), strict=True):
        watched = config.parent / "children.txt"
        watched.unlink(missing_ok=True)
        (config.parent / "nice.txt").unlink(missing_ok=True)
        proc = run_build(config, tmp_path / f"out-{worker}")
        assert proc.returncode == 0, proc.stderr
        assert "WARNING" not in proc.stderr, proc.stderr
        children = watched.read_text().split()
        assert len(children) == COPIES + 2
        # The worker runs while pages are written, and only when asked for.
        assert set(children) == ({"1"} if worker else {"0"})
        if worker:  # below the build's own process
            nice = (config.parent / "nice.txt").read_text().split()
            assert set(nice) == {str(page_worker.NICENESS)}, nice
        built[worker] = site_texts(tmp_path / f"out-{worker}")
    with_worker, without = built[True], built[False]
    assert with_worker.keys() == without.keys()
    assert any(name.endswith("copy3.md.json") for name in with_worker), sorted(with_worker)
    for name, page in with_worker.items():
        assert "erratum-pending" not in page, name
        assert page == without[name], name
    out = tmp_path / "out-True"
    assert annotated(out / "index.html") == INDEX_EXPECTED
    assert annotated(out / "guide" / "setup" / "index.html") == SETUP_EXPECTED
    copy = [
        (tag, text, value.replace("docs/index.md", "docs/copy3.md"))
        for tag, text, value in INDEX_EXPECTED
    ]
    assert annotated(out / "copy3" / "index.html") == copy


def test_worker_result_is_the_main_process_result():
    lines = ["# Title", "", "Body text."]
    source = [SourceLine("a.md", n, text) for n, text in enumerate(lines, 1)]
    blocks = [RenderedBlock(-1, 0, 1, Kind.BLOCK, tag="h1"), RenderedBlock(-1, 1, 2, tag="p")]
    pieces = ["Title", "Body text."]
    files = {"a.md": [line.text for line in source]}
    warnings: list[str] = []
    worker = page_worker.PageWorker(lambda *args: warnings.append(args[0] % args[1:]))
    try:
        ranges = worker.submit(map_blocks, source, files, pieces, blocks)
        assert ranges() == map_blocks(source, files, pieces, blocks)
        assert [str(r) for r in ranges()] == ["a.md#L1-L1", "a.md#L3-L3"]
    finally:
        worker.close()
    assert warnings == []


def test_a_dead_worker_leaves_the_main_process_to_align(tmp_path):
    source = [SourceLine("a.md", 1, "Some words here.")]
    blocks = [RenderedBlock(-1, 0, 1, tag="p")]
    files = {"a.md": ["Some words here."]}
    told: list[str] = []
    worker = page_worker.PageWorker(lambda *args: told.append(args[0] % args[1:]))
    try:
        first = worker.submit(map_blocks, source, files, ["Some words here."], blocks)
        assert [str(r) for r in first()] == ["a.md#L1-L1"]
        pending = worker.submit(map_blocks, source, files, ["Some words here."], blocks)
        os.kill(worker._process.pid, signal.SIGKILL)
        worker._process.wait()
        later = worker.submit(map_blocks, source, files, ["Some words here."], blocks)
        assert [str(r) for r in pending()] == ["a.md#L1-L1"]
        assert [str(r) for r in later()] == ["a.md#L1-L1"]
    finally:
        worker.close()
    assert len(told) == 1
    assert "mapped in the main process" in told[0]


def test_an_error_of_the_job_reaches_the_caller():
    worker = page_worker.PageWorker(lambda *args: None)
    try:
        result = worker.submit(int, "not a number")
        with pytest.raises(ValueError, match="not a number"):
            result()
        assert worker.submit(int, "42")() == 42  # the worker goes on
    finally:
        worker.close()


COPY_HOOK = r"""
import json
from pathlib import Path

early = {}
seen = []


def on_page_content(html, page, **kwargs):
    early[page.file.src_uri] = html  # before the worker's ranges are in: placeholders
    return html


def on_page_context(context, page, **kwargs):
    # What a plugin reads after the erratum plugin's own context event (search, say).
    seen.append("erratum-pending" in page.content)
    if page.file.src_uri == "index.md":  # a copy of another page's early content
        page.content += '<div class="copied">' + early["copy3.md"] + "</div>"
    return context


def on_post_build(config, **kwargs):
    (Path(config.config_file_path).parent / "seen.json").write_text(json.dumps(seen))
"""


def test_pages_are_filled_before_other_plugins_read_them(tmp_path):
    """The worker's ranges are in each page's content before other plugins' context
    events and the theme see it; a copy taken earlier keeps no placeholder (nor a wrong
    attribute) in the written page."""
    config, _ = large_site(tmp_path / "repo")
    (config.parent / "copy_hook.py").write_text(COPY_HOOK)
    text = config.read_text().replace("  - watch.py\n", "  - watch.py\n  - copy_hook.py\n")
    with_search = text.replace("plugins:\n  - erratum\n", "plugins:\n  - search\n  - erratum\n")
    config.write_text(with_search)
    out = tmp_path / "out"
    proc = run_build(config, out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((config.parent / "seen.json").read_text()) == [False] * (COPIES + 2)
    for page in out.rglob("*"):
        if page.suffix in (".html", ".json"):
            assert "erratum-pending" not in page.read_text(encoding="utf-8"), page
    index = (out / "index.html").read_text(encoding="utf-8")
    copied = index[index.index('<div class="copied">') :]
    assert "data-erratum-src" not in copied.split("</article>")[0]
    assert annotated(out / "index.html") == INDEX_EXPECTED
