"""The widget's build-time side: pure tables, then real builds of a fixture site."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from mkdocs_erratum import widget

GUIDE = Path(__file__).parent / "browser" / "sites" / "guide" / "docs"
LOADER_BUDGET = 2500
"""Bytes gzipped of what every page loads (erratum.js and .css): 2,485 now, within the goal
of 2,500 (2,492 before the selection mode waited for the dialog's module, and the primary
button's rule moved to the dialog's stylesheet; 2,756 before the second size pass, 2,829
before the first)."""
WHOLE_BUDGET = 7950
"""Bytes gzipped of all the widget's JS and CSS: 7,931 now, within the goal of 8,000 (7,934
before the second size pass, 8,127 before the first; 8,497 before the split, unminified;
8,326 before terser, without the "Already reported" markers)."""
STRINGS_BUDGET = 1000
"""Bytes gzipped of the largest strings file the dialog loads."""


@pytest.mark.parametrize(
    ("theme_language", "button"),
    [("en", "Report an error"), ("fr", "Signaler une erreur"), ("fr_CA", "Signaler une erreur"),
     ("de", "Fehler melden"), ("zh_CN", "报告错误"), ("pt-BR", "Reportar um erro"),
     ("xx", "Report an error"), (None, "Report an error")],
)  # fmt: skip
def test_strings_follow_the_theme_language(theme_language, button):
    assert widget.resolve_strings(theme_language, {})["button"] == button


def test_strings_overrides_apply_to_their_language_only():
    overrides = {"fr": {"button": "Une erreur ?"}, "ru": {"button": "Сообщить об ошибке"}}
    assert widget.resolve_strings("fr", overrides)["button"] == "Une erreur ?"
    assert widget.resolve_strings("ru", overrides)["button"] == "Сообщить об ошибке"
    assert widget.resolve_strings("ru", overrides)["cancel"] == "Cancel"
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


@pytest.mark.parametrize("code", widget.LANGUAGES)
def test_every_language_has_every_string_with_the_same_placeholders(code):
    strings, english = widget.STRINGS[code], widget.STRINGS["en"]
    assert list(strings) == list(english)
    for name, text in strings.items():
        assert sorted(re.findall(r"\{\w+\}", text)) == sorted(
            re.findall(r"\{\w+\}", english[name])
        ), (code, name)
        assert text.strip(" \n") == text and text, (code, name)


@pytest.mark.parametrize("code", [c for c in widget.LANGUAGES if c != "en"])
def test_every_language_is_translated(code):
    """Each text is the language's own, not English left over (names of things aside)."""
    same = {n for n, t in widget.STRINGS[code].items() if t == widget.STRINGS["en"][n]}
    assert same <= {"colon", "body_page", "body_source"}, (code, same)


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
     ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)>"),
     ("a & b &#64;x", "a & b &amp;#\u200b64;x"), ("50 # and @ alone", "50 # and @ alone")],
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
    assert query["title"] == "Erreur sur la page «\u202fIntro\u202f»"
    assert query["body"].startswith(
        "Page\u202f: https://x.org/a/\nSource\u202f: https://github.com/o/r/blob/abc/docs/a%20b.md\n"
    )
    assert query["labels"] == "erratum"


@pytest.mark.parametrize("name", sorted(widget.STRINGS["fr"]))
def test_french_strings_follow_french_typography(name):
    """A narrow no-break space (U+202F) before : ; ? and !, never a plain space or none."""
    text = widget.STRINGS["fr"][name].replace("{", "").replace("}", "")
    for mark in re.finditer(r"[:;?!]", text):
        before = text[: mark.start()]
        assert before.endswith("\u202f") or (name == "colon" and before == "\u202f"), (name, text)
    assert not re.search(r"[ \u00a0][:;?!]", text), (name, text)


def test_french_issue_body_puts_a_space_before_the_colon():
    assert widget.STRINGS["fr"]["colon"] == "\u202f:"
    assert widget.STRINGS["en"]["colon"] == ":"


@pytest.mark.parametrize(
    ("content", "title"),
    [('<h1 id="t">Title <code>x</code><a class="headerlink" href="#t" title="Permanent link">'
      "&para;</a></h1>", "Title x"),
     ("<p>Intro</p>\n<h1>Late\n  heading</h1><h1>Second</h1>", "Late heading"),
     ("<h2>Only a section</h2>", None), ("<h1></h1>", None)],
)  # fmt: skip
def test_first_heading(content, title):
    assert widget.first_heading(content) == title


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
    text = widget.source_file_text(["# T", "", "<!-- secret -->", "Para", ""], [(1, 1), (4, 4)])
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
        '<!-- erratum:begin --><link rel="stylesheet" href="assets/erratum/erratum.css">'
    )
    settings = settings_of(html_on)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path / "on", capture_output=True, text=True
    )
    assert settings["repository"] == "acme/guide"
    assert settings["commit"] == head.stdout.strip()
    assert settings["branch"] == "trunk"  # from edit_uri
    assert settings["labels"] == ["erratum"]
    assert settings["strings"] == {"en": {n: widget.STRINGS["en"][n] for n in widget.PAGE_STRINGS}}
    assert (settings["lang"], settings["languages"], settings["links"]) == (
        "en",
        {"en": "en"},
        True,
    )
    assert "erratum-config" not in html_off and "erratum-nojs" not in html_off
    body = nojs_link(html_on)["body"]
    assert body.startswith(
        "Page: https://guide.example.org/\nSource: https://github.com/acme/guide/"
    )
    shipped = sorted(path.name for path in (on / "assets/erratum").iterdir() if path.is_file())
    code = ["erratum-dialog.css", "erratum-dialog.js", "erratum.css", "erratum.js"]
    assert shipped == [*code, "strings.en.json"]  # the languages the site speaks, no other
    for name in shipped:  # as the package holds them, less comments and spacing
        text = (on / "assets/erratum" / name).read_text(encoding="utf-8")
        assert text == widget.asset_text(name), name
    source = (Path(widget.__file__).parent / "assets/erratum.js").read_text(encoding="utf-8")
    assert "// " in source and "// " not in widget.asset_text("erratum.js")
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


def settings_of(html: str) -> dict:
    return json.loads(re.search(r'id="erratum-config">(.*?)</script>', html).group(1))


def nojs_link(html: str) -> dict[str, str]:
    link = re.search(r'<p class="erratum-nojs"[^>]*><a href="([^"]+)"', html).group(1)
    return {k: v[0] for k, v in parse_qs(urlsplit(link.replace("&amp;", "&")).query).items()}


def without_edit_uri(config: Path) -> Path:
    config.write_text(config.read_text().replace("edit_uri: edit/trunk/docs/\n", ""))
    return config


def test_branch_without_edit_uri_is_the_branch_being_built(tmp_path):
    """MkDocs fills in edit_uri "edit/master/docs/" by itself: that is no branch of ours."""
    site = run_build(without_edit_uri(make_site(tmp_path, {})))
    assert settings_of((site / "index.html").read_text())["branch"] == "main"


def test_branch_of_a_detached_checkout_is_the_remote_default(tmp_path):
    origin = tmp_path / "origin"
    without_edit_uri(make_site(origin, {}))
    git_cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git_cmd, "commit", "-qam", "no edit_uri"], cwd=origin, check=True)
    subprocess.run([*git_cmd, "branch", "-qm", "main", "develop"], cwd=origin, check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", "--detach"], cwd=clone, check=True)
    site = run_build(clone / "mkdocs.yml")
    assert settings_of((site / "index.html").read_text())["branch"] == "develop"


def test_outside_git_links_name_no_guessed_branch(tmp_path):
    config = without_edit_uri(make_site(tmp_path, {}))
    shutil.rmtree(tmp_path / ".git")
    html = (run_build(config) / "index.html").read_text()
    assert settings_of(html)["branch"] is None and settings_of(html)["commit"] is None
    body = nojs_link(html)["body"]
    assert "/blob/HEAD/docs/index.md" in body and "master" not in body


def test_branch_of_an_edit_uri_written_by_the_user(tmp_path):
    config = make_site(tmp_path, {})
    config.write_text(config.read_text().replace("edit/trunk/docs/", "edit/master/docs/"))
    site = run_build(config)
    assert settings_of((site / "index.html").read_text())["branch"] == "master"


def test_both_paths_title_a_page_by_its_first_heading(tmp_path):
    """The no-JS link takes the rule of the widget: the first h1, not the nav title."""
    config = make_site(tmp_path, {}, nav=[{"Start here": "index.md"}, {"Other": "other.md"}])
    html = (run_build(config) / "index.html").read_text()
    heading = widget.first_heading(html)
    assert heading and heading != "Start here"
    assert nojs_link(html)["title"] == f"Error on page “{heading}”"
    assert 'data-erratum-title="Start here"' in html  # the widget's fallback: no h1


def test_no_repository_leaves_the_widget_out_with_a_warning(tmp_path, caplog):
    config = make_site(tmp_path, {})
    text = config.read_text().replace("repo_url: https://github.com/acme/guide\n", "")
    config.write_text(text.replace("edit_uri: edit/trunk/docs/\n", ""))
    site = run_build(config)
    assert "erratum-config" not in (site / "index.html").read_text()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("No repository known for the reader widget" in w for w in warnings)
    with pytest.raises(Abort):
        run_build(config, strict=True)


def test_a_missing_issue_form_warns_and_the_report_goes_into_the_body(tmp_path, caplog):
    site = run_build(make_site(tmp_path, {"widget_issue_form": "nope.yml"}))
    html = (site / "index.html").read_text()
    assert settings_of(html)["form"] is None
    assert "body" in nojs_link(html) and "template" not in nojs_link(html)
    assert ".github/ISSUE_TEMPLATE/nope.yml is not in the repository" in caplog.text


SERVICE = {"service_url": "https://errata.example.org/"}


@pytest.mark.parametrize(
    ("plugin", "known", "age"),
    [({}, "snapshot", 7),
     (SERVICE, "service", 7),
     ({**SERVICE, "widget_open_reports": "snapshot"}, "snapshot", 7),
     ({"widget_open_reports": "off", "widget_open_reports_max_age": 0}, None, 0)],
)  # fmt: skip
def test_where_the_markers_come_from(tmp_path, plugin, known, age):
    settings = settings_of((run_build(make_site(tmp_path, plugin)) / "index.html").read_text())
    assert (settings["known"], settings["age"]) == (known, age)


def test_markers_from_the_service_without_one_warn(tmp_path, caplog):
    site = run_build(make_site(tmp_path, {"widget_open_reports": "service"}))
    assert settings_of((site / "index.html").read_text())["known"] == "service"
    assert "widget_open_reports: service needs service_url" in caplog.text


def test_an_issue_form_that_exists_is_used(tmp_path):
    root = tmp_path / "site"
    form = root / ".github" / "ISSUE_TEMPLATE" / "erratum.yml"
    form.parent.mkdir(parents=True)
    form.write_text("name: Erratum\n")
    html = run_build(make_site(root, {"widget_issue_form": "erratum.yml"})) / "index.html"
    assert nojs_link(html.read_text())["template"] == "erratum.yml"


@pytest.mark.parametrize(
    ("plugin", "message"),
    [({"widget_url_cap": 10}, "'widget_url_cap': expected 1000 to 100000, not 10"),
     ({"widget_url_cap": 10**6}, "'widget_url_cap': expected 1000 to 100000, not 1000000"),
     ({"widget_url_cap": True}, "'widget_url_cap': expected an integer, not True"),
     ({"widget_repository": "not a repo"}, "'widget_repository': expected OWNER/NAME"),
     ({"widget_strings": {"en": {"nope": "x"}}}, "'widget_strings': en.nope is not a string"),
     ({"widget_strings": {"fr": {"button": 3}}}, "'widget_strings': fr.button: expected a text"),
     ({"widget_strings": {"fr": "x"}}, "'widget_strings': fr: expected a mapping"),
     ({"service_url": "not a url"}, "'service_url': expected an http:// or https:// URL"),
     ({"service_url": "javascript://x/%0aalert(1)"}, "'service_url': expected an http://"),
     ({"widget_blocks": "p[[["}, "'widget_blocks': 'p[[[' is not a valid CSS selector"),
     ({"widget_blocks": "p::before"}, "'widget_blocks': 'p::before' cannot select blocks"),
     ({"widget_issue_form": "../x.yml"}, "'widget_issue_form': expected the file name"),
     ({"widget_labels": "erratum"}, "'widget_labels': Expected a list of items"),
     ({"widget_open_reports": "forge"}, "'widget_open_reports': Expected one of: ('auto'"),
     ({"widget_open_reports_max_age": -1}, "'widget_open_reports_max_age': expected 0 to 3650"),
     ({"widget_blocks_typo": "p"}, "'widget_blocks_typo': unknown option of the erratum")],
)  # fmt: skip
def test_invalid_options_stop_the_build_naming_the_option(tmp_path, caplog, plugin, message):
    with pytest.raises(Abort):
        run_build(make_site(tmp_path, plugin))
    assert f"Plugin 'erratum' option {message}" in caplog.text


def test_unknown_options_are_found_whatever_the_language_of_mkdocs(tmp_path, monkeypatch):
    """Found by name in the schema, not by matching MkDocs' English warning."""
    from mkdocs.config import base

    from mkdocs_erratum.plugin import ErratumPlugin

    plugin = ErratumPlugin()
    real = base.Config.validate

    def translated(self):
        failed, warnings = real(self)
        return failed, [(k, "Unbekannte Konfigurationsoption") for k, _ in warnings]

    monkeypatch.setattr(base.Config, "validate", translated)
    errors, warnings = plugin.load_config({"widget_blok": "p"})
    assert [key for key, _ in errors] == ["widget_blok"] and warnings == []


def test_valid_options_build(tmp_path):
    options = {
        "widget_blocks": ".md-content p, li:has(> code)",
        "widget_url_cap": 8000,
        "service_url": "https://errata.example.org/",
        "widget_strings": {"fr": {}},
    }
    settings = settings_of((run_build(make_site(tmp_path, options)) / "index.html").read_text())
    assert (settings["blocks"], settings["cap"]) == (options["widget_blocks"], 8000)


def test_minified_assets_are_what_their_sources_give():
    """assets/dist/ is terser's and Lightning CSS's output for the sources as committed
    (widget-build/build.py --check rebuilds it with the pinned tools): an edit to an
    asset without `make widget` fails here, not on a reader's page."""
    script = Path(__file__).parents[1] / "widget-build" / "build.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "matches the sources" in proc.stdout


def test_assets_stay_within_their_budgets_gzipped():
    """What every page loads, all the JS and CSS, the largest strings file (as
    ``bench/widget_size.py`` measures them): in bytes, gzipped, as the site gets them."""
    sizes = {n: len(gzip.compress(widget.asset_text(n).encode(), 9)) for n in widget.ASSETS}
    code = [n for n in widget.ASSETS if n.endswith((".js", ".css"))]
    assert sum(sizes[n] for n in widget.LOADER) <= LOADER_BUDGET, sizes
    assert sum(sizes[n] for n in code) <= WHOLE_BUDGET, sizes
    assert max(sizes[f"strings.{c}.json"] for c in widget.LANGUAGES) <= STRINGS_BUDGET, sizes


def test_browser_settings_take_the_title_template_and_end_the_service_url_with_a_slash():
    settings = widget.browser_settings(
        repository="o/r", commit=None, branch="main", strings=widget.STRINGS["en"],
        title="Erratum: {title}", service_url="https://errata.example.org/api-root",
    )  # fmt: skip
    assert settings["strings"]["en"]["issue_title"] == "Erratum: {title}"
    assert settings["service"] == "https://errata.example.org/api-root/"
    assert widget.STRINGS["en"]["issue_title"] == "Error on page “{title}”"  # not mutated


def test_pages_embed_the_languages_the_site_uses(tmp_path):
    options = {
        "widget_strings": {"ru": {"button": "Сообщить об ошибке"}, "de": {"button": "Fehler?"}},
        "widget_paragraph_links": False,
    }
    config = make_site(tmp_path, options)
    docs = tmp_path / "docs"
    (docs / "fr.md").write_text("---\nlang: fr_FR\n---\n\n# Bonjour\n\nUn texte.\n")
    (docs / "ru.md").write_text("---\nlang: ru\n---\n\n# Привет\n\nТекст.\n")
    (docs / "xx.md").write_text("---\nlang: xx\n---\n\n# Xx\n\nXx.\n")
    site = run_build(config)
    index = (site / "index.html").read_text()
    settings = settings_of(index)
    # The theme's language first, then the pages' (not German: no page uses it).
    assert settings["languages"] == {"en": "en", "fr": "fr", "ru": "en"}
    assert list(settings["strings"]) == ["en", "fr", "ru"]
    assert settings["strings"]["ru"] == {
        **{n: widget.STRINGS["en"][n] for n in widget.PAGE_STRINGS},
        "button": "Сообщить об ошибке",
    }
    assert settings["links"] is False
    assert settings_of((site / "fr" / "index.html").read_text()) == settings  # one per site
    assert 'name="erratum-lang"' not in index
    french = (site / "fr" / "index.html").read_text()
    assert '<meta name="erratum-lang" content="fr">' in french  # the code the widget speaks
    assert nojs_link(french)["title"] == "Erreur sur la page «\u202fBonjour\u202f»"
    assert 'lang="fr_FR"><a href=' in french
    # A language the site has no texts for: the theme's, and no page language is claimed.
    other = (site / "xx" / "index.html").read_text()
    assert 'name="erratum-lang"' not in other and nojs_link(other)["title"].startswith("Error")
