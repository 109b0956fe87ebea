"""The maintainers' HTML pages: the triage view (``erratum list --html``) and the service's
``/admin`` page, rendered with Jinja2 from ``templates/*.html`` (autoescaped: every value,
reader text included, is escaped). The pages run no script. Not the widget's assets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources

import jinja2


@functools.cache
def _environment() -> jinja2.Environment:
    folder = resources.files("mkdocs_erratum") / "templates"
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (folder / name).read_text(encoding="utf-8")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render_page(name: str, filters: dict[str, Callable] | None = None, **values) -> str:
    """The page ``templates/<name>`` with ``values`` (and extra ``filters``)."""
    environment = _environment()
    if filters:
        environment = environment.overlay()
        environment.filters.update(filters)
    return environment.get_template(name).render(**values)


__all__ = ["render_page"]
