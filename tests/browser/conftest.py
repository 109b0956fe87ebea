"""The browser fixture: headless Chromium (skips without it, except under CI=true)."""

import os

import pytest

from browser.support import CHROMIUM, CHROMIUM_ARGS


# Module scope: Playwright's sync API allows one instance at a time, and other test
# modules (the service's browser test) start their own.
@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (Debian's package) per test module."""
    if not os.path.exists(CHROMIUM):
        message = "Chromium not found: install it with `sudo apt-get install chromium`."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
