"""mkdocs-erratum: readers report errors on a page; maintainers get a pull request.

The package is split by concern: `sourcemap` (pure alignment of rendered text with
Markdown lines), `extension` (the Python-Markdown extension that annotates pages),
`plugin` and `config` (the thin MkDocs adapter), `report` (the one report schema),
`repository` (git facts about the site being built).
"""

__version__ = "0.1.0"
