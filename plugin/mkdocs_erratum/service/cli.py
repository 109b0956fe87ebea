"""``erratum serve``: run the correction service under uvicorn.

Registered in the ``erratum`` command group (`mkdocs_erratum.cli`); also runnable as
``python -m mkdocs_erratum.service``. Heavy imports (uvicorn, FastAPI, and tomli on
Python 3.10) wait until it runs, so ``erratum`` works without the ``service`` extra; then
``erratum serve`` says in one line how to install it.
"""

from __future__ import annotations

import click

from mkdocs_erratum.service.settings import (
    ALIASES,
    SettingsError,
    describe_settings,
    load_settings,
)

INSTALL_HINT = (
    "erratum serve needs the service extra ({missing} is not installed): "
    "pip install 'mkdocs-erratum[service]'"
)


def _settings_help() -> str:
    lines = [
        "Settings come from the TOML file given with --config (top-level keys or a "
        "[service] table), then from environment variables, then from the command-line "
        "options above. Every setting, with its variable:",
        "",
        "\b",
    ]
    for name, env, doc in describe_settings():
        lines.append(f"{name} ({env}): {doc}")
    aliases = ", ".join(f"{old} = {new}" for old, new in ALIASES.items())
    lines += [
        "",
        "The forge token is also read from the variable of its kind: GITHUB_TOKEN; "
        "GITLAB_TOKEN or CI_JOB_TOKEN; FORGEJO_TOKEN or GITEA_TOKEN (and GitHub's API URL "
        "from GITHUB_API_URL). backend 'github' of earlier versions is backend 'forge' "
        f"with forge_kind github, and its settings are aliases: {aliases}. erratum fix "
        "and erratum list can also act as a GitHub App: ERRATUM_APP_ID with "
        "ERRATUM_APP_PRIVATE_KEY (the PEM text) or ERRATUM_APP_PRIVATE_KEY_PATH (a file "
        "holding it), and optionally ERRATUM_INSTALLATION_ID (else the App's "
        "installation on the repository).",
    ]
    return "\n".join(lines)


@click.command(epilog=_settings_help())
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML settings file.",
)
@click.option("--host", help="Address to listen on (setting 'host').")
@click.option("--port", type=int, help="Port to listen on (setting 'port').")
@click.option(
    "--backend",
    type=click.Choice(["git", "forge", "github"]),
    help="Where reports go (setting 'backend').",
)
@click.option("--database", help="SQLite file (setting 'database').")
@click.option("--manifest", help="Path or URL of _erratum/manifest.json (setting 'manifest').")
@click.option("--git-repository", help="Repository receiving branches (git backend).")
def serve(config_path, host, port, backend, database, manifest, git_repository) -> None:
    """Run the correction service: receive readers' reports and file them.

    Reports are stored in SQLite before the service answers, then sent in the background
    to a local git repository (one branch per report) or to a forge, GitHub, GitLab,
    Forgejo or Gitea (an issue, or a pull/merge request when the reader suggested a
    replacement).
    """
    try:
        import uvicorn

        from mkdocs_erratum.service.app import create_app
        from mkdocs_erratum.service.logs import configure_logging
        from mkdocs_erratum.service.store import StoreUnavailable
    except ModuleNotFoundError as exc:
        raise click.ClickException(INSTALL_HINT.format(missing=exc.name)) from None

    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "backend": backend,
            "database": database,
            "manifest": manifest,
            "git_repository": git_repository,
        }.items()
        if value is not None
    }
    try:
        settings = load_settings(config_path, overrides=overrides)
    except SettingsError as exc:
        raise click.ClickException(f"settings: {exc}") from None
    except ModuleNotFoundError as exc:  # tomli, on Python 3.10
        raise click.ClickException(INSTALL_HINT.format(missing=exc.name)) from None
    configure_logging(settings.log_level, settings.secrets())
    try:
        app = create_app(settings)
    except (ValueError, StoreUnavailable) as exc:  # StoreDamaged is a ValueError
        raise click.ClickException(str(exc)) from None
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # Off: X-Forwarded-For is read only from the proxies trust_forwarded_for names,
        # by the app itself (uvicorn would trust 127.0.0.1, or $FORWARDED_ALLOW_IPS).
        proxy_headers=False,
    )


DEFAULT_SERVICE_URL = "http://127.0.0.1:8300"


def _admin_call(url: str, token: str, path: str, payload: dict | None = None) -> dict:
    """One call to the service's ``/api/admin`` API; a failure raises `click.ClickException`."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=None if payload is None else json.dumps(payload).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if payload is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8")).get("message", "")
        except ValueError:
            message = ""
        hint = " (is admin_token set in the service's settings?)" if exc.code == 404 else ""
        raise click.ClickException(
            f"the service answered {exc.code}: {message or exc.reason}{hint}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(f"cannot reach the service at {url}: {reason}") from None


def _show_held(item: dict, now: float) -> None:
    from mkdocs_erratum.triage import short_age as age

    click.echo(
        click.style(item["id"], bold=True)
        + f"  {age(now - item['created_at'])} ago  {item['page_url']}"
    )
    if item["comment"].strip():
        for line in item["comment"].strip().splitlines():
            click.echo(f"  > {line}")
    for line in item["diff"].splitlines():
        color = {"+": "green", "-": "red"}.get(line[:1]) if line[:3] not in ("+++", "---") else None
        click.echo("  " + click.style(line, fg=color))
    click.echo()


@click.command(short_help="Approve or reject reports held by the service (moderation).")
@click.option(
    "--service",
    "url",
    envvar="ERRATUM_SERVICE_URL",
    default=DEFAULT_SERVICE_URL,
    show_default=True,
    help="The service's address (env ERRATUM_SERVICE_URL).",
)
@click.option(
    "--token",
    envvar="ERRATUM_ADMIN_TOKEN",
    required=True,
    help="The service's admin_token (env ERRATUM_ADMIN_TOKEN).",
)
@click.option("--approve", "approve", multiple=True, metavar="ID", help="Approve ID (repeatable).")
@click.option("--reject", "reject", multiple=True, metavar="ID", help="Reject ID (repeatable).")
@click.option("--approve-all", is_flag=True, help="Approve every held report.")
@click.option("--reject-all", is_flag=True, help="Reject every held report.")
@click.option("--reason", default="", help="Why, for rejected reports (kept with them).")
@click.option("-i", "--interactive", is_flag=True, help="Ask about each held report in turn.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def review(url, token, approve, reject, approve_all, reject_all, reason, interactive, as_json):
    """List the reports the service holds, each as a diff with the reader's comment, and
    approve or reject them, one by one (--approve ID, --reject ID, --interactive) or in
    bulk (--approve-all, --reject-all).

    Approved reports are checked by the gate again and sent as any other report;
    rejected ones are never sent and are deleted after rejected_retention_days. Talks to
    the service's /api/admin API, the same one the /admin page uses.
    """
    import json
    import time

    if approve_all and reject_all:
        raise click.UsageError("give --approve-all or --reject-all, not both")
    if (approve_all or reject_all or approve or reject) and interactive:
        raise click.UsageError("--interactive decides by itself; drop the other choices")
    payload: dict | None = None
    if approve_all or reject_all or approve or reject:
        payload = {
            "approve": "all" if approve_all else list(approve),
            "reject": "all" if reject_all else list(reject),
            "reason": reason,
        }
    elif interactive:
        held = _admin_call(url, token, "/api/admin/held")["held"]
        chosen: dict[str, list[str]] = {"approve": [], "reject": []}
        now = time.time()
        for item in held:
            _show_held(item, now)
            answer = click.prompt(
                "[a]pprove, [r]eject, [s]kip, [q]uit",
                type=click.Choice(["a", "r", "s", "q"]),
                show_choices=False,
            )
            if answer == "q":
                break
            if answer in ("a", "r"):
                chosen["approve" if answer == "a" else "reject"].append(item["id"])
        if not chosen["approve"] and not chosen["reject"]:
            click.echo("Nothing decided.")
            return
        payload = {**chosen, "reason": reason}
    if payload is None:
        answer = _admin_call(url, token, "/api/admin/held")
        if as_json:
            click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
            return
        now = time.time()
        for item in answer["held"]:
            _show_held(item, now)
        click.echo(f"{answer['count']} held.")
        return
    decision = _admin_call(url, token, "/api/admin/decisions", payload)
    if as_json:
        click.echo(json.dumps(decision, indent=2, ensure_ascii=False))
        return
    for report_id, why in decision["refused"].items():
        click.echo(f"refused by the gate (rejected): {report_id}: {why}")
    for report_id in decision["not_held"]:
        click.echo(f"not held (unknown or already decided): {report_id}")
    click.echo(
        f"{len(decision['approved'])} approved, {len(decision['rejected'])} rejected, "
        f"{decision['held']} still held."
    )
