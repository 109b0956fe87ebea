"""The browser fixture: headless Chromium (skips without it, except under CI=true)."""

import pytest

from browser.support import headless_chromium


# Module scope: Playwright's sync API allows one instance at a time, and other test
# modules (the service's browser test) start their own.
@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (Debian's package) per test module."""
    with headless_chromium() as chromium:
        yield chromium
