"""Retrying a forge's requests without creating anything twice: the loop forges share.

A forge module classifies its client library's exceptions (`Failure`: the neutral
`ForgeError`, the wait the forge asked for, whether it is a stale write); `Attempts`
decides whether and when to try again. Reads and writes that are safe to repeat
(adding a label) go through `Attempts.call`; creates through `Attempts.create`, which
looks up first and, after a failure that may have happened after the forge did the
work (no answer, a timeout, 5xx, a rate limit), looks up again before creating again.
No client library here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .base import ForgeError

_T = TypeVar("_T")


@dataclass(frozen=True)
class Failure:
    """What a forge module makes of one exception of its client library."""

    error: ForgeError
    """The neutral error to raise when no retry is left."""
    retry_after: float | None = None
    """The seconds the forge asked to wait (``Retry-After``), if it said."""
    conflict: bool = False
    """A stale write (409): worth a fresh look-up and another try, for file commits."""


Classify = Callable[[str, Exception], "Failure | None"]
"""``classify(what, exc)``: the `Failure`, or None for an exception that is not the
client's (it propagates unchanged)."""


class Attempts:
    """How often and how long to retry, for one forge client.

    Args:
        classify: the forge module's classifier (see `Classify`).
        attempts: tries in all for a request that failed in a retryable way.
        backoff: first pause between tries, doubled each time (seconds).
        max_wait: the longest ``Retry-After`` honoured; longer waits fail instead.
    """

    def __init__(
        self, classify: Classify, *, attempts: int = 4, backoff: float = 1.0, max_wait=120.0
    ):
        self.classify = classify
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_wait = max_wait

    def call(self, what: str, action: Callable[[], _T], *, retry: bool = False) -> _T:
        """Run ``action``; a client error becomes a `ForgeError`.

        ``retry``: try again after a transient failure (reads; writes safe to repeat).
        """
        tries = self.attempts if retry else 1
        for attempt in range(tries):
            try:
                return action()
            except Exception as exc:
                failure = self.classify(what, exc)
                if failure is None:
                    raise
                wait = self.wait(failure, attempt, conflicts=False)
                if wait is None or attempt == tries - 1:
                    raise failure.error from None
            time.sleep(wait)
        raise AssertionError("unreachable")

    def create(
        self,
        what: str,
        *,
        lookup: Callable[[], _T | None],
        create: Callable[[], _T],
        conflicts: bool = False,
    ) -> _T:
        """Look up, then create; after a failure that may have created it anyway, repeat.

        A found dataclass with a ``created`` field found after our own failed try is
        returned with ``created=True`` (that try did create it). ``conflicts``: a stale
        write (409) is retried too, after a fresh look-up.
        """
        for attempt in range(self.attempts):
            found = lookup()
            if found is not None:
                if attempt > 0 and dataclasses.is_dataclass(found) and hasattr(found, "created"):
                    found = dataclasses.replace(found, created=True)
                return found
            try:
                return create()
            except Exception as exc:
                failure = self.classify(what, exc)
                if failure is None:
                    raise
                wait = self.wait(failure, attempt, conflicts)
                if wait is None or attempt == self.attempts - 1:
                    raise failure.error from None
            time.sleep(wait)
        raise AssertionError("unreachable")

    def wait(self, failure: Failure, attempt: int, conflicts: bool) -> float | None:
        """Seconds to wait before the next try, or None when it is not worth one.

        >>> a = Attempts(lambda what, exc: None, backoff=0.5, max_wait=10)
        >>> a.wait(Failure(ForgeError("x", 502)), 2, False)
        2.0
        >>> a.wait(Failure(ForgeError("x", 429), retry_after=60), 0, False) is None
        True
        >>> a.wait(Failure(ForgeError("x", 409), conflict=True), 0, True)
        0.5
        >>> a.wait(Failure(ForgeError("x", 404)), 0, True) is None
        True
        """
        if not (failure.error.transient or (conflicts and failure.conflict)):
            return None
        if failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= self.max_wait else None
        return self.backoff * (2**attempt)
