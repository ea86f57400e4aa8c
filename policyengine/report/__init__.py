"""Presentation: plain view-models built from rules and decisions, rendered through Jinja templates.

Templates hold no logic; everything they show is computed here first. The compliance report of a
check run comes in four formats, each a plain function of the run and the generation time:
:func:`html`, :func:`markdown`, :func:`junit` and :func:`json_document` (:func:`json_text` for its
text). :func:`build` returns the view-model itself.

The formats are imported on first use: `check` prints through :mod:`check_text` alone, and
loading Jinja2 and every format to do so would slow each run of the gate. :func:`build` is bound
at import, as before: a lazy name equal to its submodule's would be shadowed by that submodule
once anything imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from policyengine.report.build import build

if TYPE_CHECKING:
    from policyengine.report.formats import (
        FORMATS,
        html,
        json_document,
        json_text,
        junit,
        markdown,
        render_custom,
        render_view,
    )
    from policyengine.report.view import SCHEMA_VERSION, Report

_HOMES = {
    "FORMATS": "formats",
    "SCHEMA_VERSION": "view",
    "Report": "view",
    "html": "formats",
    "json_document": "formats",
    "json_text": "formats",
    "junit": "formats",
    "markdown": "formats",
    "render_custom": "formats",
    "render_view": "formats",
}

__all__ = [
    "FORMATS",
    "SCHEMA_VERSION",
    "Report",
    "build",
    "html",
    "json_document",
    "json_text",
    "junit",
    "markdown",
    "render_custom",
    "render_view",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
