"""The correction service: receives anonymous reports, stores them, files branches or issues.

Modules: `settings` (TOML file and environment), `store` (SQLite, durable before any 202),
`abuse` (limits, proof of work, clean reader text), `backends` (git, and github through the
gateway), `worker` (background sending), `app` (the HTTP API), `logs` (JSON lines),
`cli` (``erratum serve``). Needs the ``service`` extra: ``pip install mkdocs-erratum[service]``.
"""
