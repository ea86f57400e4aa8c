"""The closed table of comparison operators and the three truth values they yield.

One canonical spelling per operator; negation only through ``not``. A comparison on an unknown fact
is UNKNOWN (except ``exists``, which asks exactly whether the fact is known).
"""

from __future__ import annotations

import datetime as dt
import enum
import fnmatch
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from policyengine.facts import Kind, Value


class Truth(enum.Enum):
    """Kleene's three truth values."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    @staticmethod
    def of(value: bool) -> Truth:
        """The truth value of a Python boolean."""
        return Truth.TRUE if value else Truth.FALSE


Test = Callable[[Value], bool]
"""A comparison with its literal bound, applied to a known fact value."""


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator: the fact kinds it fits and how it binds its literal into a test."""

    name: str
    fits: frozenset[Kind]
    bind: Callable[[object], Test]
    meaning: str


def _equals(literal: object) -> Test:
    return lambda value: value == literal


def _in(literal: object) -> Test:
    choices = frozenset(literal) if isinstance(literal, tuple) else frozenset()
    return lambda value: value in choices


def _contains(literal: object) -> Test:
    return lambda value: isinstance(value, frozenset | tuple) and literal in value


def _matches(literal: object) -> Test:
    glob = str(literal)
    return lambda value: isinstance(value, str) and glob_pattern(glob).match(value) is not None


@functools.cache
def glob_pattern(glob: str) -> re.Pattern[str]:
    """``glob`` (with `*`, `?` and `[...]` wildcards) as a case-insensitive regex, compiled on
    first use: loading the packs on every run should not compile patterns no source asks about."""
    return re.compile(fnmatch.translate(glob), re.IGNORECASE)


def _before(literal: object) -> Test:
    assert isinstance(literal, dt.date)
    return lambda value: isinstance(value, dt.date) and value < literal


def _after(literal: object) -> Test:
    assert isinstance(literal, dt.date)
    return lambda value: isinstance(value, dt.date) and value >= literal


def _gte(literal: object) -> Test:
    assert isinstance(literal, int)
    return lambda value: isinstance(value, int) and value >= literal


def _lte(literal: object) -> Test:
    assert isinstance(literal, int)
    return lambda value: isinstance(value, int) and value <= literal


def _exists(_: object) -> Test:
    return lambda value: True


_SCALARS: Final = frozenset(
    {Kind.ID, Kind.STRING, Kind.ENUM, Kind.DATE, Kind.LICENSE, Kind.BOOL, Kind.INT}
)

OPERATORS: Final[Mapping[str, Operator]] = {
    op.name: op
    for op in (
        Operator("equals", _SCALARS, _equals, "the fact equals the value"),
        Operator("in", _SCALARS - {Kind.BOOL, Kind.DATE}, _in, "the fact is one of the values"),
        Operator(
            "contains", frozenset({Kind.SET, Kind.LIST}), _contains, "the set holds the value"
        ),
        Operator(
            "matches",
            frozenset({Kind.STRING, Kind.ID, Kind.LICENSE}),
            _matches,
            "the fact matches the glob, ignoring case",
        ),
        Operator("before", frozenset({Kind.DATE}), _before, "the date is before the value"),
        Operator("after", frozenset({Kind.DATE}), _after, "the date is on or after the value"),
        Operator("exists", frozenset(Kind), _exists, "the fact is recorded"),
        Operator("gte", frozenset({Kind.INT}), _gte, "the number is at least the value"),
        Operator("lte", frozenset({Kind.INT}), _lte, "the number is at most the value"),
    )
}
