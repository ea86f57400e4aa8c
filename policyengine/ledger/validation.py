"""Pydantic's validation errors → ledger diagnostics positioned by the caller.

The same approach as the rule loader's: a pydantic location is mapped to a path into the plain data
(segments the data does not hold, such as union tags, are skipped), and the caller's ``locate`` turns
that path into a position: a manifest's file:line:col, a CLI flag, or the API.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any

import pydantic
from pydantic_core import ErrorDetails

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, did_you_mean

Path = tuple[str | int, ...]


def from_pydantic(
    error: pydantic.ValidationError,
    locate: Callable[[Path], Location],
    *,
    data: object = None,
    model: type[pydantic.BaseModel] | None = None,
) -> list[Diagnostic]:
    """One diagnostic per validation error; ``data`` and ``model`` sharpen paths and hints."""
    return [_diagnostic(detail, locate, data, model) for detail in error.errors()]


def data_path(data: object, loc: Sequence[str | int]) -> Path:
    """The path into ``data`` that a pydantic location names, without segments it does not hold."""
    if data is None:
        return tuple(loc)
    path: list[str | int] = []
    node = data
    for segment in loc:
        found, child = child_of(node, segment)
        if found:  # otherwise a union tag or a key the data lacks: not a segment of the data
            node = child
            path.append(segment)
    return tuple(path)


def child_of(node: object, segment: str | int) -> tuple[bool, Any]:
    """(True, the value at ``segment``) of a mapping or list, else (False, None)."""
    if isinstance(node, dict):
        return (segment in node, node.get(segment))
    if isinstance(node, list) and isinstance(segment, int) and -len(node) <= segment < len(node):
        return True, node[segment]
    return False, None


def _diagnostic(
    detail: ErrorDetails,
    locate: Callable[[Path], Location],
    data: object,
    model: type[pydantic.BaseModel] | None,
) -> Diagnostic:
    loc = detail["loc"]
    path = data_path(data, loc)
    where = (
        f" in `{dotted(path[:-1] if detail['type'] == 'extra_forbidden' else path)}`"
        if path
        else ""
    )
    kind = detail["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = expected_keys(model, loc[:-1]) if model else []
        return Diagnostic(
            codes.LEDGER_UNKNOWN_KEY,
            f"unknown key `{key}`{where if len(path) > 1 else ''}",
            locate((*path, "\0key")),
            help=did_you_mean(key, allowed)
            or ("allowed keys: " + ", ".join(f"`{k}`" for k in allowed) if allowed else ""),
        )
    if kind == "missing":
        return Diagnostic(
            codes.LEDGER_MISSING_KEY,
            f"missing key `{loc[-1]}`" + (f" in `{dotted(path)}`" if path else ""),
            locate(path),
            help=f"add `{loc[-1]}`",
        )
    return Diagnostic(
        codes.LEDGER_BAD_VALUE,
        f"{_message(detail)}{where}",
        locate(path),
        help=_help(detail),
    )


def _message(detail: ErrorDetails) -> str:
    value = detail["input"]
    kind = detail["type"]
    if kind in {"int_type", "int_parsing", "int_from_float"} or (
        kind == "greater_than_equal" and isinstance(value, int)
    ):
        return f"{_shown(value)} is not a count (a whole number, 0 or more)"
    if kind.startswith(("date_", "datetime_")):
        return f"{_shown(value)} is not a date"
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    return f"invalid value {_shown(value)}"


def _help(detail: ErrorDetails) -> str:
    ctx = detail.get("ctx") or {}
    value = detail["input"]
    expected = str(ctx.get("expected", ""))
    if expected:
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        if isinstance(value, str):
            return did_you_mean(value, choices) or f"expected {expected}"
        return f"expected {expected}"
    if detail["type"] in _COUNT_ERRORS:
        return "write a whole number, 0 or more"
    if "pattern" in ctx:
        return "ids use letters, digits and `_ . @ / + -`; providers are lowercase"
    if detail["type"].startswith("date"):
        return "write dates as YYYY-MM-DD"
    return _lower(str(detail["msg"]))


_COUNT_ERRORS = frozenset({"int_type", "int_parsing", "int_from_float", "greater_than_equal"})


def dotted(path: Path) -> str:
    """``("datasets", 0, "inputs")`` → ``datasets[0].inputs``."""
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else segment)
    return text


def expected_keys(model: type[pydantic.BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys a model allows in the mapping at a pydantic location."""
    current: Any = model
    for segment in loc:
        if isinstance(segment, int):
            current = _element(current)
        else:
            found = _model_of(current)
            field = found.model_fields.get(segment) if found else None
            current = field.annotation if field else None
        if current is None:
            return []
    found = _model_of(current)
    return list(found.model_fields) if found else []


def _element(annotation: Any) -> Any:
    for arg in typing.get_args(annotation) or ():
        inner = typing.get_args(arg) or (arg,)
        if typing.get_origin(arg) is list or _model_of(inner[0]):
            return inner[0]
    args = typing.get_args(annotation)
    return args[0] if args else None


def _model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"`{value}`"


def _lower(message: str) -> str:
    message = message.rstrip(".")
    return message[:1].lower() + message[1:]
