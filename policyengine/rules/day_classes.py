"""Classes of days the rules cannot tell apart, so that one day's decision can stand for its class.

A day reaches a decision in two ways only: it picks the version of each document in force on it
(``effective_from`` to ``effective_until``, both inclusive), and rule conditions compare date facts
with literal dates. Both can change their answer only where a day crosses a *boundary*: the first
day of a version, the day after its last, a literal date and the day after it. The days from one
boundary up to the next form a class.

A source reads only the documents the catalog names for its provider and its licence, so its
classes need only those documents' boundaries: far fewer than every pack's.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from policyengine.facts import VOCABULARY, FactError, Kind, coerce
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import All, AnyOf, Condition, Exists, In, Not

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DayClasses:
    """The sorted boundaries between classes of days, and the class of a day.

    Guarantee, for the classes of a set of documents: two days of one class select the same
    version of each of those documents (or none of either), and give every comparison of a date
    fact with a literal, in any rule of those documents, the same truth, whatever the operator
    (`before`, `after`, `equals`, or any other order or equality test): such a comparison is
    constant on the days before its literal, on the literal, and on the days after it.
    """

    boundaries: tuple[dt.date, ...]

    def class_of(self, day: dt.date) -> int:
        """The class of ``day``: how many boundaries fall on or before it."""
        return bisect.bisect_right(self.boundaries, day)


def day_classes(ruleset: RuleSet, documents: Iterable[str] | None = None) -> DayClasses:
    """The classes of days of ``documents`` (every document of ``ruleset`` when None): a walk
    over their versions and the conditions of their rules."""
    found: set[dt.date] = set()
    for document in ruleset.documents if documents is None else documents:
        versions = ruleset.documents[document].versions
        rules = {c.id: c.rule for v in versions for c in ruleset.rules_of(document, v.version)}
        for version in versions:
            found.add(version.effective_from)
            until = version.effective_until
            if until is not None and until < dt.date.max:
                found.add(until + _DAY)
        for rule in rules.values():
            for literal in _date_literals(rule.when):
                found.update((literal,) if literal == dt.date.max else (literal, literal + _DAY))
    return DayClasses(tuple(sorted(found)))


def catalog_documents(ruleset: RuleSet, provider: str, licence: str | None) -> frozenset[str]:
    """Every document the catalog may select for a source of ``provider`` that carries
    ``licence`` (None: no licence recorded).

    A superset of what selection picks: the documents of each of the provider's entries, whatever
    their models, channels and agreement, and of each licence entry naming the licence.
    """
    found = {d for entry in ruleset.entries_of(provider) for d in entry.entry.documents}
    if licence is not None:
        found.update(d for entry in ruleset.licence_entries(licence) for d in entry.documents)
    return frozenset(found)


def _date_literals(condition: Condition | None) -> Iterator[dt.date]:
    """Every literal that ``condition`` compares a date fact with, at any depth."""
    if condition is None:
        return
    if isinstance(condition, All | AnyOf):
        parts = condition.all if isinstance(condition, All) else condition.any
        for part in parts:
            yield from _date_literals(part)
        return
    if isinstance(condition, Not):
        yield from _date_literals(condition.not_)
        return
    spec = VOCABULARY.get(condition.fact)
    if spec is None or spec.kind is not Kind.DATE or isinstance(condition, Exists):
        return
    values = condition.value if isinstance(condition, In) else (condition.value,)
    for value in values:
        try:
            day = coerce(spec, value)
        except FactError:  # the compiler reports it, so a rule set is never built with it
            continue
        assert isinstance(day, dt.date)
        yield day
