"""Browser tests of the reader widget (headless Chromium driven by Playwright)."""
