"""Classes of days: their boundaries, the documents a source can reach, and the guarantee that the
days of one class select the same versions and give every date comparison the same truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import PackWriter
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine import api
from policyengine.facts import Facts
from policyengine.rules.day_classes import DayClasses, catalog_documents, day_classes
from policyengine.rules.loader import load_rules
from policyengine.rules.operators import Truth
from policyengine.rules.ruleset import RuleSet

CHRONO = Path(__file__).resolve().parents[1] / "fixtures" / "packs" / "chrono"
DAY = dt.timedelta(days=1)
OTHER_FACTS = {"use.activity": "distillation", "target.commercial": False}


@pytest.fixture(scope="module")
def chrono() -> RuleSet:
    """The fixture pack whose versions leave gaps and whose rules compare dates."""
    ruleset, diagnostics = load_rules([CHRONO])
    assert ruleset is not None, [d.render() for d in diagnostics]
    return ruleset


@pytest.fixture(scope="module")
def bundled() -> RuleSet:
    """The bundled rule packs."""
    return api.require_rules()


def _days(*texts: str) -> tuple[dt.date, ...]:
    return tuple(dt.date.fromisoformat(text) for text in texts)


def test_boundaries_are_version_edges_and_compared_days(chrono: RuleSet) -> None:
    """A document's boundaries are each version's first day and the day after its last, and each
    date its rules compare with and the day after it."""
    versions = ("2024-01-01", "2024-04-01", "2024-05-01", "2024-07-01", "2024-09-01")
    literals = ("2024-02-10", "2024-03-01", "2024-03-31", "2024-05-20", "2024-06-05", "2024-10-01")
    after = tuple(str(day + DAY) for day in _days(*literals))
    want = tuple(sorted(set(_days(*versions, *literals, *after))))
    assert day_classes(chrono, ["chrono.terms"]).boundaries == want


def test_every_document_by_default(chrono: RuleSet) -> None:
    """Without documents named, the classes are those of every document of the rule set."""
    assert day_classes(chrono) == day_classes(chrono, chrono.documents)
    assert DayClasses(()).class_of(dt.date(2024, 1, 1)) == 0


def test_the_last_day_there_is_has_no_day_after(write_pack: PackWriter) -> None:
    """A version in force to the last representable day, or a rule comparing with that day, adds
    that day alone as a boundary."""
    folder = write_pack(
        "forever",
        {
            "rules.yaml": """\
            documents:
              - id: forever.terms
                title: Forever Terms
                provider: forever
                kind: terms_of_service
                versions:
                  - {version: "1", effective_from: 2024-01-01, effective_until: 9999-12-31, url: "https://example.com/t", retrieved: 2025-01-01}
            rules:
              - id: forever.terms.last-day
                document: forever.terms
                versions: ["1"]
                when: {fact: source.generated_at, op: equals, value: 9999-12-31}
                effect: deny
                severity: high
                citation: {section: "1", quote: "not on the last day", url: "https://example.com/t"}
                rationale: Not on the last day.
                remediation: None.
            """
        },
    )
    ruleset, diagnostics = load_rules([folder])
    assert ruleset is not None, [d.render() for d in diagnostics]
    classes = day_classes(ruleset)
    assert classes.boundaries == (dt.date(2024, 1, 1), dt.date.max)
    assert [classes.class_of(d) for d in (dt.date.max - DAY, dt.date.max)] == [1, 2]


@pytest.mark.parametrize(
    ("provider", "licence", "want"),
    [
        ("chrono", None, {"chrono.terms", "chrono.policy", "chrono.initech", "chrono.open"}),
        (
            "chrono",
            "chrono-data-1.0",
            {"chrono.terms", "chrono.policy", "chrono.initech", "chrono.open", "chrono.data"},
        ),
        ("human", "CHRONO-DATA-1.0", {"chrono.data"}),
        ("human", "MIT", set()),
        ("acme", None, set()),
    ],
    ids=["provider", "provider and licence", "licence alone", "unknown licence", "unknown"],
)
def test_catalog_documents_cover_every_entry_of_the_provider_and_licence(
    chrono: RuleSet, provider: str, licence: str | None, want: set[str]
) -> None:
    """Every entry of the provider counts, whatever its models, channels and agreement; licences
    match ignoring case."""
    assert catalog_documents(chrono, provider, licence) == want


def _answers(ruleset: RuleSet, day: dt.date) -> tuple[object, ...]:
    """Everything a day can change: each document's version in force, each rule's truth."""
    facts = Facts({**OTHER_FACTS, "source.generated_at": day})
    versions = tuple(ruleset.version_in_force(d, day) for d in sorted(ruleset.documents))
    truths: tuple[Truth, ...] = tuple(compiled.when(facts) for compiled in ruleset.rules)
    return (versions, truths)


def _first_day(classes: DayClasses, day: dt.date) -> dt.date:
    """The first day of ``day``'s class (the day before the first boundary stands for class 0)."""
    index = classes.class_of(day)
    return classes.boundaries[index - 1] if index else classes.boundaries[0] - DAY


def test_every_day_of_a_class_answers_as_its_first_day(chrono: RuleSet) -> None:
    """Day by day over the fixture pack's years, a day answers as the first day of its class."""
    classes = day_classes(chrono)
    day, last = dt.date(2021, 12, 1), dt.date(2025, 3, 1)
    while day <= last:
        assert _answers(chrono, day) == _answers(chrono, _first_day(classes, day)), day
        day += DAY


@settings(max_examples=200, database=None, deadline=None)
@given(data=st.data())
def test_days_near_boundaries_answer_as_their_class(
    bundled: RuleSet, chrono: RuleSet, data: st.DataObject
) -> None:
    """In the bundled packs and the fixture pack, a day at, before or after any boundary, or any
    day at all, answers as the first day of its class."""
    ruleset = data.draw(st.sampled_from([bundled, chrono]))
    classes = day_classes(ruleset)
    near = st.builds(
        lambda boundary, step: boundary + step * DAY,
        st.sampled_from(classes.boundaries),
        st.integers(-1, 1),
    )
    day = data.draw(near | st.dates(dt.date(2010, 1, 1), dt.date(2030, 12, 31)))
    assert _answers(ruleset, day) == _answers(ruleset, _first_day(classes, day))
