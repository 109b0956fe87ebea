"""MkDocs hook of our own site: writes the reference sections from the code they describe.

A page asks for a generated section with a marker line:

- ``<!-- erratum:plugin-options -->``: every option of the plugin's config schema
  (`mkdocs_erratum.config.ErratumConfig`): name, type, default, and the docstring written
  under the option in ``config.py``;
- ``<!-- erratum:plugin-options-yaml -->``: the same options as one ``mkdocs.yml`` block
  holding every default;
- ``<!-- erratum:service-settings -->``: every setting of the correction service
  (`mkdocs_erratum.service.settings.describe_settings`).

Nothing in those sections is written by hand, so they cannot drift from the code. This
file sits under ``_hooks/``, which ``exclude_docs`` keeps out of the published site.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import re
import textwrap
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError

PLUGIN_OPTIONS = "<!-- erratum:plugin-options -->"
PLUGIN_OPTIONS_YAML = "<!-- erratum:plugin-options-yaml -->"
SERVICE_SETTINGS = "<!-- erratum:service-settings -->"


def on_page_markdown(markdown: str, /, *, page: Any, config: Any, files: Any) -> str | None:
    """Replace each marker line of the page by the section it names."""
    if "<!-- erratum:" not in markdown:
        return None
    makers = {
        PLUGIN_OPTIONS: plugin_options_markdown,
        PLUGIN_OPTIONS_YAML: plugin_options_yaml,
        SERVICE_SETTINGS: service_settings_markdown,
    }
    lines = markdown.split("\n")
    for index, line in enumerate(lines):
        marker = line.strip()
        if marker.startswith("<!-- erratum:"):
            if marker not in makers:
                raise PluginError(f"{page.file.src_uri}: unknown reference marker {marker}")
            lines[index] = makers[marker]()
    return "\n".join(lines)


def plugin_options_markdown() -> str:
    """One section per option of `ErratumConfig`, in the order of the schema."""
    from mkdocs_erratum.config import ErratumConfig

    sections = []
    for name, option, doc in config_options(ErratumConfig):
        if isinstance(option, c.Deprecated):
            continue
        facts = f"**Type:** {option_type(option)} · **Default:** {default_markdown(option)}"
        sections.append(f"### `{name}` {{#{name}}}\n\n{facts}\n\n{doc}\n")
    return "\n".join(sections)


def plugin_options_yaml() -> str:
    """A fenced ``mkdocs.yml`` excerpt listing every option with its default."""
    from mkdocs_erratum.config import ErratumConfig

    lines = ["```yaml", "plugins:", "  - erratum:"]
    for name, option, _doc in config_options(ErratumConfig):
        if isinstance(option, c.Deprecated) or "." in name:
            continue
        lines.append(f"      {name}: {yaml_value(option.default)}")
    lines.append("```")
    return "\n".join(lines)


def service_settings_markdown() -> str:
    """A table of the correction service's settings, from the service itself."""
    from mkdocs_erratum.service.settings import describe_settings

    rows = ["| Setting | Environment variable | Meaning [default] |", "| --- | --- | --- |"]
    for name, env, doc in describe_settings():
        rows.append(f"| `{name}` | `{env}` | {escape_cell(doc)} |")
    return "\n".join(rows)


def config_options(
    config_class: type[base.Config], prefix: str = ""
) -> list[tuple[str, c.BaseConfigOption, str]]:
    """``(dotted name, option, Markdown docstring)`` for each option, sub-configs expanded.

    Raises:
        PluginError: when an option has no docstring (the reference would have a hole).
    """
    docs = attribute_docstrings(config_class)
    out = []
    for name, option in config_class._schema:
        full = prefix + name
        doc = docs.get(name)
        if not doc and not isinstance(option, c.Deprecated):
            raise PluginError(
                f"{config_class.__name__}.{name} has no docstring: write one under the option "
                "in config.py, the configuration reference is generated from it"
            )
        out.append((full, option, rst_to_markdown(doc or "")))
        if isinstance(option, c.SubConfig):
            out.extend(config_options(option.config_class, prefix=full + "."))
    return out


def attribute_docstrings(cls: type) -> dict[str, str]:
    """The string literal written right under each class attribute, by attribute name.

    This is how MkDocs, Material and mkdocstrings document config options; Python keeps
    no trace of these strings at run time, so they are read from the source.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs = {}
    for current, following in itertools.pairwise(body):
        target = None
        if isinstance(current, ast.Assign) and len(current.targets) == 1:
            target = current.targets[0]
        elif isinstance(current, ast.AnnAssign):
            target = current.target
        if (
            isinstance(target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[target.id] = inspect.cleandoc(following.value.value)
    return docs


def option_type(option: c.BaseConfigOption) -> str:
    """A reader's name for what an option accepts, e.g. ``list of string``."""
    if isinstance(option, c.Optional):
        return option_type(option.option) + " or null"
    if "type_name" in type(option).__dict__:  # our own option classes name what they take
        return option.type_name
    if isinstance(option, c.Choice):
        return "one of " + ", ".join(f"`{yaml_value(v)}`" for v in option.choices)
    if isinstance(option, c.ListOfItems):
        return "list of " + option_type(option.option_type)
    if isinstance(option, c.DictOfItems):
        return "mapping of string to " + option_type(option.option_type)
    if isinstance(option, c.SubConfig):
        return "mapping (options below)"
    if isinstance(option, c.URL):
        return "URL"
    if isinstance(option, c.Type):
        kinds = option._type if isinstance(option._type, tuple) else (option._type,)
        return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
    return type(option).__name__


_TYPE_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "mapping",
}


def default_markdown(option: c.BaseConfigOption) -> str:
    """The default as inline code, or a word when there is none."""
    default = option.default
    if isinstance(option, c.SubConfig):
        return "see below"
    if default is None:
        # MkDocs marks every non-Optional option "required" (Optional passes the flag of
        # the option it wraps on): only a missing default outside Optional is required.
        if isinstance(option, c.Optional) or not getattr(option, "required", False):
            return "none"
        return "required"
    return f"`{yaml_value(default)}`"


def yaml_value(value: Any) -> str:
    """A scalar, list or mapping written as YAML flow style (JSON is valid YAML).

    >>> yaml_value(True), yaml_value(None), yaml_value("x"), yaml_value(["a"])
    ('true', 'null', '"x"', '["a"]')
    """
    return json.dumps(value, ensure_ascii=False)


def rst_to_markdown(text: str) -> str:
    """Docstrings use reST double backticks; Markdown wants single ones.

    >>> rst_to_markdown("Set ``enabled`` to `false`.")
    'Set `enabled` to `false`.'
    """
    return re.sub(r"``(.+?)``", r"`\1`", text)


def escape_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
