"""A forge's REST description (a committed subset): validation and complete answers.

`ApiDescription.validate` checks one request and its response with openapi-core against
a subset: GitHub's ``openapi_subset.json`` (made by ``make_openapi_subset.py``), or
GitLab's and Forgejo's ``gitlab_subset.json`` and ``forgejo_subset.json`` (made by
``make_swagger_subsets.py``). `ApiDescription.complete`
fills in every required field that the stand-in does not care about, following the
schema, so answers look like the forge's in shape while the stand-in sets the fields that
matter (ids, URLs, shas, bodies).
"""

from __future__ import annotations

import functools
import json
import pathlib
import urllib.parse
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SUBSET = pathlib.Path(__file__).with_name("openapi_subset.json")
_MISSING = object()


@functools.cache
def load_description(name: str = SUBSET.name) -> ApiDescription:
    """The committed subset ``name`` (GitHub's by default), parsed once per process."""
    path = SUBSET.with_name(name)
    return ApiDescription(json.loads(path.read_text(encoding="utf-8")))


class ApiDescription:
    """One OpenAPI description, with a validator and an instance builder."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.openapi = OpenAPI.from_dict(spec)
        server = urllib.parse.urlsplit(spec["servers"][0]["url"])
        self.host_url = f"{server.scheme}://{server.netloc}"
        self.base_path = server.path.rstrip("/")
        """The server's path (``/api/v1`` on Forgejo), which request paths go under."""

    def operation(self, method: str, template: str) -> dict:
        """The operation object for ``method`` on the path ``template``."""
        return self.spec["paths"][template][method.lower()]

    def response_schema(self, method: str, template: str, status: int) -> dict:
        """The JSON schema of the ``status`` answer of an operation."""
        responses = self.operation(method, template)["responses"]
        response = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
        response = self.resolve(response)
        return response.get("content", {}).get("application/json", {}).get("schema", {})

    def resolve(self, node: dict) -> dict:
        """Follow ``$ref`` until a plain object."""
        while isinstance(node, dict) and "$ref" in node:
            _, _, kind, name = node["$ref"].split("/", 3)
            node = self.spec["components"][kind][name]
        return node

    def validate(
        self,
        method: str,
        template: str,
        path_params: dict[str, str],
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
        status: int,
        response_body: bytes,
        response_headers: dict[str, str],
    ) -> list[str]:
        """Check a request and its response against the description.

        Returns:
            One line per problem (empty when both are valid).
        """
        path = template
        for name, value in path_params.items():
            # The description's templates match one segment: quote slashes as GitHub allows.
            path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
        args: dict[str, Any] = {}
        for key, value in query:
            args.setdefault(key, value)
        request = MockRequest(
            self.host_url,
            method,
            self.base_path + path,
            args=args,
            headers=headers,
            data=body or None,
            content_type=(headers.get("Content-Type") or "application/json").split(";")[0],
        )
        problems = []
        for error in self.openapi.iter_request_errors(request):
            problems.append(f"request {method} {template}: {_describe(error)}")
        response = MockResponse(
            response_body,
            status_code=status,
            headers=response_headers,
            content_type="application/json" if response_body else "",
        )
        for error in self.openapi.iter_response_errors(request, response):
            problems.append(f"response {status} to {method} {template}: {_describe(error)}")
        return problems

    def complete(self, schema: dict, value: Any = _MISSING, *, url: str) -> Any:
        """``value`` with every field the schema requires and ``value`` lacks filled in.

        Filled strings are empty, numbers zero, booleans false, nullable fields null;
        ``uri`` strings point at ``url`` (the stand-in's own base), dates at a fixed time.
        """
        schema = self.resolve(schema)
        if "allOf" in schema:
            merged: dict = {"type": "object", "properties": {}, "required": []}
            for part in schema["allOf"]:
                part = self.resolve(part)
                merged["properties"].update(part.get("properties", {}))
                merged["required"] += part.get("required", [])
            return self.complete(merged, value, url=url)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key]]
                chosen = _discriminated(schema, value)
                if chosen is not None:
                    options = [self.resolve({"$ref": chosen})]
                if value is None or (value is _MISSING and schema.get("nullable")):
                    return None
                return self.complete(_pick(options, value), value, url=url)
        if value is None:
            return None
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if value is _MISSING:
                if schema.get("nullable"):
                    return None
                value = {}
            if not isinstance(value, dict):
                return value
            props = schema.get("properties", {})
            out = {}
            for name in schema.get("required", []):
                out[name] = self.complete(props.get(name, {}), value.get(name, _MISSING), url=url)
            for name, item in value.items():
                if name not in out:
                    out[name] = self.complete(props[name], item, url=url) if name in props else item
            return out
        if kind == "array":
            if value is _MISSING:
                return None if schema.get("nullable") else []
            return [self.complete(schema.get("items", {}), item, url=url) for item in value]
        if value is not _MISSING:
            return value
        if schema.get("nullable"):
            return None
        if "enum" in schema:
            return next(v for v in schema["enum"] if v is not None)
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "uri":
                return f"{url}/_standin/not-served"
            if fmt == "date-time":
                return "2026-01-01T00:00:00Z"
            if fmt == "email":
                return "nobody@standin.invalid"
            return ""
        if kind in ("integer", "number"):
            return schema.get("minimum", 0)
        if kind == "boolean":
            return False
        return None


def _discriminated(schema: dict, value: Any) -> str | None:
    """The ``$ref`` a discriminator maps ``value`` to, if any."""
    discriminator = schema.get("discriminator")
    if not discriminator or not isinstance(value, dict):
        return None
    return discriminator.get("mapping", {}).get(value.get(discriminator["propertyName"]))


def _pick(options: list[dict], value: Any) -> dict:
    """The first option of an anyOf/oneOf that fits ``value`` best."""
    non_null = [o for o in options if o.get("type") != "null"] or options
    if isinstance(value, dict):
        for option in non_null:
            props = option.get("properties", {})
            if all(name in props for name in value):
                return option
    return non_null[0]


def _describe(error: Exception) -> str:
    text = str(error)
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if details:
        text += ": " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in details[:5]
        )
    elif cause is not None:
        text += f": {cause}"[:500]
    return text
