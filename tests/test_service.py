"""The correction service with the git backend: store, worker and HTTP API together."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from mkdocs_erratum.corrections import OverlapError, Relocation, apply_blocks
from mkdocs_erratum.report import Report, parse_issue_body
from mkdocs_erratum.service.app import create_app
from mkdocs_erratum.service.backends import GitBackend, Refused
from mkdocs_erratum.service.settings import SettingsError, describe_settings, load_settings
from mkdocs_erratum.service.store import BRANCH_CREATED, IN_FLIGHT, QUEUED, ReportStore
from tests.service_support import (
    ARTICLE,
    branches,
    git,
    make_report,
    make_site_repo,
    post,
    test_settings,
    write_manifest,
)


@pytest.fixture
def site(tmp_path):
    repo = tmp_path / "repo"
    commit = make_site_repo(repo)
    manifest = write_manifest(tmp_path / "manifest.json", commit)
    return repo, commit, manifest


def wait_done(client, report_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/reports/{report_id}").json()
        if state["state"] not in (QUEUED, IN_FLIGHT):
            return state
        time.sleep(0.02)
    raise AssertionError(f"report {report_id} still {state}")


def make_client(tmp_path, site, **changes) -> TestClient:
    repo, _commit, manifest = site
    settings = load_settings(env={}, overrides=test_settings(tmp_path, repo, manifest, **changes))
    return TestClient(create_app(settings))


@pytest.mark.parametrize(
    ("lines", "blocks", "expected"),
    [
        (["a", "b", "c"], [(2, 2, "B")], ["a", "B", "c"]),
        (["a", "b", "c"], [(1, 2, "x")], ["x", "c"]),
        (["a", "b", "c"], [(3, 3, "c\nd")], ["a", "b", "c", "d"]),
        (["a", "b", "c"], [(1, 1, "A"), (3, 3, "C")], ["A", "b", "C"]),
        (["a", "b"], [(1, 1, "A\r\nB")], ["A", "B", "b"]),
    ],
)
def test_apply_blocks_over_lines(lines, blocks, expected):
    edits = [(Relocation("same", start, end), text) for start, end, text in blocks]
    assert apply_blocks("\n".join(lines), edits).split("\n") == expected


def test_apply_blocks_refuses_overlaps():
    edits = [(Relocation("same", 1, 2), "x"), (Relocation("same", 2, 3), "y")]
    with pytest.raises(OverlapError, match="overlap"):
        apply_blocks("a\nb\nc", edits)


def test_report_becomes_a_branch_changing_exactly_its_lines(tmp_path, site):
    repo, commit, _manifest = site
    with make_client(tmp_path, site) as client:
        report = make_report(commit)
        answer = post(client, report)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {
            "id": report.id,
            "state": "queued",
            "status_url": f"/api/reports/{report.id}",
        }
        state = wait_done(client, report.id)
    assert state == {
        "id": report.id,
        "state": BRANCH_CREATED,
        "number": None,
        "url": None,
        "branch": f"erratum/{report.id}",
        "reason": None,
    }
    branch = f"erratum/{report.id}"
    assert branches(repo) == [branch]
    assert git(repo, "rev-parse", f"{branch}^") == commit
    diff = git(repo, "diff", "-U0", commit, branch)
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == [
        "-Le concert a eu lieu le 32 mars devant 300 personnes.",
        "+Le concert a eu lieu le 31 mars devant 300 personnes.",
    ]
    assert "@@ -3 +3 @@" in diff
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert message.startswith("docs: fix docs/concert.md as reported by a reader\n")
    assert parse_issue_body(message).id == report.id
    # The work tree and the checked-out branch are untouched.
    assert git(repo, "rev-parse", "HEAD") == commit
    assert (repo / "docs" / "concert.md").read_text(encoding="utf-8") == "\n".join(ARTICLE)


def test_comment_only_report_is_a_branch_with_an_empty_commit(tmp_path, site):
    repo, commit, _manifest = site
    with make_client(tmp_path, site) as client:
        report = make_report(commit, 5, 6, replacement=None, comment="heures, pas heurs")
        assert post(client, report).status_code == 202
        assert wait_done(client, report.id)["state"] == BRANCH_CREATED
    branch = f"erratum/{report.id}"
    assert git(repo, "diff", "--stat", commit, branch) == ""
    assert "heures, pas heurs" in git(repo, "log", "-1", "--format=%B", branch)


def test_a_report_with_one_block_corrected_changes_that_block_only(tmp_path, site):
    repo, commit, _manifest = site
    noted = make_report(commit, 5, 6, replacement=None).blocks[0]
    report = make_report(commit)
    report.blocks.append(noted)
    with make_client(tmp_path, site) as client:
        assert post(client, report).status_code == 202
        assert wait_done(client, report.id)["state"] == BRANCH_CREATED
    branch = f"erratum/{report.id}"
    expected = list(ARTICLE)
    expected[2] = "Le concert a eu lieu le 31 mars devant 300 personnes."
    assert git(repo, "show", f"{branch}:docs/concert.md").splitlines() == expected[:-1]
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert parse_issue_body(message).blocks[1].replacement is None


def test_branch_starts_from_the_base_branch_when_the_commit_is_unknown(tmp_path, site):
    repo, _commit, _manifest = site
    (repo / "other.txt").write_text("x", encoding="utf-8")
    git(repo, "add", "other.txt")
    git(repo, "commit", "-q", "-m", "later")
    head = git(repo, "rev-parse", "HEAD")
    backend = GitBackend(str(repo), "main")
    delivery = backend.deliver(make_report(None, 11, 11, replacement="La mairie a remercié."))
    assert git(repo, "rev-parse", f"{delivery.branch}^") == head
    assert git(repo, "show", f"{delivery.branch}:docs/concert.md").splitlines()[10] == (
        "La mairie a remercié."
    )


def test_git_backend_refuses_lines_that_changed(tmp_path, site):
    repo, _commit, _manifest = site
    (repo / "docs" / "concert.md").write_text("nouveau\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "rewrite")
    with pytest.raises(Refused, match="reported text is no longer in the file"):
        GitBackend(str(repo), "main").deliver(make_report(None))
    assert branches(repo) == []


def test_git_backend_creates_a_branch_once(tmp_path, site):
    repo, commit, _manifest = site
    backend = GitBackend(str(repo))
    report = make_report(commit)
    first = backend.deliver(report)
    assert backend.find(report) == first
    assert backend.deliver(report) == first
    assert branches(repo) == [first.branch]


def test_retried_post_is_idempotent(tmp_path, site):
    repo, commit, _manifest = site
    with make_client(tmp_path, site) as client:
        report = make_report(commit)
        assert post(client, report).status_code == 202
        again = post(client, report)
        assert again.status_code == 202
        assert again.json()["id"] == report.id
        wait_done(client, report.id)
        assert post(client, report).json()["state"] == BRANCH_CREATED
    assert branches(repo) == [f"erratum/{report.id}"]


def test_unknown_report_is_404(tmp_path, site):
    with make_client(tmp_path, site) as client:
        for path in ("/api/reports/r-0000000000000000", "/api/reports/nope"):
            answer = client.get(path)
            assert answer.status_code == 404
            assert answer.json()["error"] == "not_found"


def test_healthz_tells_an_anonymous_caller_only_ok(tmp_path, site):
    _repo, commit, _manifest = site
    with make_client(tmp_path, site) as client:
        report = make_report(commit)
        post(client, report)
        wait_done(client, report.id)
        health = client.get("/healthz")
        counts = client.app.state.store.counts()
    assert health.json() == {"status": "ok"}  # no backend, no counts, no paths
    assert counts == {BRANCH_CREATED: 1}


def test_store_resumes_in_flight_reports(tmp_path):
    store = ReportStore(str(tmp_path / "s.sqlite3"))
    report = make_report(None)
    record, created = store.add(report.id, report.to_json())
    assert created and record.state == QUEUED
    claimed = store.claim()
    assert claimed.id == report.id and claimed.state == IN_FLIGHT and claimed.attempts == 1
    assert store.claim() is None
    store.close()
    reopened = ReportStore(str(tmp_path / "s.sqlite3"))
    assert reopened.resume() == 1
    again = reopened.claim()
    assert again.id == report.id and again.attempts == 2
    assert Report.from_json(again.report) == report


def test_store_spends_a_challenge_once(tmp_path):
    from mkdocs_erratum.service.store import ChallengeReused

    store = ReportStore(str(tmp_path / "s.sqlite3"))
    a, b = make_report(None), make_report(None)
    store.add(a.id, a.to_json(), "sig", time.time() + 60)
    with pytest.raises(ChallengeReused):
        store.add(b.id, b.to_json(), "sig", time.time() + 60)
    assert store.get(b.id) is None


def test_settings_from_toml_and_environment(tmp_path):
    config = tmp_path / "service.toml"
    config.write_text(
        '[service]\nbackend = "git"\ngit_repository = "/r"\nmanifest = "m.json"\n'
        'allowed_origins = ["https://a.example"]\nsend_per_minute = 40\n',
        encoding="utf-8",
    )
    env = {"ERRATUM_SEND_PER_MINUTE": "20", "ERRATUM_ALLOWED_ORIGINS": "https://b, https://c"}
    settings = load_settings(str(config), env=env)
    assert settings.send_per_minute == 20.0
    assert settings.allowed_origins == ["https://b", "https://c"]
    assert settings.git_repository == "/r"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"backend": "svn"}, "backend"),
        ({"manifest": ""}, "manifest"),
        ({"git_repository": ""}, "git_repository"),
        ({"send_per_minute": "fast"}, "send_per_minute"),
        ({"nonsense": 1}, "nonsense: unknown setting"),
        ({"backend": "github", "github_repository": "o/r"}, "forge_token"),
        ({"backend": "forge", "forge_kind": "gitlab", "forge_project": "g/s/p"}, "GITLAB_TOKEN"),
        ({"backend": "forge", "forge_kind": "svn"}, "forge_kind"),
        ({"backend": "forge", "forge_project": "../x", "forge_token": "t"}, "forge_project"),
        ({"allowed_origins": ["https://a.example/docs/"]}, "allowed_origins"),
        ({"allowed_origins": "*"}, "allowed_origins"),
    ],
)
def test_settings_errors_name_the_setting(overrides, message):
    values = {"git_repository": "/r", "manifest": "m.json", **overrides}
    with pytest.raises(SettingsError, match=message):
        load_settings(env={}, overrides=values)


def test_token_is_hidden_from_repr():
    settings = load_settings(
        env={"GITHUB_TOKEN": "ghp_secretvalue123"},
        overrides={"backend": "github", "github_repository": "o/r", "manifest": "m.json"},
    )
    assert settings.forge_token == "ghp_secretvalue123"
    assert (settings.backend, settings.forge_kind, settings.forge_project) == (
        "forge",
        "github",
        "o/r",
    )
    assert "ghp_secretvalue123" not in repr(settings)


@pytest.mark.parametrize(
    ("kind", "env", "token"),
    [
        ("gitlab", {"CI_JOB_TOKEN": "job", "GITHUB_TOKEN": "gh"}, "job"),
        ("gitlab", {"GITLAB_TOKEN": "pat", "CI_JOB_TOKEN": "job"}, "pat"),
        ("forgejo", {"GITEA_TOKEN": "gt"}, "gt"),
        ("gitea", {"GITEA_TOKEN": "gt", "FORGEJO_TOKEN": "fj"}, "gt"),
    ],
)
def test_the_forge_token_comes_from_its_kind_s_variable(kind, env, token):
    settings = load_settings(
        env=env,
        overrides={"backend": "forge", "forge_kind": kind, "forge_project": "g/p", "manifest": "m"},
    )
    assert settings.forge_token == token


def test_serve_help_documents_every_setting():
    from click.testing import CliRunner

    from mkdocs_erratum.cli import main
    from mkdocs_erratum.service.settings import describe_settings

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name, env, _doc in describe_settings():
        assert f"{name} ({env})" in text


def test_serve_refuses_bad_settings_in_one_line(tmp_path):
    from click.testing import CliRunner

    from mkdocs_erratum.cli import main

    config = tmp_path / "service.toml"
    config.write_text('backend = "git"\ngit_repository = "/r"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--config", str(config)], env={})
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[-1].startswith("Error: settings: manifest: required")


def test_expired_challenges_are_forgotten(tmp_path):
    from mkdocs_erratum.service.store import ChallengeReused

    store = ReportStore(str(tmp_path / "s.sqlite3"))
    a, b, c = make_report(None), make_report(None), make_report(None)
    store.add(a.id, a.to_json(), "old", time.time() - 1)
    store.add(b.id, b.to_json(), "new", time.time() + 60)
    store.forget_expired_challenges()
    store.add(c.id, c.to_json(), "old", time.time() + 60)  # expired: may not be replayed anyway
    with pytest.raises(ChallengeReused):
        store.add(make_report(None).id, "{}", "new", time.time() + 60)


def test_git_backend_lists_its_report_branches(tmp_path, site):
    repo, commit, _manifest = site
    backend = GitBackend(str(repo))
    first = make_report(commit)
    second = make_report(commit, 5, 6, replacement=None, comment="heurs")
    backend.deliver(first)
    backend.deliver(second)
    git(repo, "branch", "erratum/not-a-report")
    listed = backend.list_reports()
    assert sorted(name for name, _ in listed) == sorted(
        [f"erratum/{first.id}", f"erratum/{second.id}"]
    )
    assert {r.id: r for _, r in listed} == {first.id: first, second.id: second}


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_serve_without_the_service_extra_says_how_to_install_it(tmp_path):
    # None in sys.modules: importing uvicorn fails as it does when it is not installed.
    proc = _python(
        "import sys; sys.modules['uvicorn'] = None\n"
        "from mkdocs_erratum.cli import main\n"
        f"main(['serve', '--manifest', 'm.json', '--git-repository', {str(tmp_path)!r}])"
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "Error: erratum serve needs the service extra (uvicorn is not installed): "
        "pip install 'mkdocs-erratum[service]'"
    ]


def test_the_cli_imports_without_a_toml_library():
    # Python 3.10 has no tomllib, and tomli comes with the service extra only.
    proc = _python(
        "import sys; sys.modules['tomllib'] = sys.modules['tomli'] = None\n"
        "import mkdocs_erratum.cli\n"
        "from mkdocs_erratum.service.settings import load_settings\n"
        "print(load_settings(env={}, overrides={'manifest': 'm', 'git_repository': '.'}).backend)"
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "git\n", "")


def test_serve_help_documents_every_setting_and_the_github_app_variables():
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.service", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = " ".join(proc.stdout.split())
    assert "options below" not in text
    assert "Options: --config FILE" in text
    assert text.index("Options:") < text.index("options above. Every setting")
    for name, env, _doc in describe_settings():
        assert f"{name} ({env}): " in text
    for variable in (
        "ERRATUM_APP_ID",
        "ERRATUM_APP_PRIVATE_KEY ",
        "ERRATUM_APP_PRIVATE_KEY_PATH",
        "ERRATUM_INSTALLATION_ID",
    ):
        assert variable in text


def test_an_unexpected_error_is_json_not_a_plain_text_page(tmp_path, site):
    repo, _commit, manifest = site
    settings = load_settings(env={}, overrides=test_settings(tmp_path, repo, manifest))
    app = create_app(settings)
    app.state.store.get = lambda report_id: 1 / 0  # a bug, say
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/reports/r-0123456789abcdef")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side; please try again.",
    }
