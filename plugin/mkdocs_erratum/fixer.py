"""From a report to a pull request that edits exactly the reported lines, over a forge.

What a report may change, where its lines are now and whether its text is safe is the
gate's decision (`mkdocs_erratum.gate`: the service asks it the same questions). This
module orchestrates over any `mkdocs_erratum.forges.base.Forge` (GitHub, GitLab,
Forgejo/Gitea, local git) and imports no forge library: `fix_issue` reads the issue,
lets the gate pick its report (the issue's author, as the forge reports it, is the
reporter; a login typed into the report is ignored), and `fix_report` checks the report
with the gate, plans each file with `gate.plan_file`, and opens the pull request, or
comments why not and labels the issue for a person. It also writes the texts:
`issue_title`, `issue_body`, `build_commit_message`, `build_pull_request_body`,
`build_refusal_comment`. Reader text goes into them only through
`mkdocs_erratum.text_rules` (fenced, neutralised); nothing the report says becomes a
trailer or a mention.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from . import gate
from .corrections import (
    ALREADY_FIXED,
    AMBIGUOUS,
    FUZZY,
    GONE,
    SAME,
    Relocation,
    block_diff,
    split_lines,
)
from .forges.base import (
    BRANCH_PREFIX,
    Forge,
    ForgeError,
    NotEditable,
    ObjectKindError,
    PullRequestInfo,
    report_marker,
)
from .gate import MarkdownConfig
from .report import AmbiguousReport, Report, ReportBlock, ReportError, format_report_block
from .text_rules import code_span, fenced, neutralise, web_address
from .triage import (
    ISSUE,
    PULL_REQUEST,
    PULL_REQUEST_OPEN,
    FileLines,
    Located,
    OpenReport,
    collect_open_reports,
    find_duplicate,
    locate,
)

MAX_ISSUE_BODY_CHARS = 262_144
"""Issue bodies longer than this are not parsed (GitHub itself caps them at 65,536)."""
MAX_PR_BODY_CHARS = 60_000
"""Pull request bodies are cut to stay below GitHub's 65,536-character limit."""

LABEL_ALREADY_FIXED = "erratum-already-fixed"
LABEL_AMBIGUOUS = "erratum-ambiguous"
LABEL_NEEDS_REVIEW = "erratum-needs-review"
LABEL_DUPLICATE = "erratum-duplicate"
NEEDS_REVIEW = "needs_review"
JOINED = "joined"

_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class FixError(RuntimeError):
    """The fix cannot go on; the message says why in one line."""


def issue_title(report: Report) -> str:
    """A short issue title naming the page and the first reported lines."""
    block = report.blocks[0]
    where = f"{block.path}#L{block.start}" + (f"-L{block.end}" if block.end != block.start else "")
    return f"Erratum: {where}"


def issue_body(report: Report) -> str:
    """The body of an issue filed for ``report``: comment, locations, machine block.

    The reader's comment is fenced (it can open or close nothing), the page is a plain
    address, and nobody is mentioned: a login typed into the report is not trusted.
    """
    lines = []
    if report.comment.strip():
        lines += [fenced(neutralise(report.comment.strip()), "text"), ""]
    lines.append(f"Page: {web_address(report.page_url)}")
    for block in report.blocks:
        lines.append(f"- {code_span(block.path)} lines {block.start}-{block.end}")
    lines += ["", format_report_block(report), "", report_marker(report.id)]
    return "\n".join(lines)


def build_commit_message(
    report: Report,
    paths: Sequence[str],
    author: str | None = None,
    author_email: str | None = None,
    *,
    record: bool = False,
) -> str:
    """The commit message: what changed, the report, and credit to the issue's author.

    ``author`` is the login of the issue's author as the forge reports it (never the
    report's ``reporter`` field); with ``author_email`` it becomes the one trailer we
    write. Nothing the report says becomes a trailer: the page URL is reduced to a plain
    address on its own line. ``record``: the commit is the report's only record (a forge
    without issues nor pull requests): the reader's comment, fenced and neutralised, and
    the report block follow (`mkdocs_erratum.gate.report_from_commit` reads it back).
    With no ``paths`` the commit changes nothing and only records the report.
    """
    if paths:
        subject = f"docs: fix {', '.join(paths)} as reported by a reader"
        if len(subject) > 72:
            subject = f"docs: fix {len(paths)} files as reported by a reader"
    else:
        first = report.blocks[0]
        more = f" and {len(report.blocks) - 1} more" if len(report.blocks) > 1 else ""
        subject = " ".join(f"docs: report on {first.path} lines {first.start}-{first.end}".split())
        subject += more
    body = [subject, "", f"Report {report.id} on {web_address(report.page_url)}"]
    login = verified_login(author)
    if login and author_email and "\n" not in author_email:
        body += ["", f"Co-authored-by: {login} <{author_email}>"]
    if record:
        if report.comment.strip():
            body += ["", fenced(neutralise(report.comment.strip()), "text")]
        body += ["", format_report_block(report)]
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
    permalink: Callable[[str, int, int], str],
    skipped: Sequence[str] = (),
    closes: bool = True,
) -> str:
    """The pull request body: ``Fixes #N``, the page, the reader's comment, the diff, links.

    Args:
        files: (path, old text, new text) per changed file.
        relocations: each applied block with where it was found.
        permalink: ``(path, start, end)`` -> the forge's page of those lines at the
            commit the change starts from (`Forge.permalink`).
        skipped: reported blocks left out, each with the reason.
        closes: whether merging it settles the issue (``Fixes #N``); else the issue
            stays open for what is left out (``Part of #N``).
    """
    out = []
    if issue_number is not None:
        out += [f"{'Fixes' if closes else 'Part of'} #{issue_number}", ""]
    out.append(f"A reader reported an error on {web_address(report.page_url)}")
    if report.comment.strip():
        out += ["", "Their comment:", "", fenced(neutralise(report.comment.strip()), "text")]
    out += ["", "Lines changed:"]
    for block, where in relocations:
        link = permalink(block.path, where.start, where.end)
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
    if issue_number is None:
        # No issue carries the report: the request does (duplicates join it by its lines).
        out += ["", format_report_block(report)]
    return "\n".join(out)


def build_join_comment(report: Report, new: Located, existing: Located) -> str:
    """The comment that adds ``report`` to the open thread of ``existing``.

    The reader's comment is fenced and neutralised; a correction that differs from the
    one already proposed (the pull request's, or the first report's) is shown as a diff
    from that text to the new one: a suggestion, nothing is applied.
    """
    block, old = new.block, existing.block
    start, end = existing.lines
    lines = [
        f"Another reader reported the same lines ({code_span(block.path)} lines "
        f"{start}-{end}) on {web_address(report.page_url)}."
    ]
    if report.comment.strip():
        lines += ["", "Their comment:", "", fenced(neutralise(report.comment.strip()), "text")]
    proposed = old.replacement if old.replacement is not None else old.original
    if block.replacement is not None and block.replacement != proposed:
        base = ReportBlock(block.path, start, end, proposed, "", block.replacement)
        what = "pull request's" if existing.open.state == PULL_REQUEST_OPEN else "reported"
        lines += [
            "",
            f"They suggest instead of the {what} text:",
            "",
            fenced(block_diff(base), "diff"),
        ]
    elif block.replacement is not None:
        lines += ["", "They suggest the same correction."]
    lines += ["", f"Report {report.id}, joined by `erratum`."]
    return "\n".join(lines)


def build_refusal_comment(reason: str, details: Sequence[str] = ()) -> str:
    """The comment left on an issue when no pull request is opened.

    ``details`` are the gate's lines (paths and reader text already in code spans).
    """
    lines = [f"erratum did not open a pull request: {neutralise(' '.join(reason.split()))}"]
    lines += [f"- {' '.join(d.split())}" for d in details]
    return "\n".join(lines)


# -- the flow over a forge --------------------------------------------------------------


@dataclass(frozen=True)
class FixOutcome:
    """What `fix_report` did.

    ``state``: ``pull_request_opened`` (new), ``pull_request_exists`` (found from a
    previous run), ``joined`` (an open report on the same lines got a comment instead:
    `join_duplicate`), ``already_fixed``, ``ambiguous``, ``gone`` (the text is not
    there any more), ``refused`` (scope, size, unsafe text, no suggestion),
    ``needs_review`` (the issue carries more than one report, or a truncated one never
    completed).
    """

    state: str
    message: str
    pull_request: PullRequestInfo | None = None
    """The pull request (or, on local git, the branch) when one exists."""
    joined: tuple[int, str] | None = None
    """``joined``: the number of the issue or pull request commented, and the comment's
    page."""

    @property
    def ok(self) -> bool:
        """Whether a pull request exists for the report now (or it joined an open one)."""
        return self.pull_request is not None or self.state == JOINED


def fix_issue(
    forge: Forge,
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
    issue = forge.read_issue(number)
    if len(issue.body) > MAX_ISSUE_BODY_CHARS:
        raise FixError(
            f"issue #{number} body is {len(issue.body):,} characters; "
            f"erratum reads at most {MAX_ISSUE_BODY_CHARS:,}"
        )
    try:
        report = gate.report_from_issue(issue.body, issue.author)
        if report.truncated:
            comments = forge.issue_comments(number)
            report = gate.report_from_issue(issue.body, issue.author, comments)
    except AmbiguousReport as exc:
        return _needs_review(forge, number, f"the issue carries more than one report ({exc})")
    except ReportError as exc:
        raise FixError(f"issue #{number} holds no valid report: {exc}") from None
    if report.truncated:
        return _needs_review(
            forge,
            number,
            "the report was too long for a link and its complete text is not in the issue: "
            "paste it into the issue body or a comment of the issue's author",
        )
    return fix_report(
        forge,
        report,
        docs_dirs=docs_dirs,
        issue_number=number,
        markdown=markdown,
        author=issue.author,
        **options,
    )


def fix_report(
    forge: Forge,
    report: Report,
    *,
    docs_dirs: Iterable[str] = ("docs",),
    issue_number: int | None = None,
    base: str | None = None,
    markdown: MarkdownConfig | None = None,
    author: str | None = None,
    join: bool = True,
) -> FixOutcome:
    """Open (or find) the pull request for ``report`` through ``forge``.

    The gate checks the report first (paths, replacement safety, rendered with
    ``markdown``: the site's configuration). Then each named file is read at the head
    of ``base`` (default branch by default) and `gate.plan_file` relocates and replaces
    the reported lines on branch ``erratum/<issue number or report id>``, and the pull
    request opens. With an ``issue_number`` it comments on the issue (the link, or why
    nothing was opened) and labels it when nothing was opened. Running it again opens
    nothing new.

    Args:
        forge: the project's forge. On one without pull requests (local git) the
            branch is the delivery and its commit message records the report.
        report: the report.
        docs_dirs: repository-relative folders whose Markdown files may change.
        issue_number: the issue that carried the report, if any.
        base: the branch to start from and to merge into.
        markdown: the site's Markdown configuration (MkDocs' defaults when None).
        author: the login of the issue's author as the forge reports it (credited).
        join: a report on the same lines as an open report becomes a comment there
            (`join_duplicate`) instead of a pull request.
    """
    branch = f"{BRANCH_PREFIX}{issue_number if issue_number is not None else report.id}"
    existing = forge.find_pull_request(branch, report.id)
    if existing is not None:
        message = f"{_describe(existing)} already exists for this report" + _at(existing)
        _tell(forge, issue_number, report, "pull", f"Pull request: {existing.url}")
        return FixOutcome("pull_request_exists", message, existing)

    docs_dirs = list(docs_dirs)
    # Blocks without their original (a shortened issue) are judged once it is read.
    problems = gate.check_report(report, docs_dirs, markdown, originals={})
    # Blocks the reader only commented on stay for the maintainer: the pull request
    # applies the others, names these, and leaves the issue open.
    edited = [block for block in report.blocks if block.replacement is not None]
    comment_only = [
        f"{code_span(b.path)} lines {b.start}-{b.end}: no correction suggested (see the comment)"
        for b in report.blocks
        if b.replacement is None
    ]
    if not edited:
        problems.append("no block has a suggested text")
    if problems:
        return _refuse(
            forge, issue_number, report, "refused", "the report cannot be applied", problems
        )
    if join:
        joined = join_duplicate(forge, report, issue_number=issue_number)
        if joined is not None:
            return joined

    base = base or forge.default_branch()
    base_commit = forge.head_commit(base)
    if base_commit is None:
        raise FixError(f"branch {base} does not exist")
    by_path: dict[str, list[ReportBlock]] = {}
    for block in edited:
        by_path.setdefault(block.path, []).append(block)

    plans: list[gate.FilePlan] = []
    gone: list[str] = []
    for path, blocks in by_path.items():
        try:
            current = forge.read_file(path, base_commit)
        except ObjectKindError as exc:
            current, kinds = None, _kinds(exc.at or path, exc.kind)
        except NotEditable as exc:  # too large, not UTF-8: a property of the report's file
            return _refuse(forge, issue_number, report, "refused", str(exc), [])
        else:
            kinds = _kinds(path, gate.FILE if current is not None else None)
        # Forges resolve a path through folders only (a link in the middle is a 404).
        reason = gate.check_scope(path, docs_dirs, _KnownTree(kinds))
        if current is None and reason == "does not exist in the repository":
            gone.append(f"{code_span(path)} no longer exists on {base}")
            continue
        if reason:
            return _refuse(forge, issue_number, report, "refused", f"{path} {reason}", [])
        built = _built_text(forge, path, report.commit, current.commit)
        plans.append(gate.plan_file(path, current.text, blocks, built))
    problems += [p for plan in plans for p in plan.problems]
    read = {}
    for plan in plans:
        lines = split_lines(plan.old_text)
        for block, where in plan.applied:
            if block.original is None:
                read[report.blocks.index(block)] = "\n".join(lines[where.start - 1 : where.end])
    if read:
        problems += gate.check_report(report, docs_dirs, markdown, originals=read)
    if problems:
        return _refuse(
            forge, issue_number, report, "refused", "the report cannot be applied", problems
        )
    ambiguous = [a for plan in plans for a in plan.ambiguous]
    if ambiguous:
        return _refuse(
            forge, issue_number, report, AMBIGUOUS, "the reported text is ambiguous", ambiguous
        )
    gone += [g for plan in plans for g in plan.gone]
    fixed_already = [f for plan in plans for f in plan.already_fixed]
    files = [(p.path, p.old_text, p.new_text) for p in plans if p.changed]
    applied = [a for plan in plans if plan.changed for a in plan.applied]
    if not files:
        if fixed_already and not gone:
            return _refuse(
                forge,
                issue_number,
                report,
                ALREADY_FIXED,
                "it looks already fixed",
                fixed_already,
            )
        return _refuse(
            forge, issue_number, report, GONE, "the reported text changed", gone + fixed_already
        )

    login = verified_login(author)
    email = forge.commit_email(login) if login else None
    message = build_commit_message(
        report, [f[0] for f in files], login, email, record=not forge.has_pull_requests
    )
    body = build_pull_request_body(
        report,
        files,
        issue_number=issue_number,
        relocations=applied,
        permalink=lambda path, start, end: forge.permalink(base_commit, path, start, end),
        skipped=gone + fixed_already + comment_only,
        closes=not comment_only,
    )
    title = f"docs: fix {files[0][0]}" + (f" (erratum #{issue_number})" if issue_number else "")
    pull = forge.open_pull_request(
        branch=branch,
        changes={path: new for path, _, new in files},
        message=message,
        title=title,
        body=body,
        base=base,
        report_id=report.id,
    )
    _tell(forge, issue_number, report, "pull", f"Pull request: {pull.url}")
    verb = "opened" if pull.created else "found"
    state = "pull_request_opened" if pull.created else "pull_request_exists"
    return FixOutcome(state, f"{verb} {_describe(pull)}{_at(pull)}", pull)


def join_duplicate(
    forge: Forge,
    report: Report,
    *,
    issue_number: int | None = None,
    open_reports: list[OpenReport] | None = None,
    label: str = "erratum",
) -> FixOutcome | None:
    """Comment ``report`` on the open issue or pull request of the same lines, if any.

    The rule (`mkdocs_erratum.triage.same_lines`): the same file, lines that overlap once
    both are found again at the head of the default branch, and the same original text.
    An open pull request on them wins over an issue (the issue's own pull request is
    where its correction is reviewed). With an ``issue_number`` (the new report's own
    issue), that issue is left out of the search, says where it joined and is labelled
    `LABEL_DUPLICATE`. The thread ``report.joins`` names (the reader's "Add to #N") is
    searched first, by the same rule. Each comment is keyed by the report id: running it again
    comments nothing twice.

    Args:
        open_reports: the open reports to look in (`collect_open_reports` when None).

    Returns:
        The ``joined`` outcome, or None when no open report is the same.
    """
    if not (forge.has_issues or forge.has_pull_requests):
        return None
    if open_reports is None:
        open_reports, _ = collect_open_reports(forge, label)
    others = [
        r
        for r in open_reports
        if r.number != issue_number
        and (r.report is None or r.report.id != report.id)
        and not (r.kind == PULL_REQUEST and issue_number is not None and r.number == issue_number)
    ]
    if not any(r.report for r in others):
        return None
    head = forge.head_commit(forge.default_branch())
    lines = FileLines(forge)
    mine = locate([OpenReport(issue_number or 0, "", ISSUE, report)], lines, head)
    # The thread the reader chose ("Add to #N": report.joins) is looked in first; the
    # same rule decides there as everywhere.
    hinted = [r for r in others if report.joins in (r.number, (r.pull_request or (0,))[0])]
    match = hinted and find_duplicate(mine, locate(hinted, lines, head))
    match = match or find_duplicate(mine, locate(others, lines, head))
    if match is None:
        return None
    new, existing = match
    target = existing.open
    body = build_join_comment(report, new, existing)
    key = f"{report.id}:joined"
    if target.kind == PULL_REQUEST or target.pull_request is not None:
        number = target.number if target.kind == PULL_REQUEST else target.pull_request[0]
        url = forge.comment_pull_request(number, body, key=key)
    else:
        number = target.number
        url = forge.comment(number, body, key=key)
    if issue_number is not None:
        forge.comment(
            issue_number,
            f"The same lines are already reported in #{number}: this report was added "
            f"there as a comment ({url}).",
            key=f"{report.id}:duplicate",
        )
        forge.add_labels(issue_number, [LABEL_DUPLICATE])
    return FixOutcome(JOINED, f"joined #{number}: {url}", joined=(number, url))


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


def _needs_review(forge, number: int, reason: str) -> FixOutcome:
    forge.comment(number, build_refusal_comment(reason), key=f"issue-{number}:review")
    forge.add_labels(number, [LABEL_NEEDS_REVIEW])
    return FixOutcome(NEEDS_REVIEW, f"no pull request: {reason}")


def _refuse(forge, issue_number, report, state, reason, details) -> FixOutcome:
    label = {ALREADY_FIXED: LABEL_ALREADY_FIXED, AMBIGUOUS: LABEL_AMBIGUOUS}.get(
        state, LABEL_NEEDS_REVIEW
    )
    if issue_number is not None:
        _tell(forge, issue_number, report, state, build_refusal_comment(reason, details))
        forge.add_labels(issue_number, [label])
    detail = "; ".join(d.replace("`", "") for d in details)
    return FixOutcome(state, f"no pull request: {reason}" + (f" ({detail})" if detail else ""))


def _built_text(forge: Forge, path: str, commit: str | None, head: str) -> str | None:
    """The file's text at the commit the site was built from, when that can be read."""
    if not commit or commit == head:
        return None
    try:
        version = forge.read_file(path, commit)
    except ForgeError:
        return None
    return version.text if version else None


def _describe(pull: PullRequestInfo) -> str:
    """``pull request #3``, or ``branch erratum/...`` where there is no request."""
    return f"branch {pull.branch}" if pull.number is None else f"pull request #{pull.number}"


def _at(pull: PullRequestInfo) -> str:
    """``: URL`` of a request that has a page, else nothing."""
    return f": {pull.url}" if pull.url else ""


def _tell(forge, issue_number, report, key, text) -> None:
    if issue_number is not None:
        forge.comment(issue_number, text, key=f"{report.id}:{key}")


__all__ = [
    "JOINED",
    "LABEL_ALREADY_FIXED",
    "LABEL_AMBIGUOUS",
    "LABEL_DUPLICATE",
    "LABEL_NEEDS_REVIEW",
    "FixError",
    "FixOutcome",
    "build_commit_message",
    "build_join_comment",
    "build_pull_request_body",
    "build_refusal_comment",
    "fix_issue",
    "fix_report",
    "issue_body",
    "issue_title",
    "join_duplicate",
]
