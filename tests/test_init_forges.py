"""``erratum init`` for each forge: the files, their shape, and safe re-runs.

The GitHub files are checked in ``test_cli.py``; here GitLab's CI job and description
template, and Forgejo's (and Gitea's) workflow and issue form.
"""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from mkdocs_erratum.cli import main
from tests.conftest import git


def init(root, *args: str):
    result = CliRunner().invoke(main, ["init", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def run_lines(steps) -> list[str]:
    return [line for step in steps for line in str(step).splitlines()]


def test_gitlab_gets_a_scheduled_job_and_a_template(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nrepo_url: https://gitlab.com/g/sub/p\n")
    out = init(tmp_path)
    assert "wrote      .gitlab/erratum-ci.yml" in out
    assert "GITLAB_TOKEN" in out and "api scope" in out and "Developer" in out
    pipeline = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())
    assert pipeline == {"include": [{"local": ".gitlab/erratum-ci.yml"}]}
    job = yaml.safe_load((tmp_path / ".gitlab/erratum-ci.yml").read_text())["erratum"]
    assert "schedule" in job["rules"][0]["if"]
    assert job["variables"] == {"ERRATUM_CONFIG": "mkdocs.yml"}
    script = run_lines(job["script"])
    assert any(line.startswith("erratum list --forge gitlab") for line in script)
    assert any('erratum fix "$issue" --forge gitlab' in line for line in script)
    # Reader text never reaches the shell: no issue field but its number is read.
    assert "CI_ISSUE" not in "\n".join(script) and "description" not in "\n".join(script)
    template = (tmp_path / ".gitlab/issue_templates/erratum.md").read_text()
    assert "/label ~erratum" in template
    again = init(tmp_path)
    assert again.count("unchanged") == 3


def test_gitlab_keeps_a_pipeline_of_its_own(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitlab-ci.yml").write_text("test:\n  script: [make test]\n")
    out = init(tmp_path, "--forge", "gitlab")
    assert (
        "kept       .gitlab-ci.yml" in out and "include: [{local: .gitlab/erratum-ci.yml}]" in out
    )
    assert (tmp_path / ".gitlab-ci.yml").read_text() == "test:\n  script: [make test]\n"
    assert (tmp_path / ".gitlab/erratum-ci.yml").is_file()


def test_forgejo_gets_a_workflow_and_a_form(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nrepo_url: https://codeberg.org/o/r\n")
    out = init(tmp_path, "-f", "mkdocs.yml")
    assert "FORGEJO_TOKEN" in out and "write:repository" in out and "write:issue" in out
    flow = yaml.safe_load((tmp_path / ".forgejo/workflows/erratum.yml").read_text())
    assert flow[True] == {"issues": {"types": ["opened", "labeled"]}}  # YAML 1.1: on is True
    (step,) = [s for s in flow["jobs"]["fix"]["steps"] if "run" in s]
    assert step["env"]["ISSUE"] == "${{ github.event.issue.number }}"
    assert step["env"]["FORGEJO_TOKEN"] == "${{ secrets.FORGEJO_TOKEN }}"
    assert "${{" not in step["run"]  # every value reaches the shell through a variable
    assert 'erratum fix "$ISSUE" --forge forgejo' in step["run"]
    form = yaml.safe_load((tmp_path / ".forgejo/ISSUE_TEMPLATE/erratum.yaml").read_text())
    assert form["labels"] == ["erratum"] and form["body"][1]["id"] == "report"


def test_gitea_reads_the_same_files_from_its_own_folder(tmp_path):
    git(tmp_path, "init", "-q")
    init(tmp_path, "--forge", "gitea")
    assert (tmp_path / ".gitea/workflows/erratum.yml").is_file()
    assert (tmp_path / ".gitea/ISSUE_TEMPLATE/erratum.yaml").is_file()
    assert not (tmp_path / ".forgejo").exists() and not (tmp_path / ".github").exists()
