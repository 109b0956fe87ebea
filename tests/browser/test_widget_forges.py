"""The widget's URLs for each forge, in Chromium on a real build.

The settings name the forge (``forge``: github, gitlab, forgejo or gitea) and its web
address (``web``); the build writes them. Here each page's settings are rewritten in
place, as a build for that forge writes them, and every forge's tab is answered by a
local stub. The button names the forge, the new issue URL and the permalinks take each
forge's form, and the URL cap applies alike.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from browser.support import build_site, click_block, head_commit, new_page, serve
from mkdocs_erratum.report import parse_issue_body

CONFIG = re.compile(r'(<script type="application/json" id="erratum-config">)(.*?)(</script>)')


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("forges")
    site = build_site(root / "en", {"name": "mkdocs"}, {"widget_labels": ["erratum"]})
    french = build_site(root / "fr", {"name": "mkdocs", "locale": "fr"})
    return site, french, head_commit(site)


BUILT: dict = {}
"""Each page's HTML as built, so that every test starts from the build's settings."""


def for_forge(site, **settings) -> None:
    """Rewrite the settings of every page of ``site``, as a build for that forge would."""
    for page in site.rglob("*.html"):
        html = BUILT.setdefault(page, page.read_text(encoding="utf-8"))

        def patch(m: re.Match) -> str:
            data = json.loads(m.group(2))
            data.update(settings)
            return m.group(1) + json.dumps(data) + m.group(3)

        page.write_text(CONFIG.sub(patch, html), encoding="utf-8")


def report_issue(browser, base: str, button: str, blocks: list[str], comment: str = "Typo."):
    """Select ``blocks``, describe, press ``button``; the URL and query of the new tab."""
    context, page = new_page(browser)
    context.route(  # every forge answered by a stub; registered last, so it runs first
        lambda url: url.startswith("https://"),
        lambda r: r.fulfill(body="<title>stub</title>", content_type="text/html"),
    )
    page.goto(base)
    page.locator(".erratum-button").click()
    for text in blocks:
        click_block(page, text)
    page.locator(".erratum-continue").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("textarea").nth(len(blocks))).to_be_enabled()
    dialog.locator("#erratum-comment").fill(comment)
    with context.expect_page() as opened:
        dialog.get_by_role("button", name=button, exact=True).click()
    url = opened.value.url
    context.close()
    return url, {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


FIRST = "The first paragraph has a speling error"
CASES = [
    # forge, web, repository, button, new issue URL, body key, permalink of lines 3-4
    ({}, "acme/guide", "Open an issue on GitHub",
     "https://github.com/acme/guide/issues/new", "body",
     "https://github.com/acme/guide/blob/{sha}/docs/index.md#L3-L4"),
    ({"forge": "gitlab", "web": "https://gitlab.example.com"}, "group/sub/guide",
     "Open an issue on GitLab", "https://gitlab.example.com/group/sub/guide/-/issues/new",
     "issue[description]",
     "https://gitlab.example.com/group/sub/guide/-/blob/{sha}/docs/index.md#L3-4"),
    ({"forge": "forgejo", "web": "https://codeberg.org"}, "acme/guide",
     "Open an issue on Codeberg", "https://codeberg.org/acme/guide/issues/new", "body",
     "https://codeberg.org/acme/guide/src/commit/{sha}/docs/index.md#L3-L4"),
    ({"forge": "forgejo", "web": "https://git.example.org/"}, "acme/guide",
     "Open an issue on Forgejo", "https://git.example.org/acme/guide/issues/new", "body",
     "https://git.example.org/acme/guide/src/commit/{sha}/docs/index.md#L3-L4"),
    ({"forge": "gitea", "web": "https://gitea.example.org"}, "acme/guide",
     "Open an issue on Gitea", "https://gitea.example.org/acme/guide/issues/new", "body",
     "https://gitea.example.org/acme/guide/src/commit/{sha}/docs/index.md#L3-L4"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "repository", "button", "new", "key", "permalink"), CASES)
def test_each_forge_gets_its_own_urls(
    browser, built, settings, repository, button, new, key, permalink
):
    site, _, sha = built
    for_forge(site, repository=repository, **{"forge": None, "web": None, **settings})
    with serve(site) as base:
        url, query = report_issue(browser, base, button, [FIRST])
    assert url.split("?")[0] == new
    body = query.pop(key)
    title = query.pop("issue[title]" if key.startswith("issue[") else "title")
    assert title == "Error on page “Field guide”"
    # Labels by name exist in GitHub's link only (the others file them by their own means).
    assert query == ({"labels": "erratum"} if "labels" in query else {})
    assert permalink.format(sha=sha) + "\n" in body
    # Read as JSON: a GitLab subgroup path is the forges' business, not the widget's.
    report = json.loads(re.search(r"```json erratum-report\n(.*)\n```", body).group(1))
    assert report["repository"] == repository
    assert [(b["start"], b["end"]) for b in report["blocks"]] == [(3, 4)]
    if repository == "acme/guide":
        assert (
            parse_issue_body(body).blocks[0].original_sha256
            == report["blocks"][0]["original_sha256"]
        )


def test_a_gitlab_template_and_the_url_cap(browser, built):
    site, _, _ = built
    for_forge(
        site, forge="gitlab", web="https://gitlab.com", repository="g/guide", form="erratum.md",
        cap=2500,
    )  # fmt: skip
    blocks = [FIRST, "A second paragraph", "The last paragraph of the page."]
    with serve(site) as base:
        url, query = report_issue(browser, base, "Open an issue on GitLab", blocks, "x" * 300)
    assert len(url) <= 2500
    assert url.startswith("https://gitlab.com/g/guide/-/issues/new?")
    assert query["issuable_template"] == "erratum"
    report = parse_issue_body(query["issue[description]"])
    assert [(b.start, b.end, b.original) for b in report.blocks] == [
        (3, 4, None),
        (6, 6, None),
        (26, 26, None),
    ]  # the quotes and the originals went first, as on GitHub
    assert report.comment == "x" * 300


@pytest.mark.parametrize(
    ("settings", "button"),
    [({"forge": "gitlab", "web": "https://gitlab.com"}, "Ouvrir un ticket sur GitLab"),
     ({"forge": "forgejo", "web": "https://codeberg.org"}, "Ouvrir un ticket sur Codeberg"),
     ({"forge": "gitea", "web": "https://gitea.example.org"}, "Ouvrir un ticket sur Gitea")],
)  # fmt: skip
def test_the_button_names_the_forge_in_french(browser, built, settings, button):
    _, french, _ = built
    for_forge(french, **settings)
    with serve(french) as base:
        url, query = report_issue(browser, base, button, [FIRST])
    assert url.startswith(settings["web"] + "/acme/guide/")
    assert query.get("title", query.get("issue[title]")) == (
        "Erreur sur la page «\u202fField guide\u202f»"
    )


def test_without_a_commit_links_name_the_branch(browser, built):
    """Outside git (no commit) the branch is the ref: Forgejo and Gitea say so in the path,
    and a branch with a slash keeps it, as mkdocs_erratum.forges.web writes it."""
    site, _, _ = built
    for_forge(
        site, forge="gitea", web="https://gitea.example.org", repository="acme/guide",
        commit=None, branch="release/2",
    )  # fmt: skip
    with serve(site) as base:
        _, query = report_issue(browser, base, "Open an issue on Gitea", [FIRST])
    link = "https://gitea.example.org/acme/guide/src/branch/release/2/docs/index.md#L3-L4"
    assert link + "\n" in query["body"]
