"""The background sender: takes due reports from the store and hands them to the backend.

It keeps within a rate of content-creating requests (GitHub's secondary limit is about 80
a minute), retries transient failures with exponential backoff and jitter (honouring a
Retry-After, which also pauses every other send), and before re-sending a report that an
earlier attempt may have created (any report claimed more than once) it asks the backend
what already exists. Backend calls run in threads; the loop itself is asyncio.

A report that keeps failing must not hold up the others: claims alternate between
reports never tried and retried ones, and a report that has failed ``max_attempts`` times
while other reports were delivered (so the backend works, and the fault is the report's)
ends ``rejected`` with its last error. During an outage nothing is delivered, so nothing
is rejected for it: reports wait, backing off up to ``retry_max``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

import anyio.to_thread

from mkdocs_erratum.report import Report, ReportError
from mkdocs_erratum.service.backends import Backend, Delivery, Refused, RetryLater
from mkdocs_erratum.service.logs import log_event
from mkdocs_erratum.service.store import REJECTED, ReportRecord, ReportStore, StoreUnavailable

CLEANUP_SECONDS = 600.0
"""How often spent proof-of-work challenges past their expiry are forgotten (and the
other `Worker.housekeeping` done: rejected reports past their retention deleted)."""


class SendLimiter:
    """An asyncio token bucket for content-creating requests, with a global pause."""

    def __init__(self, per_minute: float, burst: int):
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.tokens = float(self.burst)
        self.stamp = time.monotonic()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Stop every send for ``seconds`` (the other side asked us to slow down)."""
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)
        self.tokens = 0.0

    async def acquire(self, count: int = 1) -> None:
        """Wait until ``count`` requests may be made."""
        for _ in range(count):
            await self._acquire_one()

    async def _acquire_one(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self.paused_until:
                    await asyncio.sleep(self.paused_until - now)
                    continue
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self.tokens) / self.rate)


class Worker:
    """Delivers queued reports until stopped."""

    def __init__(
        self,
        store: ReportStore,
        backend: Backend,
        *,
        per_minute: float = 80.0,
        burst: int = 5,
        concurrency: int = 1,
        retry_base: float = 2.0,
        retry_max: float = 600.0,
        max_attempts: int = 8,
    ):
        self.store = store
        self.backend = backend
        self.limiter = SendLimiter(per_minute, burst)
        self.concurrency = concurrency
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self.last_delivered = 0.0
        """When a report was last delivered (epoch seconds): the backend then worked."""
        self._retries_first = False
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._cleaned = time.monotonic()
        self.housekeeping = [store.forget_expired_challenges]
        """Called every `CLEANUP_SECONDS` while idle (expired challenges, old rejections)."""

    def wake(self) -> None:
        """Tell the worker a report was queued (called by the app after a 202)."""
        self._wake.set()

    async def run(self) -> None:
        resumed = await self._save(self.store.resume)
        if resumed:
            log_event("reports_resumed", count=resumed)
        while not self._stopping:
            await self._slots.acquire()
            self._retries_first = not self._retries_first
            try:
                record = await anyio.to_thread.run_sync(
                    lambda: self.store.claim(retries_first=self._retries_first)
                )
            except Exception:
                self._slots.release()
                logging.getLogger(__name__).exception("claim failed")
                await asyncio.sleep(1.0)
                continue
            if record is None:
                self._slots.release()
                await self._idle()
                continue
            task = asyncio.create_task(self._send(record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

    async def _idle(self) -> None:
        due = None
        try:
            if time.monotonic() - self._cleaned > CLEANUP_SECONDS:
                self._cleaned = time.monotonic()
                for task in self.housekeeping:
                    await anyio.to_thread.run_sync(task)
            due = await anyio.to_thread.run_sync(self.store.next_due)
        except StoreUnavailable:
            pass  # look again in a second
        timeout = 1.0 if due is None else min(1.0, max(0.01, due - time.time()))
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _save(self, change) -> None:
        """Run a store update, waiting out a locked database (the outcome must be kept)."""
        delay = 0.1
        while True:
            try:
                return await anyio.to_thread.run_sync(change)
            except StoreUnavailable as exc:
                log_event("store_busy", logging.WARNING, error=str(exc)[:200])
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _send(self, record: ReportRecord) -> None:
        try:
            await self._attempt(record)
        except Exception as exc:  # never let one report stop the worker
            logging.getLogger(__name__).exception("unexpected failure sending %s", record.id)
            await self._retry(record, f"{type(exc).__name__}: {exc}", None)
        finally:
            self._slots.release()

    async def _reject(self, record: ReportRecord, reason: str) -> None:
        await self._save(lambda: self.store.finish(record.id, REJECTED, reason=reason))
        log_event("report_rejected", id=record.id, attempts=record.attempts, reason=reason)

    async def _attempt(self, record: ReportRecord) -> None:
        try:
            report = Report.from_json(record.report)
        except ReportError as exc:
            await self._reject(record, str(exc))
            return
        try:
            delivery: Delivery | None = None
            if record.attempts > 1:
                # An earlier attempt may have created it before the crash or the error.
                delivery = await anyio.to_thread.run_sync(self.backend.find, report)
            if delivery is None:
                cost = getattr(self.backend, "cost", None)
                await self.limiter.acquire(cost(report) if cost else 1)
                delivery = await anyio.to_thread.run_sync(self.backend.deliver, report)
        except Refused as exc:
            await self._reject(record, str(exc))
            return
        except RetryLater as exc:
            await self._retry(record, str(exc), exc.retry_after)
            return
        self.last_delivered = time.time()
        await self._save(
            lambda: self.store.finish(
                record.id,
                delivery.state,
                number=delivery.number,
                url=delivery.url,
                branch=delivery.branch,
            )
        )
        log_event(
            "report_delivered",
            id=record.id,
            state=delivery.state,
            number=delivery.number,
            url=delivery.url,
            branch=delivery.branch,
            attempts=record.attempts,
        )

    async def _retry(self, record: ReportRecord, error: str, retry_after: float | None) -> None:
        if record.attempts >= self.max_attempts and self.last_delivered > record.created_at:
            # Others went through since it was queued: this failure is the report's own.
            await self._reject(
                record,
                f"Delivery failed {record.attempts} times while other reports went through; "
                f"last error: {error[:300]}",
            )
            return
        delay = min(self.retry_max, self.retry_base * 2 ** max(0, record.attempts - 1))
        delay = delay * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
            self.limiter.pause(retry_after)
        await self._save(lambda: self.store.retry_later(record.id, time.time() + delay, error))
        log_event(
            "report_retry",
            logging.WARNING,
            id=record.id,
            attempts=record.attempts,
            delay=round(delay, 2),
            error=error,
        )
        self._wake.set()
