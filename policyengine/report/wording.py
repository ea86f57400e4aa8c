"""Rule conditions and obligations in plain words, for pages people read instead of YAML."""

from __future__ import annotations

import datetime as dt

from policyengine.rules.schema import (
    All,
    AnyOf,
    Attribution,
    Condition,
    LicensePassthrough,
    NamePrefix,
    Not,
    Notice,
    Obligation,
    UseRestrictionsPassthrough,
)

_VERBS = {
    "equals": "is",
    "in": "is one of",
    "contains": "contains",
    "matches": "matches",
    "before": "is before",
    "after": "is on or after",
    "gte": "is at least",
    "lte": "is at most",
}


def condition(when: Condition | None) -> str:
    """The condition as one sentence fragment, e.g. "`use.activity` is one of `a`, `b`"."""
    if when is None:
        return "always"
    if isinstance(when, All):
        return " and ".join(_nested(part) for part in when.all)
    if isinstance(when, AnyOf):
        return " or ".join(_nested(part) for part in when.any)
    if isinstance(when, Not):
        return f"not ({condition(when.not_)})"
    if when.op == "exists":
        return f"`{when.fact}` is recorded"
    return f"`{when.fact}` {_VERBS[when.op]} {_literal(when.value)}"


def _nested(part: Condition) -> str:
    text = condition(part)
    return f"({text})" if isinstance(part, All | AnyOf) else text


def _literal(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(_literal(v) for v in value)
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dt.date):
        return str(value)
    return f"`{value}`"


def obligation(item: Obligation) -> str:
    """What the obligation asks of the target, in words."""
    if isinstance(item, NamePrefix):
        return f"the model's name begins with “{item.prefix}”"
    if isinstance(item, Notice):
        return f"the release displays “{item.text}”"
    if isinstance(item, Attribution):
        return f"the release attributes “{item.text}”"
    if isinstance(item, LicensePassthrough):
        return f"copies carry the licence `{item.license}`"
    assert isinstance(item, UseRestrictionsPassthrough)
    return f"the use restrictions of `{item.document}` bind the target and what derives from it"
