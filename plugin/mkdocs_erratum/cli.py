"""The ``erratum`` command: fix a report, list open reports, set a repository up, make a
Zensical site's files.

A click group; each sub-command is a thin edge over a forge (`mkdocs_erratum.forges`,
detected from the site's ``repo_url`` and ``forge`` option, or named by ``--forge``,
``--repo`` and ``--api-url``) and the fixer. It imports no forge library itself:
`mkdocs_erratum.forges.factory` does, by name. Add a command with ``@main.command()``
in this module (or ``main.add_command`` elsewhere). Every failure ends with one line on
stderr and a non-zero exit status.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from importlib import resources

import click
import yaml

from .forges.base import KINDS, ForgeTarget
from .forges.detect import ForgeUnknown, detect, target_for
from .repository import read_repository
from .service.cli import review, serve
from .text_rules import is_project_path

EXIT_ERROR = 1
EXIT_NEEDS_A_PERSON = 3
"""``erratum fix`` opened nothing and a person should look (ambiguous, gone, refused)."""

DEFAULT_ACTION = "mkdocs-erratum/mkdocs-erratum@v0"
ISSUE_FORM_PATH = ".github/ISSUE_TEMPLATE/erratum.yml"
WORKFLOW_PATH = ".github/workflows/erratum.yml"

INIT_FILES: dict[str, dict[str, str]] = {
    "github": {
        ISSUE_FORM_PATH: "github/issue_form.yml",
        WORKFLOW_PATH: "github/workflow.yml",
    },
    "gitlab": {
        ".gitlab/issue_templates/erratum.md": "gitlab/issue_template.md",
        ".gitlab/erratum-ci.yml": "gitlab/erratum-ci.yml",
        ".gitlab-ci.yml": "gitlab/gitlab-ci.yml",
    },
    "forgejo": {
        ".forgejo/ISSUE_TEMPLATE/erratum.yaml": "forgejo/issue_form.yaml",
        ".forgejo/workflows/erratum.yml": "forgejo/workflow.yml",
    },
}
"""What ``erratum init`` writes per forge: repository path -> template (in ``templates/``).
Gitea reads Forgejo's files from ``.gitea/`` (`init_files`)."""

INIT_NEXT_STEPS = {
    "github": [
        "The workflow labels and fixes every new issue that carries a report. "
        "Optionally, set `widget_issue_form: erratum.yml` in the erratum plugin options.",
        "On GitHub, allow the workflow to open pull requests: Settings > Actions > "
        "General > Workflow permissions > Allow GitHub Actions to create and approve "
        "pull requests.",
    ],
    "gitlab": [
        "Add a masked CI/CD variable GITLAB_TOKEN: a project access token with the "
        "Developer role and the api scope. Then create a pipeline schedule (Build > "
        "Pipeline schedules), e.g. every 15 minutes: the erratum job fixes every open "
        "report issue.",
        "If you keep your own .gitlab-ci.yml, add to it: include: [{local: "
        ".gitlab/erratum-ci.yml}]",
    ],
    "forgejo": [
        "Add a repository secret FORGEJO_TOKEN: an access token with the scopes "
        "write:repository and write:issue. Enable Actions for the repository; the job "
        "runs on a runner labelled `docker` (change runs-on for yours).",
    ],
}


API_URL_VARIABLES = {"github": "GITHUB_API_URL", "gitlab": "CI_API_V4_URL"}
"""Where CI tells a job its forge's API (GitHub Actions, GitLab CI), when not given."""


@dataclass(frozen=True)
class SiteFacts:
    """What the commands need from ``mkdocs.yml`` and git."""

    repo_url: str | None
    """``repo_url``, else the ``origin`` remote's URL."""
    docs_dirs: tuple[str, ...]
    """Repository-relative folders whose Markdown files reports may change."""
    forge: str | None = None
    """The erratum plugin's ``forge`` option."""
    forge_api_url: str | None = None
    """The erratum plugin's ``forge_api_url`` option."""

    @property
    def repository(self) -> str | None:
        """The project path of `repo_url` on a forge erratum can tell, else None."""
        try:
            return detect(self.repo_url, forge=self.forge).project
        except ForgeUnknown:
            return None


class _IgnoreTags(yaml.SafeLoader):
    """Reads mkdocs.yml without running its ``!!python/...`` or ``!ENV`` tags."""


_IgnoreTags.add_multi_constructor("", lambda loader, suffix, node: None)


def read_site(config_path: str) -> SiteFacts:
    """The repository and docs folders of the site configured by ``config_path``.

    ``docs_dir`` (default ``docs``) and the ``base_path`` of ``pymdownx.snippets``, made
    relative to the git root.

    Raises:
        click.ClickException: when the file is missing or not a YAML mapping.
    """
    try:
        with open(config_path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_IgnoreTags)  # a SafeLoader: no code runs
    except OSError as exc:
        raise click.ClickException(f"cannot read {config_path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise click.ClickException(
            f"{config_path} is not valid YAML: {exc}".splitlines()[0]
        ) from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{config_path} is not a MkDocs configuration (not a mapping)")
    config_dir = os.path.dirname(os.path.abspath(config_path))
    facts = read_repository(config_dir)
    folders = [str(data.get("docs_dir") or "docs")]
    for ext in data.get("markdown_extensions") or []:
        if isinstance(ext, dict) and isinstance(ext.get("pymdownx.snippets"), dict):
            base = ext["pymdownx.snippets"].get("base_path") or []
            folders += [base] if isinstance(base, str) else [str(b) for b in base]
    docs_dirs = []
    for folder in folders:
        rel = facts.relative_path(os.path.join(config_dir, folder))
        if rel is not None and rel not in docs_dirs:
            docs_dirs.append(rel if rel != "." else "")
    repo_url = data.get("repo_url")
    options = _plugin_options(data.get("plugins"))
    forge, api_url = options.get("forge"), options.get("forge_api_url")
    return SiteFacts(
        repo_url if isinstance(repo_url, str) and repo_url else facts.remote_url,
        tuple(docs_dirs),
        forge if isinstance(forge, str) else None,
        api_url if isinstance(api_url, str) else None,
    )


def _plugin_options(plugins) -> dict:
    """The erratum plugin's options in ``plugins`` (a list or a mapping), else {}."""
    items = plugins.items() if isinstance(plugins, dict) else []
    if isinstance(plugins, list):
        items = [next(iter(p.items())) if isinstance(p, dict) and p else (p, {}) for p in plugins]
    for name, options in items:
        if name == "erratum" and isinstance(options, dict):
            return options
    return {}


def parse_issue_ref(text: str) -> tuple[str | None, int]:
    """``12``, ``#12`` or an issue URL -> (project path or None, number).

    >>> parse_issue_ref("#12")
    (None, 12)
    >>> parse_issue_ref("https://github.com/acme/docs/issues/7")
    ('acme/docs', 7)
    >>> parse_issue_ref("https://gitlab.com/g/sub/p/-/issues/3")
    ('g/sub/p', 3)
    """
    match = re.fullmatch(r"#?(\d+)", text.strip())
    if match:
        return None, int(match.group(1))
    match = re.fullmatch(
        r"https?://[^/]+/([\w./-]+?)(?:/-)?/(?:issues|pull|pulls|merge_requests)/(\d+)/?",
        text.strip(),
    )
    if match and is_project_path(match.group(1)):
        return match.group(1), int(match.group(2))
    raise click.BadParameter(f"expected an issue number or URL, got {text!r}", param_hint="ISSUE")


def _site_options(command):
    command = click.option(
        "-f",
        "--config",
        "config_path",
        default="mkdocs.yml",
        show_default=True,
        help="MkDocs configuration: where repo_url and docs_dir are read.",
    )(command)
    command = click.option(
        "--repo",
        help="Project as OWNER/NAME, or group/sub/project on GitLab (default: repo_url of "
        "the configuration).",
    )(command)
    command = click.option(
        "--forge",
        "forge_kind",
        type=click.Choice(KINDS),
        help="The forge (default: the plugin's forge option, else told from repo_url: "
        "github.com, gitlab.com, codeberg.org).",
    )(command)
    command = click.option(
        "--api-url",
        help="The forge's API base URL (default: the plugin's forge_api_url; GitHub: "
        "$GITHUB_API_URL; GitLab CI: $CI_API_V4_URL; else the forge's usual one).",
    )(command)
    return command


def site_target(
    site: SiteFacts | None,
    repo: str | None,
    forge_kind: str | None,
    api_url: str | None,
    environ=None,
) -> ForgeTarget:
    """Which forge and project the options and the site name.

    ``--forge`` else the plugin's ``forge`` option else the host of ``repo_url``;
    ``--repo`` else the project of ``repo_url``; ``--api-url`` else ``forge_api_url``
    else the CI's variable (`API_URL_VARIABLES`) else the forge's usual API.

    Raises:
        click.ClickException: when they name none, saying what to pass.
    """
    environ = os.environ if environ is None else environ
    kind = forge_kind or (site.forge if site else None)
    api_url = api_url or (site.forge_api_url if site else None)
    repo_url = site.repo_url if site else None
    found = None
    if repo_url:
        try:
            found = detect(repo_url, forge=kind)
        except ForgeUnknown as exc:
            if not repo:
                raise click.ClickException(f"cannot tell the forge: {exc}") from None
    if repo is not None and not is_project_path(repo):
        raise click.ClickException(f"--repo: expected OWNER/NAME, got {repo!r}")
    if found is None and repo is None:
        raise click.ClickException(
            "cannot tell the repository: the configuration has no repo_url on a known "
            "forge; pass --repo OWNER/NAME (and --forge for a self-hosted forge)"
        )
    kind = found.kind if found else (kind or "github")
    variable = API_URL_VARIABLES.get(kind)
    api_url = api_url or (environ.get(variable) if variable else None) or None
    try:
        return target_for(
            kind,
            repo or found.project,
            api_url=api_url,
            web_url=found.web_url if found else None,
        )
    except ForgeUnknown as exc:
        raise click.ClickException(f"cannot tell the forge: {exc}; pass --api-url") from None


def _forge(repo, forge_kind, config_path, api_url, docs_dirs=(), *, need_docs=True, **options):
    """(forge, docs folders) from the options, mkdocs.yml and the environment."""
    from .forges import factory
    from .forges.base import ForgeError

    site = read_site(config_path) if os.path.exists(config_path) or not repo else None
    target = site_target(site, repo, forge_kind, api_url)
    try:
        forge = factory.connect(target, **options)
    except ForgeError as exc:
        raise click.ClickException(str(exc)) from None
    return forge, list(docs_dirs) or list(site.docs_dirs if site else ("docs",))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mkdocs-erratum")
def main() -> None:
    """Readers' error reports on a MkDocs site, turned into GitHub pull requests."""


@main.command(short_help="Open the pull request for a report issue.")
@click.argument("issue", required=False)
@click.option(
    "--report",
    "report_file",
    type=click.File("r", encoding="utf-8"),
    help="Fix a report given as JSON (a file, or - for stdin) instead of an issue.",
)
@click.option("--base", help="Branch to start from and merge into (default: the default branch).")
@click.option(
    "--docs-dir",
    "docs_dirs",
    multiple=True,
    help="Folder whose Markdown files may change (repeatable; default: docs_dir and snippet "
    "base paths of the configuration).",
)
@click.option(
    "--write-interval",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds between two writes to GitHub (GitHub asks integrations for about 1).",
)
@_site_options
def fix(
    issue, report_file, base, docs_dirs, write_interval, config_path, repo, forge_kind, api_url
):
    """Open a pull request that applies the report in ISSUE (a number or URL).

    Reads the report block from the issue, finds the reported lines at the head of the
    base branch (even if they moved), replaces them with the reader's text on branch
    erratum/ISSUE, opens the pull request and comments on the issue. When the text is
    gone, ambiguous or already fixed it opens nothing, comments why and labels the issue.
    Running it twice opens nothing new. The token comes from GITHUB_TOKEN (GitHub),
    GITLAB_TOKEN or CI_JOB_TOKEN (GitLab), FORGEJO_TOKEN or GITEA_TOKEN (Forgejo, Gitea).

    Exit status: 0 when a pull request exists (or the report is already fixed), 3 when
    nothing was opened and a person should look, 1 on errors.
    """
    from .fixer import ALREADY_FIXED, FixError, fix_issue, fix_report
    from .forges.base import ForgeError
    from .gate import MarkdownConfig
    from .report import Report, ReportError

    if (issue is None) == (report_file is None):
        raise click.UsageError("give either ISSUE or --report FILE")
    number = None
    if issue is not None:
        issue_repo, number = parse_issue_ref(issue)
        repo = repo or issue_repo
    forge, folders = _forge(
        repo,
        forge_kind,
        config_path,
        api_url,
        docs_dirs,
        request_interval=0,
        write_interval=write_interval,
    )
    # The gate renders replacements as the site does: its markdown_extensions.
    markdown = MarkdownConfig.from_mkdocs_yml(_read(config_path) or "")
    try:
        if report_file is not None:
            text = report_file.read(2_000_001)
            if len(text) > 2_000_000:
                raise click.ClickException("the report file is larger than 2 MB")
            report = Report.from_json(text)
            outcome = fix_report(forge, report, docs_dirs=folders, base=base, markdown=markdown)
        else:
            outcome = fix_issue(forge, number, docs_dirs=folders, base=base, markdown=markdown)
    except (ForgeError, FixError, ReportError) as exc:
        raise click.ClickException(_one_line(str(exc))) from None
    click.echo(_one_line(outcome.message))
    if not outcome.ok and outcome.state != ALREADY_FIXED:
        sys.exit(EXIT_NEEDS_A_PERSON)


@main.command(name="list", short_help="Triage: open reports by page and block.")
@click.option(
    "--label",
    default="erratum",
    show_default=True,
    help="Label of report issues (issues carrying a report block are listed without it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the JSON to this file instead of printing it (with --json), e.g. the "
    "site's _erratum/open-reports.json, the snapshot the widget's markers read.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write a static HTML page of the view to this file, with links.",
)
@_site_options
def list_reports(label, as_json, output, html_path, config_path, repo, forge_kind, api_url):
    """Open reports grouped by page and by block: counts, age, state, stale reports.

    An open issue is a report when it carries a report block (the ```json
    erratum-report block the widget writes), labelled or not: GitHub drops the labels of
    a prefilled link for readers who cannot triage. An issue labelled LABEL without a
    valid block is counted as skipped. An open pull request counts with the issue it
    fixes, or by its own report block (the service's). Each reported block is looked up
    at the head of the default branch: "unchanged", "moved to Lx-Ly", "changed",
    "already fixed", "ambiguous", "file gone", or "not read" with the forge's reason; a
    report whose text changed since is stale. The state of a report is "issue only",
    "pull request open" or "needs review" (erratum could not open a pull request, or the
    issue carries more than one report).

    The JSON and the HTML page carry no reader text (numbers, links, paths, lines and
    states only): the JSON may be published with the site as the widget's snapshot. A
    token is optional on a public GitHub project (without one, GitHub allows 60
    requests an hour; erratum then reads each file once, at the head only).
    """
    from .forges.base import ForgeError
    from .triage import FileLines, collect_open_reports, locate, triage_view

    # Anonymous reads on GitHub: a public project's open reports need no token.
    anonymous = _kind_without_token(forge_kind, config_path, repo, api_url) == "github"
    forge, _ = _forge(
        repo,
        forge_kind,
        config_path,
        api_url,
        need_docs=False,
        request_interval=0,
        **({"anonymous": True} if anonymous else {}),
    )
    try:
        head = forge.head_commit(forge.default_branch())
        reports, skipped = collect_open_reports(forge, label)
        lines = FileLines(forge)
        if anonymous:  # one read per file: the report's own commit is not read
            reports = [_without_commit(r) for r in reports]
        located = locate(reports, lines, head)
    except ForgeError as exc:
        raise click.ClickException(_one_line(str(exc))) from None
    view = triage_view(located, reports, skipped=skipped, head=head)
    if html_path:
        _write(html_path, render_triage_html(view, forge.web_url))
    if as_json:
        text = json.dumps(view, indent=2, ensure_ascii=False)
        if output:
            _write(output, text + "\n")
        else:
            click.echo(text)
        return
    if output:
        raise click.UsageError("--output writes the JSON: give --json too")
    _print_view(view, label)


def _kind_without_token(forge_kind, config_path, repo, api_url) -> str | None:
    """The kind of forge the options name when the environment has no token for it."""
    from .forges.base import TOKEN_VARIABLES

    site = read_site(config_path) if os.path.exists(config_path) or not repo else None
    kind = site_target(site, repo, forge_kind, api_url).kind
    names = (*TOKEN_VARIABLES.get(kind, ()), "ERRATUM_APP_ID")
    return None if any(os.environ.get(name) for name in names) else kind


def _without_commit(open_report):
    """The open report as if its commit were unknown (so its file is not read there)."""
    import dataclasses

    if open_report.report is None or open_report.report.commit is None:
        return open_report
    report = dataclasses.replace(open_report.report, commit=None)
    return dataclasses.replace(open_report, report=report)


def _print_view(view: dict, label: str) -> None:
    from .triage import short_age

    for page in view["pages"]:
        click.echo(f"{page['page']}  ({_count(page['count'], 'report')})")
        for block in page["blocks"]:
            start, end = block["lines"]
            click.echo(f"  {block['path']}#L{start}-L{end}  {_count(block['count'], 'report')}")
            for e in block["reports"]:
                age = short_age(e["age_days"] * 86_400) if e["age_days"] is not None else "?"
                state = e["state"]
                if e["pull_request"]:
                    state += f" #{e['pull_request']['number']}"
                stale = "  STALE" if e["stale"] else ""
                click.echo(f"    #{e['number']:<5} {state:<24} {age:>8}  {e['status']}{stale}")
    for e in view["needs_review"]:
        click.echo(f"needs review: #{e['number']} carries more than one report  {e['url']}")
    blocks = sum(len(p["blocks"]) for p in view["pages"])
    summary = (
        f"{_count(view['reports'], 'open report')} on {_count(len(view['pages']), 'page')}, "
        f"{_count(blocks, 'block')}; {view['stale']} stale (their lines changed since)."
    )
    if view["skipped"]:
        summary += f" {_count(view['skipped'], 'issue')} labelled {label} had no valid report."
    click.echo(summary)


def render_triage_html(view: dict, project_url: str) -> str:
    """The triage view as one static HTML page (no script, links to every report)."""
    from .pages import render_page
    from .triage import short_age

    filters = {
        "age": lambda days: "?" if days is None else short_age(days * 86_400),
        "plural": _count,
    }
    return render_page("triage.html", filters, view=view, project_url=project_url)


def _write(path: str, text: str) -> None:
    try:
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None


@main.command(short_help="Write the issue form and the workflow (or CI job).")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite files that exist and differ.")
@click.option(
    "--forge",
    "forge_kind",
    type=click.Choice(KINDS),
    help="The forge to write for (default: the configuration's forge option or "
    "repo_url, else github).",
)
@click.option(
    "--action",
    default=DEFAULT_ACTION,
    show_default=True,
    help="The erratum GitHub Action the workflow uses (OWNER/REPO@REF).",
)
@click.option(
    "-f",
    "--config",
    "config_path",
    default="mkdocs.yml",
    show_default=True,
    help="The MkDocs configuration, relative to the repository root, for the workflow.",
)
def init(directory, dry_run, force, forge_kind, action, config_path):
    """Write the erratum issue form and workflow into the repository at DIRECTORY.

    GitHub: .github/workflows/erratum.yml, which on every new issue that carries a
    report block (or gets the erratum label) adds the erratum label and runs `erratum
    fix`, with contents, pull-requests and issues write permissions only; and
    .github/ISSUE_TEMPLATE/erratum.yml, a form the widget can prefill (optional: set
    the plugin's widget_issue_form to erratum.yml).

    GitLab: .gitlab/erratum-ci.yml, a job for a pipeline schedule that runs `erratum
    fix` on every open report issue (token: GITLAB_TOKEN, a project access token with
    the Developer role and the api scope), included from .gitlab-ci.yml; and
    .gitlab/issue_templates/erratum.md, a description template.

    Forgejo and Gitea: .forgejo/workflows/erratum.yml (.gitea/ for Gitea), run on new
    report issues (token: secret FORGEJO_TOKEN with write:repository and write:issue),
    and .forgejo/ISSUE_TEMPLATE/erratum.yaml, an issue form.

    Files already up to date are left alone; files that differ are kept unless
    --force. Safe to run again.
    """
    if not re.fullmatch(r"[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[\w.-]+", action):
        raise click.BadParameter("expected OWNER/REPO@REF", param_hint="--action")
    if not re.fullmatch(r"[\w./-]+", config_path) or ".." in config_path.split("/"):
        raise click.BadParameter("expected a plain relative path", param_hint="--config")
    root = read_repository(directory).root or os.path.abspath(directory)
    kind = forge_kind or _site_forge(os.path.join(root, config_path))
    templates = resources.files("mkdocs_erratum") / "templates"
    wanted = {
        rel: (templates / name)
        .read_text(encoding="utf-8")
        .replace("__ACTION__", action)
        .replace("__CONFIG__", config_path)
        for rel, name in init_files(kind).items()
    }
    kept = 0
    for rel, text in wanted.items():
        path = os.path.join(root, rel)
        current = _read(path)
        if current == text:
            click.echo(f"unchanged  {rel}")
            continue
        if current is not None and not force:
            click.echo(f"kept       {rel} (exists and differs; --force overwrites it)")
            kept += 1
            continue
        verb = "would write" if dry_run else ("overwrote" if current is not None else "wrote")
        click.echo(f"{verb:<10} {rel}")
        if dry_run:
            click.echo(text)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    if not dry_run:
        for line in INIT_NEXT_STEPS["forgejo" if kind == "gitea" else kind]:
            click.echo(line)


def init_files(kind: str) -> dict[str, str]:
    """What ``erratum init`` writes for ``kind``: repository path -> template name.

    >>> sorted(init_files("gitea"))
    ['.gitea/ISSUE_TEMPLATE/erratum.yaml', '.gitea/workflows/erratum.yml']
    """
    if kind == "gitea":
        return {
            rel.replace(".forgejo/", ".gitea/", 1): name
            for rel, name in INIT_FILES["forgejo"].items()
        }
    return INIT_FILES[kind]


def _site_forge(config_path: str) -> str:
    """The forge the site at ``config_path`` names (its forge option or repo_url)."""
    if not os.path.exists(config_path):
        return "github"
    site = read_site(config_path)
    if site.forge:
        return site.forge
    try:
        return detect(site.repo_url, forge=None).kind
    except ForgeUnknown:
        return "github"


@main.command(short_help="Write what a Zensical-built site needs beyond its HTML.")
@click.argument("site_dir", type=click.Path(file_okay=False))
@click.option(
    "-f",
    "--config-file",
    "config_path",
    help="The site configuration (default: zensical.toml, else mkdocs.yml).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 1 when there was a warning (as `mkdocs build --strict` does).",
)
def assets(site_dir, config_path, strict):
    """Make SITE_DIR, just built by `zensical build`, ready for readers' reports.

    Writes the widget's assets, one source file per Markdown file (the lines of the
    build's commit that the pages' blocks show), the service manifest when service_url
    is set, and the widget's tags (settings with the build's commit) into every page
    that carries source lines; tags of an earlier run are replaced. Options are those
    of erratum_sourcemap under markdown_extensions. A page Zensical kept from its cache
    whose lines no longer match the commit is left without source lines, with a
    warning: `zensical build --clean` renders it again. Run it after every build;
    with --strict, a warning fails it (what it wrote stays: it is correct, only less
    complete), so CI notices.
    """
    from .site_files import SiteFilesError, make_site_files

    if config_path is None:
        config_path = "zensical.toml" if os.path.exists("zensical.toml") else "mkdocs.yml"
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(total // 10, 1)
        if total >= 200 and (done % step == 0 or done == total) and shown.get(stage) != done:
            shown[stage] = done
            verb = "read" if stage == "read" else "updated"
            click.echo(f"  {verb} {done}/{total} pages", err=True)

    try:
        result = make_site_files(site_dir, config_path, progress=progress)
    except SiteFilesError as exc:
        raise click.ClickException(str(exc)) from None
    for message in result.warnings:
        click.echo(f"WARNING: {message}", err=True)
    if result.stale:
        listed = ", ".join(result.stale[:5]) + (" ..." if len(result.stale) > 5 else "")
        click.echo(
            f"WARNING: {_count(len(result.stale), 'page')} left without source lines: "
            f"Zensical kept them from an earlier build, mapped on other versions of their "
            f"files ({listed}). Run `zensical build --clean`, then `erratum assets` again.",
            err=True,
        )
    if result.pages:
        click.echo(
            f"{_count(result.pages, 'page')} with source lines, "
            f"{_count(result.files, 'source file')}, widget tags in "
            f"{_count(result.tagged, 'page')}" + (", manifest written." if result.manifest else ".")
        )
    if strict and (result.warnings or result.stale):
        raise click.ClickException("warnings in strict mode (--strict)")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _count(n: int, noun: str) -> str:
    """``1 page``, ``2 pages``.

    >>> _count(1, "open report"), _count(0, "page")
    ('1 open report', '0 pages')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# `erratum serve` lives with the service; it needs the `service` extra only when it runs.
main.add_command(serve)
main.add_command(review)


if __name__ == "__main__":  # pragma: no cover
    main()
