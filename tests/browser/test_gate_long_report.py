"""The long-report flow end to end: a reader reports 11 blocks from the browser, the report
is too long for a link, the short issue opens and the full text is in the clipboard; pasted
under the short issue (in the body or as the author's comment), the real ``erratum fix``
over the GitHub stand-in opens one pull request with every correction."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from playwright.sync_api import expect

from browser.support import REPOSITORY, _git, build_site, click_block, new_page, opened_query, serve
from mkdocs_erratum.gate import report_from_issue
from tests.standin import GitHubStandIn

COUNT = 11
PARAGRAPHS = [
    f"Paragraph {n} of the long page has a tpyo in it, and a few more words that make "
    f"the report long enough that eleven of them never fit in a link, number {n}."
    for n in range(1, COUNT + 1)
]
LONG_PAGE = "# Long page\n\n" + "\n\n".join(PARAGRAPHS) + "\n"


def erratum_fix(standin, root, number: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ERRATUM_"))}
    env["GITHUB_TOKEN"] = "maintainer-token"
    return subprocess.run(
        [sys.executable, "-m", "mkdocs_erratum.cli", "fix", str(number), "--api-url",
         standin.url, "-f", str(root / "mkdocs.yml"), "--write-interval", "0"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_eleven_blocks_pasted_under_the_short_issue_give_every_correction(browser, tmp_path):
    root = tmp_path / "site-repo"
    site = build_site(
        root, {"name": "mkdocs"}, {"widget_url_cap": 2500}, {"docs/long.md": LONG_PAGE}
    )
    with serve(site) as base:
        context, page = new_page(browser, permissions=["clipboard-read", "clipboard-write"])
        page.goto(base + "long/")
        page.get_by_role("button", name="Report an error").click()
        for n in range(1, COUNT + 1):
            click_block(page, f"Paragraph {n} of the long page")
        page.get_by_role("button", name=f"Continue ({COUNT})").click()
        dialog = page.get_by_role("dialog", name="Report an error")
        for n in range(1, COUNT + 1):
            box = dialog.get_by_label(f"Suggested correction — docs/long.md, line {1 + 2 * n}")
            expect(box).to_be_enabled()
            box.fill(PARAGRAPHS[n - 1].replace("tpyo", "typo"))
        dialog.get_by_label("What is wrong?").fill("Eleven typos; @octocat fixes #1.")
        _url, query = opened_query(
            context, dialog.get_by_role("button", name="Open an issue on GitHub").click
        )
        expect(dialog.get_by_role("status")).to_contain_text("it is in your clipboard")
        pasted = page.evaluate("navigator.clipboard.readText()")
        context.close()
    short = query["body"]
    assert report_from_issue(short, "reader").truncated

    standin = GitHubStandIn(str(root), REPOSITORY).start()
    try:
        in_body = standin.add_issue("Errors", f"{short}\n\n{pasted}", labels=["erratum"])
        as_comment = standin.add_issue("Errors", short, labels=["erratum"])
        as_comment.comments.append(
            {
                "id": 1,
                "body": pasted,
                "user": "reader",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        for issue in (in_body, as_comment):
            proc = erratum_fix(standin, root, issue.number)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        # Pasted by someone else: not the reader's report, nothing opens.
        other = standin.add_issue("Errors", short, labels=["erratum"])
        other.comments.append({**as_comment.comments[0], "id": 2, "user": "mallory"})
        proc = erratum_fix(standin, root, other.number)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        pulls = standin.pulls()
    finally:
        standin.stop()
    assert standin.violations == []
    # One report, one pull request: the second issue (same report id) is pointed to it.
    (pull,) = pulls
    assert as_comment.comments[-1]["body"].startswith("Pull request: ")
    text = _git(root, "show", f"{pull.pull['head_ref']}:docs/long.md")
    assert text == LONG_PAGE.replace("tpyo", "typo").rstrip("\n")  # _git strips
    assert "@octocat" not in pull.body and "fixes #1" not in pull.body
    assert "erratum-needs-review" in other.labels


NEUTRALISE_CASES = [
    "@alice and @org/team, mail a@b.org",
    "fixes #42, Closes: acme/docs#3, resolves GH-7; we fix it",
    "see https://github.com/acme/docs/issues/1 or www.evil.example",
    "<img src=x onerror=alert(1)> <!-- c --> 1 < 2 & 3 &#64;victim &amp; &lt;",
    "é@bob _@x #x #1a",
]


def test_the_widget_neutralises_as_python_does(browser, tmp_path):
    """erratum-dialog.js's inert() and text_rules.neutralise: the same rules, the same
    output. The module is imported from a built site, as the widget imports it."""
    from mkdocs_erratum.text_rules import neutralise

    with serve(build_site(tmp_path, {"name": "mkdocs"})) as base:
        context, page = new_page(browser)
        page.goto(base)
        out = page.evaluate(
            "async ([url, cases]) => cases.map((await import(url)).inert)",
            [base + "assets/erratum/erratum-dialog.js", NEUTRALISE_CASES],
        )
        context.close()
    assert out == [neutralise(text) for text in NEUTRALISE_CASES]
