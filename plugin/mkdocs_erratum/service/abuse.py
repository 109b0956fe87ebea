"""Protections against abuse of an anonymous endpoint: limits, proof of work, clean text.

Each check raises `Rejected` with an HTTP status, a short code and a sentence for the
reader; the app turns it into ``{"error": code, "message": sentence}``. Nothing here
touches the store or the backend.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import altcha

from mkdocs_erratum.report import MAX_COMMENT_CHARS, Report
from mkdocs_erratum.text_rules import ZWSP, neutralise  # noqa: F401 (the one rule, re-exported)

MAX_PAGE_URL_CHARS = 2048
MAX_PATH_CHARS = 512
MAX_BRANCH_CHARS = 255
MAX_ALTCHA_CHARS = 4096
MAX_HONEYPOT_CHARS = 1024
MAX_JSON_DEPTH = 8
"""Nesting of the request body: a report needs 4 (envelope, report, blocks, block)."""
# C0 controls but tab, newline and carriage return; lone UTF-16 surrogates (a JSON
# ``\ud800`` escape decodes to one, and no UTF-8 encoder accepts it).
_FORBIDDEN_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_READER_TEXT_FIELDS = frozenset({"comment", "replacement"})
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_AUTOLINK_RE = re.compile(r"<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>]+)>")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--|<!\[CDATA\[|<\?", re.S)


class Rejected(Exception):
    """A request refused by a protection: HTTP ``status``, ``code`` and a sentence."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def new_raw_html(original: str | None, replacement: str) -> list[str]:
    """HTML tags in ``replacement`` that ``original`` does not already have.

    A reader may fix the words around an existing tag, not add markup to the site.

    >>> new_raw_html("a <b>b</b>", "a <b>c</b> <script>x</script> <https://x.org>")
    ['<script>', '</script>']
    """

    def tags(text: str) -> list[str]:
        return _HTML_TAG_RE.findall(_AUTOLINK_RE.sub("", text))

    have = tags(original or "")
    added = []
    for tag in tags(replacement):
        if tag in have:
            have.remove(tag)
        else:
            added.append(tag)
    return added


def check_text(payload: object) -> object:
    """Refuse what no reader types; returns the payload with reader text's CR LF made LF.

    Refuses (422) JSON nested deeper than `MAX_JSON_DEPTH`, C0 control characters other
    than tab, newline and carriage return, and lone surrogates, in any key or value. In
    the fields a reader types (``comment``, ``replacement``) CR LF and a lone CR become
    LF, as a browser's textarea may send them; elsewhere text is left as it is (an
    original's hash is over its exact text).

    >>> check_text({"report": {"comment": "a\\r\\nb\\tc"}})
    {'report': {'comment': 'a\\nb\\tc'}}
    >>> check_text({"comment": "a\\x00b"})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    Rejected: comment: holds a control character (U+0000); send plain text.
    """

    def walk(value: object, depth: int, where: str) -> object:
        if depth > MAX_JSON_DEPTH:
            raise Rejected(
                422, "too_deep", f"The request is nested deeper than {MAX_JSON_DEPTH} levels."
            )
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                check_chars(key, where or "a key")
                name = f"{where}.{key}" if where else key
                item = walk(item, depth + 1, name)
                if key in _READER_TEXT_FIELDS and isinstance(item, str):
                    item = item.replace("\r\n", "\n").replace("\r", "\n")
                out[key] = item
            return out
        if isinstance(value, list):
            return [walk(item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, str):
            check_chars(value, where)
        return value

    def check_chars(text: str, where: str) -> None:
        bad = _FORBIDDEN_CHAR_RE.search(text)
        if bad is None:
            return
        char = bad.group(0)
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise Rejected(
            422,
            "invalid_text",
            f"{where or 'The request'}: holds {what} (U+{ord(char):04X}); send plain text.",
        )

    return walk(payload, 1, "")


def check_fields(payload: dict) -> None:
    """Size and shape limits on the request beyond the report schema's own."""
    report = payload.get("report")
    if not isinstance(report, dict):
        raise Rejected(422, "invalid_report", "The request must carry a 'report' object.")
    page_url = report.get("page_url")
    if isinstance(page_url, str) and len(page_url) > MAX_PAGE_URL_CHARS:
        raise Rejected(422, "field_too_long", f"page_url: longer than {MAX_PAGE_URL_CHARS}.")
    branch = report.get("branch")
    if isinstance(branch, str) and len(branch) > MAX_BRANCH_CHARS:
        raise Rejected(422, "field_too_long", f"branch: longer than {MAX_BRANCH_CHARS}.")
    reporter = report.get("reporter")
    if reporter is not None and (not isinstance(reporter, str) or not _LOGIN_RE.match(reporter)):
        raise Rejected(422, "invalid_report", "reporter: expected a GitHub login.")
    blocks = report.get("blocks")
    if isinstance(blocks, list):
        for i, block in enumerate(blocks):
            path = block.get("path") if isinstance(block, dict) else None
            if isinstance(path, str) and len(path) > MAX_PATH_CHARS:
                raise Rejected(
                    422, "field_too_long", f"blocks[{i}].path: longer than {MAX_PATH_CHARS}."
                )
    altcha_payload = payload.get("altcha")
    if not isinstance(altcha_payload, str) or not altcha_payload:
        raise Rejected(403, "altcha_missing", "Solve the proof-of-work challenge first.")
    if len(altcha_payload) > MAX_ALTCHA_CHARS:
        raise Rejected(422, "field_too_long", f"altcha: longer than {MAX_ALTCHA_CHARS}.")
    honeypot = payload.get("honeypot", "")
    if not isinstance(honeypot, str) or len(honeypot) > MAX_HONEYPOT_CHARS:
        raise Rejected(422, "invalid_request", "honeypot: expected a string.")
    if honeypot.strip():
        raise Rejected(
            400, "honeypot_filled", "This form field must stay empty; the report was not sent."
        )


def clean_report(report: Report) -> Report:
    """Neutralise reader text and refuse new raw HTML in replacements (returns a copy).

    The GitHub login a reader may give is not trusted: it moves into the comment as an
    unverified signature, so nobody is pinged or credited on an anonymous word.
    """
    for i, block in enumerate(report.blocks):
        if block.replacement is not None:
            added = new_raw_html(block.original, block.replacement)
            if added:
                raise Rejected(
                    422,
                    "raw_html",
                    f"blocks[{i}].replacement: adds raw HTML ({added[0][:40]}); suggest text only.",
                )
    data = report.to_dict()
    comment = report.comment
    if report.reporter:
        # Nobody can check who an anonymous reader is: no credit, no ping, just their word.
        comment = f"{comment}\n\nSigned: {report.reporter} (unverified)".strip()
        data["reporter"] = None
    data["comment"] = neutralise(comment)
    if len(data["comment"]) > MAX_COMMENT_CHARS:
        raise Rejected(
            422,
            "field_too_long",
            f"comment: longer than {MAX_COMMENT_CHARS} characters once mentions and HTML "
            "are neutralised; please shorten it.",
        )
    # Query and fragment say nothing about the page and may carry anything (or track).
    data["page_url"] = urlunsplit(urlsplit(report.page_url)._replace(query="", fragment=""))
    return Report.from_dict(data)


def page_origin(page_url: str) -> str:
    """``scheme://host[:port]`` of a page URL, as a browser's Origin header names it.

    >>> page_origin("https://Docs.example.org/a/?b#c")
    'https://docs.example.org'
    """
    parts = urlsplit(page_url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


# -- proof of work (ALTCHA) ------------------------------------------------------------


@dataclass
class ProofOfWork:
    """Issues and verifies ALTCHA challenges (v1: SHA-256 of salt + number)."""

    hmac_key: str
    max_number: int = 100_000
    expires_seconds: int = 600

    def challenge(self) -> dict:
        """A fresh signed challenge, as the ALTCHA widget and our widget expect it."""
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.expires_seconds)
        made = altcha.create_challenge_v1(
            hmac_key=self.hmac_key,
            max_number=self.max_number,
            expires=expires,
            algorithm="SHA-256",
        )
        return made.to_dict()

    def verify(self, payload: str) -> tuple[str, float]:
        """Check a solution; returns ``(signature, expiry epoch)`` to record it as spent.

        Raises:
            Rejected: 403 when the payload is malformed, wrong or expired.
        """
        try:
            ok, error = altcha.verify_solution_v1(payload, self.hmac_key, check_expires=True)
        except Exception:  # malformed payloads raise all sorts of things
            ok, error = False, "Invalid altcha payload"
        if not ok:
            if error and "expired" in error:
                raise Rejected(
                    403, "altcha_expired", "The challenge expired; reload the form and try again."
                )
            raise Rejected(403, "altcha_invalid", "The proof-of-work solution is not valid.")
        parsed = altcha.PayloadV1.from_base64(payload)
        _nonce, expires, _params = parsed.parse_salt()
        return parsed.signature, expires or (time.time() + self.expires_seconds)


def solve(challenge: dict) -> str:
    """Solve a challenge the way the widget does; returns the base64 payload (for tests)."""
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    if solution is None:
        raise ValueError("challenge has no solution")
    return altcha.PayloadV1(
        challenge["algorithm"],
        challenge["challenge"],
        solution.number,
        challenge["salt"],
        challenge["signature"],
    ).to_base64()


# -- rate limits ---------------------------------------------------------------------


@dataclass
class TokenBucket:
    """``rate_per_minute`` tokens a minute, at most ``burst`` saved up."""

    rate_per_minute: float
    burst: int
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        if self.tokens < 0:
            self.tokens = float(self.burst)

    def take(self, now: float | None = None) -> float:
        """Take one token; returns 0 on success, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        rate = self.rate_per_minute / 60.0
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


class RateLimiter:
    """Per-address buckets plus one global bucket; thread-safe, in memory.

    At most ``max_addresses`` buckets are kept, least recently seen first out. A bucket
    idle long enough to have refilled is the same as a new one, so forgetting it resets
    nobody; only when more addresses than that are active within one refill period does
    the least recently seen lose what it had spent.
    """

    def __init__(
        self,
        per_ip: float,
        ip_burst: int,
        overall: float,
        overall_burst: int,
        max_addresses: int = 100_000,
    ):
        self.per_ip = per_ip
        self.ip_burst = ip_burst
        self.max_addresses = max(1, max_addresses)
        self.overall = TokenBucket(overall, overall_burst)
        self.buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Count one request from ``address``.

        Raises:
            Rejected: 429 with a Retry-After header when a limit is reached.
        """
        with self._lock:
            bucket = self.buckets.get(address)
            if bucket is None:
                bucket = self.buckets[address] = TokenBucket(self.per_ip, self.ip_burst)
                while len(self.buckets) > self.max_addresses:
                    self.buckets.popitem(last=False)
            else:
                self.buckets.move_to_end(address)
            wait = bucket.take()
            scope = "from your address"
            if not wait:
                wait = self.overall.take()
                scope = "right now"
                if wait:
                    bucket.tokens = min(bucket.burst, bucket.tokens + 1)  # not the client's fault
        if wait:
            seconds = max(1, int(wait + 0.999))
            raise Rejected(
                429,
                "rate_limited",
                f"Too many reports {scope}; try again in {seconds} seconds.",
                {"Retry-After": str(seconds)},
            )
