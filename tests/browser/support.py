"""Helpers of the reader-widget browser tests: real builds and a real HTTP server.

Each site is a copy of ``sites/guide/docs`` in a fresh git repository, built with a real
``mkdocs build`` (in process), served by ``http.server`` on 127.0.0.1 and driven by
Playwright with Debian's Chromium. Without Chromium the tests skip (fail under CI=true).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def headless_chromium():
    """Debian's Chromium, headless, through Playwright.

    Skips the test with one line saying how to install it when it is absent, except
    under CI=true, where a missing browser fails the run.
    """
    if not os.path.exists(CHROMIUM):
        message = "Chromium not found: install it with `sudo apt-get install chromium`."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


SITES = Path(__file__).parent / "sites"
REPOSITORY = "acme/guide"


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    out = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1; yields the base URL (with a slash)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def build_site(
    root: Path,
    theme: dict,
    plugin: dict | None = None,
    files: dict[str, str] | None = None,
    **extra,
) -> Path:
    """Build the guide site with ``theme`` in a new git repository under ``root``.

    ``files`` maps more repository paths to their text (an issue form, say). Returns the
    built ``site`` folder.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SITES / "guide" / "docs", root / "docs")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    config = {
        "site_name": "Guide",
        "repo_url": f"https://github.com/{REPOSITORY}",
        "edit_uri": "edit/main/docs/",
        "theme": theme,
        "markdown_extensions": ["admonition", "tables", {"toc": {"permalink": True}}],
        "plugins": [{"erratum": plugin or {}}],
        **extra,
    }
    if theme.get("name") == "material":
        config["plugins"].insert(0, "search")
        config["markdown_extensions"] += ["pymdownx.superfences"]
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "site")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    cfg = load_config(str(root / "mkdocs.yml"))
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    finally:
        cfg.plugins.on_shutdown()
    return root / "site"


def head_commit(site: Path) -> str:
    """The commit the site in ``site``'s parent folder was built from."""
    return _git(site.parent, "rev-parse", "HEAD")


def new_page(browser, **options):
    """A page in a fresh context; github.com answered by a stub, other hosts refused.

    ``page.errors`` collects the page's uncaught exceptions.
    """
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)

    def route(r):
        if r.request.url.startswith("https://github.com/"):
            return r.fulfill(body="<title>stub</title>", content_type="text/html")
        return r.abort()

    context.route(lambda url: not url.startswith("http://127.0.0.1"), route)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(e))
    return context, page


def wait_selecting(page) -> None:
    """Wait for the selection mode: it starts once the dialog's module has loaded (on the
    first press), its banner with the blocks' toggles."""
    expect(page.locator(".erratum-banner")).to_be_visible()
    expect(page.locator(".erratum-toggle").first).to_be_attached()


def click_block(page, text: str) -> None:
    """A real mouse click on the block showing ``text`` (the toggle covering it gets it),
    in the selection mode."""
    wait_selecting(page)
    block = page.get_by_text(text).first
    # Centred, so that the selection banner at the bottom does not cover it.
    block.evaluate("e => e.scrollIntoView({block: 'center', behavior: 'instant'})")
    box = block.bounding_box()
    page.mouse.click(box["x"] + 10, box["y"] + box["height"] / 2)


def opened_query(context, action) -> tuple[str, dict[str, str]]:
    """Run ``action``; return the URL of the tab it opens and its decoded query."""
    with context.expect_page() as opened:
        action()
    url = opened.value.url
    return url, {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def widget_errors(page) -> list:
    """Uncaught exceptions thrown by the widget's own code."""
    return [e for e in page.errors if "erratum" in (e.stack or "")]


def sent_to_branch(page, dialog) -> str:
    """Press the dialog's Send; the branch the git-backend service created, once shown."""
    dialog.get_by_role("button", name="Send").click()
    status = dialog.get_by_role("status")
    expect(status).to_contain_text("Your correction is on branch erratum/r-", timeout=30_000)
    branch = re.search(r"erratum/r-[0-9a-f]{16}", status.inner_text()).group(0)
    assert widget_errors(page) == [], page.errors
    return branch


def start_selecting(page, button: str, banner: str) -> None:
    """Press the page's button named ``button``; the selection banner says ``banner``."""
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_text(banner)).to_be_visible()


def github_service_config(tmp: Path, site: Path, base: str, api_url: str, **changes) -> Path:
    """The settings file of ``erratum serve`` with the GitHub backend, on the stand-in at
    ``api_url`` (its maintainer token), for ``site``'s pages at ``base``."""
    from tests.service_support import write_toml

    return write_toml(
        tmp / "service.toml",
        {
            "backend": "github",
            "github_repository": REPOSITORY,
            "github_token": "maintainer-token",
            "github_api_url": api_url,
            "database": str(tmp / "service.sqlite3"),
            "manifest": str(site / "_erratum" / "manifest.json"),
            "allowed_origins": [base.rstrip("/")],
            "altcha_max_number": 5000,
            "retry_base_seconds": 0.1,
            **changes,
        },
    )


@contextlib.contextmanager
def git_service(tmp: Path, site: Path, base: str, port: int) -> Iterator[object]:
    """``erratum serve`` (git backend) on ``site``'s own repository, for pages at ``base``:
    a uvicorn process on ``port``, stopped on leaving."""
    from tests.service_support import ServiceProcess, write_toml

    config = write_toml(
        tmp / "service.toml",
        {
            "backend": "git",
            "database": str(tmp / "service.sqlite3"),
            "manifest": str(site / "_erratum" / "manifest.json"),
            "git_repository": str(site.parent),
            "allowed_origins": [base.rstrip("/")],
            "altcha_max_number": 5000,
        },
    )
    service = ServiceProcess(config, port, tmp / "service.log").start()
    try:
        yield service
    finally:
        service.stop()
