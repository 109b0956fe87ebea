"""The site manifest: which lines of which Markdown files a published site lets readers report.

The plugin writes it at build time (``_erratum/manifest.json`` in the site folder) from the
per-page source maps; the correction service loads it and refuses any report that does not
name a published page, one of the line ranges that page shows, and the exact text those
lines held at the commit the site was built from. So the service can never change anything
but reported lines of published Markdown. Pure: plain data in, plain data out; no MkDocs,
no HTTP.

Shape (version 1)::

    {"version": 1, "repository": "OWNER/NAME" | null, "commit": "<40 hex>" | null,
     "site_url": "https://example.com/docs/" | null,
     "pages": {"guide/": {"path": "docs/guide.md",
                          "ranges": [["docs/guide.md", 3, 5, "<sha256 of lines 3..5>"]]}},
     "files": {"docs/guide.md": {"lines": 42, "sha256": "<sha256 of the whole file>"}},
     "docs_dirs": ["docs"],
     "markdown": {"extensions": ["toc", "tables", ...], "configs": {"toc": {...}}}}

``docs_dirs`` (the repository folders whose Markdown the site is built from) and
``markdown`` (the site's Markdown extensions and their options, see
`gate.MarkdownConfig`) let the service run the gate as ``erratum fix`` does; a manifest
written before they existed lacks them and the gate then uses MkDocs' defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from mkdocs_erratum.report import Report, text_hash

if TYPE_CHECKING:  # the gate (lxml, markdown-it) loads only where a report is judged
    from mkdocs_erratum.gate import MarkdownConfig

MANIFEST_VERSION = 1
MANIFEST_PATH = "_erratum/manifest.json"
"""Where the plugin writes the manifest, relative to the site folder."""


class SourceMapLike(Protocol):
    """What `build_manifest` needs of a page's source map (`extension.PageSourceMap`)."""

    path: str | None
    files: dict[str, list[str]]
    ranges: list[tuple[str, int, int]]


class ManifestError(ValueError):
    """A report that the manifest does not allow.

    Attributes:
        code: a short machine-readable reason (``unknown_page``, ``unknown_path``,
            ``unknown_range``, ``hash_mismatch``, ``stale_commit``, ``wrong_repository``,
            ``invalid_manifest``).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Manifest:
    """A loaded manifest with fast look-ups."""

    data: dict[str, Any]

    @property
    def commit(self) -> str | None:
        return self.data.get("commit")

    @property
    def repository(self) -> str | None:
        return self.data.get("repository")

    @property
    def docs_dirs(self) -> list[str]:
        """The folders reports may change: as written at build time, else those of the
        published files."""
        dirs = self.data.get("docs_dirs")
        if isinstance(dirs, list) and dirs and all(isinstance(d, str) for d in dirs):
            return dirs
        return sorted({path.rpartition("/")[0] or "." for path in self.data["files"]})

    @property
    def markdown(self) -> MarkdownConfig:
        """The site's Markdown configuration (MkDocs' defaults when not written)."""
        from mkdocs_erratum.gate import MarkdownConfig

        return MarkdownConfig.from_data(self.data.get("markdown"))

    def page(self, page_url: str) -> tuple[str, dict[str, Any]] | None:
        """The manifest key and entry of the page at ``page_url``, or None."""
        pages = self.data["pages"]
        for key in page_keys(page_url, self.data.get("site_url")):
            if key in pages:
                return key, pages[key]
        return None


def lines_hash(lines: Sequence[str], start: int, end: int) -> str:
    """`text_hash` of lines ``start..end`` (1-based, inclusive) of ``lines``.

    >>> lines_hash(["a", "b", "c"], 2, 3) == text_hash("b\\nc")
    True
    """
    return text_hash("\n".join(lines[start - 1 : end]))


def build_manifest(
    pages: Iterable[tuple[str, SourceMapLike]],
    *,
    repository: str | None = None,
    commit: str | None = None,
    site_url: str | None = None,
    docs_dirs: Sequence[str] | None = None,
    markdown: MarkdownConfig | None = None,
) -> dict[str, Any]:
    """Build the manifest of a site from its pages' source maps.

    Args:
        pages: ``(page URL relative to the site, e.g. "guide/", source map)`` pairs.
        repository: ``OWNER/NAME`` when the site knows it.
        commit: the commit the site was built from.
        site_url: the site's public base URL (MkDocs ``site_url``), when set.
        docs_dirs: repository folders whose Markdown files reports may change.
        markdown: the site's Markdown configuration, for the gate's rendering.

    Returns:
        JSON-ready data (see the module docstring).
    """
    out_pages: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for url, source_map in pages:
        if source_map is None or not source_map.ranges:
            continue
        seen: set[tuple[str, int, int]] = set()
        ranges = []
        for path, start, end in source_map.ranges:
            lines = source_map.files.get(path)
            if lines is None or (path, start, end) in seen or end > len(lines):
                continue
            seen.add((path, start, end))
            ranges.append([path, start, end, lines_hash(lines, start, end)])
            if path not in files:
                files[path] = {"lines": len(lines), "sha256": text_hash("\n".join(lines))}
        out_pages[_normal_page_key(url)] = {"path": source_map.path, "ranges": ranges}
    return {
        "version": MANIFEST_VERSION,
        "repository": repository,
        "commit": commit,
        "site_url": site_url,
        "pages": out_pages,
        "files": files,
        **({"docs_dirs": list(docs_dirs)} if docs_dirs else {}),
        **({"markdown": markdown.to_data()} if markdown is not None else {}),
    }


def write_site_manifest(site_dir: str, manifest: dict[str, Any]) -> str:
    """Write ``manifest`` to `MANIFEST_PATH` under ``site_dir``; returns the file's path."""
    target = os.path.join(site_dir, *MANIFEST_PATH.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, separators=(",", ":"))
    return target


def load_manifest(text: str) -> Manifest:
    """Parse and validate manifest JSON text.

    Raises:
        ManifestError: with code ``invalid_manifest`` when the text is not a manifest.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError("invalid_manifest", f"manifest: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise ManifestError("invalid_manifest", "manifest: expected a version 1 manifest")
    if not isinstance(data.get("pages"), dict) or not isinstance(data.get("files"), dict):
        raise ManifestError("invalid_manifest", "manifest: 'pages' and 'files' must be objects")
    for key, entry in data["pages"].items():
        ranges = entry.get("ranges") if isinstance(entry, dict) else None
        if not isinstance(ranges, list) or not all(
            isinstance(r, list) and len(r) == 4 for r in ranges
        ):
            raise ManifestError("invalid_manifest", f"manifest: page {key!r} has bad ranges")
    return Manifest(data)


def check_report(manifest: Manifest, report: Report) -> None:
    """Refuse a report that names anything the published site does not show.

    Raises:
        ManifestError: naming the first block or field that does not match.
    """
    if manifest.repository and report.repository and report.repository != manifest.repository:
        raise ManifestError(
            "wrong_repository",
            f"This service takes reports for {manifest.repository}, not {report.repository}.",
        )
    if manifest.commit and report.commit and report.commit != manifest.commit:
        raise ManifestError(
            "stale_commit",
            "The page was built from another version of the site; reload it and try again.",
        )
    found = manifest.page(report.page_url)
    if found is None:
        raise ManifestError("unknown_page", "The page is not part of the published site.")
    _key, entry = found
    allowed = {(r[0], r[1], r[2]): r[3] for r in entry["ranges"]}
    paths = {r[0] for r in entry["ranges"]}
    for index, block in enumerate(report.blocks):
        where = f"blocks[{index}]"
        if block.path not in paths:
            raise ManifestError(
                "unknown_path", f"{where}: {block.path} is not a source of this page."
            )
        digest = allowed.get((block.path, block.start, block.end))
        if digest is None:
            raise ManifestError(
                "unknown_range",
                f"{where}: lines {block.start}-{block.end} of {block.path} are not a block "
                "of this page.",
            )
        if digest != block.original_sha256:
            raise ManifestError(
                "hash_mismatch",
                f"{where}: the original text does not match lines {block.start}-{block.end} "
                f"of {block.path} as published.",
            )


def page_keys(page_url: str, site_url: str | None = None) -> list[str]:
    """Candidate manifest keys for a page URL, most specific first.

    The key is the page's URL relative to the site (MkDocs ``page.url``). When the
    site's base URL is known, the page URL's path must be under its path; otherwise every
    suffix of its path is a candidate (a site can be served under any prefix). The host
    is not looked at here: the service checks it against its allowed origins.

    >>> page_keys("https://example.com/docs/guide/index.html?x#y", "https://example.com/docs/")
    ['guide/']
    >>> page_keys("http://127.0.0.1:8000/a/b/")
    ['a/b/', 'b/', '']
    """
    path = urlsplit(page_url).path or "/"
    if site_url:
        base = urlsplit(site_url).path or "/"
        if not base.endswith("/"):
            base += "/"
        if not (path + "/").startswith(base) and path != base.rstrip("/"):
            return []
        return [_normal_page_key(path[len(base) :])]
    parts = path.lstrip("/")
    keys = []
    while True:
        key = _normal_page_key(parts)
        if key not in keys:
            keys.append(key)
        if "/" not in parts.rstrip("/"):
            break
        parts = parts.split("/", 1)[1]
    if "" not in keys:
        keys.append("")
    return keys


def _normal_page_key(url: str) -> str:
    """``page.url`` forms made equal: ``a/index.html`` and ``a/`` are the same page.

    >>> _normal_page_key("/a/index.html")
    'a/'
    >>> _normal_page_key("index.html")
    ''
    """
    url = url.lstrip("/")
    if url == "index.html":
        return ""
    if url.endswith("/index.html"):
        return url[: -len("index.html")]
    return url
