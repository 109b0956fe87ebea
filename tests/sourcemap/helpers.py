"""Run Python-Markdown with the source-map extension on a file and list what it emitted."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
from lxml import html as lhtml

from mkdocs_erratum.extension import ATTRIBUTE, SourceMapExtension
from mkdocs_erratum.repository import RepositoryFacts


def convert(
    tmp_path: Path,
    text: str | bytes,
    extensions: list | None = None,
    configs: dict | None = None,
    name: str = "page.md",
    rendered: str | None = None,
) -> tuple[str, SourceMapExtension]:
    """Convert ``text`` (written to ``tmp_path/name``) and return the HTML and extension.

    ``rendered`` is the text actually converted when it differs from the file, as when
    a plugin rewrote it before Markdown saw it.
    """
    page = tmp_path / name
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(text if isinstance(text, bytes) else text.encode())
    source = rendered
    if source is None:
        decoded = text.decode("utf-8-sig") if isinstance(text, bytes) else text
        source = decoded.replace("\r\n", "\n")
    ext = SourceMapExtension(repository=RepositoryFacts(base_dir=str(tmp_path)))
    md = markdown.Markdown(extensions=[*(extensions or []), ext], extension_configs=configs or {})
    ext.expect_page(str(page), source)
    return md.convert(source), ext


def annotated(html: str) -> list[tuple[str, str, str]]:
    """(tag, first words of the text, 'PATH#LA-LB') of every annotated element, in order."""
    root = lhtml.fragment_fromstring(html, create_parent="div")
    out = []
    for el in root.iter():
        value = el.get(ATTRIBUTE)
        if value is not None:
            text = re.sub(r"\s+", " ", el.text_content()).strip()
            out.append((el.tag, text[:40], value))
    return out


def ranges_of(html: str) -> list[tuple[str, str, str]]:
    """(tag, text, 'LA-LB') of every annotated element, in document order (path left out).

    A list, not a mapping: repeated elements (the same paragraph twice) are each checked.
    """
    return [(tag, text, value.split("#", 1)[1]) for tag, text, value in annotated(html)]
