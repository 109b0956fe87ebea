"""The site manifest: built from source maps, and checking reports against it (pure)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mkdocs_erratum.manifest import (
    ManifestError,
    build_manifest,
    check_report,
    load_manifest,
    page_keys,
    write_site_manifest,
)
from mkdocs_erratum.report import Report, ReportBlock, text_hash

LINES = ["# Title", "", "First line", "second line.", "", "Other."]
SNIPPET = ["Shared text."]
COMMIT = "a" * 40


def source_map():
    return SimpleNamespace(
        path="docs/page.md",
        files={"docs/page.md": LINES, "docs/snip.md": SNIPPET},
        ranges=[
            ("docs/page.md", 1, 1),
            ("docs/page.md", 3, 4),
            ("docs/page.md", 3, 4),  # nested blocks with the same range
            ("docs/snip.md", 1, 1),
            ("docs/page.md", 6, 9),  # past the end of the file: dropped
        ],
    )


def manifest(site_url=None):
    data = build_manifest(
        [("guide/page/", source_map()), ("empty/", SimpleNamespace(path="x", files={}, ranges=[]))],
        repository="acme/docs",
        commit=COMMIT,
        site_url=site_url,
    )
    return load_manifest(json.dumps(data))


def report(start=3, end=4, path="docs/page.md", page_url="https://x.org/guide/page/", **kw):
    lines = LINES if path == "docs/page.md" else SNIPPET
    text = "\n".join(lines[start - 1 : end]) if end <= len(lines) else "x"
    block = ReportBlock(path, start, end, text, text_hash(text), None)
    return Report(page_url=page_url, blocks=[block], commit=COMMIT, **kw)


def test_build_manifest_exact_shape():
    data = build_manifest([("guide/page/", source_map())], repository="acme/docs", commit=COMMIT)
    assert data == {
        "version": 1,
        "repository": "acme/docs",
        "commit": COMMIT,
        "site_url": None,
        "pages": {
            "guide/page/": {
                "path": "docs/page.md",
                "ranges": [
                    ["docs/page.md", 1, 1, text_hash("# Title")],
                    ["docs/page.md", 3, 4, text_hash("First line\nsecond line.")],
                    ["docs/snip.md", 1, 1, text_hash("Shared text.")],
                ],
            }
        },
        "files": {
            "docs/page.md": {"lines": 6, "sha256": text_hash("\n".join(LINES))},
            "docs/snip.md": {"lines": 1, "sha256": text_hash("Shared text.")},
        },
    }


@pytest.mark.parametrize(
    ("page_url", "site_url", "keys"),
    [
        ("https://x.org/a/b/", None, ["a/b/", "b/", ""]),
        ("https://x.org/", None, [""]),
        ("https://x.org/a/index.html#frag", None, ["a/", ""]),
        ("https://x.org/docs/a/?q=1", "https://x.org/docs/", ["a/"]),
        ("https://x.org/docs/", "https://x.org/docs", [""]),
        ("https://x.org/other/a/", "https://x.org/docs/", []),
        ("http://localhost:8000/docs/a/", "https://x.org/docs/", ["a/"]),
        ("https://x.org/a.html", None, ["a.html", ""]),
    ],
)
def test_page_keys(page_url, site_url, keys):
    assert page_keys(page_url, site_url) == keys


def test_a_published_block_passes():
    check_report(manifest(), report())
    check_report(manifest(), report(1, 1))
    check_report(manifest(), report(1, 1, "docs/snip.md"))
    check_report(manifest("https://x.org/"), report())
    check_report(manifest(), report(page_url="http://127.0.0.1:8000/guide/page/index.html"))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"page_url": "https://x.org/nowhere/"}, "unknown_page"),
        ({"page_url": "https://x.org/empty/"}, "unknown_page"),
        ({"path": "docs/other.md"}, "unknown_path"),
        ({"start": 3, "end": 3}, "unknown_range"),
        ({"start": 6, "end": 9}, "unknown_range"),
        ({"start": 2, "end": 4}, "unknown_range"),
        ({"repository": "evil/repo"}, "wrong_repository"),
    ],
)
def test_refusals(changes, code):
    with pytest.raises(ManifestError) as caught:
        check_report(manifest(), report(**changes))
    assert caught.value.code == code


def test_refuses_other_text_and_other_commit():
    changed = report()
    changed.blocks[0].original_sha256 = text_hash("something else")
    with pytest.raises(ManifestError, match="does not match") as caught:
        check_report(manifest(), changed)
    assert caught.value.code == "hash_mismatch"
    stale = report()
    stale.commit = "b" * 40
    with pytest.raises(ManifestError) as caught:
        check_report(manifest(), stale)
    assert caught.value.code == "stale_commit"


def test_refuses_pages_outside_the_site_url():
    with pytest.raises(ManifestError) as caught:
        check_report(manifest("https://x.org/docs/"), report())
    assert caught.value.code == "unknown_page"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"version": 2, "pages": {}, "files": {}}',
        '{"version": 1}',
        '{"version": 1, "pages": {"a/": {"ranges": [[1]]}}, "files": {}}',
    ],
)
def test_load_manifest_refuses_garbage(text):
    with pytest.raises(ManifestError) as caught:
        load_manifest(text)
    assert caught.value.code == "invalid_manifest"


def test_write_site_manifest(tmp_path):
    data = build_manifest([("guide/page/", source_map())], commit=COMMIT)
    path = write_site_manifest(str(tmp_path), data)
    assert path == str(tmp_path / "_erratum" / "manifest.json")
    assert load_manifest((tmp_path / "_erratum" / "manifest.json").read_text()).data == data
