"""Facts: the vocabulary, unknown as a value of its own, and checking values against kinds."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from policyengine.facts import UNKNOWN, VOCABULARY, FactError, Facts, Unknown, coerce


def test_unknown_is_a_singleton_without_truth_value() -> None:
    """UNKNOWN is one value, and using it as a boolean is an error rather than False."""
    assert Unknown() is UNKNOWN
    with pytest.raises(TypeError):
        bool(UNKNOWN)


def test_facts_not_given_are_unknown() -> None:
    """A fact that was not given reads as UNKNOWN, never None or empty."""
    facts = Facts.parse({"source.provider": "openai"})
    assert facts["source.provider"] == "openai"
    assert facts["target.competes_with"] is UNKNOWN
    assert "target.competes_with" in facts.unknown()


def test_an_empty_set_is_known() -> None:
    """`competes_with: []` is a recorded empty set, distinct from unknown."""
    facts = Facts.parse({"target.competes_with": []})
    assert facts["target.competes_with"] == frozenset()


def test_none_means_unknown() -> None:
    """A null value in input data is read as unknown."""
    assert Facts.parse({"target.name": None})["target.name"] is UNKNOWN


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("source.generated_at", "2024-01-31", dt.date(2024, 1, 31)),
        ("source.generated_at", dt.date(2024, 1, 31), dt.date(2024, 1, 31)),
        ("use.activity", "distillation", "distillation"),
        ("target.competes_with", ["openai", "google"], frozenset({"openai", "google"})),
        ("target.notices", ["Built with Llama"], ("Built with Llama",)),
        ("org.monthly_active_users", 5, 5),
        ("target.commercial", False, False),
        ("source.license", "CC-BY-NC-4.0", "CC-BY-NC-4.0"),
    ],
    ids=["iso date", "date", "enum", "set", "list", "int", "bool", "spdx"],
)
def test_values_that_fit(name: str, raw: object, expected: object) -> None:
    """Values of the right kind are accepted and normalised."""
    assert coerce(VOCABULARY[name], raw) == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("use.activity", "pretrain", "`pretrain` is not a value of `use.activity`"),
        ("source.generated_at", "2024-02-30", "is not a date"),
        ("org.monthly_active_users", -1, "cannot be negative"),
        ("org.monthly_active_users", True, "takes a whole number"),
        ("target.commercial", "yes", "takes `true` or `false`"),
        ("source.provider", "Open AI", "is not an id"),
        ("target.competes_with", "openai", "takes a list of ids"),
    ],
    ids=[
        "enum typo",
        "impossible date",
        "negative",
        "bool as int",
        "string as bool",
        "bad id",
        "scalar as set",
    ],
)
def test_values_that_do_not_fit(name: str, raw: object, message: str) -> None:
    """Values of the wrong kind raise FactError with a message naming the problem."""
    with pytest.raises(FactError, match=re.escape(message)):
        coerce(VOCABULARY[name], raw)


def test_unknown_fact_names_are_refused() -> None:
    """A name outside the vocabulary is an error, not silently ignored."""
    with pytest.raises(FactError, match=re.escape("unknown fact `use.activty`")):
        Facts.parse({"use.activty": "evaluation"})


def test_facts_are_hashable_and_equal_by_value() -> None:
    """Equal facts hash equal, so decisions can be shared between sources with the same facts."""
    a = Facts.parse({"source.provider": "meta", "target.competes_with": ["x"]})
    b = Facts.parse({"target.competes_with": ["x"], "source.provider": "meta"})
    assert a == b
    assert hash(a) == hash(b)


def test_policy_engine_errors_survive_pickling() -> None:
    """An error raised in a worker process arrives with its diagnostics intact."""
    import pickle

    from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError

    error = PolicyEngineError([Diagnostic("PE601", "cannot read `x`", Location("x.jsonl"))])
    copy = pickle.loads(pickle.dumps(error))
    assert list(copy.diagnostics) == list(error.diagnostics)
    assert str(copy) == str(error)
