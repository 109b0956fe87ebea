"""The contract suite's fixtures: one forge harness per implementation in `HARNESSES`."""

from __future__ import annotations

import pytest

from tests.forges.harnesses import HARNESSES


def _harness_fixture(wanted: str | None, doc: str):
    names = sorted(n for n, h in HARNESSES.items() if wanted is None or getattr(h, wanted))

    @pytest.fixture(params=names)
    def fixture(request, docs_repo):
        harness = HARNESSES[request.param](docs_repo)
        yield harness
        harness.close()

    fixture.__doc__ = doc
    return fixture


forge_harness = _harness_fixture(None, "A harness for each forge, on a fresh docs repository.")
issue_harness = _harness_fixture("has_issues", "The harnesses of forges that have issues.")
forking_harness = _harness_fixture("forks", "The harnesses of forges that fork.")
