"""Settings of the correction service: a TOML file, overridden by environment variables.

Every setting is a field of `ServiceSettings` with a one-line description; ``erratum serve
--help`` prints them all. In a TOML file the names are used as they are (top-level keys,
or keys of a ``[service]`` table); in the environment they are upper-cased with the
prefix ``ERRATUM_`` (``ERRATUM_BACKEND=git``; lists are comma-separated). The forge's
token also comes from the variable its kind reads (`mkdocs_erratum.forges.base.
TOKEN_VARIABLES`: ``GITHUB_TOKEN``; ``GITLAB_TOKEN`` or ``CI_JOB_TOKEN``; ``FORGEJO_TOKEN``
or ``GITEA_TOKEN``), and GitHub's API URL from ``GITHUB_API_URL``, as GitHub Actions sets
them. The token is never printed: `ServiceSettings.__repr__` hides it.

The settings of the ``github`` backend of earlier versions keep working: ``backend =
"github"`` is ``backend = "forge"`` with ``forge_kind = "github"``, and each
``github_*`` name is an alias of its ``forge_*`` setting (`ALIASES`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mkdocs_erratum.forges.base import KINDS as FORGE_KINDS
from mkdocs_erratum.forges.base import TOKEN_VARIABLES
from mkdocs_erratum.text_rules import is_project_path

ENV_PREFIX = "ERRATUM_"
BACKENDS = ("git", "forge", "github")
"""``github`` is the earlier name of ``forge`` with ``forge_kind = "github"``."""
ALIASES = {
    "github_repository": "forge_project",
    "github_token": "forge_token",
    "github_api_url": "forge_api_url",
    "github_pull_requests": "forge_pull_requests",
    "github_docs_dirs": "forge_docs_dirs",
    "github_limit_pause_seconds": "forge_limit_pause_seconds",
}
"""Setting names of earlier versions, and the setting each one now sets."""


class SettingsError(ValueError):
    """A setting that is missing or wrong; the message names it."""


def _setting(default: Any, doc: str, **kwargs: Any) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"doc": doc, **kwargs})
    return field(default=default, metadata={"doc": doc, **kwargs})


@dataclass
class ServiceSettings:
    """Everything the service can be told (see the module docstring for the sources)."""

    backend: str = _setting(
        "git",
        "Where reports go: 'git' (branches of a local repository) or 'forge' (issues and "
        "pull requests on the forge_kind forge); 'github' is 'forge' with forge_kind github.",
    )
    database: str = _setting(
        "erratum-service.sqlite3", "SQLite file holding every report (WAL mode)."
    )
    manifest: str = _setting(
        "",
        "Path or http(s) URL of the site's _erratum/manifest.json (required): reports "
        "must name published pages, ranges and texts.",
    )
    allowed_origins: list[str] = _setting(  # noqa: RUF009 (a field() with metadata)
        [], "Origins allowed to send reports from a browser (CORS), e.g. https://docs.example.com."
    )
    host: str = _setting("127.0.0.1", "Address to listen on.")
    port: int = _setting(8300, "Port to listen on.")
    git_repository: str = _setting(
        "", "git backend: the repository (work tree or bare) that receives branches."
    )
    git_base_branch: str = _setting(
        "", "git backend: branch to start from when the report's commit is unknown (HEAD)."
    )
    forge_kind: str = _setting(
        "github", "forge backend: github, gitlab, forgejo or gitea (Gitea and Forgejo alike)."
    )
    forge_project: str = _setting(
        "",
        "forge backend: the project receiving the reports, OWNER/NAME (group/sub/project on "
        "GitLab). Alias: github_repository.",
    )
    forge_token: str = _setting(
        "",
        "forge backend: token (or env GITHUB_TOKEN; GITLAB_TOKEN or CI_JOB_TOKEN; "
        "FORGEJO_TOKEN or GITEA_TOKEN, by kind); never logged. Alias: github_token.",
        secret=True,
    )
    forge_api_url: str = _setting(
        "",
        "forge backend: REST API base URL (default: api.github.com, gitlab.com/api/v4, "
        "codeberg.org/api/v1; GitHub also env GITHUB_API_URL). Alias: github_api_url.",
    )
    forge_web_url: str = _setting(
        "",
        "forge backend: the forge's web base, e.g. https://gitlab.example.com (default: "
        "from the API URL).",
    )
    forge_pull_requests: bool = _setting(
        True,
        "forge backend: open a pull/merge request when a report has a replacement. "
        "Alias: github_pull_requests.",
    )
    forge_docs_dirs: list[str] = _setting(  # noqa: RUF009 (a field() with metadata)
        ["docs"],
        "forge backend: folders whose Markdown files pull requests may change. "
        "Alias: github_docs_dirs.",
    )
    forge_join_duplicates: bool = _setting(
        True,
        "forge backend: a report on the same lines as an open issue or pull request (same "
        "file, overlapping lines, same original text) becomes a comment there.",
    )
    forge_limit_pause_seconds: float = _setting(
        60.0,
        "forge backend: pause of every send when the forge still answers 403/429. "
        "Alias: github_limit_pause_seconds.",
    )
    send_per_minute: float = _setting(
        80.0, "Content-creating requests per minute sent to the backend (GitHub: ~80)."
    )
    send_burst: int = _setting(5, "Requests the sender may make at once after a quiet spell.")
    worker_concurrency: int = _setting(1, "Reports delivered at the same time.")
    retry_base_seconds: float = _setting(2.0, "First retry delay after a failure (doubles).")
    retry_max_seconds: float = _setting(600.0, "Longest retry delay.")
    max_attempts: int = _setting(
        8,
        "Attempts after which a report that keeps failing while other reports are "
        "delivered ends 'rejected' with its last error (an outage rejects nothing).",
    )
    manifest_refresh_seconds: float = _setting(
        60.0, "How often a manifest given as a URL is fetched again (a file: when it changes)."
    )
    database_busy_ms: int = _setting(
        1000,
        "How long a request waits for a locked database before answering 503 (milliseconds).",
    )
    ip_reports_per_minute: float = _setting(6.0, "Reports one client address may send a minute.")
    ip_burst: int = _setting(6, "Reports one client address may send at once.")
    global_reports_per_minute: float = _setting(120.0, "Reports all clients may send a minute.")
    global_burst: int = _setting(60, "Reports all clients may send at once.")
    challenges_per_minute: float = _setting(
        30.0, "Proof-of-work challenges one client address may fetch a minute."
    )
    trust_forwarded_for: list[str] = _setting(  # noqa: RUF009 (a field() with metadata)
        [],
        "Addresses or networks of your own reverse proxies (e.g. 127.0.0.1, 10.0.0.0/8): "
        "only a request from one of them has its X-Forwarded-For read, and the client is "
        "the rightmost address there that is not one of them. Empty: the header is ignored.",
    )
    ip_memory: int = _setting(
        100_000,
        "Client addresses the per-address limit remembers; past it, the least recently "
        "seen is forgotten first (nobody else is reset).",
    )
    max_body_bytes: int = _setting(262_144, "Largest request body accepted.")
    altcha_hmac_key: str = _setting(
        "", "Key signing proof-of-work challenges (generated and stored if empty).", secret=True
    )
    altcha_max_number: int = _setting(
        100_000, "Proof-of-work difficulty: the largest number a client may have to try."
    )
    altcha_expires_seconds: int = _setting(600, "How long a challenge stays valid.")
    moderation: bool = _setting(
        False,
        "Hold every accepted report until a maintainer approves it (erratum review, /admin); "
        "nothing is sent to the backend before that.",
    )
    admin_token: str = _setting(
        "",
        "Token of the maintainers' /admin page and /api/admin API (erratum review), at "
        "least 16 characters; required with moderation. Empty: no admin page.",
        secret=True,
    )
    rejected_retention_days: float = _setting(
        30.0,
        "Days a rejected report (by a maintainer or by delivery) is kept for audit before "
        "it is deleted.",
    )
    open_reports_cache_seconds: float = _setting(
        60.0,
        "How long the answer of GET /api/reports?page=... (the widget's markers) is reused "
        "before the store and the forge are asked again.",
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                value = "***"
            shown.append(f"{f.name}={value!r}")
        return f"ServiceSettings({', '.join(shown)})"

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line or a response."""
        return [
            getattr(self, f.name)
            for f in fields(self)
            if f.metadata.get("secret") and getattr(self, f.name)
        ]

    def validate(self) -> ServiceSettings:
        """Check the settings together; returns self.

        Raises:
            SettingsError: naming the first wrong setting.
        """
        if self.backend not in BACKENDS:
            raise SettingsError(
                f"backend: expected 'git' or 'forge' ('github' is forge_kind github), "
                f"got {self.backend!r}"
            )
        if self.backend == "github":
            self.backend, self.forge_kind = "forge", "github"
        if self.forge_kind not in FORGE_KINDS:
            raise SettingsError(
                f"forge_kind: expected one of {', '.join(FORGE_KINDS)}, got {self.forge_kind!r}"
            )
        if not self.manifest:
            raise SettingsError(
                "manifest: required; give the path or URL of the site's _erratum/manifest.json"
            )
        if self.backend == "git" and not self.git_repository:
            raise SettingsError("git_repository: required with the git backend")
        if self.backend == "forge":
            if not is_project_path(self.forge_project):
                raise SettingsError(
                    "forge_project: required as OWNER/NAME (group/sub/project on GitLab)"
                )
            if not self.forge_token:
                variables = " or ".join(TOKEN_VARIABLES[self.forge_kind])
                raise SettingsError(
                    f"forge_token: required with the forge backend (or env {variables})"
                )
            for name in ("forge_api_url", "forge_web_url"):
                value = getattr(self, name)
                if value and not re.fullmatch(r"https?://[^\s/]+(?:/\S*)?", value):
                    raise SettingsError(f"{name}: expected an http(s) URL, got {value!r}")
        for name in ("send_per_minute", "ip_reports_per_minute", "global_reports_per_minute"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name}: must be positive")
        for origin in self.allowed_origins:
            if not re.fullmatch(r"https?://[^/\s]+/?", origin):
                raise SettingsError(
                    f"allowed_origins: {origin!r} is not an origin like https://docs.example.org"
                )
        if self.worker_concurrency < 1:
            raise SettingsError("worker_concurrency: must be at least 1")
        if self.altcha_max_number < 1:
            raise SettingsError("altcha_max_number: must be at least 1")
        for name in ("ip_memory", "max_attempts"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name}: must be at least 1")
        if self.moderation and not self.admin_token:
            raise SettingsError(
                "admin_token: required with moderation = true (a maintainer approves held "
                "reports with it)"
            )
        if self.admin_token and len(self.admin_token) < 16:
            raise SettingsError("admin_token: must be at least 16 characters")
        if self.rejected_retention_days < 0:
            raise SettingsError("rejected_retention_days: must not be negative")
        if self.open_reports_cache_seconds < 0:
            raise SettingsError("open_reports_cache_seconds: must not be negative")
        if self.database_busy_ms < 0:
            raise SettingsError("database_busy_ms: must not be negative")
        if self.manifest_refresh_seconds <= 0:
            raise SettingsError("manifest_refresh_seconds: must be positive")
        for proxy in self.trust_forwarded_for:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"trust_forwarded_for: {proxy!r} is not an IP address or network of a "
                    "proxy, e.g. 127.0.0.1 or 10.0.0.0/8"
                ) from None
        return self


def describe_settings() -> list[tuple[str, str, str]]:
    """``(name, environment variable, description with default)`` for every setting."""
    rows = []
    for f in fields(ServiceSettings):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        shown = "" if f.metadata.get("secret") or default in ("", []) else f" [{default}]"
        rows.append((f.name, ENV_PREFIX + f.name.upper(), f.metadata["doc"] + shown))
    return rows


def load_settings(
    path: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServiceSettings:
    """Read the settings: defaults, then the TOML file, then the environment, then overrides.

    Raises:
        SettingsError: for an unknown name, a value of the wrong type, or a bad file.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10: the service extra installs tomli
            import tomli as tomllib
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise SettingsError(f"config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path}: {exc}") from exc
        table = data.get("service", data)
        values.update({k: v for k, v in table.items() if k != "service"})
    values = {ALIASES.get(k, k): v for k, v in values.items()}
    known = {f.name: f for f in fields(ServiceSettings)}
    for name in [*ALIASES, *known]:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[ALIASES.get(name, name)] = raw
    values.update({ALIASES.get(k, k): v for k, v in (overrides or {}).items()})
    kind = "github" if values.get("backend") == "github" else values.get("forge_kind", "github")
    for variable in TOKEN_VARIABLES.get(str(kind), ()):
        if env.get(variable):
            values.setdefault("forge_token", env[variable])
            break
    if kind == "github" and env.get("GITHUB_API_URL"):
        values.setdefault("forge_api_url", env["GITHUB_API_URL"])
    settings = ServiceSettings()
    for name, value in values.items():
        if name not in known:
            raise SettingsError(f"{name}: unknown setting")
        setattr(settings, name, _coerce(name, known[name].type, value))
    return settings.validate()


def _coerce(name: str, kind: Any, value: Any) -> Any:
    kind = str(kind)
    try:
        if kind == "bool":
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return lowered in ("1", "true", "yes", "on")
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "list[str]":
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(value)
            return list(value)
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: expected {kind}, got {value!r}") from None
