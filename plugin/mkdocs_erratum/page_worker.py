"""Map pages in a second process while the host converts the next ones.

Mapping a page (walking its element tree, aligning it with its source: see
`extension.walk_and_map`) takes plain data (the flattened tree, its source lines, the
files they name) and gives plain data back, so it can run in another process. MkDocs
converts every page before it writes any: the MkDocs plugin hands each page to one
worker process (`PageWorker.submit`) and collects its ranges when the page is written,
by which time the worker has long finished, on a core that MkDocs leaves idle. The
ranges are those the main process would find.

The worker is a fresh interpreter (``python -m mkdocs_erratum.page_worker``), a child
of the host, talking over its standard input and output: jobs in, results out, each a
length-prefixed pickle. Not `multiprocessing`: forking the host would make every page
of its heap copy-on-write (measured: the build got slower, not faster), and its spawn
and forkserver methods run the host's main script again. The worker reads jobs and
writes results in threads of its own, so that the host never waits on a pipe; the host
itself starts no thread. POSIX only (it waits on the pipe with `select`).

Any failure of the worker (it cannot start, it dies, it takes longer than
`WAIT_SECONDS`) makes the page, and every later one, be mapped in the main process
instead: the result is the same, only later, and the host is told once (an info
message: nothing is wrong with the site, and ``--strict`` must not fail). An error of
the mapping itself reaches the caller as it would in the main process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

WAIT_SECONDS = 120.0
"""How long a page's result may keep the build waiting before the main process takes over."""
MIN_PAGES = 16
"""Fewer pages than this are mapped in the main process: starting a worker costs more
than it saves."""
NICENESS = 10
"""How much lower the worker's scheduling priority is than the host's."""
T = TypeVar("T")
_HEADER = struct.Struct("<QQ")
"""A frame's header: the job's number, then the length of the pickle that follows."""


def worth_a_worker(pages: int) -> bool:
    """Whether a build of ``pages`` pages gains from a worker: enough pages, two CPUs,
    and a POSIX system."""
    return pages >= MIN_PAGES and _usable_cpus() > 1 and os.name == "posix"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkerFailed(Exception):
    """The worker process is gone, or answered nonsense."""


class PageWorker:
    """One worker process for a build's pages, started on the first one."""

    def __init__(self, tell: Callable[..., None]):
        self._tell = tell
        self._process: subprocess.Popen | None = None
        self._broken = False
        self._next = 0
        self._done: dict[int, tuple[bool, Any]] = {}
        self._buffer = b""

    def submit(self, job: Callable[..., T], *args) -> Callable[[], T]:
        """Start ``job(*args)`` in the worker; the returned function gives its result,
        waiting for it when needed (``job`` must be a module's function, ``args`` and
        the result plain data)."""
        sent = self._send(job, args)
        # Once sent, the job is kept as its pickle, not as its arguments: a page's tree
        # (its elements' attributes and texts) is not kept alive, for the garbage collector
        # to go over again and again, until the page is written.
        kept: list = [job, args] if sent is None else [sent[1]]
        answer: list[tuple[bool, Any]] = []  # once received, kept for later calls

        def result() -> T:
            if not answer and sent is not None and not self._broken:
                try:
                    answer.append(self._receive(sent[0]))
                except (WorkerFailed, OSError) as exc:
                    self._give_up(exc)  # the worker's trouble, not the page's
            if not answer:  # run here: the worker could not take it, or failed
                job, args = kept if len(kept) == 2 else pickle.loads(kept[0])
                answer.append((True, job(*args)))
            kept.clear()
            ok, value = answer[0]
            if ok:
                return value
            raise value

        return result

    def close(self) -> None:
        """Stop the worker (every page has been collected by now)."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()
            # It ends once its input ends: its end of the results pipe closes then. Read
            # to that end (what is left unread, if any, could fill the pipe and keep it
            # from ending); `wait` with a timeout would poll, sleeping milliseconds.
            fd, deadline = process.stdout.fileno(), time.monotonic() + 5
            while select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                if not os.read(fd, PIPE_BYTES):
                    break
            else:
                raise subprocess.TimeoutExpired(process.args, 5)
            process.wait()
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            process.stdout.close()

    def _send(self, job: Callable, args: tuple) -> tuple[int, bytes] | None:
        """The job's number and pickle, once written to the worker; None when the main
        process must run it."""
        if self._broken:
            return None
        try:
            data = pickle.dumps((job, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # this job does not pickle: the main process runs it
            return None
        try:
            if self._process is None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "mkdocs_erratum.page_worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))},
                )
                _widen_pipes(self._process.stdin, self._process.stdout)
            number, self._next = self._next, self._next + 1
            _write_frame(self._process.stdin, number, data)
            return number, data
        except Exception as exc:  # it cannot start, or its pipe broke
            self._give_up(exc)
            return None

    def _receive(self, number: int) -> tuple[bool, Any]:
        """The worker's answer to job ``number``: (True, result) or (False, exception)."""
        assert self._process is not None
        fd = self._process.stdout.fileno()
        deadline = time.monotonic() + WAIT_SECONDS
        while number not in self._done:
            # Every whole frame read so far, then what is left of the buffer: the frames
            # are read off in place (cutting each off the buffer would copy the rest).
            buffer, start = self._buffer, 0
            with memoryview(buffer) as view:
                while len(buffer) - start >= _HEADER.size:
                    got, size = _HEADER.unpack_from(buffer, start)
                    end = start + _HEADER.size + size
                    if len(buffer) < end:
                        break
                    self._done[got] = pickle.loads(view[start + _HEADER.size : end])
                    start = end
            self._buffer = buffer[start:] if start else buffer
            if number in self._done:
                break
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WorkerFailed(f"no answer in {WAIT_SECONDS:.0f} s")
            chunk = os.read(fd, PIPE_BYTES)
            if not chunk:
                raise WorkerFailed("the worker process ended")
            self._buffer += chunk
        return self._done.pop(number)

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            self._broken = True
            self._tell(
                "The source map's worker process failed (%s: %s); pages are mapped in "
                "the main process for the rest of the build.",
                type(exc).__name__,
                exc,
            )
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):  # what was buffered for a dead process
                    stream.close()


PIPE_BYTES = 1 << 20
"""The pipes' capacity asked for (Linux's default for an unprivileged process is at
most this): a page's job, often a few hundred kilobytes, goes in without waiting for
the worker to read the first 64 KB."""


def _widen_pipes(*streams: BinaryIO) -> None:
    """Ask for `PIPE_BYTES` of room in each pipe (Linux only; elsewhere, as they are)."""
    try:
        import fcntl

        for stream in streams:
            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _write_frame(stream: BinaryIO, number: int, data: bytes) -> None:
    stream.write(_HEADER.pack(number, len(data)) + data)
    stream.flush()


def _read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    number, size = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return number, data


def serve(jobs_in: BinaryIO, results_out: BinaryIO) -> None:
    """The worker's loop: run each job read from ``jobs_in``, in order, and write its
    result to ``results_out``, until ``jobs_in`` ends. Reading and writing go on in
    threads, so that the host's writes and reads never wait for a job to finish."""
    jobs: queue.Queue = queue.Queue()
    results: queue.Queue = queue.Queue()

    def read() -> None:
        while (frame := _read_frame(jobs_in)) is not None:
            jobs.put(frame)
        jobs.put(None)

    def write() -> None:
        while (item := results.get()) is not None:
            _write_frame(results_out, *item)

    reader = threading.Thread(target=read, daemon=True)
    writer = threading.Thread(target=write)
    reader.start()
    writer.start()
    while (frame := jobs.get()) is not None:
        number, data = frame
        try:
            job, args = pickle.loads(data)
            answer: tuple[bool, Any] = (True, job(*args))
        except Exception as exc:
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # a result or exception that does not pickle: its text does
            failed = WorkerFailed(f"{type(answer[1]).__name__}: {answer[1]}"[:1000])
            data = pickle.dumps((False, failed), protocol=pickle.HIGHEST_PROTOCOL)
        results.put((number, data))
    results.put(None)
    writer.join()


def main() -> None:
    # Below the host in priority: when the machine is busy, the build's own process keeps
    # its core (a page's ranges are needed only when it is written).
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    # Results go to the original standard output; whatever else prints goes to
    # standard error, where it cannot break a frame.
    results_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, results_out)
    # Every result is written and flushed: end at once. Tearing the interpreter down
    # (its modules, the pages' objects) took 30 ms of the host's build, which waits for
    # this process to end (PageWorker.close).
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
