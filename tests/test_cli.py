"""The ``erratum`` command: real processes against the stand-in, and the files it writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from conftest import git
from test_fixer_github import FIXED, TYPO, commit, file_issue, report_for

from mkdocs_erratum.cli import main, parse_issue_ref, read_site
from mkdocs_erratum.fixer import issue_body
from mkdocs_erratum.report import text_hash

ROOT = Path(__file__).resolve().parent.parent


def erratum(*args: str, token: str | None = "maintainer-token", cwd=None, stdin=None):
    """Run ``erratum`` as its own process; return (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ERRATUM_"))}
    if token:
        env["GITHUB_TOKEN"] = token
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        input=stdin,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def site_args(standin, docs_repo) -> list[str]:
    return ["--api-url", standin.url, "-f", str(docs_repo / "mkdocs.yml"), "--write-interval", "0"]


@pytest.mark.parametrize("command", [[], ["fix"], ["list"], ["init"]])
def test_help_everywhere(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", (None, 12)),
        ("#3", (None, 3)),
        ("https://github.com/acme/docs/issues/7", ("acme/docs", 7)),
        ("https://ghe.example/acme/docs/issues/8/", ("acme/docs", 8)),
    ],
)
def test_parse_issue_ref(text, expected):
    assert parse_issue_ref(text) == expected


@pytest.mark.parametrize("text", ["", "12a", "https://github.com/acme/docs/wiki/1", "-1"])
def test_parse_issue_ref_refuses(text):
    with pytest.raises(click.BadParameter):
        parse_issue_ref(text)


def test_read_site_ignores_python_tags_and_finds_snippet_folders(tmp_path):
    git(tmp_path, "init", "-q")
    site = tmp_path / "site"
    site.mkdir()
    (site / "mkdocs.yml").write_text(
        "site_name: x\nrepo_url: https://github.com/acme/handbook\ndocs_dir: pages\n"
        "markdown_extensions:\n"
        "  - pymdownx.emoji:\n      emoji_index: !!python/name:os.system\n"
        "  - pymdownx.snippets:\n      base_path: [snippets, ../shared]\n"
        "extra:\n  key: !ENV [HOME]\n"
    )
    facts = read_site(str(site / "mkdocs.yml"))
    assert facts.repository == "acme/handbook"
    assert facts.docs_dirs == ("site/pages", "site/snippets", "shared")


def test_fix_opens_one_pull_request_and_a_second_run_opens_nothing(standin, docs_repo):
    number = file_issue(standin, report_for(reporter="alice"))
    status, out, err = erratum("fix", str(number), *site_args(standin, docs_repo))
    assert (status, err) == (0, "")
    assert re.fullmatch(r"opened pull request #2: http://\S+/acme/docs/pull/2\n", out)
    status, out, _ = erratum("fix", f"#{number}", *site_args(standin, docs_repo))
    assert status == 0 and out.startswith("pull request #2 already exists")
    assert len(standin.pulls()) == 1
    assert FIXED in git(docs_repo, "show", f"erratum/{number}:docs/index.md")


def test_fix_from_a_json_report_on_stdin(standin, docs_repo):
    report = report_for()
    status, out, _ = erratum(
        "fix", "--report", "-", *site_args(standin, docs_repo), stdin=report.to_json()
    )
    assert status == 0 and out.startswith("opened pull request #1")
    assert standin.pulls()[0].pull["head_ref"] == f"erratum/{report.id}"


def test_fix_exit_status_3_when_a_person_must_look(standin, docs_repo):
    number = file_issue(standin, report_for("docs/link.md", 1, 1, "# Demo", "x"))
    status, out, err = erratum("fix", str(number), *site_args(standin, docs_repo))
    assert status == 3 and err == ""
    assert (
        out == "no pull request: docs/link.md is a symbolic link; erratum does not change links\n"
    )


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (["fix", "1"], None, "Error: no GitHub credentials: set GITHUB_TOKEN"),
        (
            ["fix", "99"],
            "maintainer-token",
            "Error: GitHub refused to read issue #99: 404 Not Found",
        ),
        (
            ["fix", "1"],
            "wrong-token",
            "Error: GitHub refused to read repository acme/docs: 401 Bad credentials",
        ),
        (["fix"], "maintainer-token", "Error: give either ISSUE or --report FILE"),
    ],
)
def test_failures_end_with_one_clear_line(standin, docs_repo, args, token, message):
    file_issue(standin, report_for())
    status, out, err = erratum(*args, *site_args(standin, docs_repo), token=token)
    assert status in (1, 2) and out == ""
    assert err.strip().splitlines()[-1].startswith(message)
    if status == 1:
        assert len(err.strip().splitlines()) == 1


def test_fix_without_a_repository_says_how_to_give_one(tmp_path):
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    status, _, err = erratum("fix", "1", "-f", str(tmp_path / "mkdocs.yml"), token="t")
    assert status == 1
    assert err == (
        "Error: cannot tell the repository: the configuration has no repo_url on a known "
        "forge; pass --repo OWNER/NAME (and --forge for a self-hosted forge)\n"
    )


def report_line(number: int, state: str, status: str, stale: bool = False) -> str:
    """One report's line in the text of ``erratum list`` (age: just filed)."""
    return f"    #{number:<5} {state:<24} {'just now':>8}  {status}" + ("  STALE" if stale else "")


def test_list_groups_by_page_and_block_and_flags_changed_lines(standin, docs_repo, tmp_path):
    moved = file_issue(standin, report_for())
    again = file_issue(standin, report_for(reporter="second-reader"))
    same = file_issue(
        standin,
        report_for("docs/guide/install.md", 3, 3, "Run pip install demo.", "Run pip."),
    )
    stale = file_issue(
        standin,
        report_for("docs/guide/install.md", 5, 5, "Then run demo --help to see the the options.",
                   "Then run demo --help to see the options."),
    )  # fmt: skip
    original = (docs_repo / "docs/index.md").read_text()
    commit(docs_repo, "docs/index.md", "New first line.\n\n" + original)
    install = (docs_repo / "docs/guide/install.md").read_text()
    commit(docs_repo, "docs/guide/install.md", install.replace("the the options", "all options"))
    standin.add_issue("A question", "No report here.", labels=[])
    status, out, err = erratum("list", *site_args(standin, docs_repo)[:4])
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "https://acme.example/  (4 reports)",
        "  docs/guide/install.md#L3-L3  1 report",
        report_line(same, "issue only", "unchanged"),
        "  docs/guide/install.md#L5-L5  1 report",
        report_line(stale, "issue only", "changed", stale=True),
        "  docs/index.md#L5-L5  2 reports",
        report_line(moved, "issue only", "moved to L5-L5"),
        report_line(again, "issue only", "moved to L5-L5"),
        "4 open reports on 1 page, 3 blocks; 1 stale (their lines changed since).",
    ]
    html = tmp_path / "triage.html"
    status, out, _ = erratum(
        "list", "--json", "--html", str(html), *site_args(standin, docs_repo)[:4]
    )
    data = json.loads(out)
    (page,) = data["pages"]
    assert page["page"] == "https://acme.example/" and page["count"] == 4
    assert [(b["path"], b["lines"], b["count"], b["stale"]) for b in page["blocks"]] == [
        ("docs/guide/install.md", [3, 3], 1, False),
        ("docs/guide/install.md", [5, 5], 1, True),
        ("docs/index.md", [5, 5], 2, False),
    ]
    entry = page["blocks"][2]["reports"][0]
    assert entry["number"] == moved and entry["reported_lines"] == [3, 3]
    assert entry["url"] == f"{standin.url}/acme/docs/issues/{moved}"
    assert entry["state"] == "issue only" and entry["kind"] == "issue"
    assert 0 <= entry["age_days"] < 1 and entry["created_at"].endswith("Z")
    assert (data["reports"], data["stale"], data["skipped"]) == (4, 1, 0)
    # Published as the widget's snapshot: no reader text in it.
    assert "Typo" not in out and "second-reader" not in out and "jumsp" not in out
    page_html = html.read_text(encoding="utf-8")
    assert f'<a href="{standin.url}/acme/docs/issues/{moved}">#{moved}</a>' in page_html
    assert page_html.count("<table>") == 3 and "(stale)" in page_html
    assert "<script" not in page_html and "Typo" not in page_html


def test_list_shows_the_state_of_each_report(standin, docs_repo):
    fixed = file_issue(standin, report_for())
    assert erratum("fix", str(fixed), *site_args(standin, docs_repo))[0] == 0
    (pull,) = standin.pulls()
    refused = file_issue(standin, report_for(".github/workflows/ci.yml", 1, 1, "on: push", "x"))
    assert erratum("fix", str(refused), *site_args(standin, docs_repo))[0] == 3
    status, out, err = erratum("list", "--json", *site_args(standin, docs_repo)[:4])
    assert (status, err) == (0, "")
    states = {
        e["number"]: (e["state"], e["pull_request"])
        for p in json.loads(out)["pages"]
        for b in p["blocks"]
        for e in b["reports"]
    }
    assert states == {
        fixed: (
            "pull request open",
            {"number": pull.number, "url": f"{standin.url}/acme/docs/pull/{pull.number}"},
        ),
        refused: ("needs review", None),
    }


def test_list_and_fix_read_a_crlf_file_alike(standin, docs_repo):
    """One rule for lines (corrections.split_lines): a CRLF file is unchanged to both."""
    crlf = (docs_repo / "docs/index.md").read_text().replace("\n", "\r\n")
    (docs_repo / "docs/index.md").write_bytes(crlf.encode())
    git(docs_repo, "commit", "-q", "-am", "CRLF")
    built = git(docs_repo, "rev-parse", "HEAD").strip()
    number = file_issue(standin, report_for(commit=built))
    status, out, _ = erratum("list", "--json", *site_args(standin, docs_repo)[:4])
    assert status == 0
    ((page,),) = [json.loads(out)["pages"]]
    ((entry,),) = [b["reports"] for b in page["blocks"]]
    assert (entry["status"], entry["stale"]) == ("unchanged", False)
    status, out, _ = erratum("fix", str(number), *site_args(standin, docs_repo))
    assert status == 0 and out.startswith("opened pull request"), out
    fixed = subprocess.run(
        ["git", "show", f"erratum/{number}:docs/index.md"],
        cwd=docs_repo,
        capture_output=True,
        check=True,
    ).stdout
    assert fixed == crlf.replace("jumsp", "jumps").encode()


def test_init_writes_form_and_workflow_idempotently(tmp_path):
    git(tmp_path, "init", "-q")
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0 and "would write .github/workflows/erratum.yml" in result.output
    assert not (tmp_path / ".github").exists()
    result = runner.invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 0
    assert "wrote      .github/ISSUE_TEMPLATE/erratum.yml" in result.output
    result = runner.invoke(main, ["init", str(tmp_path)])
    assert result.output.count("unchanged") == 2
    workflow = tmp_path / ".github/workflows/erratum.yml"
    workflow.write_text(workflow.read_text() + "# local change\n")
    result = runner.invoke(main, ["init", str(tmp_path)])
    assert "kept       .github/workflows/erratum.yml" in result.output
    assert workflow.read_text().endswith("# local change\n")
    result = runner.invoke(main, ["init", str(tmp_path), "--force"])
    assert "overwrote  .github/workflows/erratum.yml" in result.output
    assert "# local change" not in workflow.read_text()


def test_written_workflow_has_least_privileges_and_no_reader_text_in_shell(tmp_path):
    CliRunner().invoke(main, ["init", str(tmp_path), "--action", "acme/erratum@v1"])
    workflow = yaml.safe_load((tmp_path / ".github/workflows/erratum.yml").read_text())
    assert workflow["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
    }
    assert workflow[True] == {"issues": {"types": ["opened", "labeled"]}}  # YAML 1.1: on -> True
    steps = workflow["jobs"]["fix"]["steps"]
    assert steps[2] == {
        "uses": "acme/erratum@v1",
        "with": {"issue": "${{ github.event.issue.number }}", "config": "mkdocs.yml"},
    }
    for step in steps:
        assert "${{" not in step.get("run", ""), step  # expressions only in env:
    form = yaml.safe_load((tmp_path / ".github/ISSUE_TEMPLATE/erratum.yml").read_text())
    assert form["labels"] == ["erratum"]
    assert [f.get("id") for f in form["body"]] == [None, "report"]  # the widget fills "report"


def test_written_workflow_takes_and_labels_unlabelled_report_issues(tmp_path):
    """GitHub drops a prefilled link's labels for readers who cannot triage: the workflow
    runs on any new issue carrying a report block and labels it."""
    CliRunner().invoke(main, ["init", str(tmp_path)])
    job = yaml.safe_load((tmp_path / ".github/workflows/erratum.yml").read_text())["jobs"]["fix"]
    condition = " ".join(job["if"].split())
    assert (
        "github.event.action == 'opened' && (contains(github.event.issue.labels.*.name, "
        "'erratum') || contains(github.event.issue.body, '```json erratum-report'))" in condition
    )
    label = job["steps"][0]
    assert label["if"] == "${{ !contains(github.event.issue.labels.*.name, 'erratum') }}"
    assert label["env"] == {"GH_TOKEN": "${{ github.token }}",
                            "ISSUE": "${{ github.event.issue.number }}"}  # fmt: skip
    assert label["run"] == ('gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$ISSUE/'
                            'labels" -f "labels[]=erratum" --silent')  # fmt: skip


def test_list_finds_unlabelled_reports_and_counts_issues(standin, docs_repo):
    labelled = file_issue(standin, report_for())
    two = report_for()
    two.blocks.append(two.blocks[0].__class__(
        "docs/guide/install.md", 3, 3, "Run pip install demo.",
        text_hash("Run pip install demo."), "Run pip."))  # fmt: skip
    unlabelled = standin.add_issue("Erratum", issue_body(two), labels=[]).number
    standin.add_issue("A question", "No report here.", labels=[])
    standin.add_issue("Broken", "```json erratum-report\n{\n```", labels=["erratum"])
    status, out, err = erratum("list", *site_args(standin, docs_repo)[:4])
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[1:3] == [
        "  docs/guide/install.md#L3-L3  1 report",
        report_line(unlabelled, "issue only", "unchanged"),
    ]
    assert lines.count(report_line(labelled, "issue only", "unchanged")) == 1
    assert lines[-1] == (
        "2 open reports on 1 page, 2 blocks; 0 stale (their lines changed since). "
        "1 issue labelled erratum had no valid report."
    )


def test_fix_takes_an_unlabelled_issue_by_its_report_block(standin, docs_repo):
    number = standin.add_issue("Erratum", issue_body(report_for()), labels=[]).number
    status, out, err = erratum("fix", str(number), *site_args(standin, docs_repo))
    assert (status, err) == (0, "") and out.startswith("opened pull request #")


def test_list_tells_a_file_gone_from_a_file_github_would_not_read(standin, docs_repo):
    gone = file_issue(standin, report_for("docs/removed.md", 1, 1, "Old text.", "New text."))
    unread = file_issue(standin, report_for())
    standin.inject("forbidden", method="GET", path=r"/contents/docs/index\.md", times=5)
    status, out, err = erratum("list", *site_args(standin, docs_repo)[:4])
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert report_line(gone, "issue only", "file gone", stale=True) in lines
    assert (
        report_line(
            unread,
            "issue only",
            "not read: GitHub refused to read docs/index.md: 403 Resource not accessible by "
            "integration",
        )
        in lines
    )


def test_list_needs_no_token_on_a_public_github_project(standin, docs_repo):
    number = file_issue(standin, report_for())
    status, out, err = erratum("list", *site_args(standin, docs_repo)[:4], token=None)
    assert (status, err) == (0, "")
    assert report_line(number, "issue only", "unchanged") in out.splitlines()


def test_a_fork_github_refuses_to_read_says_why(standin, docs_repo):
    """A 403 while waiting for the fork is said at once, not after the 60 s wait."""
    number = file_issue(standin, report_for())
    standin.inject("forbidden", method="GET", path=r"^/repos/reader/docs$", times=50)
    status, out, err = erratum("fix", str(number), *site_args(standin, docs_repo),
                               token="reader-token")  # fmt: skip
    assert (status, out) == (1, "")
    assert err == (
        "Error: GitHub refused to read the fork reader/docs: 403 Resource not accessible "
        "by integration\n"
    )


def test_action_is_composite_and_passes_inputs_through_the_environment():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step  # expressions only in env:
    assert "erratum fix" in action["runs"]["steps"][-1]["run"]


def test_the_action_step_runs_erratum_fix(standin, docs_repo, tmp_path):
    """The action's last step, run by bash as GitHub would, with the inputs as env."""
    number = file_issue(standin, report_for())
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = action["runs"]["steps"][-1]
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "erratum").write_text(
        f'#!/bin/sh\nexec {sys.executable} -m mkdocs_erratum.cli "$@" --write-interval 0\n'
    )
    (shim / "erratum").chmod(0o755)
    env = {
        "PATH": f"{shim}:{os.environ['PATH']}",
        "GITHUB_TOKEN": "ghs_workflow-token",  # a workflow's token: an integration's
        "GITHUB_API_URL": standin.url,
        "ERRATUM_ISSUE": str(number),
        "ERRATUM_CONFIG": str(docs_repo / "mkdocs.yml"),
        "ERRATUM_REPOSITORY": "acme/docs",
        "ERRATUM_DOCS_DIRS": "docs",
    }
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("opened pull request #")
    assert TYPO not in git(docs_repo, "show", f"erratum/{number}:docs/index.md")
    assert standin.pulls()[0].user == "github-actions[bot]"
    assert standin.repo.records[number].comments[0]["user"] == "github-actions[bot]"


def test_a_10_mb_json_report_is_refused_in_one_line(standin, docs_repo):
    huge = report_for().to_json()[:-1] + ', "padding": "' + "x" * 10_000_000 + '"}'
    status, out, err = erratum("fix", "--report", "-", *site_args(standin, docs_repo), stdin=huge)
    assert (status, out) == (1, "")
    assert err == "Error: the report file is larger than 2 MB\n"
    assert standin.pulls() == [] and standin.requests == []


def test_a_workflow_not_allowed_to_open_pull_requests_says_so(standin, docs_repo):
    standin.workflows_open_pulls = False
    number = file_issue(standin, report_for())
    status, out, err = erratum(
        "fix", str(number), *site_args(standin, docs_repo), token="ghs_workflow-token"
    )
    assert (status, out) == (1, "")
    assert err == (
        f"Error: GitHub refused to open a pull request from erratum/{number}: 403 "
        "GitHub Actions is not permitted to create or approve pull requests.\n"
    )
    assert standin.pulls() == []
