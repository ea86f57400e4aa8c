"""The gate decides once per class of days: each day gets the outcome a decision of its own would
give, a day with no terms in force is decided alone, and the decisions made drop to one a class."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PackWriter
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.evaluate.decision import Decision
from policyengine.facts import Channel, Facts
from policyengine.rules.day_classes import catalog_documents, day_classes
from policyengine.rules.loader import load_rules
from policyengine.rules.ruleset import RuleSet
from policyengine.scan import gate as gate_module
from policyengine.scan.gate import Gate, Key

from .conftest import TARGET

CHRONO = Path(__file__).resolve().parents[1] / "fixtures" / "packs" / "chrono"
FACTS = Facts.parse(TARGET).known
DAY = dt.timedelta(days=1)
CHANNELS = (*(str(c.value) for c in Channel), None)

Source = tuple[str | None, ...]
"""A provenance tuple without its day: provider, model, channel, agreement, licence, claim."""


def _key(source: Source, day: str | None) -> Key:
    provider, model, channel, agreement, licence, claim = source
    return (provider, model, channel, agreement, day, licence, None, None, claim)


def _check(
    ruleset: RuleSet, keys: list[Key], activity: str = "distillation", **options: Any
) -> None:
    """One gate over ``keys`` in order gives each the outcome of a gate that has decided nothing
    before (which decides the key's day alone)."""
    shared = Gate(ruleset, FACTS, activity, **options)
    for key in keys:
        assert shared.outcome(key) == Gate(ruleset, FACTS, activity, **options).outcome(key), key


def _dates(first: dt.date, last: dt.date) -> Iterator[str]:
    day = first
    while day <= last:
        yield day.isoformat()
        day += DAY


@pytest.fixture(scope="module")
def chrono() -> RuleSet:
    """The fixture pack whose versions leave gaps and whose rules compare dates."""
    ruleset, diagnostics = load_rules([CHRONO])
    assert ruleset is not None, [d.render() for d in diagnostics]
    return ruleset


CHRONO_SOURCES: list[Source] = [
    ("chrono", "chrono-chat-2", "api", None, None, None),
    ("chrono", "chrono-chat-2", "consumer_app", None, None, None),
    ("chrono", "chrono-chat-2", None, None, None, None),
    ("chrono", "chrono-chat-2", "api", "initech", None, None),
    ("chrono", "chrono-chat-2", "consumer_app", "initech", None, None),
    ("chrono", "chrono-open-7b", "open_weights", None, None, None),
    ("chrono", "chrono-open-7b", None, None, None, None),
    ("chrono", "chrono-chat-2", "api", None, "CHRONO-DATA-1.0", None),
    ("human", None, None, None, "chrono-data-1.0", None),
    ("human", None, None, None, "NOASSERTION", None),
    ("chrono", None, None, None, None, "chrono"),
]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"activity": "evaluation"},
        {"as_of": dt.date(2024, 8, 15)},
    ],
    ids=["distillation", "evaluation", "as of a day"],
)
def test_every_day_of_the_fixture_pack_is_decided_as_alone(
    chrono: RuleSet, options: dict[str, Any]
) -> None:
    """Every source of the fixture pack on every day of its dates, in shuffled order, has the
    outcome a gate deciding that day alone gives it."""
    days = [*_dates(dt.date(2023, 12, 25), dt.date(2025, 1, 5)), None]
    keys = [_key(source, day) for source, day in itertools.product(CHRONO_SOURCES, days)]
    random.Random(11).shuffle(keys)
    _check(chrono, keys, **options)


def test_a_day_without_terms_in_force_is_decided_alone(
    chrono: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days before the open licence's first version are named in their reason, so each is
    decided; the days of a class with terms in force share one decision."""
    decisions = _count_decisions(monkeypatch)
    source = ("chrono", "chrono-open-7b", "open_weights", None, None, None)
    shared = Gate(chrono, FACTS, "distillation")
    december = list(_dates(dt.date(2023, 12, 1), dt.date(2023, 12, 31)))
    reasons = [shared.outcome(_key(source, day)).reason for day in december]
    assert reasons == [f"no version of `chrono.open` was in force on {day}" for day in december]
    assert len(decisions) == len(december)
    for day in _dates(dt.date(2024, 3, 10), dt.date(2024, 3, 30)):
        shared.outcome(_key(source, day))
    assert len(decisions) == len(december) + 1


TINY = """\
documents:
  - id: tiny.terms
    title: Tiny Terms
    provider: tiny
    kind: terms_of_service
    versions:
      - {version: "1", effective_from: 2024-01-01, effective_until: 2024-06-30, url: "https://example.com/1", retrieved: 2025-01-01}
      - {version: "2", effective_from: 2024-07-01, url: "https://example.com/2", retrieved: 2025-01-01}
catalog:
  - {provider: tiny, models: ["tiny-*"], channels: [api, consumer_app], documents: [tiny.terms]}
rules:
  - id: tiny.terms.early
    document: tiny.terms
    versions: ["1"]
    effect: allow
    severity: info
    citation: {section: "1", quote: "any use", url: "https://example.com/1"}
    rationale: The first terms allow any use.
    remediation: None needed.
  - id: tiny.terms.late
    document: tiny.terms
    versions: ["2"]
    effect: deny
    severity: high
    citation: {section: "1", quote: "no training", url: "https://example.com/2"}
    rationale: The second terms forbid training.
    remediation: Remove the outputs.
"""


def _count_decisions(monkeypatch: pytest.MonkeyPatch) -> list[Facts]:
    """The facts of every decision the gate asks the rules for, from now on."""
    asked: list[Facts] = []
    decide = gate_module.decide

    def counting(ruleset: RuleSet, facts: Facts) -> Decision:
        asked.append(facts)
        return decide(ruleset, facts)

    monkeypatch.setattr(gate_module, "decide", counting)
    return asked


def test_six_hundred_tuples_over_fifty_days_take_one_decision_per_class(
    write_pack: PackWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 sources over 50 days that span one version change: 600 tuples, 24 decisions."""
    ruleset, diagnostics = load_rules([write_pack("tiny", {"terms.yaml": TINY})])
    assert ruleset is not None, [d.render() for d in diagnostics]
    models, channels, agreements = (
        ("tiny-1", "tiny-2", "tiny-3"),
        ("api", "consumer_app"),
        (None, "z"),
    )
    sources = [
        ("tiny", m, c, a, None, None) for m, c, a in itertools.product(models, channels, agreements)
    ]
    days = list(_dates(dt.date(2024, 6, 1), dt.date(2024, 7, 20)))
    keys = [_key(source, day) for source, day in itertools.product(sources, days)]
    decisions = _count_decisions(monkeypatch)
    shared = Gate(ruleset, FACTS, "distillation")
    verdicts = {key: shared.outcome(key).verdict for key in keys}
    assert (len(keys), len(decisions)) == (600, 24)
    assert {verdicts[_key(s, "2024-06-30")] for s in sources} == {"compliant"}
    assert {verdicts[_key(s, "2024-07-01")] for s in sources} == {"violation"}


def _concrete(glob: str) -> str:
    """A model id that ``glob`` matches."""
    return glob.replace("*", "x").replace("?", "x")


def _bundled_sources(ruleset: RuleSet) -> list[Source]:
    """Each catalog model pattern made concrete, on each of its channels, and human-written data
    under each licence the catalog names."""
    sources: list[Source] = [
        (entry.entry.provider, _concrete(glob), channel.value, entry.entry.agreement, None, None)
        for entry in ruleset.catalog
        for glob in entry.globs
        for channel in entry.entry.channels
    ]
    licences = [licence for entry in ruleset.licenses for licence in entry.licenses]
    sources += [("human", None, None, None, licence, None) for licence in licences]
    return sources


def _boundary_days(ruleset: RuleSet, source: Source) -> list[str | None]:
    """Each boundary of the source's classes of days, the day before and the day after."""
    provider, licence = source[0], source[4]
    assert provider is not None
    classes = day_classes(ruleset, catalog_documents(ruleset, provider, licence))
    near = {b + step * DAY for b in classes.boundaries for step in (-1, 0, 1)}
    return [*(day.isoformat() for day in sorted(near)), None]


def test_each_catalog_entry_at_every_boundary_of_its_days(bundled: RuleSet) -> None:
    """Each bundled catalog entry (its first model pattern, each channel) at every boundary of its
    classes of days, the day before and after, and with no day: decided as each day alone."""
    firsts = {(s[0], s[2], s[3]): s for s in reversed(_bundled_sources(bundled))}
    keys = [_key(s, day) for s in firsts.values() for day in _boundary_days(bundled, s)]
    random.Random(5).shuffle(keys)
    _check(bundled, keys)


@st.composite
def _drawn_keys(
    draw: st.DrawFn, pool: list[Source], licences: list[str | None], near: list[str | None]
) -> list[Key]:
    """A few sources drawn from ``pool``, varied in channel, agreement and licence, each on a few
    days near boundaries or anywhere, in a drawn order."""
    days = st.sampled_from(near) | st.dates(dt.date(2015, 1, 1), dt.date(2027, 12, 31)).map(str)
    keys = []
    for _ in range(draw(st.integers(1, 3))):
        provider, model, channel, agreement, licence, _ = draw(st.sampled_from(pool))
        if draw(st.booleans()):
            channel = draw(st.sampled_from(CHANNELS))
            agreement = draw(st.sampled_from([agreement, "initech"]))
            licence = draw(st.sampled_from(licences))
        claim = provider if model is None and provider != "human" else None
        source = (provider, model, channel, agreement, licence, claim)
        keys += [_key(source, draw(days)) for _ in range(draw(st.integers(1, 25)))]
    return draw(st.permutations(keys))


@pytest.fixture(scope="module")
def bundled_keys(bundled: RuleSet) -> st.SearchStrategy[list[Key]]:
    """Draws of keys over the bundled catalog, near the boundaries of every provider's and
    licence's days."""
    pool = _bundled_sources(bundled)
    licences = [None, "NOASSERTION", *(name for e in bundled.licenses for name in e.licenses)]
    scopes = {(s[0], s[4]): s for s in pool}
    near = sorted(
        {day for s in scopes.values() for day in _boundary_days(bundled, s) if day is not None}
    )
    return _drawn_keys(pool, licences, [*near, None])


@settings(max_examples=120, database=None, deadline=None)
@given(data=st.data())
def test_drawn_tuples_of_the_bundled_packs_are_decided_as_alone(
    bundled: RuleSet, bundled_keys: st.SearchStrategy[list[Key]], data: st.DataObject
) -> None:
    """Tuples drawn from every bundled pack's catalog, over days near its boundaries and any
    days, each get from one gate the outcome a gate deciding that day alone gives it."""
    _check(bundled, data.draw(bundled_keys))
