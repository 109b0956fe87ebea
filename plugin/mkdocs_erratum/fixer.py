"""From a report to a pull request that edits exactly the reported lines, over a forge.

What a report may change, where its lines are now and whether its text is safe is the
gate's decision (`mkdocs_erratum.gate`: the service asks it the same questions). This
module orchestrates over a `github_gateway.Gateway`: `fix_issue` reads the issue, lets the
gate pick its report (the issue's author, as GitHub reports it, is the reporter; a login
typed into the report is ignored), and `fix_report` checks the report with the gate,
plans each file with `gate.plan_file`, and opens the pull request, or comments why not
and labels the issue for a person. It also writes the texts: `build_commit_message`,
`build_pull_request_body`, `build_refusal_comment`. Reader text goes into them only
through `mkdocs_erratum.text_rules` (fenced, neutralised); nothing the report says
becomes a trailer or a mention.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import gate
from .gate import (
    ALREADY_FIXED,
    AMBIGUOUS,
    FUZZY,
    FUZZY_MAX_LINES,
    FUZZY_THRESHOLD,
    GONE,
    MARKDOWN_SUFFIXES,
    MAX_FILE_BYTES,
    MOVED,
    SAME,
    TIE_MARGIN,
    MarkdownConfig,
    Relocation,
    map_lines,
    relocate_block,
    relocate_lines,
)
from .report import AmbiguousReport, Report, ReportBlock, ReportError
from .text_rules import code_span, fenced, neutralise, web_address

MAX_ISSUE_BODY_CHARS = 262_144
"""Issue bodies longer than this are not parsed (GitHub itself caps them at 65,536)."""
MAX_PR_BODY_CHARS = 60_000
"""Pull request bodies are cut to stay below GitHub's 65,536-character limit."""

LABEL_ALREADY_FIXED = "erratum-already-fixed"
LABEL_AMBIGUOUS = "erratum-ambiguous"
LABEL_NEEDS_REVIEW = "erratum-needs-review"
NEEDS_REVIEW = "needs_review"

_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")

__all__ = [
    "ALREADY_FIXED",
    "AMBIGUOUS",
    "FUZZY",
    "FUZZY_MAX_LINES",
    "FUZZY_THRESHOLD",
    "GONE",
    "MARKDOWN_SUFFIXES",
    "MAX_FILE_BYTES",
    "MOVED",
    "SAME",
    "TIE_MARGIN",
    "FixError",
    "FixOutcome",
    "Relocation",
    "build_commit_message",
    "build_pull_request_body",
    "build_refusal_comment",
    "code_span",
    "fenced",
    "fix_issue",
    "fix_report",
    "map_lines",
    "relocate_block",
    "relocate_lines",
    "web_address",
]


class FixError(RuntimeError):
    """The fix cannot go on; the message says why in one line."""


def build_commit_message(
    report: Report, paths: Sequence[str], author: str | None = None, author_email: str | None = None
) -> str:
    """The commit message: what changed, the report, and credit to the issue's author.

    ``author`` is the login of the issue's author as the forge reports it (never the
    report's ``reporter`` field); with ``author_email`` it becomes the one trailer we
    write. Nothing the report says becomes a trailer: the page URL is reduced to a plain
    address on its own line.
    """
    subject = f"docs: fix {', '.join(paths)} as reported by a reader"
    if len(subject) > 72:
        subject = f"docs: fix {len(paths)} files as reported by a reader"
    body = [subject, "", f"Report {report.id} on {web_address(report.page_url)}"]
    login = verified_login(author)
    if login and author_email and "\n" not in author_email:
        body += ["", f"Co-authored-by: {login} <{author_email}>"]
    return "\n".join(body) + "\n"


def verified_login(login: str | None) -> str | None:
    """``login`` when it looks like a GitHub user login (not a bot), else None."""
    login = (login or "").strip()
    return login if _LOGIN_RE.match(login) else None


def build_pull_request_body(
    report: Report,
    files: Sequence[tuple[str, str, str]],
    *,
    issue_number: int | None,
    relocations: Sequence[tuple[ReportBlock, Relocation]],
    source_url: str,
    base_commit: str,
    skipped: Sequence[str] = (),
) -> str:
    """The pull request body: ``Fixes #N``, the page, the reader's comment, the diff, links.

    Args:
        files: (path, old text, new text) per changed file.
        relocations: each applied block with where it was found.
        source_url: the repository's page (``https://github.com/OWNER/NAME``).
        base_commit: the commit the change starts from (for permalinks).
        skipped: reported blocks left out, each with the reason.
    """
    out = []
    if issue_number is not None:
        out += [f"Fixes #{issue_number}", ""]
    out.append(f"A reader reported an error on {web_address(report.page_url)}")
    if report.comment.strip():
        out += ["", "Their comment:", "", fenced(neutralise(report.comment.strip()), "text")]
    out += ["", "Lines changed:"]
    for block, where in relocations:
        link = f"{source_url}/blob/{base_commit}/{block.path}#L{where.start}-L{where.end}"
        note = "" if where.how == SAME else f" (reported as lines {block.start}-{block.end})"
        if where.how == FUZZY:
            note += f", found by similarity {where.score:.0f}/100"
        link = link.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        out.append(f"- [{code_span(block.path)} lines {where.start}-{where.end}]({link}){note}")
    if skipped:
        out += ["", "Left out:"] + [f"- {item}" for item in skipped]
    diff = "".join(
        "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"a/{path}",
                f"b/{path}",
            )
        )
        for path, old, new in files
    )
    budget = MAX_PR_BODY_CHARS - sum(len(x) for x in out) - 500
    if len(diff) > budget:
        diff = diff[: max(0, budget)] + "\n... (diff cut: see the Files tab)\n"
    out += ["", fenced(diff.rstrip("\n"), "diff"), "", "Opened by `erratum fix`."]
    return "\n".join(out)


def build_refusal_comment(reason: str, details: Sequence[str] = ()) -> str:
    """The comment left on an issue when no pull request is opened.

    ``details`` are the gate's lines (paths and reader text already in code spans).
    """
    lines = [f"erratum did not open a pull request: {neutralise(' '.join(reason.split()))}"]
    lines += [f"- {' '.join(d.split())}" for d in details]
    return "\n".join(lines)


# -- the flow over a gateway ------------------------------------------------------------


@dataclass(frozen=True)
class FixOutcome:
    """What `fix_report` did.

    ``state``: ``pull_request_opened`` (new), ``pull_request_exists`` (found from a
    previous run), ``already_fixed``, ``ambiguous``, ``gone`` (the text is not there
    any more), ``refused`` (scope, size, unsafe text, no suggestion), ``needs_review``
    (the issue carries more than one report, or a truncated one never completed).
    """

    state: str
    message: str
    pull_request: object | None = None
    """A `github_gateway.PullRequestInfo` when a pull request exists."""

    @property
    def ok(self) -> bool:
        """Whether a pull request exists for the report now."""
        return self.pull_request is not None


def fix_issue(
    gateway,
    number: int,
    *,
    docs_dirs: Iterable[str] = ("docs",),
    markdown: MarkdownConfig | None = None,
    **options,
) -> FixOutcome:
    """Read issue ``number``, let the gate pick its report, and `fix_report` it.

    The report is the one top-level report block of the body; for a truncated one (too
    long for a link), the complete block the issue's author pasted into the body or into
    one of their own comments. Two different reports: the issue is labelled for review
    and nothing is opened.

    Raises:
        FixError: when the issue holds no valid report or is too large to read.
    """
    issue = gateway.read_issue(number)
    if len(issue.body) > MAX_ISSUE_BODY_CHARS:
        raise FixError(
            f"issue #{number} body is {len(issue.body):,} characters; "
            f"erratum reads at most {MAX_ISSUE_BODY_CHARS:,}"
        )
    try:
        report = gate.report_from_issue(issue.body, issue.author)
        if report.truncated:
            comments = gateway.issue_comments(number)
            report = gate.report_from_issue(issue.body, issue.author, comments)
    except AmbiguousReport as exc:
        return _needs_review(gateway, number, f"the issue carries more than one report ({exc})")
    except ReportError as exc:
        raise FixError(f"issue #{number} holds no valid report: {exc}") from None
    if report.truncated:
        return _needs_review(
            gateway,
            number,
            "the report was too long for a link and its complete text is not in the issue: "
            "paste it into the issue body or a comment of the issue's author",
        )
    return fix_report(
        gateway,
        report,
        docs_dirs=docs_dirs,
        issue_number=number,
        markdown=markdown,
        author=issue.author,
        **options,
    )


def fix_report(
    gateway,
    report: Report,
    *,
    docs_dirs: Iterable[str] = ("docs",),
    issue_number: int | None = None,
    base: str | None = None,
    markdown: MarkdownConfig | None = None,
    author: str | None = None,
) -> FixOutcome:
    """Open (or find) the pull request for ``report`` through ``gateway``.

    The gate checks the report first (paths, replacement safety, rendered with
    ``markdown``: the site's configuration). Then each named file is read at the head
    of ``base`` (default branch by default) and `gate.plan_file` relocates and replaces
    the reported lines on branch ``erratum/<issue number or report id>``, and the pull
    request opens. With an ``issue_number`` it comments on the issue (the link, or why
    nothing was opened) and labels it when nothing was opened. Running it again opens
    nothing new.

    Args:
        gateway: a `github_gateway.Gateway`, or anything with its verbs:
            ``find_pull_request``, ``default_branch``, ``head_commit``, ``read_file``,
            ``noreply_email``, ``html_url``, ``open_pull_request``, ``comment``,
            ``add_labels``.
        report: the report.
        docs_dirs: repository-relative folders whose Markdown files may change.
        issue_number: the issue that carried the report, if any.
        base: the branch to start from and to merge into.
        markdown: the site's Markdown configuration (MkDocs' defaults when None).
        author: the login of the issue's author as the forge reports it (credited).
    """
    from .github_gateway import GatewayError, ObjectKindError  # the core needs no PyGithub

    branch = f"erratum/{issue_number if issue_number is not None else report.id}"
    existing = gateway.find_pull_request(branch, report.id)
    if existing is not None:
        message = f"pull request #{existing.number} already exists for this report: {existing.url}"
        _tell(gateway, issue_number, report, "pull", f"Pull request: {existing.url}")
        return FixOutcome("pull_request_exists", message, existing)

    docs_dirs = list(docs_dirs)
    # Blocks without their original (a shortened issue) are judged once it is read.
    problems = gate.check_report(report, docs_dirs, markdown, originals={})
    for block in report.blocks:
        if block.replacement is None:
            problems.append(
                f"{code_span(block.path)} lines {block.start}-{block.end}: no suggested text"
            )
    if problems:
        return _refuse(
            gateway, issue_number, report, "refused", "the report cannot be applied", problems
        )

    base = base or gateway.default_branch()
    base_commit = gateway.head_commit(base)
    if base_commit is None:
        raise FixError(f"branch {base} does not exist")
    by_path: dict[str, list[ReportBlock]] = {}
    for block in report.blocks:
        by_path.setdefault(block.path, []).append(block)

    plans: list[gate.FilePlan] = []
    gone: list[str] = []
    for path, blocks in by_path.items():
        try:
            current = gateway.read_file(path, base_commit)
        except ObjectKindError as exc:
            current, kinds = None, _kinds(path, exc.kind)
        except GatewayError as exc:
            if exc.status is not None or exc.transient:
                raise  # GitHub failed or refused: not a property of the report
            return _refuse(gateway, issue_number, report, "refused", str(exc), [])
        else:
            kinds = _kinds(path, gate.FILE if current is not None else None)
        # GitHub resolves a path through folders only (a link in the middle is a 404).
        reason = gate.check_scope(path, docs_dirs, _KnownTree(kinds))
        if current is None and reason == "does not exist in the repository":
            gone.append(f"{code_span(path)} no longer exists on {base}")
            continue
        if reason:
            return _refuse(gateway, issue_number, report, "refused", f"{path} {reason}", [])
        built = _built_text(gateway, path, report.commit, current.commit, GatewayError)
        plans.append(gate.plan_file(path, current.text, blocks, built))
    problems += [p for plan in plans for p in plan.problems]
    read = {}
    for plan in plans:
        lines = gate.split_lines(plan.old_text)
        for block, where in plan.applied:
            if block.original is None:
                read[report.blocks.index(block)] = "\n".join(lines[where.start - 1 : where.end])
    if read:
        problems += gate.check_report(report, docs_dirs, markdown, originals=read)
    if problems:
        return _refuse(
            gateway, issue_number, report, "refused", "the report cannot be applied", problems
        )
    ambiguous = [a for plan in plans for a in plan.ambiguous]
    if ambiguous:
        return _refuse(
            gateway, issue_number, report, AMBIGUOUS, "the reported text is ambiguous", ambiguous
        )
    gone += [g for plan in plans for g in plan.gone]
    fixed_already = [f for plan in plans for f in plan.already_fixed]
    files = [(p.path, p.old_text, p.new_text) for p in plans if p.changed]
    applied = [a for plan in plans if plan.changed for a in plan.applied]
    if not files:
        if fixed_already and not gone:
            return _refuse(
                gateway,
                issue_number,
                report,
                ALREADY_FIXED,
                "it looks already fixed",
                fixed_already,
            )
        return _refuse(
            gateway, issue_number, report, GONE, "the reported text changed", gone + fixed_already
        )

    login = verified_login(author)
    email = gateway.noreply_email(login) if login else None
    message = build_commit_message(report, [f[0] for f in files], login, email)
    body = build_pull_request_body(
        report,
        files,
        issue_number=issue_number,
        relocations=applied,
        source_url=gateway.html_url,
        base_commit=base_commit,
        skipped=gone + fixed_already,
    )
    title = f"docs: fix {files[0][0]}" + (f" (erratum #{issue_number})" if issue_number else "")
    pull = gateway.open_pull_request(
        branch=branch,
        changes={path: new for path, _, new in files},
        message=message,
        title=title,
        body=body,
        base=base,
        report_id=report.id,
    )
    _tell(gateway, issue_number, report, "pull", f"Pull request: {pull.url}")
    verb = "opened" if pull.created else "found"
    state = "pull_request_opened" if pull.created else "pull_request_exists"
    return FixOutcome(state, f"{verb} pull request #{pull.number}: {pull.url}", pull)


class _KnownTree:
    """A `gate.SourceTree` over what reading the file told (see `_kinds`)."""

    def __init__(self, kinds: dict[str, str]):
        self._kinds = kinds

    def kinds(self, paths: Sequence[str]) -> dict[str, str]:
        return {p: self._kinds[p] for p in paths if p in self._kinds}


def _kinds(path: str, kind: str | None) -> dict[str, str]:
    """What a read of ``path`` tells of each part: the folders it went through exist."""
    if kind is None:
        return {}
    parts = path.split("/")
    out = {"/".join(parts[: i + 1]): gate.FOLDER for i in range(len(parts) - 1)}
    out[path] = kind
    return out


def _needs_review(gateway, number: int, reason: str) -> FixOutcome:
    gateway.comment(number, build_refusal_comment(reason), key=f"issue-{number}:review")
    gateway.add_labels(number, [LABEL_NEEDS_REVIEW])
    return FixOutcome(NEEDS_REVIEW, f"no pull request: {reason}")


def _refuse(gateway, issue_number, report, state, reason, details) -> FixOutcome:
    label = {ALREADY_FIXED: LABEL_ALREADY_FIXED, AMBIGUOUS: LABEL_AMBIGUOUS}.get(
        state, LABEL_NEEDS_REVIEW
    )
    if issue_number is not None:
        _tell(gateway, issue_number, report, state, build_refusal_comment(reason, details))
        gateway.add_labels(issue_number, [label])
    detail = "; ".join(d.replace("`", "") for d in details)
    return FixOutcome(state, f"no pull request: {reason}" + (f" ({detail})" if detail else ""))


def _built_text(gateway, path, commit, head, errors) -> str | None:
    """The file's text at the commit the site was built from, when that can be read."""
    if not commit or commit == head:
        return None
    try:
        version = gateway.read_file(path, commit)
    except errors:
        return None
    return version.text if version else None


def _tell(gateway, issue_number, report, key, text) -> None:
    if issue_number is not None:
        gateway.comment(issue_number, text, key=f"{report.id}:{key}")
