"""The widget's build-time side: pure tables, then real builds of a fixture site."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from mkdocs_erratum import widget

GUIDE = Path(__file__).parent / "browser" / "sites" / "guide" / "docs"


@pytest.mark.parametrize(
    ("theme_language", "button"),
    [("en", "Report an error"), ("fr", "Signaler une erreur"), ("fr_CA", "Signaler une erreur"),
     ("de", "Report an error"), (None, "Report an error")],
)  # fmt: skip
def test_strings_follow_the_theme_language(theme_language, button):
    assert widget.resolve_strings(theme_language, {})["button"] == button


def test_strings_overrides_apply_to_their_language_only():
    overrides = {"fr": {"button": "Une erreur ?"}, "de": {"button": "Fehler melden"}}
    assert widget.resolve_strings("fr", overrides)["button"] == "Une erreur ?"
    assert widget.resolve_strings("de", overrides)["button"] == "Fehler melden"
    assert widget.resolve_strings("de", overrides)["cancel"] == "Cancel"
    assert widget.resolve_strings("en", overrides)["button"] == "Report an error"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"fr": {"buton": "x"}}, "widget_strings.fr.buton: unknown string"),
     ({"fr": {"button": 3}}, "widget_strings.fr.button: expected a string"),
     ({"fr": "x"}, "widget_strings.fr: expected a mapping")],
)  # fmt: skip
def test_strings_errors_name_the_option(overrides, message):
    with pytest.raises(widget.WidgetConfigError, match=re.escape(message)):
        widget.resolve_strings("en", overrides)


def test_every_language_has_every_string():
    assert set(widget.STRINGS["fr"]) == set(widget.STRINGS["en"])


@pytest.mark.parametrize(
    ("edit_uri", "branch"),
    [("edit/main/docs/", "main"), ("/blob/release-2/site/", "release-2"), ("tree/dev", "dev"),
     ("", None), (None, None), ("src/docs/", None)],
)  # fmt: skip
def test_branch_from_edit_uri(edit_uri, branch):
    assert widget.branch_from_edit_uri(edit_uri) == branch


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hi @bob and #12", "hi @\u200bbob and #\u200b12"),
     ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
     ("a & b", "a &amp; b"), ("50 # and @ alone", "50 # and @ alone")],
)  # fmt: skip
def test_neutralise(text, expected):
    assert widget.neutralise(text) == expected


def test_new_issue_url_with_an_issue_form():
    url = widget.new_issue_url("o/r", "T", "B & C", ["a", "b"], "erratum.yml")
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "template": ["erratum.yml"],
        "title": ["T"],
        "report": ["B & C"],
        "labels": ["a,b"],
    }


def test_page_issue_url():
    url = widget.page_issue_url(
        repository="o/r", ref="abc", page_title="Intro", page_url="https://x.org/a/",
        path="docs/a b.md", strings=widget.STRINGS["fr"], labels=["erratum"],
    )  # fmt: skip
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["title"] == "Erreur sur la page « Intro »"
    assert query["body"].startswith(
        "Page: https://x.org/a/\nSource: https://github.com/o/r/blob/abc/docs/a%20b.md\n"
    )
    assert query["labels"] == "erratum"


def test_head_tags_keep_the_settings_inert():
    settings = {"strings": {"button": "</script><script>alert(1)</script>"}}
    tags = widget.head_tags(settings, "../assets/erratum/")
    assert "</script><script>alert" not in tags
    payload = re.search(r'id="erratum-config">(.*?)</script>', tags).group(1)
    assert json.loads(payload) == settings
    assert tags.endswith('<script type="module" src="../assets/erratum/erratum.js"></script>')


def test_inject_leaves_pages_without_head_alone():
    assert widget.inject("<p>fragment</p>", "<H>", "<B>") == "<p>fragment</p>"


@pytest.mark.parametrize(
    ("path", "name"),
    [("docs/a.md", "assets/erratum/src/docs/a.md.json"),
     ("README.md", "assets/erratum/src/README.md.json"),
     ("../x.md", None), ("/etc/passwd", None), ("docs//a.md", None), ("a\\b.md", None)],
)  # fmt: skip
def test_source_file_name(path, name):
    assert widget.source_file_name(path) == name


def test_source_file_publishes_only_covered_lines():
    text = widget.source_file_text(["# T", "", "<!-- secret -->", "Para", ""], {1, 4})
    assert json.loads(text) == {"lines": ["# T", None, None, "Para"]}


# -- Real builds ---------------------------------------------------------------------------


def make_site(root: Path, plugin: dict | None, **extra) -> Path:
    """The guide fixture in a git repository under ``root``; returns its mkdocs.yml."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    for page in GUIDE.iterdir():
        (docs / page.name).write_bytes(page.read_bytes())
    config = {
        "site_name": "Guide",
        "site_url": "https://guide.example.org/",
        "repo_url": "https://github.com/acme/guide",
        "edit_uri": "edit/trunk/docs/",
        "markdown_extensions": ["admonition", "tables", {"toc": {"permalink": True}}],
        "plugins": [{"erratum": plugin} if plugin is not None else "search"],
        **extra,
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "site"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=root, check=True
        )
    return root / "mkdocs.yml"


def run_build(config_file: Path, **options) -> Path:
    cfg = load_config(str(config_file), **options)
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    finally:
        cfg.plugins.on_shutdown()
    return Path(cfg.site_dir)


def article(html: str) -> str:
    """The content area of a page built with the mkdocs theme."""
    return html[html.index('<div class="col-md-9" role="main">') : html.index("</div></div>")]


def test_build_injects_widget_outside_the_content(tmp_path):
    on = run_build(make_site(tmp_path / "on", {"widget_labels": ["erratum"]}))
    off = run_build(make_site(tmp_path / "off", {"widget_enabled": False}))
    html_on = (on / "index.html").read_text()
    html_off = (off / "index.html").read_text()
    assert article(html_on) == article(html_off)
    assert html_on.replace(html_off[: html_off.index("</head>")], "", 1).startswith(
        '<link rel="stylesheet" href="assets/erratum/erratum.css">'
    )
    settings = json.loads(re.search(r'id="erratum-config">(.*?)</script>', html_on).group(1))
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path / "on", capture_output=True, text=True
    )
    assert settings["repository"] == "acme/guide"
    assert settings["commit"] == head.stdout.strip()
    assert settings["branch"] == "trunk"  # from edit_uri
    assert settings["labels"] == ["erratum"]
    assert settings["strings"]["button"] == "Report an error"
    assert "erratum-config" not in html_off and "erratum-nojs" not in html_off
    link = re.search(r'<p class="erratum-nojs"><a href="([^"]+)"', html_on).group(1)
    body = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["body"][0]
    assert body.startswith(
        "Page: https://guide.example.org/\nSource: https://github.com/acme/guide/"
    )
    assert (on / "assets/erratum/erratum.js").read_bytes() == (
        Path(widget.__file__).parent / "assets/erratum.js"
    ).read_bytes()
    lines = json.loads((on / "assets/erratum/src/docs/index.md.json").read_text())["lines"]
    source = (GUIDE / "index.md").read_text().split("\n")
    assert lines[2:4] == source[2:4]  # the first paragraph, lines 3-4
    assert lines[1] is None  # a blank line no block covers
    assert (on / "assets/erratum/src/docs/other.md.json").exists()
    assert html_on.count("erratum-nojs") == 1


def test_sub_pages_point_at_the_shared_assets(tmp_path):
    site = run_build(make_site(tmp_path, {}, theme={"name": "readthedocs", "language": "fr"}))
    html = (site / "other" / "index.html").read_text()
    assert '<script type="module" src="../assets/erratum/erratum.js">' in html
    assert "Signaler une erreur" in html


def test_no_repository_leaves_the_widget_out_with_a_message(tmp_path, caplog):
    caplog.set_level("INFO")
    config = make_site(tmp_path, {})
    text = config.read_text().replace("repo_url: https://github.com/acme/guide\n", "")
    config.write_text(text)
    site = run_build(config)
    assert "erratum-config" not in (site / "index.html").read_text()
    assert "No GitHub repository known for the reader widget" in caplog.text


@pytest.mark.parametrize(
    ("plugin", "message"),
    [({"widget_url_cap": 10}, "widget_url_cap: expected at least 1000"),
     ({"widget_repository": "not a repo"}, "widget_repository: expected OWNER/NAME"),
     ({"widget_strings": {"en": {"nope": "x"}}}, "widget_strings.en.nope: unknown string")],
)  # fmt: skip
def test_invalid_options_stop_the_build_with_a_clear_message(tmp_path, caplog, plugin, message):
    with pytest.raises(Abort):
        run_build(make_site(tmp_path, plugin))
    assert f"erratum: {message}" in caplog.text


def test_option_types_are_checked(tmp_path):
    with pytest.raises(Abort):
        run_build(make_site(tmp_path, {"widget_labels": "erratum"}))


def test_assets_stay_within_8_kb_gzipped():
    assets = Path(widget.__file__).parent / "assets"
    sizes = {name: len(gzip.compress((assets / name).read_bytes(), 9)) for name in widget.ASSETS}
    assert sum(sizes.values()) <= 8000, sizes  # "8 KB", read the strict way


def test_browser_settings_take_the_title_template_and_end_the_service_url_with_a_slash():
    settings = widget.browser_settings(
        repository="o/r", commit=None, branch="main", strings=widget.STRINGS["en"],
        title="Erratum: {title}", service_url="https://errata.example.org/api-root",
    )  # fmt: skip
    assert settings["strings"]["issue_title"] == "Erratum: {title}"
    assert settings["service"] == "https://errata.example.org/api-root/"
    assert widget.STRINGS["en"]["issue_title"] == "Error on page “{title}”"  # not mutated
