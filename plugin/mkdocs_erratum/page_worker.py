"""Map pages in a second process while the host converts the next ones.

Mapping a page (walking its element tree, aligning it with its source: see
`extension.walk_and_map`) takes plain data (the pickled tree, its source lines, the
files they name) and gives plain data back, so it can run in another process. MkDocs
converts every page before it writes any: the MkDocs plugin hands each page to one
worker process (`PageWorker.submit`) and collects its ranges when the page is written,
by which time the worker has long finished, on a core that MkDocs leaves idle. The
ranges are those the main process would find.

The worker is forked (see `PageWorker._start`), so only on Linux and when the host
runs no other thread: `mkdocs build`, not `mkdocs serve`. Any failure of the
worker (it cannot start, it dies, it takes longer than
`WAIT_SECONDS`) makes the page, and every later one, be aligned in the main process
instead: the result is the same, only later, and the host is told once (an info
message: nothing is wrong with the site, and ``--strict`` must not fail). An error of
the alignment itself reaches the caller as it would in the main process.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # multiprocessing is imported only by builds that start a worker
    from concurrent.futures import Future, ProcessPoolExecutor

WAIT_SECONDS = 120.0
"""How long a page's ranges may keep the build waiting before the main process takes over."""
T = TypeVar("T")
MIN_PAGES = 16
"""Fewer pages than this are aligned in the main process: starting a worker costs more
than it saves."""


def worth_a_worker(pages: int) -> bool:
    """Whether a build of ``pages`` pages gains from a worker: enough pages, two CPUs,
    Linux (where forking is safe), and no other thread in this process."""
    return (
        pages >= MIN_PAGES
        and _usable_cpus() > 1
        and sys.platform.startswith("linux")  # macOS's libraries may not survive a fork
        and threading.active_count() == 1
    )


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class PageWorker:
    """One worker process for a build's alignments, started on the first page."""

    def __init__(self, tell: Callable[..., None]):
        self._tell = tell
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False

    def submit(self, job: Callable[..., T], *args) -> Callable[[], T]:
        """Start ``job(*args)`` in the worker; the returned function gives its result,
        waiting for it when needed (``job`` must be a module's function, ``args`` and
        the result plain data)."""
        future = self._start(job, args)

        def result() -> T:
            if future is not None and not self._broken:
                from concurrent.futures import CancelledError
                from concurrent.futures import TimeoutError as WaitTimeout
                from concurrent.futures.process import BrokenProcessPool

                try:
                    return future.result(timeout=WAIT_SECONDS)
                except (BrokenProcessPool, WaitTimeout, CancelledError) as exc:
                    self._give_up(exc)  # the worker's trouble, not the page's
            return job(*args)

        return result

    def close(self) -> None:
        """Stop the worker (every page has been collected by now)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _start(self, job: Callable, args: tuple) -> Future | None:
        if self._broken:
            return None
        try:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                # fork: a spawned (or forkserver) worker would first run the host's main
                # script again, and its CPU time would not be this process's children's.
                # Forking is safe only without other threads (`mkdocs serve` has some).
                if threading.active_count() > 1:
                    raise RuntimeError("other threads are running: no worker is forked")
                context = multiprocessing.get_context("fork")
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            return self._pool.submit(job, *args)
        except Exception as exc:
            self._give_up(exc)
            return None

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            self._broken = True
            self._tell(
                "The source map's worker process failed (%s: %s); pages are aligned in "
                "the main process for the rest of the build.",
                type(exc).__name__,
                exc,
            )
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
