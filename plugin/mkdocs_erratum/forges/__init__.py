"""Forges: a `base.Forge` protocol and one module per forge.

- `base`: the protocol, its neutral errors and data, the report markers;
- `target`: the forges' kinds and `target.ForgeTarget` (re-exported by `base`), light;
- `web`: each forge's web addresses (permalinks, prefilled new-issue links), pure;
- `detect`: which forge and project a site's ``repo_url`` (or ``forge`` option) names;
- `factory`: a `base.Forge` for a kind, importing that forge's module by name;
- `github`, `gitlab`, `forgejo` (Forgejo and Gitea), `local_git`: the forges, each the
  only importer of its client library.

Importing this package imports no client library.
"""
