"""A build loads only what the source map and the widget need.

The gate (lxml, markdown-it-py), the forges (PyGithub) and the service (FastAPI) are for
``erratum fix`` and ``erratum serve``; importing them would slow every ``mkdocs build``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import git

FIXTURE = Path(__file__).parent / "sites" / "basic"
NOT_FOR_A_BUILD = ["lxml", "markdown_it", "github", "fastapi", "uvicorn", "soupsieve"]

BUILD_AND_LIST_MODULES = """
import json, sys
from mkdocs.commands.build import build
from mkdocs.config import load_config
build(load_config(sys.argv[1], plugins=["erratum"], site_dir=sys.argv[2]))
print(json.dumps(sorted(name.split(".")[0] for name in sys.modules)))
"""


def test_a_build_imports_no_gate_forge_or_service_library(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    git(site, "init", "-q", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "-q", "-m", "site")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BUILD_AND_LIST_MODULES,
            str(site / "mkdocs.yml"),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "mkdocs_erratum" in loaded
    assert (tmp_path / "out" / "index.html").read_text().count("data-erratum-src") > 0
    assert sorted(loaded & set(NOT_FOR_A_BUILD)) == []
