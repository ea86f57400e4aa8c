"""Compiled conditions: each operator, unknown facts, and Kleene's three-valued `all`/`any`/`not`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from policyengine import codes
from policyengine.facts import Facts
from policyengine.rules.operators import Truth
from policyengine.rules.predicates import Predicate, compile_condition
from policyengine.rules.schema import Condition

T, F, U = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN
CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)


def compiled(raw: dict[str, Any]) -> Predicate:
    """Validate ``raw`` as a condition and compile it; any problem reported fails the test."""
    problems: list[tuple[str, ...]] = []
    predicate = compile_condition(
        CONDITION.validate_python(raw), (), lambda *args: problems.append(args)
    )
    assert problems == []
    return predicate


def cmp(fact: str, op: str, value: Any = None) -> dict[str, Any]:
    """A comparison as plain data, as YAML would give it."""
    return {"fact": fact, "op": op} if op == "exists" else {"fact": fact, "op": op, "value": value}


DISTILLING = cmp("use.activity", "equals", "distillation")
COMMERCIAL = cmp("target.commercial", "equals", True)

TABLE = [
    ("equals: same value", DISTILLING, {"use.activity": "distillation"}, T),
    ("equals: other value", DISTILLING, {"use.activity": "evaluation"}, F),
    ("equals: unknown fact", DISTILLING, {}, U),
    ("equals: boolean", COMMERCIAL, {"target.commercial": True}, T),
    ("equals: boolean false", COMMERCIAL, {"target.commercial": False}, F),
    (
        "equals: a date",
        cmp("source.generated_at", "equals", "2024-07-01"),
        {"source.generated_at": "2024-07-01"},
        T,
    ),
    (
        "in: listed",
        cmp("use.activity", "in", ["pretraining", "distillation"]),
        {"use.activity": "distillation"},
        T,
    ),
    (
        "in: not listed",
        cmp("use.activity", "in", ["pretraining", "distillation"]),
        {"use.activity": "evaluation"},
        F,
    ),
    ("in: unknown fact", cmp("use.activity", "in", ["pretraining"]), {}, U),
    ("in: numbers", cmp("path.hops", "in", [1, 2]), {"path.hops": 2}, T),
    (
        "contains: held",
        cmp("target.competes_with", "contains", "acme"),
        {"target.competes_with": ["globex", "acme"]},
        T,
    ),
    (
        "contains: empty set",
        cmp("target.competes_with", "contains", "acme"),
        {"target.competes_with": []},
        F,
    ),
    ("contains: unknown fact", cmp("target.competes_with", "contains", "acme"), {}, U),
    (
        "contains: a list fact",
        cmp("target.notices", "contains", "Built with Acme"),
        {"target.notices": ["Built with Acme"]},
        T,
    ),
    (
        "matches: glob ignoring case",
        cmp("source.model", "matches", "acme-*"),
        {"source.model": "ACME-chat-2"},
        T,
    ),
    (
        "matches: whole value only",
        cmp("source.model", "matches", "acme"),
        {"source.model": "acme-chat"},
        F,
    ),
    ("matches: unknown fact", cmp("source.model", "matches", "acme-*"), {}, U),
    (
        "before: the day before",
        cmp("source.generated_at", "before", "2024-07-01"),
        {"source.generated_at": "2024-06-30"},
        T,
    ),
    (
        "before: the day itself is not before",
        cmp("source.generated_at", "before", "2024-07-01"),
        {"source.generated_at": "2024-07-01"},
        F,
    ),
    ("before: unknown fact", cmp("source.generated_at", "before", "2024-07-01"), {}, U),
    (
        "after: the day itself counts",
        cmp("source.generated_at", "after", "2024-07-01"),
        {"source.generated_at": "2024-07-01"},
        T,
    ),
    (
        "after: the day before does not",
        cmp("source.generated_at", "after", "2024-07-01"),
        {"source.generated_at": "2024-06-30"},
        F,
    ),
    ("after: unknown fact", cmp("source.generated_at", "after", "2024-07-01"), {}, U),
    ("gte: equal", cmp("path.hops", "gte", 2), {"path.hops": 2}, T),
    ("gte: below", cmp("path.hops", "gte", 2), {"path.hops": 1}, F),
    ("gte: unknown fact", cmp("path.hops", "gte", 2), {}, U),
    ("lte: equal", cmp("path.hops", "lte", 2), {"path.hops": 2}, T),
    ("lte: above", cmp("path.hops", "lte", 2), {"path.hops": 3}, F),
    ("lte: unknown fact", cmp("path.hops", "lte", 2), {}, U),
    ("exists: recorded", cmp("target.commercial", "exists"), {"target.commercial": False}, T),
    ("exists: unknown is false, never unknown", cmp("target.commercial", "exists"), {}, F),
    (
        "exists: null means unknown",
        cmp("target.commercial", "exists"),
        {"target.commercial": None},
        F,
    ),
    ("not exists: unknown", {"not": cmp("target.commercial", "exists")}, {}, T),
    ("not: true", {"not": DISTILLING}, {"use.activity": "distillation"}, F),
    ("not: false", {"not": DISTILLING}, {"use.activity": "evaluation"}, T),
    ("not: unknown stays unknown", {"not": DISTILLING}, {}, U),
    (
        "all: true and true",
        {"all": [DISTILLING, COMMERCIAL]},
        {"use.activity": "distillation", "target.commercial": True},
        T,
    ),
    (
        "all: true and unknown",
        {"all": [DISTILLING, COMMERCIAL]},
        {"use.activity": "distillation"},
        U,
    ),
    (
        "all: false wins over unknown",
        {"all": [DISTILLING, COMMERCIAL]},
        {"use.activity": "evaluation"},
        F,
    ),
    ("all: unknown and unknown", {"all": [DISTILLING, COMMERCIAL]}, {}, U),
    (
        "any: true wins over unknown",
        {"any": [DISTILLING, COMMERCIAL]},
        {"use.activity": "distillation"},
        T,
    ),
    (
        "any: false and unknown",
        {"any": [DISTILLING, COMMERCIAL]},
        {"use.activity": "evaluation"},
        U,
    ),
    (
        "any: false and false",
        {"any": [DISTILLING, COMMERCIAL]},
        {"use.activity": "evaluation", "target.commercial": False},
        F,
    ),
    (
        "nested: all of any and not",
        {"all": [{"any": [DISTILLING, COMMERCIAL]}, {"not": cmp("path.hops", "gte", 2)}]},
        {"use.activity": "evaluation", "target.commercial": True, "path.hops": 1},
        T,
    ),
]


@pytest.mark.parametrize(
    ("condition", "facts", "truth"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_a_condition_is_true_false_or_unknown(
    condition: dict[str, Any], facts: dict[str, Any], truth: Truth
) -> None:
    """Each operator compares a known fact; an unknown fact is UNKNOWN except under `exists`."""
    assert compiled(condition)(Facts.parse(facts)) is truth


FAR = cmp("path.hops", "gte", 2)


@pytest.mark.parametrize(
    ("condition", "facts", "missing"),
    [
        ({"all": [DISTILLING, COMMERCIAL]}, {}, {"use.activity", "target.commercial"}),
        (
            {"all": [DISTILLING, COMMERCIAL]},
            {"use.activity": "distillation"},
            {"target.commercial"},
        ),
        (
            {"any": [{"all": [DISTILLING, COMMERCIAL]}, FAR]},
            {"use.activity": "evaluation"},
            {"path.hops"},
        ),
        (
            {"all": [{"any": [DISTILLING, COMMERCIAL]}, FAR]},
            {"use.activity": "distillation"},
            {"path.hops"},
        ),
        ({"not": DISTILLING}, {}, {"use.activity"}),
    ],
    ids=[
        "all unknown",
        "one part of all unknown",
        "a false inner all needs nothing",
        "a true inner any needs nothing",
        "not passes its need on",
    ],
)
def test_missing_names_only_the_facts_that_would_decide(
    condition: dict[str, Any], facts: dict[str, Any], missing: set[str]
) -> None:
    """An UNKNOWN condition names the unknown facts of its undecided branches, not of decided ones."""
    assert compiled(condition).missing(Facts.parse(facts)) == missing


def test_an_unknown_fact_is_reported_and_never_decides() -> None:
    """A comparison on a name outside the vocabulary is PE302 at its `fact` and evaluates UNKNOWN."""
    problems: list[tuple[Any, ...]] = []
    condition = CONDITION.validate_python(cmp("use.activty", "equals", "distillation"))
    predicate = compile_condition(condition, ("when",), lambda *args: problems.append(args))
    assert [(code, path) for code, _, path, _ in problems] == [
        (codes.UNKNOWN_FACT, ("when", "fact"))
    ]
    assert "did you mean `use.activity`?" in problems[0][3]
    assert predicate(Facts.parse({"use.activity": "distillation"})) is U


# Atoms whose truth a test controls through one fact each: the value that makes it TRUE, the value
# that makes it FALSE; leaving the fact out makes it UNKNOWN.
ATOMS: dict[str, tuple[dict[str, Any], str, object, object]] = {
    "commercial": (COMMERCIAL, "target.commercial", True, False),
    "distilling": (
        cmp("use.activity", "in", ["distillation"]),
        "use.activity",
        "distillation",
        "evaluation",
    ),
    "far": (FAR, "path.hops", 3, 1),
    "early": (
        cmp("source.generated_at", "before", "2024-07-01"),
        "source.generated_at",
        "2024-06-30",
        "2024-07-01",
    ),
}
NAMES = sorted(ATOMS)
RANK = {F: 0, U: 1, T: 2}  # Kleene: all is the minimum, any the maximum, not flips the order


def facts_for(truths: dict[str, Truth]) -> Facts:
    """Facts under which each atom has the truth value given for it."""
    raw: dict[str, object] = {}
    for name, truth in truths.items():
        _, fact, true_value, false_value = ATOMS[name]
        if truth is not U:
            raw[fact] = true_value if truth is T else false_value
    return Facts.parse(raw)


def expected(tree: dict[str, Any], truths: dict[str, Truth]) -> Truth:
    """The truth of ``tree`` by Kleene's tables, the reference the compiler must agree with."""
    if "all" in tree:
        return min((expected(c, truths) for c in tree["all"]), key=RANK.__getitem__)
    if "any" in tree:
        return max((expected(c, truths) for c in tree["any"]), key=RANK.__getitem__)
    if "not" in tree:
        return {T: F, F: T, U: U}[expected(tree["not"], truths)]
    return truths[tree["atom"]]


def as_condition(tree: dict[str, Any]) -> dict[str, Any]:
    """The tree with each atom replaced by its comparison."""
    if "atom" in tree:
        return ATOMS[tree["atom"]][0]
    key = next(iter(tree))
    inner = tree[key]
    return {key: as_condition(inner) if key == "not" else [as_condition(c) for c in inner]}


truths_st = st.fixed_dictionaries({name: st.sampled_from([T, F, U]) for name in NAMES})
trees = st.recursive(
    st.sampled_from(NAMES).map(lambda name: {"atom": name}),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"all": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"any": parts}),
        inner.map(lambda part: {"not": part}),
    ),
    max_leaves=8,
)
fast = settings(max_examples=150, database=None, deadline=None)


@fast
@given(tree=trees, truths=truths_st)
def test_compiled_conditions_follow_kleene(tree: dict[str, Any], truths: dict[str, Truth]) -> None:
    """Any nesting of `all`, `any` and `not` evaluates as Kleene's strong three-valued logic."""
    assert compiled(as_condition(tree))(facts_for(truths)) is expected(tree, truths)


@fast
@given(tree=trees, truths=truths_st)
def test_double_negation_changes_nothing(tree: dict[str, Any], truths: dict[str, Truth]) -> None:
    """`not(not c)` has the truth of `c`, unknown included."""
    condition = as_condition(tree)
    facts = facts_for(truths)
    assert compiled({"not": {"not": condition}})(facts) is compiled(condition)(facts)


@fast
@given(
    parts=st.lists(st.sampled_from(NAMES), min_size=1, max_size=4),
    truths=truths_st,
    outer=st.sampled_from(["all", "any"]),
)
def test_de_morgan_holds_for_all_and_any(
    parts: list[str], truths: dict[str, Truth], outer: str
) -> None:
    """`not(all cs)` equals `any(not c)`, and `not(any cs)` equals `all(not c)`."""
    dual = "any" if outer == "all" else "all"
    conditions = [ATOMS[name][0] for name in parts]
    facts = facts_for(truths)
    negated = compiled({"not": {outer: conditions}})(facts)
    pushed = compiled({dual: [{"not": c} for c in conditions]})(facts)
    assert negated is pushed
