"""The maintainers' door: ``/api/admin`` (JSON, ``erratum review``) and the ``/admin`` page.

Both exist only when the settings give an ``admin_token``, and both pass one gate,
`AdminGate`: the token compared in constant time (`hmac.compare_digest`), sent as
``Authorization: Bearer TOKEN`` to the API, or once into the page's sign-in form, which
then sets a signed session cookie (``HttpOnly``, ``SameSite=Strict``, path ``/admin``,
eight hours). Every POST of the page must also come from the page itself: it carries a
CSRF token tied to the session (checked in constant time), and a request whose
``Origin`` is another site, or that the browser marks ``Sec-Fetch-Site: cross-site``, is
refused before anything else. The page runs no script and may not be framed (a
Content-Security-Policy says so). What either door decides goes through
`mkdocs_erratum.service.moderation.Moderation`, so the CLI and the page give the same
result.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from mkdocs_erratum.pages import render_page
from mkdocs_erratum.service.abuse import Rejected
from mkdocs_erratum.service.moderation import ALL, Moderation
from mkdocs_erratum.text_rules import web_address
from mkdocs_erratum.triage import short_age

SESSION_COOKIE = "erratum_admin"
SESSION_SECONDS = 8 * 3600
PAGE_LIMIT = 200
"""Held reports the page shows at once (the CLI lists them all)."""
MAX_FORM_BYTES = 1_000_000
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it Chromium sends "Origin: null" on the page's own form
    # POSTs, which `same_site` must refuse. "same-origin" gives nothing to other sites.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class AdminGate:
    """Decides whether a request comes from a maintainer.

    Args:
        token: the ``admin_token`` setting (non-empty).
    """

    def __init__(self, token: str):
        self._token = token.encode("utf-8")
        self._key = hmac.new(self._token, b"erratum admin session", hashlib.sha256).digest()

    def token_ok(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the admin token (constant time)."""
        return candidate is not None and hmac.compare_digest(candidate.encode("utf-8"), self._token)

    def bearer_ok(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(value.strip())

    def new_session(self, now: float | None = None) -> str:
        """A session cookie value: its expiry and a signature of it."""
        expires = int((time.time() if now is None else now) + SESSION_SECONDS)
        return f"{expires}.{self._sign(str(expires))}"

    def session_ok(self, request: Request, now: float | None = None) -> bool:
        value = request.cookies.get(SESSION_COOKIE, "")
        expires, _, signature = value.partition(".")
        if not expires.isdigit() or not hmac.compare_digest(signature, self._sign(expires)):
            return False
        return int(expires) > (time.time() if now is None else now)

    def csrf_token(self, request: Request) -> str:
        """The token the page's forms carry, tied to the session cookie."""
        return self._sign("csrf:" + request.cookies.get(SESSION_COOKIE, ""))

    def csrf_ok(self, request: Request, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent, self.csrf_token(request))

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def same_site(request: Request) -> bool:
    """Whether a POST comes from this service's own pages (not from another site).

    A browser sends ``Origin`` with every POST and ``Sec-Fetch-Site`` when it knows it;
    a request from another origin, or marked cross-site, is refused.
    """
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc.lower() == host.lower() and parts.scheme in ("http", "https")


def admin_router(gate: AdminGate, moderation: Moderation) -> APIRouter:
    """The admin API and page over ``moderation``, behind ``gate``."""
    router = APIRouter()

    def need_bearer(request: Request) -> None:
        if not gate.bearer_ok(request):
            raise Rejected(
                401,
                "unauthorised",
                "Send the admin token as Authorization: Bearer TOKEN.",
                {"WWW-Authenticate": "Bearer"},
            )

    @router.get("/api/admin/held")
    async def held_api(request: Request):
        need_bearer(request)
        held = await anyio.to_thread.run_sync(moderation.held)
        return JSONResponse(
            {"held": [h.to_dict() for h in held], "count": len(held)},
            headers={"Cache-Control": "no-store"},
        )

    @router.post("/api/admin/decisions")
    async def decide_api(request: Request):
        need_bearer(request)
        try:
            payload = json.loads(await _body(request))
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "invalid_json", "The request body is not valid JSON.") from None
        approve, reject, reason = _choices(payload)
        decision = await anyio.to_thread.run_sync(
            lambda: moderation.decide(approve, reject, reason)
        )
        return JSONResponse(decision.to_dict(), headers={"Cache-Control": "no-store"})

    def page(request: Request, status: int = 200, **values) -> HTMLResponse:
        html = render_page("admin.html", **values)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    @router.get("/admin")
    async def admin_page(request: Request, approved: int = -1, rejected: int = 0, refused: int = 0):
        if not gate.session_ok(request):
            return page(request, signed_in=False, failed=False)
        held = await anyio.to_thread.run_sync(lambda: moderation.held(PAGE_LIMIT + 1))
        count = await anyio.to_thread.run_sync(moderation.held_count)
        now = time.time()
        rows = [
            {
                "id": h.id,
                "age": short_age(now - h.created_at),
                "page": web_address(h.page_url),
                "comment": h.comment,
                "diff": [(_diff_class(line), line) for line in h.diff.split("\n")],
            }
            for h in held[:PAGE_LIMIT]
        ]
        return page(
            request,
            signed_in=True,
            rows=rows,
            count=count,
            done=None if approved < 0 else (approved, rejected, refused),
            csrf=gate.csrf_token(request),
        )

    @router.post("/admin/login")
    async def login(request: Request):
        refuse_cross_site(request)
        form = await _form(request)
        if not gate.token_ok(form.get("token")):
            return page(request, status=401, signed_in=False, failed=True)
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            gate.new_session(),
            max_age=SESSION_SECONDS,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/admin/decide")
    async def decide_page(request: Request):
        refuse_cross_site(request)
        form = await _form(request, multi=True)
        if not gate.session_ok(request):
            return page(request, status=401, signed_in=False, failed=False)
        if not gate.csrf_ok(request, _one(form, "csrf")):
            raise Rejected(403, "csrf", "This form did not come from the admin page.")
        ids = form.get("id", [])
        action = _one(form, "action")
        if action not in ("approve", "reject"):
            raise Rejected(400, "invalid_request", "Choose approve or reject.")
        reason = _one(form, "reason") or ""
        decision = await anyio.to_thread.run_sync(
            lambda: moderation.decide(
                ids if action == "approve" else (),
                ids if action == "reject" else (),
                reason,
            )
        )
        # Counts only in the address: the page never shows text a link could carry.
        return RedirectResponse(
            f"/admin?approved={len(decision.approved)}&rejected={len(decision.rejected)}"
            f"&refused={len(decision.refused)}",
            status_code=303,
        )

    @router.post("/admin/logout")
    async def logout(request: Request):
        refuse_cross_site(request)
        response = RedirectResponse("/admin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response

    return router


def refuse_cross_site(request: Request) -> None:
    if not same_site(request):
        raise Rejected(403, "cross_site", "This form may only be sent from the admin page.")


def _choices(payload) -> tuple[list[str] | str, list[str] | str, str]:
    """``approve``, ``reject`` (lists of ids or ``"all"``) and ``reason`` of a decision."""
    if not isinstance(payload, dict):
        raise Rejected(400, "invalid_json", "The request body must be a JSON object.")
    out = []
    for name in ("approve", "reject"):
        value = payload.get(name, [])
        if value != ALL and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise Rejected(400, "invalid_request", f"{name}: expected a list of ids or 'all'.")
        out.append(value)
    reason = payload.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 500:
        raise Rejected(400, "invalid_request", "reason: expected text of at most 500 characters.")
    return out[0], out[1], reason


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Rejected(413, "body_too_large", f"The request is larger than {MAX_FORM_BYTES} bytes.")
    return body


async def _form(request: Request, multi: bool = False) -> dict:
    """An ``application/x-www-form-urlencoded`` body (the page's forms send nothing else)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Rejected(415, "unsupported_media_type", "Send the form as the page does.")
    fields = parse_qs((await _body(request)).decode("utf-8", "replace"), max_num_fields=5000)
    return fields if multi else {k: v[0] for k, v in fields.items()}


def _one(form: dict, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---", "@@")):
        return "meta"
    return {"+": "add", "-": "del"}.get(line[:1], "")


__all__ = ["SESSION_COOKIE", "AdminGate", "admin_router", "same_site"]
