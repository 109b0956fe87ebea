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
