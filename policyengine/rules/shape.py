"""Plain data → a validated :class:`RuleFile`, with pydantic's errors turned into diagnostics.

Pydantic reports locations as paths that include the tags of tagged unions (``'compare'``,
``'equals'``); those segments are not keys of the YAML (pydantic issue #7500), so a location is
mapped to a position by walking the plain data and skipping any segment it does not hold.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

import pydantic
from pydantic_core import ErrorDetails

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, did_you_mean
from policyengine.rules.schema import OPERATORS, TAGGED_MODELS, RuleFile
from policyengine.rules.source import Path, Source

TOP_LEVEL_KEYS = ("pack", "documents", "catalog", "rules", "tests")


def validate(source: Source) -> tuple[RuleFile | None, Diagnostics]:
    """Validate a parsed rule file against the schema, collecting every error with its position."""
    diagnostics = Diagnostics()
    try:
        return RuleFile.model_validate(source.data), diagnostics
    except pydantic.ValidationError as error:
        details = error.errors()
        for detail in details:
            if not _consequence(detail, details):
                diagnostics.add(_diagnostic(source, detail))
        return None, diagnostics


def _consequence(detail: ErrorDetails, details: Sequence[ErrorDetails]) -> bool:
    """Whether the error only follows from another: a list is "too short" because its only item
    failed (pydantic reports both)."""
    if detail["type"] != "too_short":
        return False
    loc = detail["loc"]
    return any(
        len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in details
    )


def data_path(data: object, loc: Sequence[str | int]) -> Path:
    """The path into ``data`` that a pydantic location names, without union-tag segments."""
    path: list[str | int] = []
    node = data
    for segment in loc:
        if isinstance(node, dict):
            found = segment in node
        else:
            found = isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)
        if found:  # otherwise the segment is a union tag, not a key of the data
            node = node[segment]  # type: ignore[index]
            path.append(segment)
    return tuple(path)


def _diagnostic(source: Source, detail: ErrorDetails) -> Diagnostic:
    loc = detail["loc"]
    path = data_path(source.data, loc)
    kind = detail["type"]
    where = _where(path)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        expected = expected_keys(loc[:-1])
        parent = path[:-1] if path and path[-1] == key else path
        return Diagnostic(
            codes.UNKNOWN_KEY,
            f"unknown key `{key}`{_where(parent)}",
            source.locate((*parent, key), key=True),
            help=did_you_mean(key, expected)
            or ("allowed keys: " + ", ".join(f"`{k}`" for k in expected) if expected else ""),
        )
    if kind == "missing":
        return Diagnostic(
            codes.MISSING_KEY,
            f"missing key `{loc[-1]}`{_where(path)}",
            source.locate(path),
            help=f"add `{loc[-1]}` to this mapping",
        )
    if kind == "union_tag_invalid":
        return _bad_tag(source, path, detail)
    if kind == "condition_form":
        return Diagnostic(
            codes.CONDITION_FORM,
            f"not a condition{where}",
            source.locate(path),
            help="write `all: [...]`, `any: [...]`, `not: {...}`, or `{fact: NAME, op: OP, value: V}`",
        )
    if kind.startswith(("date_", "datetime_")):
        return Diagnostic(
            codes.MALFORMED_DATE,
            f"`{detail['input']}` is not a date{where}",
            source.locate(path),
            help="write dates as YYYY-MM-DD",
        )
    if kind in {"too_short", "too_long"}:
        return _length(source, path, detail, where)
    scalar = isinstance(detail["input"], str | int | float | bool)
    if kind in {"enum", "literal_error", "string_pattern_mismatch"} and scalar:
        return _invalid_value(source, path, detail, where)
    wanted = _EXPECTED.get(kind) or _EXPECTED_BY_ENUM.get(kind, "a value of another form")
    return Diagnostic(
        codes.WRONG_TYPE,
        f"expected {wanted}{where}",
        source.locate(path),
        help=f"got {_describe(detail['input'])}",
    )


# pydantic error types → what the schema wanted, in the project's words.
_EXPECTED = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "`true` or `false`",
    "bool_parsing": "`true` or `false`",
}
_EXPECTED_BY_ENUM = {
    "enum": "one of the listed words",
    "literal_error": "one of the listed words",
    "string_pattern_mismatch": "a string",
}


def _length(source: Source, path: Path, detail: ErrorDetails, where: str) -> Diagnostic:
    ctx = detail.get("ctx") or {}
    if detail["type"] == "too_short":
        least = ctx.get("min_length", 1)
        message = f"needs at least {least} item{'s' if least != 1 else ''}{where}"
        help_text = "add an entry, or remove the key"
    else:
        most = ctx.get("max_length", "")
        message = f"is longer than {most} characters{where}"
        help_text = (
            "quote only the operative words" if path and path[-1] == "quote" else "shorten it"
        )
    return Diagnostic(codes.INVALID_VALUE, message, source.locate(path), help=help_text)


def _bad_tag(source: Source, path: Path, detail: ErrorDetails) -> Diagnostic:
    ctx = detail.get("ctx") or {}
    tag = str(ctx.get("tag", ""))
    expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
    if "'op'" in str(ctx.get("discriminator", "")):
        return Diagnostic(
            codes.UNKNOWN_OPERATOR,
            f"unknown operator `{tag}`{_where(path)}",
            source.locate((*path, "op")),
            help=did_you_mean(tag, OPERATORS)
            or "operators: " + ", ".join(f"`{op}`" for op in OPERATORS),
        )
    return Diagnostic(
        codes.INVALID_VALUE,
        f"`{tag}` is not a known kind{_where(path)}",
        source.locate((*path, "kind")),
        help=did_you_mean(tag, expected) or "kinds: " + ", ".join(f"`{k}`" for k in expected),
    )


def _invalid_value(source: Source, path: Path, detail: ErrorDetails, where: str) -> Diagnostic:
    ctx = detail.get("ctx") or {}
    value = detail["input"]
    expected_text = str(ctx.get("expected", ""))
    choices = [c.strip(" '") for c in expected_text.replace(" or ", ",").split(",") if c.strip()]
    help_text = ""
    if isinstance(value, str) and choices:
        help_text = did_you_mean(value, choices) or "expected " + ", ".join(
            f"`{c}`" for c in choices
        )
    elif "pattern" in ctx:
        help_text = _pattern_help(str(ctx["pattern"]))
    else:
        help_text = "expected " + ", ".join(f"`{c}`" for c in choices)
    shown = f"`{value}`" if isinstance(value, str | int) else _describe(value)
    return Diagnostic(
        codes.INVALID_VALUE, f"invalid value {shown}{where}", source.locate(path), help=help_text
    )


def _pattern_help(pattern: str) -> str:
    if pattern.startswith("^https?"):
        return "write a full URL starting with https://"
    if pattern.startswith("^sha256"):
        return "write `sha256:` followed by 64 lowercase hex digits"
    if "(\\." in pattern:
        return "write a dotted id such as `openai.terms.2024-12.no-competing-models`"
    return "use lowercase letters, digits, `-` and `_`"


def _where(path: Path) -> str:
    return f" in `{_dotted(path)}`" if path else ""


def _dotted(path: Path) -> str:
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else segment)
    return text


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string `{value}`"
    if value is None:
        return "nothing (null)"
    return f"`{value}`"


def expected_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the schema allows in the mapping at a pydantic location (walks the annotations)."""
    current: Any = RuleFile
    for segment in loc:
        current = _step(current, segment)
        if current is None:
            return []
    model = _model_of(current)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _step(current: Any, segment: str | int) -> Any:
    model = _model_of(current)
    if model is not None and isinstance(segment, str):
        for name, field in model.model_fields.items():
            if segment in (name, field.alias):
                return field.annotation
    if isinstance(segment, str) and segment in TAGGED_MODELS:
        return TAGGED_MODELS[segment]
    if segment == "compare" or model is not None:
        return current if segment == "compare" else None
    if isinstance(segment, int):
        args = [a for a in typing.get_args(_strip(current)) if a is not Ellipsis]
        return args[0] if args else None
    return None


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for m in map(_model_of, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None
