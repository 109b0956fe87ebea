"""Regenerate ``gitlab_subset.json`` and ``forgejo_subset.json`` from the forges' Swagger 2.0.

GitLab (REST v4) and Forgejo (API v1, which Gitea shares) describe their APIs in Swagger
2.0, which openapi-core does not read. Rather than a second validator, the part the
stand-ins serve is trimmed here and converted to OpenAPI 3.0 by ``swagger2openapi``
(npm, one pinned version, run through ``npx``), so one validator (`spec.ApiDescription`)
checks all three stand-ins. The full descriptions are not committed (see
``/work/shared/specs/README.md`` for their versions and sources): only the subsets are,
since CI has no copy of them. Run from the repository root::

    python tests/standin/make_swagger_subsets.py [SPECS_DIR]

What the script changes, and why (each is a known flaw of the description, not of the
forge; the stand-ins then answer as the forge does):

- Only the operations in `GITLAB_OPERATIONS` / `FORGEJO_OPERATIONS` are kept, with the
  definitions, responses and parameters they reference; examples are dropped.
- GitLab: ``branch`` in ``/repository/branches/{branch}`` is typed ``integer`` (a
  branch name is a string); the commit ``actions`` items require ``previous_path``,
  ``content`` and ``execute_filemode`` (GitLab's documentation and the server require
  only ``action`` and ``file_path``); listing merge requests, the tree and users is
  described as one object (each answers an array); ``start_project`` is ``int32``
  (it takes an id or a path); the fields of `GITLAB_FIELD_TYPES` are typed ``string``
  (GitLab answers numbers, label lists and booleans). Each is corrected.
- Forgejo: ``GET /repos/{owner}/{repo}/contents/{filepath}`` is described as one
  ``ContentsResponse``; for a folder it answers a list of them (as its summary says).
  Its answer becomes ``oneOf`` the two (in OpenAPI 3: Swagger 2.0 has no ``oneOf``).
- The server is made absolute (``https://gitlab.com``, ``https://codeberg.org/api/v1``)
  so request URLs can be matched.
- Error answers described without a body get the forge's error body; and both forges
  answer any operation with 401 (bad token), 403 (no permission), 404
  (not found or not visible), 429 (rate limit) and 5xx from their front end; most
  operations do not list them. They are added, with the forge's error body
  (GitLab ``{"message": ...}`` or ``{"error": ...}``, Forgejo ``APIError``), so these
  answers are validated too.

Not here: GitLab's issues, notes, labels and ``GET /user``, which the description lacks
(gitlab-org/gitlab issue 486493). The GitLab stand-in models them on GitLab's REST
documentation and marks them as not validated (``NOT_VALIDATED`` in ``gitlab.py``).
"""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
import sys
import tempfile

import yaml

try:  # tests/standin as a package (python -m) or as a script
    from .make_openapi_subset import _drop_examples, _refs
except ImportError:
    from make_openapi_subset import _drop_examples, _refs

CONVERTER = "swagger2openapi@7.0.8"
HERE = pathlib.Path(__file__).parent
DEFAULT_SPECS = pathlib.Path("/work/shared/specs")

GITLAB_SOURCE = "gitlab-v4-openapi_v2.yaml"
GITLAB_SERVER = "https://gitlab.com"
GITLAB_OPERATIONS: list[tuple[str, str]] = [
    ("get", "/api/v4/projects/{id}"),
    ("get", "/api/v4/projects/{id}/repository/tree"),
    ("get", "/api/v4/projects/{id}/repository/files/{file_path}"),
    ("get", "/api/v4/projects/{id}/repository/branches/{branch}"),
    ("post", "/api/v4/projects/{id}/repository/commits"),
    ("get", "/api/v4/projects/{id}/merge_requests"),
    ("post", "/api/v4/projects/{id}/merge_requests"),
    ("get", "/api/v4/projects/{id}/merge_requests/{merge_request_iid}"),
    ("post", "/api/v4/projects/{id}/fork"),
    ("get", "/api/v4/projects/{id}/forks"),
    ("get", "/api/v4/users"),
]
GITLAB_LISTS = (
    "/api/v4/projects/{id}/merge_requests",
    "/api/v4/projects/{id}/repository/tree",
    "/api/v4/users",
)
"""Listings GitLab's description calls one object (they answer arrays)."""
GITLAB_FIELD_TYPES: dict[tuple[str, str], dict] = {
    ("API_Entities_ProjectAccess", "access_level"): {"type": "integer"},
    ("API_Entities_ProjectAccess", "notification_level"): {"type": "integer"},
    ("API_Entities_GroupAccess", "access_level"): {"type": "integer"},
    ("API_Entities_GroupAccess", "notification_level"): {"type": "integer"},
    **{
        (entity, name): kind
        for entity in ("API_Entities_MergeRequestBasic", "API_Entities_MergeRequest")
        for name, kind in (
            ("source_project_id", {"type": "integer"}),
            ("target_project_id", {"type": "integer"}),
            ("labels", {"type": "array", "items": {"type": "string"}}),
            ("draft", {"type": "boolean"}),
        )
    },
}
"""Fields GitLab's description types as strings that GitLab answers as numbers, lists
of label names and booleans (its Grape entities document them as ``string``)."""

FORGEJO_SOURCE = "forgejo-v15.0.3-swagger.v1.json"
FORGEJO_SERVER = "https://codeberg.org/api/v1"
FORGEJO_OPERATIONS: list[tuple[str, str]] = [
    ("get", "/user"),
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/contents/{filepath}"),
    ("post", "/repos/{owner}/{repo}/contents"),
    ("get", "/repos/{owner}/{repo}/branches/{branch}"),
    ("post", "/repos/{owner}/{repo}/branches"),
    ("post", "/repos/{owner}/{repo}/forks"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/{index}"),
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("get", "/repos/{owner}/{repo}/issues/{index}"),
    ("get", "/repos/{owner}/{repo}/issues/{index}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{index}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{index}/labels"),
    ("get", "/repos/{owner}/{repo}/labels"),
    ("post", "/repos/{owner}/{repo}/labels"),
]

FAULT_STATUSES = ("401", "403", "404", "429", "5XX")

GITLAB_ERROR = {
    "description": "Added by make_swagger_subsets.py: GitLab's error body",
    "type": "object",
    "properties": {
        "message": {},
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
}


def trim(spec: dict, operations: list[tuple[str, str]]) -> dict:
    """A Swagger 2.0 document with only ``operations`` and what they reference."""
    paths: dict = {}
    for method, path in operations:
        item = spec["paths"][path]
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k == "parameters"})
        kept[method] = copy.deepcopy(item[method])
    kept_parts: dict[str, dict] = {}
    pending = list(_refs(paths, "#/"))
    while pending:
        _, kind, name = pending.pop().split("/", 2)
        if name in kept_parts.get(kind, {}):
            continue
        value = copy.deepcopy(spec[kind][name])
        kept_parts.setdefault(kind, {})[name] = value
        pending.extend(_refs(value, "#/"))
    out = {k: spec[k] for k in ("swagger", "info", "securityDefinitions") if k in spec}
    out["produces"] = ["application/json"]
    out["consumes"] = ["application/json"]
    out["paths"] = paths
    for kind in ("definitions", "responses", "parameters"):
        if kind in kept_parts:
            out[kind] = dict(sorted(kept_parts[kind].items()))
    return out


def patch_gitlab(spec: dict) -> None:
    """Correct the GitLab description's known flaws (see the module docstring)."""
    paths = spec["paths"]
    for param in paths["/api/v4/projects/{id}/repository/branches/{branch}"]["get"]["parameters"]:
        if param["name"] == "branch":
            param["type"] = "string"
    for (entity, name), kind in GITLAB_FIELD_TYPES.items():
        field = spec["definitions"][entity]["properties"][name]
        spec["definitions"][entity]["properties"][name] = {**kind, **_described(field)}
    commit = spec["definitions"]["postApiV4ProjectsIdRepositoryCommits"]["properties"]
    commit["actions"]["items"]["required"] = ["action", "file_path"]
    commit["start_project"] = {"description": commit["start_project"].get("description", "")}
    for path in GITLAB_LISTS:
        listing = paths[path]["get"]["responses"]["200"]
        if listing["schema"].get("type") != "array":
            listing["schema"] = {"type": "array", "items": listing["schema"]}
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation.pop("produces", None)
                operation.pop("consumes", None)


def _described(field: dict) -> dict:
    return {"description": field["description"]} if "description" in field else {}


def patch_forgejo(openapi: dict) -> None:
    """Correct the Forgejo description's known flaw (after conversion: see the docstring)."""
    answer = openapi["paths"]["/repos/{owner}/{repo}/contents/{filepath}"]["get"]["responses"]
    content = openapi["components"]["responses"]["ContentsResponse"]["content"]
    one = content["application/json"]["schema"]
    answer["200"] = {
        "description": "ContentsResponse, or a list of them for a folder",
        "content": {
            "application/json": {"schema": {"oneOf": [one, {"type": "array", "items": one}]}}
        },
    }


def convert(swagger: dict) -> dict:
    """OpenAPI 3.0 from Swagger 2.0, by ``swagger2openapi`` (``--patch`` fixes trifles)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = pathlib.Path(tmp, "swagger.json")
        target = pathlib.Path(tmp, "openapi.json")
        source.write_text(json.dumps(swagger), encoding="utf-8")
        subprocess.run(
            ["npx", "--yes", CONVERTER, "--patch", "--outfile", str(target), str(source)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(target.read_text(encoding="utf-8"))


def finish(openapi: dict, server: str, error_schema: dict, source: str) -> dict:
    """Absolute server, no examples, the fault answers every operation may give."""
    openapi["servers"] = [{"url": server}]
    openapi["info"] = {**openapi["info"], "x-subset-of": source}
    _drop_examples(openapi)
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("StandinFaultError", error_schema)
    fault = {
        "description": "Added by make_swagger_subsets.py: refused, rate limit or front-end fault",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/StandinFaultError"}}
        },
    }
    for item in openapi["paths"].values():
        for method, operation in item.items():
            if method in ("parameters", "servers", "summary", "description"):
                continue
            responses = operation["responses"]
            errors = [s for s in responses if s[0] in "45"]
            for status in dict.fromkeys([*FAULT_STATUSES, *errors]):
                answer = responses.get(status)
                if answer is None or "content" not in answer:
                    responses[status] = fault
    return openapi


def make(specs: pathlib.Path) -> dict[str, dict]:
    """Both subsets, by output file name."""
    gitlab_full = yaml.load(
        (specs / GITLAB_SOURCE).read_text(encoding="utf-8"),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
    )
    gitlab = trim(gitlab_full, GITLAB_OPERATIONS)
    patch_gitlab(gitlab)
    forgejo_full = json.loads((specs / FORGEJO_SOURCE).read_text(encoding="utf-8"))
    forgejo = trim(forgejo_full, FORGEJO_OPERATIONS)
    forgejo_error = copy.deepcopy(forgejo_full["definitions"]["APIError"])
    forgejo_openapi = convert(forgejo)
    patch_forgejo(forgejo_openapi)
    return {
        "gitlab_subset.json": finish(convert(gitlab), GITLAB_SERVER, GITLAB_ERROR, GITLAB_SOURCE),
        "forgejo_subset.json": finish(
            forgejo_openapi, FORGEJO_SERVER, forgejo_error, FORGEJO_SOURCE
        ),
    }


def main(argv: list[str]) -> int:
    specs = pathlib.Path(argv[0]) if argv else DEFAULT_SPECS
    for name, result in make(specs).items():
        output = HERE / name
        output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        count = sum(len([m for m in i if m != "parameters"]) for i in result["paths"].values())
        print(f"wrote {output} ({count} operations, {output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
