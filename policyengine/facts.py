"""The vocabulary a rule may name, as frozen types.

Every fact has a dotted name (``source.provider``), a kind that fixes which operators fit it, and for
enumerations the closed set of values it takes. A fact may be *unknown*: :data:`UNKNOWN` is a value of
its own, distinct from ``None``, ``False`` or an empty set, so that a rule on an unrecorded fact is
undecidable rather than silently false.

Ledger and evaluator meet here; neither imports the other.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeAlias, final


@final
class Unknown:
    """The value of a fact that was not recorded."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "unknown"

    def __bool__(self) -> bool:
        # INVARIANT: unknown is never used as a truth value; code must test `is UNKNOWN` instead.
        raise TypeError("unknown has no truth value; compare with `is UNKNOWN`")


UNKNOWN: Final = Unknown()

Value: TypeAlias = str | int | bool | dt.date | frozenset[str] | tuple[str, ...]
"""A known fact value: scalars, dates, sets (``competes_with``) and ordered lists (``notices``)."""

FactValue: TypeAlias = Value | Unknown


class Kind(enum.Enum):
    """How a fact's values are typed; decides which operators fit it."""

    ID = "id"
    STRING = "string"
    ENUM = "enum"
    DATE = "date"
    LICENSE = "license"
    BOOL = "bool"
    INT = "int"
    SET = "set"
    LIST = "list"


class Channel(enum.Enum):
    """How the output was obtained."""

    CONSUMER_APP = "consumer_app"
    API = "api"
    OPEN_WEIGHTS = "open_weights"
    CLOUD_MARKETPLACE = "cloud_marketplace"


class Activity(enum.Enum):
    """What the outputs are used for."""

    PRETRAINING = "pretraining"
    FINE_TUNING = "fine_tuning"
    DISTILLATION = "distillation"
    REWARD_MODELING = "reward_modeling"
    PREFERENCE_TUNING = "preference_tuning"
    EVALUATION = "evaluation"
    BENCHMARKING = "benchmarking"
    FILTERING = "filtering"
    REDISTRIBUTION = "redistribution"


class TargetKind(enum.Enum):
    """What the outputs end up in."""

    MODEL = "model"
    DATASET = "dataset"


class Release(enum.Enum):
    """How the target is (or will be) released."""

    INTERNAL = "internal"
    RESEARCH = "research"
    COMMERCIAL_API = "commercial_api"
    OPEN_WEIGHTS = "open_weights"
    DATASET_PUBLICATION = "dataset_publication"


@dataclass(frozen=True, slots=True)
class FactSpec:
    """One entry of the vocabulary: a fact's name, kind, allowed values and meaning."""

    name: str
    kind: Kind
    meaning: str
    values: tuple[str, ...] = ()
    # For SET and LIST facts: the kind of one element (providers are ids, notices are strings).
    element: Kind | None = None


def _values(enum_type: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum_type)


VOCABULARY: Final[Mapping[str, FactSpec]] = {
    spec.name: spec
    for spec in (
        FactSpec("source.provider", Kind.ID, "who offers the model that produced the output"),
        FactSpec("source.model", Kind.STRING, "the model id as called"),
        FactSpec("source.channel", Kind.ENUM, "how the output was obtained", _values(Channel)),
        FactSpec("source.agreement", Kind.ID, "the contract the output was obtained under"),
        FactSpec("source.generated_at", Kind.DATE, "when the output was generated"),
        FactSpec("source.license", Kind.LICENSE, "the SPDX licence the data carries"),
        FactSpec("use.activity", Kind.ENUM, "what the outputs are used for", _values(Activity)),
        FactSpec("target.kind", Kind.ENUM, "what the outputs end up in", _values(TargetKind)),
        FactSpec("target.name", Kind.STRING, "the name the target is released under"),
        FactSpec("target.release", Kind.ENUM, "how the target is released", _values(Release)),
        FactSpec("target.commercial", Kind.BOOL, "whether the target is used commercially"),
        FactSpec(
            "target.competes_with",
            Kind.SET,
            "providers whose products the target competes with",
            element=Kind.ID,
        ),
        FactSpec("target.base_model", Kind.STRING, "the model the target was fine-tuned from"),
        FactSpec(
            "target.notices",
            Kind.LIST,
            "attribution notices the release carries",
            element=Kind.STRING,
        ),
        FactSpec("org.monthly_active_users", Kind.INT, "monthly active users of the releasing org"),
        FactSpec("path.hops", Kind.INT, "generations between the source and the target"),
    )
}

ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# SPDX ids, LicenseRef- ids and the two words for "we do not know".
LICENSE_PATTERN: Final = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9.+-]*|NOASSERTION|unknown)$")


class FactError(ValueError):
    """A value does not fit the fact it is given for."""


def coerce(spec: FactSpec, raw: object) -> Value:
    """Check that ``raw`` (plain data from YAML or JSON) fits ``spec`` and return it as a fact value.

    Raises :class:`FactError` with a message in the project's style when it does not fit.
    """
    match spec.kind:
        case Kind.BOOL:
            if isinstance(raw, bool):
                return raw
        case Kind.INT:
            if isinstance(raw, int) and not isinstance(raw, bool):
                if raw < 0:
                    raise FactError(f"`{spec.name}` cannot be negative")
                return raw
        case Kind.DATE:
            return _coerce_date(spec, raw)
        case Kind.ENUM:
            if isinstance(raw, str) and raw in spec.values:
                return raw
            if isinstance(raw, str):
                raise FactError(f"`{raw}` is not a value of `{spec.name}`")
        case Kind.ID | Kind.LICENSE | Kind.STRING:
            if isinstance(raw, str) and raw:
                return _coerce_text(spec, raw)
        case Kind.SET | Kind.LIST:
            if isinstance(raw, list | tuple | set | frozenset):
                items = tuple(_coerce_element(spec, item) for item in raw)
                return frozenset(items) if spec.kind is Kind.SET else items
    raise FactError(f"`{spec.name}` takes {describe_kind(spec)}, not {_describe(raw)}")


def _coerce_date(spec: FactSpec, raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise FactError(f"`{raw}` is not a date (write YYYY-MM-DD)") from None
    raise FactError(f"`{spec.name}` takes a date, not {_describe(raw)}")


def _coerce_text(spec: FactSpec, raw: str) -> str:
    if spec.kind is Kind.ID and not ID_PATTERN.match(raw):
        raise FactError(f"`{raw}` is not an id (lowercase letters, digits, `-`, `_` and `.`)")
    if spec.kind is Kind.LICENSE and not LICENSE_PATTERN.match(raw):
        raise FactError(f"`{raw}` is not an SPDX licence id")
    return raw


def _coerce_element(spec: FactSpec, raw: object) -> str:
    element = FactSpec(spec.name, spec.element or Kind.STRING, spec.meaning)
    value = coerce(element, raw)
    assert isinstance(value, str)
    return value


def describe_kind(spec: FactSpec) -> str:
    """Say in words what values a fact takes, for messages."""
    if spec.kind is Kind.ENUM:
        return "one of " + ", ".join(f"`{value}`" for value in spec.values)
    words = {
        Kind.ID: "an id",
        Kind.STRING: "a string",
        Kind.DATE: "a date (YYYY-MM-DD)",
        Kind.LICENSE: "an SPDX licence id",
        Kind.BOOL: "`true` or `false`",
        Kind.INT: "a whole number",
        Kind.SET: "a list of ids",
        Kind.LIST: "a list of strings",
    }
    return words[spec.kind]


def _describe(raw: object) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int | float):
        return "a number"
    if isinstance(raw, str):
        return f"the string `{raw}`"
    if isinstance(raw, list | tuple):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    if isinstance(raw, dt.date):
        return "a date"
    return "a value of another type"


def plain(value: Value) -> object:
    """A fact value as JSON data: sets as sorted lists, lists as lists, dates as ISO text."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class Facts(Mapping[str, FactValue]):
    """The facts known about one (source, use, target): a fact name maps to its value or UNKNOWN.

    Every name of the vocabulary is present; a name that was not given is UNKNOWN.
    """

    known: Mapping[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.known:
            if name not in VOCABULARY:
                raise KeyError(f"`{name}` is not a fact of the vocabulary")

    def __getitem__(self, name: str) -> FactValue:
        if name not in VOCABULARY:
            raise KeyError(name)
        return self.known.get(name, UNKNOWN)

    def __iter__(self) -> Iterator[str]:
        return iter(VOCABULARY)

    def __len__(self) -> int:
        return len(VOCABULARY)

    def __hash__(self) -> int:
        return hash(frozenset(self.known.items()))

    def unknown(self) -> tuple[str, ...]:
        """The names of the facts that are not known, in vocabulary order."""
        return tuple(name for name in VOCABULARY if name not in self.known)

    @classmethod
    def parse(cls, raw: Mapping[str, object]) -> Facts:
        """Build facts from plain data (``{"use.activity": "distillation", ...}``).

        Raises :class:`FactError` naming the first fact that is not in the vocabulary or whose value
        does not fit; ``None`` means unknown.
        """
        known: dict[str, Value] = {}
        for name, value in raw.items():
            spec = VOCABULARY.get(name)
            if spec is None:
                raise FactError(f"unknown fact `{name}`")
            if value is not None:
                known[name] = coerce(spec, value)
        return cls(known)
