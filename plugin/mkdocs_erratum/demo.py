"""``make demo``: this project's own site and the correction service, running together locally.

``python -m mkdocs_erratum.demo`` makes a scratch clone of this repository (with the
working tree's ``site/`` and ``mkdocs.yml`` committed on top, so local edits show), builds
the site from that clone with the plugin pointed at a local correction service, serves
the site on http://127.0.0.1:8000 and runs the service with its ``git`` backend on port
8001 against the clone. Each correction a reader sends becomes a branch
``erratum/<report id>`` of the clone; the demo prints every new branch with the git
command that shows it. Ctrl+C stops everything.

The site is built with Material for MkDocs when it is installed (the ``test`` extra has
it), else with MkDocs' own ``mkdocs`` theme: ``make demo`` installs only the ``demo``
extra, and Material with its icons and Babel would more than double the ``.venv``.

Everything runs offline. This module is a developer tool, not part of the plugin's API;
the service half needs the ``service`` extra and is skipped, with a message, without it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE_URL_VARIABLE = "ERRATUM_SERVICE_URL"
"""Read by the top-level ``mkdocs.yml`` (``service_url: !ENV ...``)."""
SITE_URL_VARIABLE = "ERRATUM_SITE_URL"
"""Read by the top-level ``mkdocs.yml`` (``site_url: !ENV ...``)."""
SHOWCASE_PAGE = "showcase/fr/"
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "erratum demo",
    "GIT_AUTHOR_EMAIL": "demo@localhost",
    "GIT_COMMITTER_NAME": "erratum demo",
    "GIT_COMMITTER_EMAIL": "demo@localhost",
}


class DemoError(Exception):
    """Something that stops the demo; the message says what to do."""


class _Stop(Exception):
    """Raised in the main thread by SIGTERM, handled like Ctrl+C."""


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl+C (or SIGTERM); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m mkdocs_erratum.demo",
        description="Serve this project's site with the correction service (git backend).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port of the site")
    parser.add_argument("--service-port", type=int, default=8001, help="port of the service")
    parser.add_argument(
        "--scratch",
        type=Path,
        default=PROJECT_ROOT / "_build" / "demo",
        help="folder for the clone, the built site and the service's files (emptied first)",
    )
    parser.add_argument(
        "--no-service", action="store_true", help="serve the site only (reports open GitHub)"
    )
    parser.add_argument(
        "--theme",
        choices=("auto", "material", "mkdocs"),
        default="auto",
        help="theme of the site: material (needs mkdocs-material), mkdocs, or auto: "
        "material when installed (default)",
    )
    args = parser.parse_args(argv)
    theme = args.theme
    if theme == "auto":
        theme = "material" if importlib.util.find_spec("material") else "mkdocs"
    elif theme == "material" and not importlib.util.find_spec("material"):
        print("demo: --theme material needs mkdocs-material (pip install mkdocs-material)")
        return 1
    # A shell that starts us in the background ignores SIGINT; Ctrl+C must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    demo = Demo(args.host, args.port, args.service_port, args.scratch.resolve(), theme)
    try:
        demo.start(with_service=not args.no_service)
        demo.watch()
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        # A second Ctrl+C while stopping would leave the service running: wait instead.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.stop()
    print(f"\nStopped. The scratch clone stays in {_shown(demo.repo)} until the next demo.")
    return 0


class Demo:
    """The scratch clone, the static site server and the service process."""

    def __init__(
        self, host: str, port: int, service_port: int, scratch: Path, theme: str = "material"
    ):
        self.host = host
        self.theme = theme
        self.port = port
        self.service_port = service_port
        self.scratch = scratch
        self.repo = scratch / "repo"
        self.site_dir = scratch / "site"
        self.service_log = scratch / "service.log"
        self.site_url = f"http://{host}:{port}/"
        self.service_url: str | None = None
        self._server: http.server.ThreadingHTTPServer | None = None
        self._service: subprocess.Popen | None = None
        self._serving: threading.Thread | None = None
        self._branches_seen: set[str] = set()

    def start(self, with_service: bool = True) -> None:
        """Clone, build, then serve the site and (when possible) the service.

        Raises:
            DemoError: a port is taken, git is missing, or the build or service fails.
        """
        if with_service and not _service_installed():
            print(
                "The correction service needs the 'service' extra "
                "(pip install -e '.[service]'): serving the site only; reports open GitHub."
            )
            with_service = False
        # Take the ports first: failing after a long build would be rude.
        self._server = _bind_site_server(self.host, self.port, self.site_dir)
        if with_service:
            _check_port_free(self.host, self.service_port, "--service-port")
            self.service_url = f"http://{self.host}:{self.service_port}"
        print("Preparing a scratch clone of this repository...", flush=True)
        prepare_scratch_repository(PROJECT_ROOT, self.scratch)
        print("Building the site...", flush=True)
        build_site(self.repo, self.site_dir, self.site_url, self.service_url, self.theme)
        if with_service:
            self._start_service()
        self._serving = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._serving.start()
        self._branches_seen = set(list_report_branches(self.repo))
        self._print_welcome()

    def watch(self, interval: float = 1.0) -> None:
        """Print each new report branch; return only on an error (Ctrl+C raises)."""
        while True:
            time.sleep(interval)
            if self._service is not None and self._service.poll() is not None:
                raise DemoError(
                    f"the service stopped (exit {self._service.returncode}); "
                    f"its log:\n{_tail(self.service_log)}"
                )
            for branch in list_report_branches(self.repo):
                if branch not in self._branches_seen:
                    self._branches_seen.add(branch)
                    print(
                        f"New branch {branch}. See it with:\n"
                        f"    git -C {_shown(self.repo)} show {branch}",
                        flush=True,
                    )

    def stop(self) -> None:
        """Stop the site server and the service; safe to call more than once."""
        if self._server is not None:
            if self._serving is not None:
                # shutdown() waits for serve_forever() to return: only call it when it runs.
                self._server.shutdown()
                self._serving.join(5)
                self._serving = None
            self._server.server_close()
            self._server = None
        if self._service is not None:
            if self._service.poll() is None:
                self._service.terminate()
                try:
                    self._service.wait(15)
                except subprocess.TimeoutExpired:
                    self._service.kill()
                    self._service.wait(5)
            self._service = None

    def _start_service(self) -> None:
        config = self.scratch / "service.toml"
        settings = {
            "backend": "git",
            "git_repository": str(self.repo),
            "manifest": str(self.site_dir / "_erratum" / "manifest.json"),
            "database": str(self.scratch / "service.sqlite3"),
            "allowed_origins": [self.site_url.rstrip("/"), f"http://localhost:{self.port}"],
            "host": self.host,
            "port": self.service_port,
        }
        config.write_text(
            "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()),
            encoding="utf-8",
        )
        print("Starting the correction service...", flush=True)
        with open(self.service_log, "ab") as log:
            self._service = subprocess.Popen(
                [sys.executable, "-m", "mkdocs_erratum.service", "--config", str(config)],
                cwd=self.scratch,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._service.poll() is not None:
                raise DemoError(f"the service did not start; its log:\n{_tail(self.service_log)}")
            if _answers(f"{self.service_url}/healthz"):
                return
            time.sleep(0.2)
        raise DemoError(f"the service did not answer in 30 s; its log:\n{_tail(self.service_log)}")

    def _print_welcome(self) -> None:
        repo = _shown(self.repo)
        lines = [
            "",
            "mkdocs-erratum demo",
            f"  Site:    {self.site_url}  (theme: {self.theme})",
            f"  Article: {self.site_url}{SHOWCASE_PAGE}  (French, with deliberate errors)",
        ]
        if self.service_url:
            lines += [
                f"  Service: {self.service_url}  (git backend; log in {_shown(self.service_log)})",
                "",
                'Open the article, press "Report an error", click a paragraph, describe the',
                "error, correct the Markdown and press Send: the service turns the report",
                f"into a branch of the scratch clone {repo}.",
                "List the branches, then the corrections they hold, with:",
                f"    git -C {repo} branch --list 'erratum/*'",
                f"    git -C {repo} log -p --branches='erratum/*' --not HEAD",
            ]
        else:
            lines += ["  Service: not running; the widget opens prefilled GitHub issues."]
        lines += ["", "Press Ctrl+C to stop.", ""]
        print("\n".join(lines), flush=True)


def prepare_scratch_repository(root: Path, scratch: Path) -> Path:
    """Make ``scratch/repo``: a clone of ``root`` with its working ``site/`` committed on top.

    The built pages must match a commit of the repository that the service writes to:
    reports name that commit and the hash of the lines they change. Committing the
    working tree's site in the clone keeps that true while you edit the pages.

    Returns:
        The clone's path.

    Raises:
        DemoError: when git is missing or fails.
    """
    if shutil.which("git") is None:
        raise DemoError("git is not installed; the demo needs it")
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    repo = scratch / "repo"
    if _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False) is not None:
        _git(scratch, "clone", "-q", str(root), str(repo))
    else:
        repo.mkdir()
        _git(repo, "init", "-q")
    for name in ("site", "mkdocs.yml"):
        target = repo / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        source = root / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    _git(repo, "add", "-A", "--", "site", "mkdocs.yml")
    if _git(repo, "diff", "--cached", "--quiet", check=False) is None:
        _git(repo, "commit", "-q", "-m", "demo: the site as it is in the working tree")
    return repo


def build_site(
    repo: Path, site_dir: Path, site_url: str, service_url: str | None, theme: str = "material"
) -> None:
    """Build the site of ``repo`` into ``site_dir`` (a real ``mkdocs build``).

    The site's own address and the service's reach ``mkdocs.yml`` through environment
    variables: the published site keeps its public address and no service. ``theme``
    other than ``material`` replaces the configured theme (``mkdocs build --theme``).

    Raises:
        DemoError: with the build's output when it fails.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", SITE_URL_VARIABLE: site_url}
    env.pop(SERVICE_URL_VARIABLE, None)
    if service_url:
        env[SERVICE_URL_VARIABLE] = service_url
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(repo / "mkdocs.yml")]
    if theme != "material":
        command += ["--theme", theme]
    proc = subprocess.run(
        [*command, "-d", str(site_dir)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise DemoError(f"mkdocs build failed:\n{proc.stdout}{proc.stderr}")


def list_report_branches(repo: Path) -> list[str]:
    """The ``erratum/*`` branches of ``repo``, oldest first."""
    out = _git(
        repo,
        "for-each-ref",
        "--sort=creatordate",
        "--format=%(refname:short)",
        "refs/heads/erratum/",
        check=False,
    )
    return [line for line in (out or "").splitlines() if line]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site, with its own 404 page and without a log line per request."""

    def log_message(self, format: str, *args) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None


def _bind_site_server(host: str, port: int, site_dir: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise DemoError(
            f"cannot listen on {host}:{port} ({exc.strerror}); is another demo running? "
            f"Choose another port with --port (make demo PORT={port + 10})"
        ) from None
    server.daemon_threads = True
    return server


def _check_port_free(host: str, port: int, option: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            make = option.lstrip("-").replace("-", "_").upper()
            raise DemoError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another port with "
                f"{option} (make demo {make}={port + 10})"
            ) from None


def _answers(url: str) -> bool:
    """True when ``url`` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def _service_installed() -> bool:
    return all(importlib.util.find_spec(name) for name in ("fastapi", "uvicorn", "altcha"))


def _git(cwd: Path, *args: str, check: bool = True) -> str | None:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        if check:
            raise DemoError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()}")
        return None
    return proc.stdout.strip()


def _raise_stop(signum, frame) -> None:
    raise _Stop


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it (shorter commands)."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
