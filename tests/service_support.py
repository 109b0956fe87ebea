"""Shared set-up of the service tests: a site repository, its manifest, reports, a server.

Not a test module; imported by ``tests/test_service*.py`` and ``bench/service_load.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx

from mkdocs_erratum.manifest import build_manifest
from mkdocs_erratum.report import Report, ReportBlock, new_report_id, text_hash
from mkdocs_erratum.service.abuse import solve

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = [
    "# Le concert",
    "",
    "Le concert a eu lieu le 32 mars devant 300 personnes.",
    "",
    "Le groupe a joué pendant deux heurs,",
    "sans entracte.",
    "",
    "- premier point",
    "- second point",
    "",
    "La mairie a remercié les organisateurs.",
    "",
]
PARAGRAPHS = [(1, 1), (3, 3), (5, 6), (8, 9), (11, 11)]
PAGE = "concert/"
PAGE_URL = "https://example.org/concert/"


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def make_site_repo(path: Path) -> str:
    """A git repository with ``docs/concert.md``; returns the commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    (path / "docs").mkdir(exist_ok=True)
    (path / "docs" / "concert.md").write_text("\n".join(ARTICLE), encoding="utf-8")
    git(path, "add", "docs")
    git(path, "commit", "-q", "-m", "Article")
    return git(path, "rev-parse", "HEAD")


def manifest_for(commit: str | None, repository: str | None = None) -> dict:
    """The manifest a build of the site would write (one page, its paragraphs)."""
    source_map = SimpleNamespace(
        path="docs/concert.md",
        files={"docs/concert.md": list(ARTICLE)},
        ranges=[("docs/concert.md", a, b) for a, b in PARAGRAPHS],
    )
    return build_manifest([(PAGE, source_map)], repository=repository, commit=commit, site_url=None)


def write_manifest(path: Path, commit: str | None, repository: str | None = None) -> Path:
    path.write_text(json.dumps(manifest_for(commit, repository)), encoding="utf-8")
    return path


def original(start: int, end: int) -> str:
    return "\n".join(ARTICLE[start - 1 : end])


def make_report(
    commit: str | None,
    start: int = 3,
    end: int = 3,
    replacement: str | None = "Le concert a eu lieu le 31 mars devant 300 personnes.",
    comment: str = "Il n'y a pas de 32 mars.",
    **fields,
) -> Report:
    text = original(start, end)
    block = ReportBlock("docs/concert.md", start, end, text, text_hash(text), replacement)
    values = dict(page_url=PAGE_URL, blocks=[block], comment=comment, commit=commit)
    values.update(fields)
    values.setdefault("id", new_report_id())
    return Report(**values)


def envelope(client, report: Report, honeypot: str = "") -> dict:
    """The POST body for ``report``, with a freshly solved challenge from ``client``."""
    challenge = client.get("/api/challenge").json()
    return {"report": report.to_dict(), "altcha": solve(challenge), "honeypot": honeypot}


def post(client, report: Report, **kwargs):
    body = envelope(client, report)
    return client.post("/api/reports", json=body, headers={"Idempotency-Key": report.id}, **kwargs)


def test_settings(tmp_path: Path, repo: Path, manifest: Path, **changes) -> dict:
    """Settings overrides for a fast test service (easy challenges, generous limits)."""
    values = {
        "backend": "git",
        "database": str(tmp_path / "service.sqlite3"),
        "manifest": str(manifest),
        "git_repository": str(repo),
        "altcha_max_number": 200,
        "send_per_minute": 6000.0,
        "send_burst": 20,
        "ip_reports_per_minute": 6000.0,
        "ip_burst": 1000,
        "global_reports_per_minute": 60000.0,
        "global_burst": 1000,
        "challenges_per_minute": 60000.0,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.5,
        "allowed_origins": ["https://example.org"],
    }
    values.update(changes)
    return values


test_settings.__test__ = False  # not a test despite its name


def wait_done(client, report_id: str, timeout: float = 30.0) -> dict:
    """Poll ``GET /api/reports/{id}`` until the report is no longer queued or in flight."""
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = client.get(f"/api/reports/{report_id}").json()
        if state.get("state") not in ("queued", "in_flight"):
            return state
        time.sleep(0.02)
    raise AssertionError(f"report {report_id} still {state}")


def branches(repo: Path) -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/erratum/")
    return [line for line in out.splitlines() if line]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_toml(path: Path, values: dict) -> Path:
    lines = []
    for key, value in values.items():
        lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class ServiceProcess:
    """``python -m mkdocs_erratum.service`` as a real uvicorn process."""

    def __init__(self, config: Path, port: int, log: Path, env: dict | None = None):
        self.config = config
        self.port = port
        self.log = log
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 20.0) -> ServiceProcess:
        env = {**os.environ, **(self.env or {})}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mkdocs_erratum.service",
                    "--config",
                    str(self.config),
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=log,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"service did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def live_service(tmp_path: Path, *, start: bool = True, **changes):
    """``erratum serve`` (git backend) on a fresh site repository, as a real process.

    Yields a namespace with ``repo``, ``commit``, ``manifest`` (its path), ``config``,
    ``log`` (the service's log file), ``service`` (a `ServiceProcess`) and ``url``.
    ``changes`` override `test_settings`; ``start=False`` leaves starting to the caller.
    """
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit)
    values = test_settings(tmp_path, repo, manifest, **changes)
    config = write_toml(tmp_path / "service.toml", values)
    log = tmp_path / "service.log"
    service = ServiceProcess(config, free_port(), log)
    live = SimpleNamespace(
        repo=repo,
        commit=commit,
        manifest=manifest,
        config=config,
        log=log,
        service=service,
        url=service.url,
        database=Path(values["database"]),
    )
    if start:
        service.start()
    try:
        yield live
    finally:
        service.stop()
