"""The one Jinja environment: package templates, StrictUndefined, autoescape for HTML and XML."""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    """The environment every built-in template renders in (built once, on first use)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("policyengine.report", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: object) -> str:
    """Render a built-in template with a view-model; a missing name is an error, never blank."""
    return environment().get_template(template).render(**context)
