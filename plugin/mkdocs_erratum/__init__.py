"""mkdocs-erratum: readers report errors on a page; maintainers get a pull request.

The package is split by concern, lower layers first (a module never imports a later one):

- `text_rules`: how reader text is written into Markdown (neutralised, fenced, linked);
- `report`: the one report schema, and finding it in an issue body (CommonMark);
- `corrections`: where a reported block is now and what the file becomes (pure);
- `gate`: the one place that decides what a report may change (which report, scope,
  relocation, replacement safety); every path below runs it;
- `sourcemap` (pure alignment of rendered text with Markdown lines), `extension` (the
  Python-Markdown extension that annotates pages), `manifest` (what a published site
  lets readers report), `widget` (build-time side of the reader widget), `repository`
  (git facts about the site being built), `zensical_host` (the page Zensical is
  rendering, and its site configuration);
- `config`, `site_files` (what a built site needs beyond its HTML, for both hosts: the
  widget's tags and files, the manifest; ``erratum assets`` under Zensical) and
  `plugin`: the thin MkDocs adapter;
- `forges`: the `forges.base.Forge` protocol and one module per forge (GitHub, GitLab,
  Forgejo/Gitea, local git), the only importers of their client libraries; `fixer`:
  from a report to a pull request over any forge;
- `service`: the optional correction service; `cli`: the ``erratum`` command.
"""

__version__ = "0.1.0"
