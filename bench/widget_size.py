"""What the reader widget weighs, in bytes gzipped (level 9), side by side.

- before the reader acts: ``erratum.js`` and ``erratum.css`` (the button, the
  per-paragraph link, the selection mode, Ctrl+Enter; goal <= 2,500 bytes);
- on the first press: the dialog's module and stylesheet (the dialog, the issue
  builder, the service client), and one language's strings;
- the whole widget: all its JS and CSS (goal <= 8,000 bytes; 8,497 before the split),
  and with the largest strings file, what a Japanese reader who reports downloads;

each as the site gets it (`widget.asset_text`: ``assets/dist/``, minified by terser and
Lightning CSS) and as the package's sources, with their ratio. Also the settings a page
embeds, for one and for two languages. Run: ``python bench/widget_size.py``.
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
    dialog = ["erratum-dialog.js", "erratum-dialog.css"]
    groups = {
        "before the reader acts (loader JS + CSS)": list(widget.LOADER),
        "on the first press: the dialog's JS + CSS": dialog,
        "on the first press: the English strings": ["strings.en.json"],
        f"on the first press: the largest strings ({largest})": [f"strings.{largest}.json"],
        "whole widget, JS + CSS (loader + dialog)": [*widget.LOADER, *dialog],
        f"whole widget with the largest strings ({largest})": [
            *widget.LOADER,
            *dialog,
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
