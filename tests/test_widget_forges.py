"""The widget's settings and plain link on each forge: real ``mkdocs build`` runs.

The forge comes from ``repo_url`` (github.com, gitlab.com, codeberg.org) or the plugin's
``forge`` option for a self-hosted host; the browser settings carry it (``forge``, and
``web``: the web base) for ``assets/erratum.js``, and the link for readers without
JavaScript is built in the forge's own form.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from mkdocs.exceptions import Abort

from mkdocs_erratum.config import ErratumConfig
from tests.test_widget import make_site, nojs_link, run_build, settings_of


def nojs_href(html: str) -> str:
    return re.search(r'<p class="erratum-nojs"[^>]*><a href="([^"]+)"', html).group(1)


@pytest.mark.parametrize(
    ("repo_url", "plugin", "forge", "web", "project", "new_issue", "source"),
    [
        (
            "https://github.com/acme/guide",
            {},
            "github",
            "https://github.com",
            "acme/guide",
            "https://github.com/acme/guide/issues/new?",
            "https://github.com/acme/guide/blob/",
        ),
        (
            "https://gitlab.com/acme/docs/guide",
            {},
            "gitlab",
            "https://gitlab.com",
            "acme/docs/guide",
            "https://gitlab.com/acme/docs/guide/-/issues/new?",
            "https://gitlab.com/acme/docs/guide/-/blob/",
        ),
        (
            "https://codeberg.org/acme/guide",
            {},
            "forgejo",
            "https://codeberg.org",
            "acme/guide",
            "https://codeberg.org/acme/guide/issues/new?",
            "https://codeberg.org/acme/guide/src/commit/",
        ),
        (
            "https://git.example.com/acme/guide.git",
            {"forge": "gitea"},
            "gitea",
            "https://git.example.com",
            "acme/guide",
            "https://git.example.com/acme/guide/issues/new?",
            "https://git.example.com/acme/guide/src/commit/",
        ),
        (
            "https://code.example.org/team/sub/guide",
            {"forge": "gitlab", "forge_api_url": "https://code.example.org/api/v4"},
            "gitlab",
            "https://code.example.org",
            "team/sub/guide",
            "https://code.example.org/team/sub/guide/-/issues/new?",
            "https://code.example.org/team/sub/guide/-/blob/",
        ),
    ],
)
def test_each_forge_gets_its_settings_and_link_forms(
    tmp_path, repo_url, plugin, forge, web, project, new_issue, source
):
    config = make_site(tmp_path, plugin, repo_url=repo_url, edit_uri="")
    html = (run_build(config) / "index.html").read_text()
    settings = settings_of(html)
    assert (settings["forge"], settings["web"], settings["repository"]) == (forge, web, project)
    href = nojs_href(html).replace("&amp;", "&")
    assert href.startswith(new_issue), href
    fields = nojs_link(html)
    body = fields.get("issue[description]" if forge == "gitlab" else "body")
    title = fields.get("issue[title]" if forge == "gitlab" else "title")
    assert title and body, fields
    commit = settings["commit"]
    assert f"{source}{commit}/docs/index.md" in unquote(body)


def test_an_unknown_host_without_the_forge_option_warns_and_names_it(tmp_path, caplog):
    config = make_site(tmp_path, {}, repo_url="https://git.example.com/acme/guide", edit_uri="")
    html = (run_build(config) / "index.html").read_text()
    assert "erratum-config" not in html
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("forge option" in w for w in warnings), warnings
    with pytest.raises(Abort):
        run_build(config, strict=True)


@pytest.mark.parametrize(
    ("options", "name", "message"),
    [
        ({"forge": "svn"}, "forge", "Expected one of: ('github', 'gitlab', 'forgejo', 'gitea')"),
        ({"forge_api_url": "ftp://x"}, "forge_api_url", "expected an http:// or https:// URL"),
        ({"widget_repository": "a/../b"}, "widget_repository", "expected OWNER/NAME"),
        ({"widget_repository": "g/sub/p", "forge": "gitlab"}, None, None),
    ],
)
def test_forge_options_are_checked_by_the_schema(options, name, message):
    config = ErratumConfig()
    config.load_dict(options)
    errors, _warnings = config.validate()
    if name is None:
        assert errors == []
    else:
        assert [(n, message in str(e)) for n, e in errors] == [(name, True)], errors


def test_a_gitlab_edit_uri_names_the_branch(tmp_path):
    config = make_site(
        tmp_path, {}, repo_url="https://gitlab.com/acme/guide", edit_uri="-/edit/trunk/docs/"
    )
    html = (run_build(config) / "index.html").read_text()
    assert settings_of(html)["branch"] == "trunk"
