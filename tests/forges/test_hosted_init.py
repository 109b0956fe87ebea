"""What ``erratum init`` writes for GitLab and Forgejo, run as their CI would run it.

The GitLab job's script and the Forgejo workflow's step are taken from the written
files and run by bash, with the variables GitLab CI and Forgejo Actions set, against the
stand-ins: the report issues become merge/pull requests, and a second run opens nothing.
Only the ``pip install`` line is left out (the package is installed here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_fixer_github import FIXED, report_for

from mkdocs_erratum.cli import main
from mkdocs_erratum.fixer import issue_body
from tests.forges.hosted import Hosted


@pytest.fixture(params=["gitlab", "forgejo"])
def hosted(request, docs_repo):
    setup = Hosted(request.param, docs_repo)
    yield setup
    setup.stop()


def written_script(hosted) -> tuple[str, dict[str, str]]:
    """The commands CI runs, from the files `erratum init` wrote, and CI's variables."""
    result = CliRunner().invoke(main, ["init", "--forge", hosted.kind.name, str(hosted.repo)])
    assert result.exit_code == 0, result.output
    api = hosted.standin.url + hosted.kind.api_path
    if hosted.kind.name == "gitlab":
        job = yaml.safe_load((hosted.repo / ".gitlab/erratum-ci.yml").read_text())["erratum"]
        lines = job["script"]
        env = {**job["variables"], "CI_PROJECT_PATH": hosted.kind.project, "CI_API_V4_URL": api}
        env["GITLAB_TOKEN"] = "maintainer-token"
    else:
        flow = yaml.safe_load((hosted.repo / ".forgejo/workflows/erratum.yml").read_text())
        (step,) = [s for s in flow["jobs"]["fix"]["steps"] if "run" in s]
        lines = step["run"].splitlines()
        env = {"FORGEJO_TOKEN": "maintainer-token", "REPOSITORY": hosted.kind.project}
        env["API_URL"] = api
    script = "\n".join(line for line in lines if not line.startswith("pip install"))
    return script, env


def run_ci(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_"))}
    path = f"{Path(sys.executable).parent}{os.pathsep}{clean.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env={**clean, **env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_written_ci_fixes_report_issues_once(hosted):
    script, env = written_script(hosted)
    first = hosted.standin.add_issue("Erratum", issue_body(report_for()), user="alice")
    hosted.standin.add_issue("A question", "No report here.", user="alice")
    if hosted.kind.name == "gitlab":
        # The scheduled job takes every open report; the workflow is given one issue.
        second = report_for("docs/guide/install.md", 5, 5, "Then run demo --help to see the "
                            "the options.", "Then run demo --help to see the options.")  # fmt: skip
        other = hosted.standin.add_issue("Erratum", issue_body(second), user="alice").number
    else:
        env["ISSUE"] = str(first.number)
    done = run_ci(script, env, hosted.repo)
    assert done.returncode == 0, done.stderr
    branches = sorted(p.pull["head_ref"] for p in hosted.standin.pulls())
    expected = [f"erratum/{first.number}"]
    if hosted.kind.name == "gitlab":
        expected = sorted([*expected, f"erratum/{other}"])
    assert branches == expected
    text = hosted.standin.repo.store.git("show", f"erratum/{first.number}:docs/index.md")
    assert FIXED in text.decode()

    again = run_ci(script, env, hosted.repo)
    assert again.returncode == 0, again.stderr
    assert len(hosted.standin.pulls()) == len(expected)
