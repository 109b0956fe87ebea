"""The browser fixture: one headless Chromium for the run (skips without it, unless CI)."""

import os

import pytest

from browser.support import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's package) for the whole run."""
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
