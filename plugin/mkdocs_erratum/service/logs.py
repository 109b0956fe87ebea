"""Structured logs: one JSON object per line, with every secret value blotted out.

`log_event` writes ``{"ts", "level", "event", ...fields}``. A `RedactSecrets` filter on
the handler replaces the GitHub token (and any other secret setting) wherever it would
appear, including in messages from libraries and in tracebacks.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER_NAME = "mkdocs_erratum.service"
logger = logging.getLogger(LOGGER_NAME)


class RedactSecrets(logging.Filter):
    """Replaces secret values in a record's final text with ``***``."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        fields = getattr(record, "fields", None)
        if fields:
            record.fields = json.loads(self.redact(json.dumps(fields, default=str)))
        return True


class JsonFormatter(logging.Formatter):
    """Formats records as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        out.update(getattr(record, "fields", None) or {})
        if record.exc_text:
            out["exception"] = record.exc_text
        elif record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str, secrets: list[str], stream=None) -> logging.Handler:
    """Send our logs and uvicorn's as JSON lines to ``stream`` (stderr), secrets redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets(secrets))
    for name in (LOGGER_NAME, "uvicorn", "uvicorn.error", "github", "urllib3"):
        target = logging.getLogger(name)
        target.handlers = [handler]
        target.propagate = False
    logging.getLogger(LOGGER_NAME).setLevel(level.upper())
    logging.getLogger("uvicorn").setLevel(level.upper())
    return handler


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event, e.g. ``log_event("report_accepted", id=...)``."""
    logger.log(level, event, extra={"fields": fields})
