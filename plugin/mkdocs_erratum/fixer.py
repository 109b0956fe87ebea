"""From a report to a pull request that edits exactly the reported lines.

Two layers:

- A git-free, GitHub-free core of pure functions over strings and plain data, which a
  local-git backend can reuse: `relocate_lines` (find the reported lines again in a file
  that changed since the build), `check_scope` (which paths a report may change),
  `apply_blocks` (replace the relocated lines), and the texts we write
  (`build_commit_message`, `build_pull_request_body`, `build_refusal_comment`).
- The flow over a `github_gateway.Gateway`: `fix_report` and `fix_issue`.

Relocation, in order: when the file as built is known (the report names its commit),
the lines are followed through the diff from the built file to the current one; else
the same lines still hold the same text; else the same text is found once elsewhere
(moved); else the reader's replacement is already there (already
fixed); else the most similar window of lines scores at least `FUZZY_THRESHOLD`
(rapidfuzz ``fuzz.ratio``, 0-100) and no other window comes within `TIE_MARGIN` of it
(fuzzy); else the text is gone. Two equal candidates are never guessed between
(ambiguous).
"""

from __future__ import annotations

import difflib
import itertools
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from .report import MAX_TEXT_CHARS, Report, ReportBlock, ReportError, parse_issue_body, text_hash

FUZZY_THRESHOLD = 90.0
"""Least similarity (rapidfuzz ``fuzz.ratio``, 0-100) for a fuzzy relocation."""
TIE_MARGIN = 1.0
"""A second candidate within this many points of the best makes the match ambiguous."""
FUZZY_MAX_LINES = 20_000
"""Files longer than this are only searched exactly (fuzzy search would be slow)."""
MAX_FILE_BYTES = 1_000_000
"""Files larger than this are not edited (GitHub's contents API stops at 1 MB too)."""
MAX_ISSUE_BODY_CHARS = 262_144
"""Issue bodies longer than this are not parsed (GitHub itself caps them at 65,536)."""
MAX_PR_BODY_CHARS = 60_000
"""Pull request bodies are cut to stay below GitHub's 65,536-character limit."""
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")

LABEL_ALREADY_FIXED = "erratum-already-fixed"
LABEL_AMBIGUOUS = "erratum-ambiguous"
LABEL_NEEDS_REVIEW = "erratum-needs-review"

SAME, MOVED, FUZZY = "same", "moved", "fuzzy"
ALREADY_FIXED, AMBIGUOUS, GONE = "already_fixed", "ambiguous", "gone"

_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class FixError(RuntimeError):
    """The fix cannot go on; the message says why in one line."""


@dataclass(frozen=True)
class Relocation:
    """Where a reported block is now.

    ``how`` is ``same``, ``moved`` or ``fuzzy`` (``start``/``end`` are the lines to
    replace, 1-based inclusive), or ``already_fixed``, ``ambiguous`` or ``gone`` (no
    lines; ``candidates`` lists the competing start lines of an ambiguous match).
    """

    how: str
    start: int = 0
    end: int = 0
    score: float = 0.0
    candidates: tuple[int, ...] = ()

    @property
    def found(self) -> bool:
        """Whether there are lines to replace."""
        return self.how in (SAME, MOVED, FUZZY)


def relocate_lines(
    lines: Sequence[str],
    start: int,
    end: int,
    original_sha256: str,
    original: str | None = None,
    replacement: str | None = None,
    *,
    built_lines: Sequence[str] | None = None,
    threshold: float = FUZZY_THRESHOLD,
) -> Relocation:
    """Find the reported lines ``start..end`` again in ``lines`` (a file split on newlines).

    Args:
        lines: the current file's lines, without line ends.
        start, end: where the lines were when the site was built (1-based, inclusive).
        original_sha256: `report.text_hash` of the original lines.
        original: the original text, when the report carries it (enables fuzzy search).
        replacement: the reader's text (to notice a fix already made).
        built_lines: the file's lines at the commit the site was built from, if known.
        threshold: least fuzzy similarity (0-100).

    >>> relocate_lines(["a", "b", "c"], 2, 2, text_hash("b"))
    Relocation(how='same', start=2, end=2, score=100.0, candidates=())
    >>> relocate_lines(["x", "a", "b", "c"], 2, 2, text_hash("b")).start
    3
    """
    count = end - start + 1
    if built_lines is not None:
        # The diff knows which copy of a repeated text was reported: it goes first.
        mapped = map_lines(built_lines, lines, start, end)
        if mapped and text_hash(_join(lines, *mapped)) == original_sha256:
            return Relocation(SAME if mapped == (start, end) else MOVED, *mapped, 100.0)
    if start >= 1 and end <= len(lines) and text_hash(_join(lines, start, end)) == original_sha256:
        return Relocation(SAME, start, end, 100.0)
    exact = [
        i
        for i in range(1, len(lines) - count + 2)
        if text_hash(_join(lines, i, i + count - 1)) == original_sha256
    ]
    if len(exact) == 1:
        return Relocation(MOVED, exact[0], exact[0] + count - 1, 100.0)
    if len(exact) > 1:
        return Relocation(AMBIGUOUS, candidates=tuple(exact))
    if replacement is not None and _contains_lines(lines, replacement):
        return Relocation(ALREADY_FIXED, score=100.0)
    if original is None or len(lines) > FUZZY_MAX_LINES:
        return Relocation(GONE)
    scored: list[tuple[float, int, int]] = []
    for size in sorted({max(1, count - 1), count, count + 1}):
        for i in range(1, len(lines) - size + 2):
            window = _join(lines, i, i + size - 1)
            score = fuzz.ratio(original, window, score_cutoff=threshold - TIE_MARGIN)
            if score:
                scored.append((score, i, i + size - 1))
    if not scored:
        return Relocation(GONE)
    scored.sort(key=lambda s: (-s[0], abs(s[1] - start), s[2] - s[1]))
    best, a, b = scored[0]
    if best < threshold:
        return Relocation(GONE)
    rivals = [s for s in scored[1:] if s[0] >= best - TIE_MARGIN and (s[2] < a or s[1] > b)]
    if rivals:
        return Relocation(
            AMBIGUOUS, score=best, candidates=tuple(sorted({a, *(s[1] for s in rivals)}))
        )
    if replacement is not None:
        window = _join(lines, a, b)
        if fuzz.ratio(replacement, window) > best:
            return Relocation(ALREADY_FIXED, score=best)
    return Relocation(FUZZY, a, b, best)


def relocate_block(
    lines: Sequence[str], block: ReportBlock, built_lines: Sequence[str] | None = None
) -> Relocation:
    """`relocate_lines` for one reported block."""
    return relocate_lines(
        lines,
        block.start,
        block.end,
        block.original_sha256,
        block.original,
        block.replacement,
        built_lines=built_lines,
    )


def map_lines(
    old_lines: Sequence[str], new_lines: Sequence[str], start: int, end: int
) -> tuple[int, int] | None:
    """Where lines ``start..end`` of ``old_lines`` are in ``new_lines``, if untouched.

    >>> map_lines(["a", "b", "c"], ["new", "a", "b", "c"], 2, 3)
    (3, 4)
    >>> map_lines(["a", "b", "c"], ["a", "B", "c"], 2, 2) is None
    True
    """
    matcher = difflib.SequenceMatcher(None, list(old_lines), list(new_lines), autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal" and i1 <= start - 1 and end <= i2:
            return start + j1 - i1, end + j1 - i1
    return None


def check_scope(path: str, docs_dirs: Iterable[str]) -> str | None:
    """Why a report may not change ``path``, or None when it may.

    Only Markdown files inside one of ``docs_dirs`` (repository-relative folders: the
    site's docs_dir and snippet base paths) may change; never a hidden folder such as
    ``.github``, never a path with ``..``. Symbolic links are refused when the file is
    read (see `fix_report`).

    >>> check_scope("docs/a.md", ["docs"]) is None
    True
    >>> check_scope("docs/../setup.py", ["docs"])
    "path has '..' or an empty part"
    """
    if not path or path.startswith("/") or "\\" in path or "\0" in path or ":" in path:
        return "not a plain relative path"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "path has '..' or an empty part"
    if any(part.startswith(".") for part in parts[:-1]):
        return f"inside a hidden folder ({parts[0]}/)"
    if not path.lower().endswith(MARKDOWN_SUFFIXES):
        return "not a Markdown file"
    folders = [_folder(d) for d in docs_dirs]
    if not any(folder == "" or path.startswith(folder + "/") for folder in folders):
        shown = ", ".join(f or "." for f in folders) or "none"
        return f"outside the documentation folders ({shown})"
    return None


def apply_blocks(text: str, edits: Sequence[tuple[Relocation, str]]) -> str:
    """Replace each relocated range with its text; the rest of ``text`` is kept byte for byte.

    Raises:
        FixError: when two ranges overlap.

    >>> apply_blocks("a\\nb\\nc\\n", [(Relocation("same", 2, 2), "B")])
    'a\\nB\\nc\\n'
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    ordered = sorted(edits, key=lambda e: e[0].start)
    for (prev, _), (cur, _) in itertools.pairwise(ordered):
        if cur.start <= prev.end:
            raise FixError(f"two reported blocks overlap (lines {cur.start}-{prev.end})")
    for relocation, replacement in reversed(ordered):
        new = replacement.replace("\r\n", "\n").split("\n")
        lines[relocation.start - 1 : relocation.end] = new
    return newline.join(lines)


def build_commit_message(report: Report, paths: Sequence[str], coauthor_email: str | None) -> str:
    """The commit message: what changed, who reported it, a Co-authored-by trailer."""
    subject = f"docs: fix {', '.join(paths)} as reported by a reader"
    if len(subject) > 72:
        subject = f"docs: fix {len(paths)} files as reported by a reader"
    body = [subject, "", f"Report {report.id} on {web_address(report.page_url)}"]
    login = reporter_login(report)
    if login:
        body.append(f"Reported by @{login}.")
        if coauthor_email:
            body += ["", f"Co-authored-by: {login} <{coauthor_email}>"]
    return "\n".join(body) + "\n"


def reporter_login(report: Report) -> str | None:
    """The reporter's GitHub login when it looks like one (reader text is untrusted)."""
    login = (report.reporter or "").strip().lstrip("@")
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
    login = reporter_login(report)
    if login:
        out[-1] += f" (@{login})"
    if report.comment.strip():
        out += ["", "Their comment:", "", fenced(report.comment.strip(), "text")]
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


def web_address(url: str) -> str:
    """``url`` when it is a plain http(s) address, else a placeholder (reader text).

    >>> web_address("https://x.example/a/")
    'https://x.example/a/'
    >>> web_address("https://x.example/\\nCo-authored-by: mallory")
    '(a page address that is not a plain web link)'
    """
    if len(url) <= 2000 and re.fullmatch(r"https?://[^\s<>()\[\]`\"'\\]+", url):
        return url
    return "(a page address that is not a plain web link)"


def code_span(text: str) -> str:
    """``text`` as one inline code span, whatever backticks or newlines it holds.

    >>> code_span("a`b")
    '``a`b``'
    """
    text = " ".join(text.split())
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def build_refusal_comment(reason: str, details: Sequence[str] = ()) -> str:
    """The comment left on an issue when no pull request is opened."""
    reason = re.sub(r"([@#])(?=[\w-])", "\\1\u200b", " ".join(reason.split()))
    lines = [f"erratum did not open a pull request: {reason}"]
    lines += [f"- {d}" for d in details]
    return "\n".join(lines)


# -- the flow over a gateway ------------------------------------------------------------


@dataclass(frozen=True)
class FixOutcome:
    """What `fix_report` did.

    ``state``: ``pull_request_opened`` (new), ``pull_request_exists`` (found from a
    previous run), ``already_fixed``, ``ambiguous``, ``gone`` (the text is not there
    any more), ``refused`` (scope, size, links, no suggestion).
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
    gateway, number: int, *, docs_dirs: Iterable[str] = ("docs",), **options
) -> FixOutcome:
    """Read issue ``number``, take the report from its body, and `fix_report` it.

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
        report = parse_issue_body(issue.body)
    except ReportError as exc:
        raise FixError(f"issue #{number} holds no valid report: {exc}") from None
    return fix_report(gateway, report, docs_dirs=docs_dirs, issue_number=number, **options)


def fix_report(
    gateway,
    report: Report,
    *,
    docs_dirs: Iterable[str] = ("docs",),
    issue_number: int | None = None,
    base: str | None = None,
) -> FixOutcome:
    """Open (or find) the pull request for ``report`` through ``gateway``.

    Reads each named file at the head of ``base`` (default branch by default),
    relocates the reported lines, replaces them with the reader's text on branch
    ``erratum/<issue number or report id>``, and opens the pull request. With an
    ``issue_number`` it comments on the issue (the link, or why nothing was opened) and
    labels it when nothing was opened. Running it again opens nothing new.

    Args:
        gateway: a `github_gateway.Gateway`, or anything with its verbs:
            ``find_pull_request``, ``default_branch``, ``head_commit``, ``read_file``,
            ``noreply_email``, ``html_url``, ``open_pull_request``, ``comment``,
            ``add_labels``.
        report: the report.
        docs_dirs: repository-relative folders whose Markdown files may change.
        issue_number: the issue that carried the report, if any.
        base: the branch to start from and to merge into.
    """
    from .github_gateway import GatewayError  # the fixer's core needs no PyGithub

    branch = f"erratum/{issue_number if issue_number is not None else report.id}"
    existing = gateway.find_pull_request(branch, report.id)
    if existing is not None:
        message = f"pull request #{existing.number} already exists for this report: {existing.url}"
        _tell(gateway, issue_number, report, "pull", f"Pull request: {existing.url}")
        return FixOutcome("pull_request_exists", message, existing)

    docs_dirs = list(docs_dirs)
    problems = []
    for block in report.blocks:
        reason = check_scope(block.path, docs_dirs)
        if reason:
            problems.append(f"{code_span(block.path)}: {reason}")
        elif block.replacement is None:
            problems.append(
                f"{code_span(block.path)} lines {block.start}-{block.end}: no suggested text"
            )
        elif len(block.replacement) > MAX_TEXT_CHARS:
            problems.append(
                f"{code_span(block.path)}: suggested text longer than {MAX_TEXT_CHARS} characters"
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

    files, applied, fixed_already, gone, ambiguous = [], [], [], [], []
    for path, blocks in by_path.items():
        try:
            current = gateway.read_file(path, base_commit)
        except GatewayError as exc:
            if exc.status is not None or exc.transient:
                raise  # GitHub failed or refused: not a property of the report
            return _refuse(gateway, issue_number, report, "refused", str(exc), [])
        if current is None:
            gone.append(f"{code_span(path)} no longer exists on {base}")
            continue
        if len(current.text.encode("utf-8")) > MAX_FILE_BYTES:
            problems.append(f"{code_span(path)} is larger than {MAX_FILE_BYTES:,} bytes")
            continue
        lines = current.text.replace("\r\n", "\n").split("\n")
        built = _built_lines(gateway, path, report.commit, current.commit, GatewayError)
        edits = []
        for block in blocks:
            where = relocate_block(lines, block, built)
            label = f"{code_span(path)} lines {block.start}-{block.end}"
            if where.how == ALREADY_FIXED:
                fixed_already.append(f"{label}: the suggested text is already there")
            elif where.how == AMBIGUOUS:
                starts = ", ".join(str(c) for c in where.candidates)
                ambiguous.append(f"{label}: the text matches at several places (lines {starts})")
            elif where.how == GONE:
                gone.append(f"{label}: the reported text is no longer in the file")
            else:
                edits.append((where, block.replacement or ""))
                applied.append((block, where))
        if edits:
            try:
                new_text = apply_blocks(current.text, edits)
            except FixError as exc:
                problems.append(f"{code_span(path)}: {exc}")
                continue
            if new_text != current.text:
                files.append((path, current.text, new_text))
    if problems:
        return _refuse(
            gateway, issue_number, report, "refused", "the report cannot be applied", problems
        )
    if ambiguous:
        return _refuse(
            gateway, issue_number, report, AMBIGUOUS, "the reported text is ambiguous", ambiguous
        )
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

    login = reporter_login(report)
    email = gateway.noreply_email(login) if login else None
    message = build_commit_message(report, [f[0] for f in files], email)
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


def _refuse(gateway, issue_number, report, state, reason, details) -> FixOutcome:
    label = {ALREADY_FIXED: LABEL_ALREADY_FIXED, AMBIGUOUS: LABEL_AMBIGUOUS}.get(
        state, LABEL_NEEDS_REVIEW
    )
    if issue_number is not None:
        _tell(gateway, issue_number, report, state, build_refusal_comment(reason, details))
        gateway.add_labels(issue_number, [label])
    detail = "; ".join(d.replace("`", "") for d in details)
    return FixOutcome(state, f"no pull request: {reason}" + (f" ({detail})" if detail else ""))


def _built_lines(gateway, path, commit, head, errors) -> list[str] | None:
    """The file's lines at the commit the site was built from, when that can be read."""
    if not commit or commit == head:
        return None
    try:
        version = gateway.read_file(path, commit)
    except errors:
        return None
    return version.text.replace("\r\n", "\n").split("\n") if version else None


def _tell(gateway, issue_number, report, key, text) -> None:
    if issue_number is not None:
        gateway.comment(issue_number, text, key=f"{report.id}:{key}")


def _join(lines: Sequence[str], start: int, end: int) -> str:
    return "\n".join(lines[start - 1 : end])


def _contains_lines(lines: Sequence[str], text: str) -> bool:
    wanted = text.replace("\r\n", "\n").split("\n")
    size = len(wanted)
    return any(list(lines[i : i + size]) == wanted for i in range(len(lines) - size + 1))


def _folder(path: str) -> str:
    folder = posixpath.normpath(path.replace("\\", "/")).strip("/")
    return "" if folder == "." else folder


def fenced(text: str, info: str) -> str:
    """``text`` in a fenced code block whose fence no line of it can close."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{info}\n{text}\n{fence}"
