"""Forge detection and each forge's URL forms: pure tables."""

from __future__ import annotations

import pytest

from mkdocs_erratum.forges import web
from mkdocs_erratum.forges.detect import ForgeUnknown, detect, target_for


@pytest.mark.parametrize(
    ("url", "forge", "api_url", "expected"),
    [
        (
            "https://github.com/acme/docs",
            None,
            None,
            ("github", "https://github.com", "https://api.github.com", "acme/docs"),
        ),
        (
            "git@github.com:acme/docs.git",
            None,
            None,
            ("github", "https://github.com", "https://api.github.com", "acme/docs"),
        ),
        (
            "https://github.com/acme/docs/tree/main/site",
            None,
            None,
            ("github", "https://github.com", "https://api.github.com", "acme/docs"),
        ),
        (
            "https://ghe.example.com/acme/docs",
            "github",
            None,
            ("github", "https://ghe.example.com", "https://ghe.example.com/api/v3", "acme/docs"),
        ),
        (
            "https://gitlab.com/group/sub/project",
            None,
            None,
            ("gitlab", "https://gitlab.com", "https://gitlab.com/api/v4", "group/sub/project"),
        ),
        (
            "https://gitlab.com/group/sub/project/-/tree/main",
            None,
            None,
            ("gitlab", "https://gitlab.com", "https://gitlab.com/api/v4", "group/sub/project"),
        ),
        (
            "ssh://git@gitlab.example.com:2222/g/p.git",
            "gitlab",
            None,
            ("gitlab", "https://gitlab.example.com", "https://gitlab.example.com/api/v4", "g/p"),
        ),
        (
            "https://gitlab.example.com:8443/g/p",
            "gitlab",
            "https://gitlab.example.com:8443/api/v4/",
            (
                "gitlab",
                "https://gitlab.example.com:8443",
                "https://gitlab.example.com:8443/api/v4",
                "g/p",
            ),
        ),
        (
            "https://codeberg.org/acme/docs.git",
            None,
            None,
            ("forgejo", "https://codeberg.org", "https://codeberg.org/api/v1", "acme/docs"),
        ),
        (
            "https://git.example.org/acme/docs",
            "gitea",
            None,
            ("gitea", "https://git.example.org", "https://git.example.org/api/v1", "acme/docs"),
        ),
    ],
)
def test_detect(url, forge, api_url, expected):
    target = detect(url, forge=forge, api_url=api_url)
    assert (target.kind, target.web_url, target.api_url, target.project) == expected


@pytest.mark.parametrize(
    ("url", "forge", "message"),
    [
        ("https://git.example.org/acme/docs", None, "set the forge option"),
        ("https://example.org/", None, "not the URL of a repository"),
        ("https://github.com/acme/../docs", None, "not the URL of a repository"),
        ("https://github.com/acme/docs", "svn", "expected one of"),
        ("", None, "not the URL of a repository"),
    ],
)
def test_detect_refuses_with_a_reason(url, forge, message):
    with pytest.raises(ForgeUnknown, match=message):
        detect(url, forge=forge)


@pytest.mark.parametrize(
    ("kind", "api_url", "web_url", "expected"),
    [
        ("github", None, None, ("https://github.com", "https://api.github.com")),
        ("github", "http://127.0.0.1:9", None, ("http://127.0.0.1:9", "http://127.0.0.1:9")),
        ("gitlab", None, None, ("https://gitlab.com", "https://gitlab.com/api/v4")),
        ("forgejo", None, None, ("https://codeberg.org", "https://codeberg.org/api/v1")),
        ("gitea", None, "https://g.example/", ("https://g.example", "https://g.example/api/v1")),
    ],
)
def test_target_for(kind, api_url, web_url, expected):
    target = target_for(kind, "o/r", api_url=api_url, web_url=web_url)
    assert (target.web_url, target.api_url) == expected


def test_target_for_gitea_needs_a_host():
    with pytest.raises(ForgeUnknown, match="no default host"):
        target_for("gitea", "o/r")


SHA = "c" * 40


@pytest.mark.parametrize(
    ("kind", "ref", "expected"),
    [
        ("github", SHA, f"/blob/{SHA}/d/x%20y.md#L3-L5"),
        ("gitlab", "main", "/-/blob/main/d/x%20y.md#L3-5"),
        ("forgejo", SHA, f"/src/commit/{SHA}/d/x%20y.md#L3-L5"),
        ("gitea", "dev", "/src/branch/dev/d/x%20y.md#L3-L5"),
    ],
)
def test_permalink_forms(kind, ref, expected):
    project = "https://f.example/g/s/p"
    assert web.permalink(kind, project, ref, "d/x y.md", 3, 5) == project + expected


@pytest.mark.parametrize(
    ("kind", "template", "expected"),
    [
        ("github", None, "https://f.example/o/r/issues/new?title=T+%231&body=%40b&labels=erratum"),
        ("github", "erratum.yml", "https://f.example/o/r/issues/new?template=erratum.yml&title=T+%231&report=%40b&labels=erratum"),
        ("gitlab", None, "https://f.example/o/r/-/issues/new?issue%5Btitle%5D=T+%231&issue%5Bdescription%5D=%40b"),
        ("gitlab", "erratum.md", "https://f.example/o/r/-/issues/new?issuable_template=erratum&issue%5Btitle%5D=T+%231&issue%5Bdescription%5D=%40b"),
        ("forgejo", None, "https://f.example/o/r/issues/new?title=T+%231&body=%40b"),
        ("gitea", None, "https://f.example/o/r/issues/new?title=T+%231&body=%40b"),
    ],
)  # fmt: skip
def test_new_issue_url_forms(kind, template, expected):
    url = web.new_issue_url(kind, "https://f.example/o/r", "T #1", "@b", ["erratum"], template)
    assert url == expected
