"""Durable report storage: SQLite in WAL mode, one row per report, written before any 202.

Every accepted report is committed (``synchronous=FULL``: the WAL is synced on commit)
before the service answers. The worker claims a due report by moving it to
``in_flight``; on start, `ReportStore.resume` puts every ``in_flight`` report back in the
queue, so a kill -9 at any moment loses nothing (the backend then looks up what a
half-finished attempt may have created before creating anything). With moderation, a
report is stored ``held`` instead of ``queued``: the worker never claims it until a
maintainer approves it (`release`) or rejects it (`dismiss`; kept for audit until
`purge_rejected`). Used proof-of-work challenges are recorded in the same transaction as
the report, so a challenge buys one report only. Thread-safe: one connection behind a lock
(SQLite serialises writers anyway).

A database locked by another process makes a call wait at most ``busy_ms`` and then raise
`StoreUnavailable` (the app answers 503). A damaged file is refused when it is opened
(`StoreDamaged`), before the service answers anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

HELD = "held"
"""Accepted, waiting for a maintainer's approval (moderation); never sent while held."""
QUEUED = "queued"
IN_FLIGHT = "in_flight"
ISSUE_OPENED = "issue_opened"
PULL_REQUEST_OPENED = "pull_request_opened"
BRANCH_CREATED = "branch_created"
JOINED = "joined"
"""Added as a comment to the open issue or pull request of the same lines."""
REJECTED = "rejected"
DONE_STATES = frozenset({ISSUE_OPENED, PULL_REQUEST_OPENED, BRANCH_CREATED, JOINED, REJECTED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    report TEXT NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    number INTEGER,
    url TEXT,
    branch TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    due_at REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_due ON reports (state, due_at);
CREATE TABLE IF NOT EXISTS used_challenges (
    signature TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class ReportRecord:
    """One stored report and where it stands."""

    id: str
    report: str
    """The report as JSON text (reader text already neutralised)."""
    digest: str
    state: str
    number: int | None
    url: str | None
    branch: str | None
    reason: str | None
    attempts: int
    due_at: float
    created_at: float
    updated_at: float = 0.0

    def public(self) -> dict:
        """What ``GET /api/reports/{id}`` answers."""
        return {
            "id": self.id,
            "state": self.state,
            "number": self.number,
            "url": self.url,
            "branch": self.branch,
            "reason": self.reason,
        }


class ChallengeReused(Exception):
    """The proof-of-work solution was already spent on another report."""


class StoreUnavailable(Exception):
    """The database is locked by someone else (or cannot be written) right now."""


class StoreDamaged(ValueError):
    """The database file is not a sound SQLite database; the message says what to do."""


def _guarded(method):
    """Run a store method under the store's lock, waiting no longer than ``busy_ms``.

    SQLite's "database is locked" and I/O errors become `StoreUnavailable`.
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        if not self._lock.acquire(timeout=self._wait):
            raise StoreUnavailable("the database is busy")
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        finally:
            self._lock.release()

    return run


def report_digest(report_json: str) -> str:
    """Identifies a report's content, to tell a retried POST from a conflicting one."""
    return hashlib.sha256(report_json.encode("utf-8")).hexdigest()


class ReportStore:
    """The SQLite file behind the service."""

    def __init__(self, path: str, busy_ms: int = 1000):
        """Open (or create) the database and check that it is sound.

        Raises:
            StoreDamaged: when the file is not a SQLite database or fails ``quick_check``.
            StoreUnavailable: when it stays locked by another process.
        """
        self.path = path
        self._lock = threading.Lock()
        # Our own lock is waited on as long as SQLite's: a locked file never piles up
        # requests behind one another for longer than that.
        self._wait = max(0.05, busy_ms / 1000)
        self._db = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=busy_ms / 1000
        )
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                found = " ".join(" ".join(problems).split())  # one line
                raise StoreDamaged(
                    f"database {path} is damaged ({found[:200]}): restore it "
                    "from a backup, or move it away to start an empty one"
                )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(reports)")}
            if not {"id", "report", "state", "attempts", "due_at"} <= columns:
                raise StoreDamaged(f"database {path} is not an erratum service database")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreUnavailable(f"database {path} is locked by another process") from exc
            raise StoreDamaged(
                f"database {path} cannot be used ({exc}): restore it from a backup, or move "
                "it away to start an empty one"
            ) from exc
        except StoreDamaged:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- accepting -------------------------------------------------------------------

    @_guarded
    def add(
        self,
        report_id: str,
        report_json: str,
        challenge: str | None = None,
        expires_at=0.0,
        *,
        held: bool = False,
    ) -> tuple[ReportRecord, bool]:
        """Store a new report durably, spending its challenge; idempotent on the id.

        ``held``: store it `HELD` (moderation) rather than queued for sending.

        Returns:
            ``(record, created)``; ``created`` is False when the id was already stored
            (the stored record is returned unchanged).

        Raises:
            ChallengeReused: when ``challenge`` was spent before (nothing is stored).
        """
        now = time.time()
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            row = cur.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
            if row is not None:
                cur.execute("ROLLBACK")
                return _record(row), False
            if challenge is not None:
                try:
                    cur.execute(
                        "INSERT INTO used_challenges (signature, expires_at) VALUES (?, ?)",
                        (challenge, expires_at),
                    )
                except sqlite3.IntegrityError:
                    cur.execute("ROLLBACK")
                    raise ChallengeReused() from None
            cur.execute(
                "INSERT INTO reports (id, report, digest, state, due_at, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    report_id,
                    report_json,
                    report_digest(report_json),
                    HELD if held else QUEUED,
                    now,
                    now,
                    now,
                ),
            )
            cur.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                cur.execute("ROLLBACK")
            raise
        row = cur.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        return _record(row), True

    @_guarded
    def get(self, report_id: str) -> ReportRecord | None:
        row = self._db.execute("SELECT * FROM reports WHERE id = ?", (report_id,)).fetchone()
        return _record(row) if row else None

    # -- sending ---------------------------------------------------------------------

    @_guarded
    def resume(self) -> int:
        """Put reports left in flight by a crash back in the queue; returns how many."""
        cur = self._db.execute(
            "UPDATE reports SET state = ?, updated_at = ? WHERE state = ?",
            (QUEUED, time.time(), IN_FLIGHT),
        )
        return cur.rowcount

    @_guarded
    def claim(self, now: float | None = None, retries_first: bool = False) -> ReportRecord | None:
        """Move the oldest due queued report to ``in_flight`` and return it (or None).

        Reports never tried come before retried ones (``retries_first`` reverses that), so
        that reports failing again and again never hold up new ones; the worker alternates.
        """
        now = time.time() if now is None else now
        order = "DESC" if retries_first else "ASC"
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            row = cur.execute(
                "SELECT id FROM reports WHERE state = ? AND due_at <= ?"
                f" ORDER BY attempts > 0 {order}, due_at, created_at LIMIT 1",
                (QUEUED, now),
            ).fetchone()
            if row is None:
                cur.execute("COMMIT")
                return None
            cur.execute(
                "UPDATE reports SET state = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE id = ?",
                (IN_FLIGHT, now, row["id"]),
            )
            claimed = cur.execute("SELECT * FROM reports WHERE id = ?", (row["id"],)).fetchone()
            cur.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                cur.execute("ROLLBACK")
            raise
        return _record(claimed)

    @_guarded
    def next_due(self) -> float | None:
        """When the next queued report becomes due (epoch seconds), or None."""
        row = self._db.execute(
            "SELECT MIN(due_at) AS due FROM reports WHERE state = ?", (QUEUED,)
        ).fetchone()
        return row["due"] if row else None

    @_guarded
    def finish(
        self,
        report_id: str,
        state: str,
        *,
        number: int | None = None,
        url: str | None = None,
        branch: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Record the outcome of a report (a created issue, pull request, branch, or a refusal)."""
        if state not in DONE_STATES:
            raise ValueError(f"not a final state: {state}")
        self._db.execute(
            "UPDATE reports SET state = ?, number = ?, url = ?, branch = ?, reason = ?,"
            " last_error = NULL, updated_at = ? WHERE id = ?",
            (state, number, url, branch, reason, time.time(), report_id),
        )

    @_guarded
    def retry_later(self, report_id: str, due_at: float, error: str) -> None:
        """Put a report back in the queue after a failed attempt."""
        self._db.execute(
            "UPDATE reports SET state = ?, due_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
            (QUEUED, due_at, error[:500], time.time(), report_id),
        )

    @_guarded
    def counts(self) -> dict[str, int]:
        """Number of reports in each state."""
        rows = self._db.execute(
            "SELECT state, COUNT(*) AS n FROM reports GROUP BY state"
        ).fetchall()
        return {row["state"]: row["n"] for row in rows}

    @_guarded
    def all_records(self) -> list[ReportRecord]:
        rows = self._db.execute("SELECT * FROM reports ORDER BY created_at").fetchall()
        return [_record(row) for row in rows]

    # -- moderation ----------------------------------------------------------------

    @_guarded
    def held_records(self, limit: int | None = None) -> list[ReportRecord]:
        """Held reports, oldest first (at most ``limit``)."""
        rows = self._db.execute(
            "SELECT * FROM reports WHERE state = ? ORDER BY created_at, id LIMIT ?",
            (HELD, -1 if limit is None else limit),
        ).fetchall()
        return [_record(row) for row in rows]

    @_guarded
    def release(self, report_ids: Iterable[str], now: float | None = None) -> list[str]:
        """Queue held reports for sending (approval), in one transaction.

        Returns:
            The ids that were held and are queued now (others are left as they are).
        """
        now = time.time() if now is None else now
        return self._move(report_ids, "state = ?, due_at = ?", (QUEUED, now), now)

    @_guarded
    def dismiss(
        self, report_ids: Iterable[str], reason: str, now: float | None = None
    ) -> list[str]:
        """End held reports `REJECTED` with ``reason`` (kept until `purge_rejected`).

        Returns:
            The ids that were held and are rejected now.
        """
        now = time.time() if now is None else now
        return self._move(report_ids, "state = ?, reason = ?", (REJECTED, reason[:500]), now)

    def _move(self, report_ids: Iterable[str], assignments: str, values: tuple, now: float):
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        moved = []
        try:
            for report_id in dict.fromkeys(report_ids):
                changed = cur.execute(
                    f"UPDATE reports SET {assignments}, updated_at = ? WHERE id = ? AND state = ?",
                    (*values, now, report_id, HELD),
                ).rowcount
                if changed:
                    moved.append(report_id)
            cur.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                cur.execute("ROLLBACK")
            raise
        return moved

    @_guarded
    def purge_rejected(self, before: float) -> int:
        """Delete rejected reports last changed before ``before`` (epoch seconds).

        Returns:
            How many were deleted (their text is gone; their id answers 404).
        """
        cur = self._db.execute(
            "DELETE FROM reports WHERE state = ? AND updated_at < ?", (REJECTED, before)
        )
        return cur.rowcount

    # -- small things ----------------------------------------------------------------

    @_guarded
    def forget_expired_challenges(self, now: float | None = None) -> None:
        self._db.execute(
            "DELETE FROM used_challenges WHERE expires_at < ?",
            (time.time() if now is None else now,),
        )

    @_guarded
    def secret(self, key: str) -> str:
        """A random secret stored once and kept across restarts (e.g. the ALTCHA key)."""
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
            (key, secrets.token_hex(32)),
        )
        return self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]


def _record(row: sqlite3.Row) -> ReportRecord:
    return ReportRecord(
        id=row["id"],
        report=row["report"],
        digest=row["digest"],
        state=row["state"],
        number=row["number"],
        url=row["url"],
        branch=row["branch"],
        reason=row["reason"],
        attempts=row["attempts"],
        due_at=row["due_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def dumps(data: dict) -> str:
    """Compact JSON, as stored."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
