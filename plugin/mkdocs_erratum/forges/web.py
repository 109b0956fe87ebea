"""The web addresses of each forge: line permalinks, file pages, prefilled new issues.

Pure functions over strings. The widget (Python side in `mkdocs_erratum.widget`, JS side
in ``assets/erratum.js``, which builds the same forms from the browser settings' ``forge``
and ``web`` keys) and every `mkdocs_erratum.forges.base.Forge` use them, so a link looks
the same whoever writes it. Not here: what the issue says (`mkdocs_erratum.fixer`,
the widget's strings).

The forms, for ``project_url`` = web base + ``/`` + project path:

========== ============================================ ==============================
kind       lines 10-12 of ``path`` at ``SHA``           prefilled new issue
========== ============================================ ==============================
github     ``blob/SHA/path#L10-L12``                     ``issues/new?title=&body=``
gitlab     ``-/blob/SHA/path#L10-12``                    ``-/issues/new?issue[title]=``
                                                         ``&issue[description]=``
forgejo,   ``src/commit/SHA/path#L10-L12`` (a branch:    ``issues/new?title=&body=``
gitea      ``src/branch/NAME/...``)
========== ============================================ ==============================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote, urlencode

_SHA_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def file_url(kind: str, project_url: str, ref: str, path: str) -> str:
    """The page of ``path`` at ``ref`` (a commit sha or a branch).

    >>> file_url("github", "https://github.com/o/r", "main", "docs/a b.md")
    'https://github.com/o/r/blob/main/docs/a%20b.md'
    >>> file_url("gitlab", "https://gitlab.com/g/s/p", "v1", "docs/a.md")
    'https://gitlab.com/g/s/p/-/blob/v1/docs/a.md'
    >>> file_url("forgejo", "https://codeberg.org/o/r", "a" * 40, "a.md")[:45]
    'https://codeberg.org/o/r/src/commit/aaaaaaaaa'
    >>> file_url("gitea", "https://git.example/o/r", "main", "a.md")
    'https://git.example/o/r/src/branch/main/a.md'
    """
    where = f"{quote(ref)}/{quote(path)}"
    if kind == "gitlab":
        return f"{project_url}/-/blob/{where}"
    if kind in ("forgejo", "gitea"):
        kind_of_ref = "commit" if _SHA_RE.fullmatch(ref) else "branch"
        return f"{project_url}/src/{kind_of_ref}/{where}"
    return f"{project_url}/blob/{where}"


def permalink(kind: str, project_url: str, ref: str, path: str, start: int, end: int) -> str:
    """The page of lines ``start..end`` of ``path`` at ``ref``, in the forge's form.

    >>> permalink("github", "https://github.com/o/r", "abc", "docs/a b.md", 3, 5)
    'https://github.com/o/r/blob/abc/docs/a%20b.md#L3-L5'
    >>> permalink("gitlab", "https://gitlab.com/g/p", "abc", "a.md", 10, 12)
    'https://gitlab.com/g/p/-/blob/abc/a.md#L10-12'
    >>> permalink("forgejo", "https://codeberg.org/o/r", "f" * 40, "a.md", 10, 12)[-12:]
    'a.md#L10-L12'
    """
    anchor = f"#L{start}-{end}" if kind == "gitlab" else f"#L{start}-L{end}"
    return file_url(kind, project_url, ref, path) + anchor


def new_issue_url(
    kind: str,
    project_url: str,
    title: str,
    body: str,
    labels: Sequence[str] = (),
    template: str | None = None,
) -> str:
    """A new-issue page prefilled with ``title`` and ``body``.

    ``template``: on GitHub an issue form's file name (the body then fills its field of
    id ``report``, and ``labels`` apply as GitHub allows); on GitLab a description
    template's name (``issuable_template``, without ``.md``). GitLab and Forgejo take
    no label from a link (labels there need ids, or a member's quick action): the job
    that ``erratum init`` writes labels report issues itself.

    >>> new_issue_url("github", "https://github.com/o/r", "Typo", "See @x", ["erratum"])
    'https://github.com/o/r/issues/new?title=Typo&body=See+%40x&labels=erratum'
    >>> new_issue_url("gitlab", "https://gitlab.com/g/p", "T", "B", template="erratum.md")
    'https://gitlab.com/g/p/-/issues/new?issuable_template=erratum&issue%5Btitle%5D=T&issue%5Bdescription%5D=B'
    >>> new_issue_url("forgejo", "https://codeberg.org/o/r", "T", "B & C")
    'https://codeberg.org/o/r/issues/new?title=T&body=B+%26+C'
    """
    params: list[tuple[str, str]] = []
    if kind == "gitlab":
        if template:
            params.append(("issuable_template", template.removesuffix(".md")))
        params += [("issue[title]", title), ("issue[description]", body)]
        return f"{project_url}/-/issues/new?{urlencode(params)}"
    if kind in ("forgejo", "gitea"):
        params += [("title", title), ("body", body)]
        return f"{project_url}/issues/new?{urlencode(params)}"
    if template:
        params.append(("template", template))
    params.append(("title", title))
    params.append(("report" if template else "body", body))
    if labels:
        params.append(("labels", ",".join(labels)))
    return f"{project_url}/issues/new?{urlencode(params)}"


__all__ = ["file_url", "new_issue_url", "permalink"]
