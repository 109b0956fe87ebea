"""Regenerate ``openapi_subset.json``: the part of GitHub's REST description the stand-in serves.

The description comes from the npm package ``@octokit/openapi`` at one pinned version,
fetched with ``npm pack`` into a temporary folder (nothing of it is committed but the
subset). Run from the repository root::

    python tests/standin/make_openapi_subset.py

What the script changes in GitHub's description, and why:

- Only the operations in `OPERATIONS` are kept, with the components they reference;
  examples are dropped (they are large and not used for validation).
- Known quirk: some schemas are ``nullable: true`` with an ``enum`` that lacks ``null``
  (e.g. ``issue.state_reason``), which makes a real ``null`` from GitHub invalid. ``null``
  is added to those enums.
- Two quirks that make valid answers fail in any validator: the ``get-content`` answer
  has a ``discriminator`` that maps ``array`` to the folder listing (a discriminator can
  only read objects), and some error answers are a ``oneOf`` of error bodies that all
  accept ``{"message": ...}`` (so a real error matches more than one). The first loses
  its discriminator, the second becomes an ``anyOf``.
- GitHub answers any operation with bad credentials (401), a secondary rate limit
  (403) or a 5xx from its front end; most operations do not list them. ``401`` and
  ``403`` (when missing) and ``5XX`` responses with GitHub's ``basic-error`` body are
  added so these answers are validated too.
"""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
DESCRIPTION = "package/generated/api.github.com.json"
OUTPUT = pathlib.Path(__file__).with_name("openapi_subset.json")

OPERATIONS: list[tuple[str, str]] = [
    ("get", "/user"),
    ("get", "/users/{username}"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/installation"),
    ("post", "/app/installations/{installation_id}/access_tokens"),
    ("get", "/repos/{owner}/{repo}/branches/{branch}"),
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("post", "/repos/{owner}/{repo}/git/refs"),
    ("get", "/repos/{owner}/{repo}/contents/{path}"),
    ("put", "/repos/{owner}/{repo}/contents/{path}"),
    ("post", "/repos/{owner}/{repo}/forks"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("get", "/search/issues"),
]


def fetch_description(workdir: str) -> dict:
    """``npm pack`` the pinned package into ``workdir`` and load its REST description."""
    subprocess.run(
        ["npm", "pack", "--silent", f"{PACKAGE}@{VERSION}", "--pack-destination", workdir],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = pathlib.Path(workdir).glob("*.tgz")
    with tarfile.open(tarball) as tar:
        member = tar.extractfile(DESCRIPTION)
        assert member is not None
        return json.load(member)


def subset(spec: dict) -> dict:
    """The operations of `OPERATIONS` with every component they reference, patched."""
    paths: dict = {}
    for method, path in OPERATIONS:
        item = spec["paths"][path]
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k == "parameters"})
        kept[method] = copy.deepcopy(item[method])
    components: dict = {}
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        _, _, kind, name = ref.split("/", 3)
        if name in components.get(kind, {}):
            continue
        value = copy.deepcopy(spec["components"][kind][name])
        components.setdefault(kind, {})[name] = value
        pending.extend(_refs(value))
    result = {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-subset-of": f"{PACKAGE}@{VERSION}"},
        "servers": spec["servers"],
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }
    _drop_examples(result)
    _patch_nullable_enums(result)
    _patch_unreadable_choices(result)
    _add_fault_responses(result)
    return result


def _refs(node, prefix: str = "#/components/"):
    """Every ``$ref`` under ``node`` that starts with ``prefix``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(prefix):
                yield value
            else:
                yield from _refs(value, prefix)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value, prefix)


def _drop_examples(node, parent: str = "") -> None:
    if isinstance(node, dict):
        if parent != "properties":
            node.pop("examples", None)
            node.pop("example", None)
        for key, value in node.items():
            _drop_examples(value, key)
    elif isinstance(node, list):
        for value in node:
            _drop_examples(value)


def _patch_nullable_enums(node) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True and "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        for value in node.values():
            _patch_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _patch_nullable_enums(value)


def _patch_unreadable_choices(spec: dict) -> None:
    schemas = spec["components"]["schemas"]

    def target(ref: str) -> dict:
        return schemas.get(ref.rsplit("/", 1)[-1], {})

    def walk(node) -> None:
        if isinstance(node, dict):
            mapping = node.get("discriminator", {}).get("mapping", {})
            if any(target(ref).get("type") == "array" for ref in mapping.values()):
                del node["discriminator"]
            options = node.get("oneOf", [])
            refs = [o.get("$ref", "") for o in options]
            if options and all(ref.endswith("-error") for ref in refs):
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["paths"])


def _add_fault_responses(spec: dict) -> None:
    error = {
        "description": "Added by make_openapi_subset.py: secondary rate limit or front-end fault",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}},
    }
    spec["components"]["schemas"].setdefault("basic-error", _BASIC_ERROR)
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            responses.setdefault("401", error)
            responses.setdefault("403", error)
            responses.setdefault("5XX", error)


_BASIC_ERROR = {
    "title": "Basic Error",
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "documentation_url": {"type": "string"},
        "url": {"type": "string"},
        "status": {"type": "string"},
    },
}


def main() -> int:
    with tempfile.TemporaryDirectory() as workdir:
        spec = fetch_description(workdir)
    result = subset(spec)
    OUTPUT.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    count = sum(len([m for m in item if m != "parameters"]) for item in result["paths"].values())
    print(f"wrote {OUTPUT} ({count} operations, {OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
