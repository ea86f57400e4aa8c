"""The one Jinja environment: package templates, StrictUndefined, autoescape for HTML and XML.

User templates (`policyengine report --template FILE`) render in a sandboxed twin of it that sees
only the fields of the view-model and may extend or include only the built-in templates.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from policyengine.report.filters import FILTERS


def _settings() -> dict[str, Any]:
    return {
        "loader": jinja2.PackageLoader("policyengine.report", "templates"),
        "undefined": jinja2.StrictUndefined,
        "autoescape": jinja2.select_autoescape(
            ["html", "htm", "xml", "svg", "html.j2", "htm.j2", "xml.j2", "svg.j2"],
            default_for_string=False,
        ),
        "keep_trailing_newline": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }


@cache
def environment() -> jinja2.Environment:
    """The environment every built-in template renders in (built once, on first use)."""
    env = jinja2.Environment(**_settings())
    env.filters.update(FILTERS)
    return env


class Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, narrowed further: of a view-model object only its fields are visible.

    pydantic models carry methods (some read files, such as the deprecated ``parse_file``); a
    template has no business with any of them, so every attribute that is not a field is unsafe.
    """

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Whether a template may read ``obj.attr``."""
        if isinstance(obj, BaseModel):
            return attr in type(obj).model_fields
        return bool(super().is_safe_attribute(obj, attr, value))


@cache
def sandbox() -> Sandbox:
    """The environment user templates render in (built once, on first use)."""
    env = Sandbox(**_settings())
    env.filters.update(FILTERS)
    return env


def render(template: str, **context: object) -> str:
    """Render a built-in template with a view-model; a missing name is an error, never blank."""
    return environment().get_template(template).render(**context)
