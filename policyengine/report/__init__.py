"""Presentation: plain view-models built from rules and decisions, rendered through Jinja templates.

Templates hold no logic; everything they show is computed here first. The compliance report of a
check run comes in four formats, each a plain function of the run and the generation time:
:func:`html`, :func:`markdown`, :func:`junit` and :func:`json_document` (:func:`json_text` for its
text). :func:`build` returns the view-model itself.
"""

from policyengine.report.build import build
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
