"""The HTTP face of the correction service (FastAPI), thin over the store and the checks.

``POST /api/reports`` runs the protections in order (origin, rate limits, body size,
JSON shape, honeypot, field limits, schema, idempotency, proof of work, manifest, raw
HTML), neutralises reader text and answers 202 only after the report is committed to
SQLite. ``GET /api/reports/{id}`` reads its state; ``GET /api/reports?page=URL`` lists
the open reports of a page (the widget's markers: no reader text, reused for
``open_reports_cache_seconds``); ``GET /api/challenge`` issues an
ALTCHA challenge; ``GET /healthz`` says "ok" and nothing else, without touching the
store. Every refusal is ``{"error": code, "message": sentence}`` with a 4xx status, a
locked database or an unreadable manifest a 503, and anything unexpected a 500 of the
same shape (never a plain-text page). See docs: "Running the service".
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import time
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from mkdocs_erratum import gate
from mkdocs_erratum.manifest import Manifest, ManifestError, check_report, load_manifest
from mkdocs_erratum.report import Report, ReportError
from mkdocs_erratum.service.abuse import (
    ProofOfWork,
    RateLimiter,
    Rejected,
    check_fields,
    check_text,
    clean_report,
    page_origin,
)
from mkdocs_erratum.service.admin import AdminGate, admin_router
from mkdocs_erratum.service.backends import Backend, ForgeBackend, GitBackend, RetryLater
from mkdocs_erratum.service.logs import log_event
from mkdocs_erratum.service.moderation import Moderation
from mkdocs_erratum.service.settings import ServiceSettings
from mkdocs_erratum.service.store import (
    HELD,
    ChallengeReused,
    ReportStore,
    StoreUnavailable,
    report_digest,
)
from mkdocs_erratum.service.worker import Worker
from mkdocs_erratum.triage import view_for_page

_ID_RE = re.compile(r"^r-[0-9a-f]{16}$")
UNAVAILABLE = "The service cannot check reports right now; please try again later."
"""What a reader is told when the manifest cannot be read (no server path, no detail)."""


class ManifestUnavailable(Exception):
    """No good manifest is at hand; the detail is for the log, never for the reader."""


class ManifestSource:
    """Loads the manifest from a file (re-read when it changes) or a URL (re-fetched).

    A manifest that cannot be read or is invalid (e.g. truncated while the site is
    deployed) never replaces the last good one: that one is kept, with a warning in
    the log. `get` blocks (file or network I/O): call it from a thread, as the app does.
    """

    def __init__(self, location: str, refresh_seconds: float = 60.0):
        self.location = location
        self.refresh_seconds = refresh_seconds
        self._manifest: Manifest | None = None
        self._stamp: int | None = None
        """A file's mtime when it was last read."""
        self._next_fetch = 0.0
        """A URL: when (monotonic) to fetch it again."""
        self._warned: object = None
        self._lock = threading.Lock()

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def get(self) -> Manifest:
        """The current manifest, or the last good one when the current one is bad.

        Raises:
            ManifestUnavailable: when no good manifest was ever read.
        """
        if not self._lock.acquire(blocking=self._manifest is None):
            return self._manifest  # another thread is refreshing it: use the last good one
        try:
            return self._refresh()
        finally:
            self._lock.release()

    def _refresh(self) -> Manifest:
        stamp: int | None = None
        try:
            if self.is_url:
                now = time.monotonic()
                if now < self._next_fetch:
                    return self._current()
                # Not fetched again before refresh_seconds; sooner while none is good.
                good = self._manifest is not None
                wait = self.refresh_seconds if good else min(self.refresh_seconds, 5.0)
                self._next_fetch = now + wait
            else:
                stamp = os.stat(self.location).st_mtime_ns
                if stamp == self._stamp:
                    return self._current()
            if self.is_url:
                with urlopen(self.location, timeout=10) as response:
                    text = response.read(50_000_000).decode("utf-8")
            else:
                with open(self.location, encoding="utf-8") as fh:
                    text = fh.read()
            manifest = load_manifest(text)
        except (OSError, ValueError) as exc:  # ManifestError is a ValueError
            detail = f"manifest {self.location}: {exc}"
            if stamp is not None:
                self._stamp = stamp  # not read again before it changes
            if self._manifest is None:
                self._warned = detail
                raise ManifestUnavailable(detail) from exc
            if self._warned != detail:
                self._warned = detail
                log_event(
                    "manifest_kept", logging.WARNING, message=detail + "; the last good one is used"
                )
            return self._manifest
        self._manifest, self._stamp, self._warned = manifest, stamp, None
        return manifest

    def _current(self) -> Manifest:
        if self._manifest is None:
            raise ManifestUnavailable(f"manifest {self.location}: {self._warned or 'unreadable'}")
        return self._manifest


def without_query(url: str) -> str:
    """A URL without its query and fragment, as it may appear in a log line.

    >>> without_query("https://a.org/p/?token=x#top")
    'https://a.org/p/'
    """
    try:
        return urlunsplit(urlsplit(url)._replace(query="", fragment=""))
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]


def make_backend(settings: ServiceSettings, manifest=None) -> Backend:
    """The backend the settings name (``manifest``: a callable giving the current one)."""
    if settings.backend == "git":
        return GitBackend(settings.git_repository, settings.git_base_branch, manifest=manifest)
    return ForgeBackend.from_settings(settings, manifest=manifest)


def error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    """The JSON body of every refusal."""
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def create_app(settings: ServiceSettings, backend: Backend | None = None) -> FastAPI:
    """Build the ASGI app; the worker starts and stops with it.

    Args:
        settings: validated settings.
        backend: the backend to use (default: the one the settings name).
    """
    store = ReportStore(settings.database, settings.database_busy_ms)
    manifest = ManifestSource(settings.manifest, settings.manifest_refresh_seconds)
    backend = backend or make_backend(settings, manifest.get)
    pow_ = ProofOfWork(
        settings.altcha_hmac_key or store.secret("altcha_hmac_key"),
        settings.altcha_max_number,
        settings.altcha_expires_seconds,
    )
    report_limits = RateLimiter(
        settings.ip_reports_per_minute,
        settings.ip_burst,
        settings.global_reports_per_minute,
        settings.global_burst,
        settings.ip_memory,
    )
    challenge_limits = RateLimiter(
        settings.challenges_per_minute,
        max(1, int(settings.challenges_per_minute)),
        settings.challenges_per_minute * 100,
        max(1, int(settings.challenges_per_minute * 100)),
        settings.ip_memory,
    )
    worker = Worker(
        store,
        backend,
        per_minute=settings.send_per_minute,
        burst=settings.send_burst,
        concurrency=settings.worker_concurrency,
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
        max_attempts=settings.max_attempts,
    )
    moderation = Moderation(store, manifest.get, settings.rejected_retention_days, worker.wake)
    worker.housekeeping.append(moderation.purge)
    origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            await anyio.to_thread.run_sync(manifest.get)
        except ManifestUnavailable as exc:
            log_event("manifest_unavailable", logging.ERROR, message=str(exc))
        if not origins:
            log_event(
                "no_allowed_origins",
                logging.WARNING,
                message="allowed_origins is empty: browsers cannot send reports",
            )
        await anyio.to_thread.run_sync(moderation.purge)
        runner = asyncio.create_task(worker.run())
        held = await anyio.to_thread.run_sync(moderation.held_count)
        log_event(
            "service_started",
            backend=backend.name,
            database=settings.database,
            moderation=settings.moderation,
            held=held,
        )
        try:
            yield
        finally:
            await worker.stop()
            runner.cancel()
            store.close()

    app = FastAPI(
        title="erratum correction service",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.store = store
    app.state.worker = worker
    app.state.settings = settings
    app.state.moderation = moderation
    if settings.admin_token:
        app.include_router(admin_router(AdminGate(settings.admin_token), moderation))

    def client_address(request: Request) -> str:
        # With trust_forwarded_for, uvicorn's ProxyHeadersMiddleware (added below) has
        # already put the rightmost untrusted X-Forwarded-For address here.
        return request.client.host if request.client else "unknown"

    @app.middleware("http")
    async def cors(request: Request, call_next):
        origin = request.headers.get("origin")
        allowed = origin is not None and origin.rstrip("/").lower() in origins
        if origin is not None and not allowed and request.url.path.startswith("/api/"):
            log_event(
                "origin_refused",
                logging.INFO,
                origin=without_query(origin)[:200],
                path=request.url.path,
            )
            return error(
                403, "origin_not_allowed", "This site is not allowed to send reports here."
            )
        if request.method == "OPTIONS" and allowed:
            response: Response = Response(status_code=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await call_next(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    if settings.trust_forwarded_for:
        # Outermost, so that every handler sees the client, never the proxy.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trust_forwarded_for)

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected):
        # No address and no reader text in the log: the code says what was refused.
        log_event("request_refused", logging.INFO, path=request.url.path, code=exc.code)
        return error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable):
        log_event("store_busy", logging.WARNING, path=request.url.path, error=str(exc)[:200])
        return error(
            503,
            "store_busy",
            "The service is busy; please try again in a few seconds.",
            {"Retry-After": "5"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        message = {404: "There is nothing here.", 405: "This method is not allowed here."}
        return error(
            exc.status_code, code, message.get(exc.status_code, "The request is not valid.")
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # Starlette still logs the traceback; the client gets JSON, not a plain-text page.
        log_event("internal_error", logging.ERROR, path=request.url.path, error=type(exc).__name__)
        return error(500, "internal_error", "Something went wrong on our side; please try again.")

    @app.get("/healthz")
    async def healthz():
        # Touches neither the store nor the manifest: it answers while either is stuck,
        # and tells an anonymous caller nothing about the set-up.
        return {"status": "ok"}

    @app.get("/api/challenge")
    async def challenge(request: Request):
        challenge_limits.check(client_address(request))
        return JSONResponse(pow_.challenge(), headers={"Cache-Control": "no-store"})

    @app.get("/api/reports")
    async def open_reports(page: str = ""):
        # What the widget's markers show: numbers, links, paths, lines; no reader text,
        # nothing about who asks (the answer is the same for everyone, and reused).
        if not page or len(page) > 2000 or not page.startswith(("http://", "https://")):
            raise Rejected(400, "invalid_request", "Give the page's address as ?page=URL.")
        try:
            view = await anyio.to_thread.run_sync(backend.open_view)
        except RetryLater:
            raise Rejected(
                503,
                "forge_unavailable",
                "Open reports cannot be read right now.",
                {"Retry-After": "30"},
            ) from None
        try:
            current = await anyio.to_thread.run_sync(manifest.get)
        except ManifestUnavailable:
            current = None
        wanted = _page_key(current, page)
        answer = view_for_page(view, lambda other: _page_key(current, other) == wanted)
        seconds = int(settings.open_reports_cache_seconds)
        return JSONResponse(answer, headers={"Cache-Control": f"public, max-age={seconds}"})

    @app.get("/api/reports/{report_id}")
    async def report_state(report_id: str):
        if not _ID_RE.match(report_id):
            return error(404, "not_found", "No report has this id.")
        record = await anyio.to_thread.run_sync(store.get, report_id)
        if record is None:
            return error(404, "not_found", "No report has this id.")
        return JSONResponse(record.public(), headers={"Cache-Control": "no-store"})

    @app.post("/api/reports")
    async def post_report(request: Request):
        address = client_address(request)
        report_limits.check(address)
        content_type = request.headers.get("content-type", "")
        if not content_type.split(";")[0].strip().lower() == "application/json":
            raise Rejected(415, "unsupported_media_type", "Send the report as application/json.")
        body = await _read_body(request, settings.max_body_bytes)
        try:
            payload = json.loads(body)
        except RecursionError:
            raise Rejected(422, "too_deep", "The request is nested too deeply.") from None
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "invalid_json", "The request body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise Rejected(400, "invalid_json", "The request body must be a JSON object.")
        payload = check_text(payload)
        check_fields(payload)
        try:
            report = Report.from_dict(payload["report"])
        except ReportError as exc:
            raise Rejected(422, "invalid_report", f"The report is not valid: {exc}.") from None
        key = request.headers.get("idempotency-key")
        if key != report.id:
            raise Rejected(
                400,
                "idempotency_key_mismatch",
                "The Idempotency-Key header must be the report id.",
            )
        existing = await anyio.to_thread.run_sync(store.get, report.id)
        if existing is not None:
            return _accepted_or_conflict(existing, report)
        signature, expires_at = pow_.verify(payload["altcha"])
        if origins and page_origin(report.page_url) not in origins:
            raise Rejected(
                422, "unknown_page", "The page is not on a site allowed to send reports here."
            )
        try:
            current = await anyio.to_thread.run_sync(manifest.get)
        except ManifestUnavailable as exc:
            log_event("manifest_unavailable", logging.ERROR, message=str(exc))
            raise Rejected(
                503, "manifest_unavailable", UNAVAILABLE, {"Retry-After": "30"}
            ) from None
        try:
            check_report(current, report)
        except ManifestError as exc:
            raise Rejected(422, exc.code, str(exc)) from None
        cleaned = clean_report(report)
        # The gate, as erratum fix runs it: scope and replacement safety (rendered).
        problems = await anyio.to_thread.run_sync(
            lambda: gate.check_report(cleaned, current.docs_dirs, current.markdown)
        )
        if problems:
            reason = " ".join(problems[0].replace("`", "").split())[:300]
            raise Rejected(422, "unsafe_report", f"The report cannot be accepted: {reason}.")
        try:
            record, created = await anyio.to_thread.run_sync(
                lambda: store.add(
                    report.id,
                    cleaned.to_json(),
                    signature,
                    expires_at,
                    held=settings.moderation,
                )
            )
        except ChallengeReused:
            raise Rejected(
                403, "altcha_reused", "This proof-of-work solution was already used."
            ) from None
        if not created:
            return _accepted_or_conflict(record, report)
        held = {}
        if settings.moderation:
            counts = await anyio.to_thread.run_sync(store.counts)
            held = {"held": counts.get(HELD, 0)}
        else:
            worker.wake()
        log_event(
            "report_accepted",
            id=report.id,
            page=without_query(report.page_url)[:300],
            blocks=len(report.blocks),
            replacement=any(b.replacement is not None for b in report.blocks),
            **held,
        )
        return _accepted(record.id, record.state)

    def _accepted_or_conflict(existing, report: Report) -> JSONResponse:
        if existing.digest != report_digest(clean_report(report).to_json()):
            raise Rejected(
                409,
                "idempotency_conflict",
                "A different report was already sent with this id.",
            )
        return _accepted(existing.id, existing.state)

    return app


def _page_key(manifest: Manifest | None, url: str) -> str:
    """The page a URL names: its manifest key when the manifest knows it, else the URL
    without query and fragment."""
    found = manifest.page(url) if manifest is not None else None
    return f"key:{found[0]}" if found else without_query(url)


def _accepted(report_id: str, state: str) -> JSONResponse:
    return JSONResponse(
        {"id": report_id, "state": state, "status_url": f"/api/reports/{report_id}"},
        status_code=202,
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = Rejected(413, "body_too_large", f"The request is larger than {limit} bytes.")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large
        except ValueError:
            raise Rejected(400, "invalid_request", "Bad Content-Length header.") from None
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
