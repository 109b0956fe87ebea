"""What the reader widget weighs, in bytes gzipped (level 9), side by side.

- before the reader acts: ``erratum.js`` and ``erratum.css`` (the button, the
  per-paragraph link, the selection mode and Ctrl+Enter; goal <= 2,500 bytes);
- on the first press: the dialog's module and stylesheet and one language's strings;
- the whole widget a reader who reports downloads (goal <= 8,000 bytes);

each as the site gets it (`widget.asset_text`: rJSmin/rCSSmin) and as the package's
sources, with their ratio. Also the settings a page embeds, for one and for two
languages. Run: ``python bench/widget_size.py``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from mkdocs_erratum import widget

SOURCES = Path(widget.__file__).parent / "assets"


def gz(text: str) -> int:
    return len(gzip.compress(text.encode("utf-8"), 9))


def sizes(names: list[str]) -> tuple[int, int]:
    """(as shipped, as the sources) for ``names``, gzipped one file at a time."""
    shipped = sum(gz(widget.asset_text(name)) for name in names)
    source = sum(gz((SOURCES / name).read_text(encoding="utf-8")) for name in names)
    return shipped, source


def main() -> None:
    largest = max(widget.LANGUAGES, key=lambda code: gz(widget.asset_text(f"strings.{code}.json")))
    groups = {
        "before the reader acts (loader JS + CSS)": list(widget.LOADER),
        "on the first press (dialog JS + CSS, English strings)": [
            "erratum-dialog.js",
            "erratum-dialog.css",
            "strings.en.json",
        ],
        f"the largest strings file ({largest})": [f"strings.{largest}.json"],
        "whole widget, English (loader + dialog + strings)": [
            *widget.LOADER,
            "erratum-dialog.js",
            "erratum-dialog.css",
            "strings.en.json",
        ],
        f"whole widget, {largest} (loader + dialog + strings)": [
            *widget.LOADER,
            "erratum-dialog.js",
            "erratum-dialog.css",
            f"strings.{largest}.json",
        ],
    }
    print(f"{'what':58} {'shipped':>8} {'sources':>8} {'ratio':>6}")
    for label, names in groups.items():
        shipped, source = sizes(names)
        print(f"{label:58} {shipped:8,} {source:8,} {shipped / source:6.3f}")
    for languages in (["en"], ["en", "fr"]):
        texts = {code: widget.resolve_strings(code, {}) for code in languages}
        settings = widget.browser_settings(
            repository="acme/guide", commit="0" * 40, branch="main",
            strings=texts[languages[0]], languages=texts,
        )  # fmt: skip
        raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":"))
        label = f"settings a page embeds, {'+'.join(languages)} (raw / gzipped)"
        print(f"{label:58} {len(raw.encode()):8,} {gz(raw):8,}")


if __name__ == "__main__":
    main()
