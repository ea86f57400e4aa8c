"""Conditions → plain callables over :class:`~policyengine.facts.Facts` with three-valued results.

A condition is compiled once, when its pack is loaded: fact names are resolved against the
vocabulary, literals are checked against the fact's type, and the operator is bound to its literal.
Evaluation then only looks values up and compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from policyengine import codes
from policyengine.diagnostics import did_you_mean
from policyengine.facts import UNKNOWN, VOCABULARY, FactError, Facts, Kind, coerce, describe_kind
from policyengine.rules.operators import OPERATORS, Test, Truth
from policyengine.rules.schema import All, AnyOf, Comparison, Condition, Exists, In, Not
from policyengine.rules.source import Path

Report = Callable[[str, str, Path, str], None]
"""Called as ``report(code, message, path, help)`` for each problem found while compiling."""


@dataclass(frozen=True, slots=True)
class Predicate:
    """A compiled condition: call it with facts to get TRUE, FALSE or UNKNOWN."""

    evaluate: Callable[[Facts], Truth]
    facts: frozenset[str]
    # The unknown facts that make the condition UNKNOWN: only those on UNKNOWN branches, not every
    # unknown fact it names (an exception that is already false needs nothing recorded).
    missing: Callable[[Facts], frozenset[str]]

    def __call__(self, facts: Facts) -> Truth:
        return self.evaluate(facts)


def _none(facts: Facts) -> frozenset[str]:
    return frozenset()


_NOTHING: frozenset[str] = frozenset()
ALWAYS = Predicate(lambda facts: Truth.TRUE, frozenset(), _none)


def compile_condition(condition: Condition | None, path: Path, report: Report) -> Predicate:
    """Compile ``condition`` (found at ``path`` in its file); problems go to ``report``."""
    if condition is None:
        return ALWAYS
    if isinstance(condition, All):
        parts = [
            compile_condition(c, (*path, "all", i), report) for i, c in enumerate(condition.all)
        ]
        return Predicate(_all(parts), _union(parts), _missing(parts))
    if isinstance(condition, AnyOf):
        parts = [
            compile_condition(c, (*path, "any", i), report) for i, c in enumerate(condition.any)
        ]
        return Predicate(_any(parts), _union(parts), _missing(parts))
    if isinstance(condition, Not):
        inner = compile_condition(condition.not_, (*path, "not"), report)
        return Predicate(_not(inner), inner.facts, inner.missing)
    return _comparison(condition, path, report)


def _union(parts: list[Predicate]) -> frozenset[str]:
    return frozenset().union(*(p.facts for p in parts))


def _missing(parts: list[Predicate]) -> Callable[[Facts], frozenset[str]]:
    def missing(facts: Facts) -> frozenset[str]:
        unknown = [p for p in parts if p.evaluate(facts) is Truth.UNKNOWN]
        return frozenset().union(*(p.missing(facts) for p in unknown))

    return missing


def _all(parts: list[Predicate]) -> Callable[[Facts], Truth]:
    def evaluate(facts: Facts) -> Truth:
        result = Truth.TRUE
        for part in parts:
            truth = part.evaluate(facts)
            if truth is Truth.FALSE:
                return Truth.FALSE
            if truth is Truth.UNKNOWN:
                result = Truth.UNKNOWN
        return result

    return evaluate


def _any(parts: list[Predicate]) -> Callable[[Facts], Truth]:
    def evaluate(facts: Facts) -> Truth:
        result = Truth.FALSE
        for part in parts:
            truth = part.evaluate(facts)
            if truth is Truth.TRUE:
                return Truth.TRUE
            if truth is Truth.UNKNOWN:
                result = Truth.UNKNOWN
        return result

    return evaluate


def _not(inner: Predicate) -> Callable[[Facts], Truth]:
    flip = {Truth.TRUE: Truth.FALSE, Truth.FALSE: Truth.TRUE, Truth.UNKNOWN: Truth.UNKNOWN}
    return lambda facts: flip[inner.evaluate(facts)]


def _comparison(comparison: Comparison, path: Path, report: Report) -> Predicate:
    name = comparison.fact
    spec = VOCABULARY.get(name)
    if spec is None:
        report(
            codes.UNKNOWN_FACT,
            f"unknown fact `{name}`",
            (*path, "fact"),
            did_you_mean(name, VOCABULARY) or "see `docs/rule-language.md` for the facts",
        )
        return Predicate(lambda facts: Truth.UNKNOWN, frozenset(), _none)
    operator = OPERATORS[comparison.op]
    if spec.kind not in operator.fits:
        fitting = [op for op in OPERATORS.values() if spec.kind in op.fits and op.name != "exists"]
        report(
            codes.OPERATOR_MISFIT,
            f"operator `{operator.name}` does not fit `{name}`, which takes {describe_kind(spec)}",
            (*path, "op"),
            "use " + " or ".join(f"`{op.name}`" for op in fitting),
        )
        return Predicate(lambda facts: Truth.UNKNOWN, frozenset({name}), _none)
    literal = _literal(comparison, path, report)
    test = operator.bind(literal)
    if isinstance(comparison, Exists):
        return Predicate(
            lambda facts: Truth.of(facts.known.get(name) is not None), frozenset(), _none
        )
    wanted = frozenset({name})
    return Predicate(
        _compare(name, test), wanted, lambda facts: wanted if name not in facts.known else _NOTHING
    )


def _compare(name: str, test: Test) -> Callable[[Facts], Truth]:
    def evaluate(facts: Facts) -> Truth:
        value = facts.known.get(name, UNKNOWN)
        if value is UNKNOWN:
            return Truth.UNKNOWN
        return Truth.TRUE if test(value) else Truth.FALSE  # type: ignore[arg-type]

    return evaluate


def _literal(comparison: Comparison, path: Path, report: Report) -> object:
    """The comparison's literal, checked against the fact's type (each element for `in`)."""
    if isinstance(comparison, Exists):
        return None
    spec = VOCABULARY[comparison.fact]
    if comparison.op == "matches":
        return comparison.value
    element = spec
    if spec.kind in (Kind.SET, Kind.LIST):
        element = type(spec)(spec.name, spec.element or Kind.STRING, spec.meaning)
    values = comparison.value if isinstance(comparison, In) else (comparison.value,)
    checked = []
    for i, value in enumerate(values):
        where = (*path, "value", i) if isinstance(comparison, In) else (*path, "value")
        try:
            checked.append(coerce(element, value))
        except FactError as error:
            help_text = describe_kind(element)
            if isinstance(value, str) and element.values:
                help_text = (
                    did_you_mean(value, element.values) or f"`{spec.name}` takes {help_text}"
                )
            report(codes.VALUE_MISFIT, str(error), where, help_text)
    return tuple(checked) if isinstance(comparison, In) else (checked[0] if checked else None)
