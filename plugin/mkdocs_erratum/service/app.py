"""The HTTP face of the correction service (FastAPI), thin over the store and the checks.

``POST /api/reports`` runs the protections in order (origin, rate limits, body size,
JSON shape, honeypot, field limits, schema, idempotency, proof of work, manifest, raw
HTML), neutralises reader text and answers 202 only after the report is committed to
SQLite. ``GET /api/reports/{id}`` reads its state; ``GET /api/challenge`` issues an
ALTCHA challenge; ``GET /healthz`` says the service is up. Every refusal is
``{"error": code, "message": sentence}`` with a 4xx status. See docs: "Running the
service".
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
from urllib.request import urlopen

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from mkdocs_erratum.manifest import Manifest, ManifestError, check_report, load_manifest
from mkdocs_erratum.report import Report, ReportError
from mkdocs_erratum.service.abuse import (
    ProofOfWork,
    RateLimiter,
    Rejected,
    check_fields,
    clean_report,
    page_origin,
)
from mkdocs_erratum.service.backends import Backend, GitBackend
from mkdocs_erratum.service.logs import log_event
from mkdocs_erratum.service.settings import ServiceSettings
from mkdocs_erratum.service.store import ChallengeReused, ReportStore, report_digest
from mkdocs_erratum.service.worker import Worker

_ID_RE = re.compile(r"^r-[0-9a-f]{16}$")
MANIFEST_REFRESH_SECONDS = 60.0


class ManifestSource:
    """Loads the manifest from a file (re-read when it changes) or a URL (every minute)."""

    def __init__(self, location: str):
        self.location = location
        self._manifest: Manifest | None = None
        self._stamp: float | None = None
        self._lock = threading.Lock()

    def get(self) -> Manifest:
        """The current manifest.

        Raises:
            ManifestError: when it cannot be read (the service then refuses reports).
        """
        with self._lock:
            is_url = self.location.startswith(("http://", "https://"))
            if is_url:
                stamp = time.monotonic()
                fresh = self._stamp is not None and stamp - self._stamp < MANIFEST_REFRESH_SECONDS
            else:
                try:
                    stamp = os.stat(self.location).st_mtime_ns
                except OSError as exc:
                    raise ManifestError(
                        "manifest_unavailable", f"manifest {self.location}: {exc.strerror}"
                    ) from exc
                fresh = stamp == self._stamp
            if self._manifest is not None and fresh:
                return self._manifest
            try:
                if is_url:
                    with urlopen(self.location, timeout=10) as response:
                        text = response.read(50_000_000).decode("utf-8")
                else:
                    with open(self.location, encoding="utf-8") as fh:
                        text = fh.read()
            except (OSError, ValueError) as exc:
                if self._manifest is not None:
                    return self._manifest
                raise ManifestError(
                    "manifest_unavailable", f"manifest {self.location}: {exc}"
                ) from exc
            self._manifest = load_manifest(text)
            self._stamp = stamp
            return self._manifest


def make_backend(settings: ServiceSettings) -> Backend:
    """The backend the settings name."""
    if settings.backend == "git":
        return GitBackend(settings.git_repository, settings.git_base_branch)
    from mkdocs_erratum.service.github_backend import GitHubBackend

    return GitHubBackend.from_settings(settings)


def error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    """The JSON body of every refusal."""
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def create_app(settings: ServiceSettings, backend: Backend | None = None) -> FastAPI:
    """Build the ASGI app; the worker starts and stops with it.

    Args:
        settings: validated settings.
        backend: the backend to use (default: the one the settings name).
    """
    store = ReportStore(settings.database)
    manifest = ManifestSource(settings.manifest)
    backend = backend or make_backend(settings)
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
    )
    challenge_limits = RateLimiter(
        settings.challenges_per_minute,
        max(1, int(settings.challenges_per_minute)),
        settings.challenges_per_minute * 100,
        max(1, int(settings.challenges_per_minute * 100)),
    )
    worker = Worker(
        store,
        backend,
        per_minute=settings.send_per_minute,
        burst=settings.send_burst,
        concurrency=settings.worker_concurrency,
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
    )
    origins = {o.rstrip("/").lower() for o in settings.allowed_origins}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            manifest.get()
        except ManifestError as exc:
            log_event("manifest_unavailable", logging.ERROR, message=str(exc))
        if not origins:
            log_event(
                "no_allowed_origins",
                logging.WARNING,
                message="allowed_origins is empty: browsers cannot send reports",
            )
        runner = asyncio.create_task(worker.run())
        log_event("service_started", backend=backend.name, database=settings.database)
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

    def client_address(request: Request) -> str:
        if settings.trust_forwarded_for:
            forwarded = request.headers.get("x-forwarded-for", "")
            if forwarded.strip():
                return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    @app.middleware("http")
    async def cors(request: Request, call_next):
        origin = request.headers.get("origin")
        allowed = origin is not None and origin.rstrip("/").lower() in origins
        if origin is not None and not allowed and request.url.path.startswith("/api/"):
            log_event("origin_refused", 30, origin=origin[:200], path=request.url.path)
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

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected):
        # No address and no reader text in the log: the code says what was refused.
        log_event("request_refused", logging.INFO, path=request.url.path, code=exc.code)
        return error(exc.status, exc.code, exc.message, exc.headers)

    @app.get("/healthz")
    async def healthz():
        counts = await anyio.to_thread.run_sync(store.counts)
        return {"status": "ok", "backend": backend.name, "reports": counts}

    @app.get("/api/challenge")
    async def challenge(request: Request):
        challenge_limits.check(client_address(request))
        return JSONResponse(pow_.challenge(), headers={"Cache-Control": "no-store"})

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
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "invalid_json", "The request body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise Rejected(400, "invalid_json", "The request body must be a JSON object.")
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
            check_report(manifest.get(), report)
        except ManifestError as exc:
            status = 503 if exc.code == "manifest_unavailable" else 422
            raise Rejected(status, exc.code, str(exc)) from None
        cleaned = clean_report(report)
        try:
            record, created = await anyio.to_thread.run_sync(
                lambda: store.add(report.id, cleaned.to_json(), signature, expires_at)
            )
        except ChallengeReused:
            raise Rejected(
                403, "altcha_reused", "This proof-of-work solution was already used."
            ) from None
        if not created:
            return _accepted_or_conflict(record, report)
        worker.wake()
        log_event(
            "report_accepted",
            id=report.id,
            page=report.page_url[:300],
            blocks=len(report.blocks),
            replacement=any(b.replacement is not None for b in report.blocks),
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
