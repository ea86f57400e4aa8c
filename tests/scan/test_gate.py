"""The gate fails closed: missing, unknown and unreadable provenance never pass by default."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policyengine.diagnostics import PolicyEngineError
from policyengine.facts import Facts
from policyengine.rules.ruleset import RuleSet
from policyengine.scan.gate import Gate, OnUnknown, Problem
from policyengine.scan.summary import ShareLimit

from .conftest import DEEPSEEK, OPENAI, TARGET, Scan, jsonl_bytes, records

FACTS = Facts.parse(TARGET).known


def _key(
    provider=None,
    model=None,
    channel=None,
    generated_at=None,
    license=None,
    *,
    problem=None,
    generation=None,
):  # type: ignore[no-untyped-def]
    return (provider, model, channel, None, generated_at, license, generation, problem)


@pytest.mark.parametrize(
    ("key", "problem", "reason"),
    [
        (_key(), Problem.MISSING, "names no provider"),
        (_key("openai"), Problem.MISSING, "but no model"),
        (_key("acme", "acme-1"), Problem.UNKNOWN, "no terms known for provider `acme`"),
        (_key("openai", "text-bison"), Problem.UNKNOWN, "model `text-bison`"),
        (_key(problem="x", generation="g1,g2"), Problem.AMBIGUOUS, "x"),
    ],
    ids=["no provider", "no model", "unknown provider", "unknown model", "ambiguous trace"],
)
@pytest.mark.parametrize(
    ("on_unknown", "verdict"),
    [
        (OnUnknown.REVIEW, "needs_review"),
        (OnUnknown.DENY, "violation"),
        (OnUnknown.ALLOW, "compliant"),
    ],
    ids=["review", "deny", "allow"],
)
def test_unknown_provenance_follows_on_unknown(
    bundled: RuleSet,
    key: tuple[str | None, ...],
    problem: Problem,
    reason: str,
    on_unknown: OnUnknown,
    verdict: str,
) -> None:
    """Missing, unknown and ambiguous provenance take the `on_unknown` verdict with a reason."""
    outcome = Gate(bundled, FACTS, "distillation", on_unknown=on_unknown).outcome(key)
    assert (outcome.problem, outcome.verdict) == (problem, verdict)
    assert reason in outcome.reason


@pytest.mark.parametrize(
    ("key", "problem", "reason"),
    [
        (_key(problem="not JSON: expecting value"), Problem.MALFORMED, "not JSON"),
        (_key("OpenAI", "gpt-4o"), Problem.INVALID, "`OpenAI` is not an id"),
        (_key("openai", "gpt-4o", "fax"), Problem.INVALID, "`fax` is not a value"),
        (_key("openai", "gpt-4o", "api", "yesterday"), Problem.INVALID, "not a date"),
        (_key("openai", "gpt-4o", "api", "2031-01-01"), Problem.INVALID, "after the as-of day"),
    ],
    ids=["unreadable line", "provider not an id", "unknown channel", "bad date", "future date"],
)
@pytest.mark.parametrize("on_unknown", list(OnUnknown), ids=lambda o: o.value)
def test_unreadable_and_invalid_provenance_is_always_blocked(
    bundled: RuleSet,
    key: tuple[str | None, ...],
    problem: Problem,
    reason: str,
    on_unknown: OnUnknown,
) -> None:
    """Records that cannot be read or whose provenance does not fit are invalid, whatever is asked."""
    gate = Gate(bundled, FACTS, "distillation", on_unknown=on_unknown, as_of=dt.date(2026, 1, 1))
    outcome = gate.outcome(key)
    assert (outcome.problem, outcome.verdict, outcome.allowed) == (problem, "invalid", False)
    assert reason in outcome.reason


def test_values_coerced_once_decide_every_tuple_as_parsing_each_would(bundled: RuleSet) -> None:
    """The gate coerces each provenance value once a scan; tuples sharing a value, valid or not,
    get what parsing each tuple whole gives, and the first misfit in field order names itself."""
    gate = Gate(bundled, FACTS, "distillation")
    keys = [
        _key("openai", "gpt-4o-2024-08-06", "fax", "2025-06-02"),
        _key("openai", "gpt-4o-mini-2024-07-18", "fax", "2025-06-03"),
        _key("OpenAI", "gpt-4o", "fax", "yesterday"),
        _key("openai", "gpt-4o-2024-08-06", "api", "yesterday"),
        _key("openai", "gpt-4o-2024-08-06", "api", "2025-06-02"),
        _key("deepseek", "deepseek-r1", "open_weights", "2025-06-02"),
    ]
    for key in keys:
        fresh = Gate(bundled, FACTS, "distillation").outcome(key)
        assert gate.outcome(key) == fresh
    reasons = [gate.outcome(key).reason for key in keys]
    assert "`fax` is not a value" in reasons[0]
    assert "`fax` is not a value" in reasons[1]
    assert "`OpenAI` is not an id" in reasons[2]
    assert "not a date" in reasons[3]
    assert [gate.outcome(key).verdict for key in keys[4:]] == ["violation", "compliant"]


def test_known_provenance_is_decided_by_the_rules(bundled: RuleSet) -> None:
    """Known provenance goes through the evaluator: its verdict and deciding rules."""
    gate = Gate(bundled, FACTS, "distillation")
    allowed = gate.outcome(_key("deepseek", "deepseek-r1", "open_weights", "2025-02-10"))
    denied = gate.outcome(_key("openai", "gpt-4o-2024-08-06", "api", "2025-06-02"))
    assert (allowed.verdict, allowed.problem) == ("compliant", None)
    assert denied.rules == ("openai.services-agreement.2025-05.no-competing-models",)
    assert denied.verdict == "violation"


@pytest.mark.parametrize(
    ("on_unknown", "verdict", "allowed"),
    [("review", "needs_review", 1), ("deny", "violation", 1), ("allow", "compliant", 3)],
    ids=["review blocks", "deny blocks", "allow passes"],
)
def test_on_unknown_end_to_end(
    scan: Scan, tmp_path: Path, on_unknown: str, verdict: str, allowed: int
) -> None:
    """A record without provenance and one of an unknown provider follow `--on-unknown`."""
    shard = tmp_path / "s.jsonl"
    rows = [
        *records(1, **DEEPSEEK),
        {"text": "anon"},
        {"text": "x", "provider": "acme", "model": "a"},
    ]
    shard.write_bytes(jsonl_bytes(rows))
    report = scan(shard, on_unknown=on_unknown)
    assert report.allowed == allowed
    assert report.verdict == verdict
    assert (report.problems["missing"], report.problems["unknown"]) == (1, 1)


def test_share_limits_fail_the_gate_when_exceeded(scan: Scan, tmp_path: Path) -> None:
    """`provider=deepseek:0.5` fails at 3 of 4 records; a looser limit passes."""
    shard = tmp_path / "s.jsonl"
    rows = [*records(3, **DEEPSEEK), {"text": "x" * 100, "provider": "human", "license": "MIT"}]
    shard.write_bytes(jsonl_bytes(rows))
    tight = scan(shard, max_shares=["provider=deepseek:0.5"], use="evaluation")
    loose = scan(shard, max_shares=["provider=deepseek:0.8", "model=gpt-4o:0.0"], use="evaluation")
    (limit,) = tight.limits
    assert (limit.record_share, limit.exceeded) == (0.75, True)
    assert tight.verdict == "violation"
    assert [lim.exceeded for lim in loose.limits] == [False, False]
    assert loose.verdict != "violation"


@pytest.mark.parametrize(
    "text",
    [
        "provider=openai",
        "openai:0.1",
        "provider=openai:1.5",
        "provider=openai:lots",
        "vendor=x:0.1",
        "provider=:0.1",
    ],
    ids=["no fraction", "no field", "above one", "not a number", "unknown field", "no value"],
)
def test_bad_share_limits_are_pe605(text: str) -> None:
    """A share limit that is not FIELD=VALUE:FRACTION is refused with PE605."""
    with pytest.raises(PolicyEngineError) as raised:
        ShareLimit.parse(text)
    assert [d.code for d in raised.value.diagnostics] == ["PE605"]


def test_share_limit_values_may_hold_colons() -> None:
    """The fraction follows the last colon, so `model=llama3:8b:0.1` names model `llama3:8b`."""
    assert ShareLimit.parse("model=llama3:8b:0.1") == ShareLimit("model", "llama3:8b", 0.1)


def test_decisions_are_made_once_per_distinct_tuple(bundled: RuleSet, tmp_path: Path) -> None:
    """A thousand records of two provenances ask the evaluator twice."""
    from policyengine import api
    from policyengine.scan import gate as gate_module

    calls = []
    original = gate_module.decide

    def counting(ruleset, facts):  # type: ignore[no-untyped-def]
        calls.append(facts)
        return original(ruleset, facts)

    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes([*records(500, **DEEPSEEK), *records(500, **OPENAI)]))
    monkey = pytest.MonkeyPatch()
    monkey.setattr(gate_module, "decide", counting)
    try:
        report = api.scan([shard], use="distillation", target=TARGET, ruleset=bundled)
    finally:
        monkey.undo()
    assert report.records == 1000
    assert len(calls) == 2
