"""User templates: rendered in the sandbox, every failure turned into a diagnostic at file:line.

A user template sees what the built-in ones see (``report``, ``graph_svg``) and may extend or
include the built-in templates by name, and nothing else: no Python attribute outside the
view-model's fields, no module, no file.
"""

from __future__ import annotations

import re
import traceback
from pathlib import PurePath

import jinja2
from jinja2.exceptions import SecurityError

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError, did_you_mean
from policyengine.report import view
from policyengine.report.render import environment, sandbox

_NO_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'")
_PROVIDED = "a template sees `report` (its fields are in docs/reports.md) and `graph_svg`"


def render_template(source: str, path: str, **context: object) -> str:
    """Render the user's template ``source`` (read from ``path``) with ``context``.

    Raises PolicyEngineError with one diagnostic (PE701–PE705) when the template does not parse,
    reaches outside the sandbox, names something reports do not provide, loads a template that is
    not built in, or fails while rendering.
    """
    key = f"user/{PurePath(path).name}"  # the suffix (.html, .xml) switches autoescaping on

    def load(name: str) -> tuple[str, str, None] | None:
        return (source, path, None) if name == key else None

    builtin = environment().loader
    assert builtin is not None
    loader = jinja2.ChoiceLoader([jinja2.FunctionLoader(load), builtin])
    env = sandbox().overlay(loader=loader)
    try:
        return env.get_template(key).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise _error(
            codes.TEMPLATE_SYNTAX,
            path,
            error.lineno,
            f"invalid template: {_clean(error.message or 'syntax error')}",
            "see https://jinja.palletsprojects.com/en/stable/templates/ for the syntax",
        ) from None
    except SecurityError as error:
        raise _error(
            codes.TEMPLATE_UNSAFE,
            path,
            _line(error, path),
            f"the template reaches outside the sandbox: {_clean(str(error))}",
            "templates may read the fields of the view-model only; no Python internals, "
            "modules or files",
        ) from None
    except jinja2.UndefinedError as error:
        raise _error(
            codes.TEMPLATE_UNDEFINED,
            path,
            _line(error, path),
            f"the template uses something reports do not provide: {_clean(error.message or '')}",
            _suggest(error.message or "") or _PROVIDED,
        ) from None
    except jinja2.TemplateNotFound as error:
        names = ", ".join(f"`{n}`" for n in _builtins())
        raise _error(
            codes.TEMPLATE_NOT_FOUND,
            path,
            _line(error, path),
            f"`{error.name}` is not a built-in template",
            f"a template may extend or include only the built-in ones: {names}",
        ) from None
    except Exception as error:  # any other failure inside the template is the template's
        raise _error(
            codes.TEMPLATE_FAILED,
            path,
            _line(error, path),
            f"the template failed: {_clean(str(error))}",
            _PROVIDED,
        ) from None


def _clean(message: str) -> str:
    """Jinja's message in the project's style: lowercase start, no trailing period."""
    message = message.strip().rstrip(".")
    return message[:1].lower() + message[1:]


def _builtins() -> list[str]:
    return [n for n in environment().list_templates() if n.startswith("report.")]


def _line(error: BaseException, path: str) -> int | None:
    """The template line a runtime error was raised at (Jinja maps its frames to the template)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
    return frames[-1].lineno if frames else None


def _suggest(message: str) -> str | None:
    match = _NO_ATTRIBUTE.search(message)
    if match is None:
        return None
    fields = sorted({name for model in _models() for name in model.model_fields})
    return did_you_mean(match.group(1), fields)


def _models() -> list[type[view.View]]:
    return [m for m in vars(view).values() if isinstance(m, type) and issubclass(m, view.View)]


def _error(
    code: str, path: str, line: int | None, message: str, help_text: str
) -> PolicyEngineError:
    where = Location(path, line, 1) if line else Location(path)
    return PolicyEngineError([Diagnostic(code, message, where, help=help_text)])
