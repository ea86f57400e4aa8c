"""Validated rule files → one immutable :class:`RuleSet`, through a named, ordered list of checks.

Each check is a small function that reads the files and appends diagnostics; a comment says when a
check relies on one before it. Every check runs even when an earlier one found errors, so one run
reports every problem; the rule set is built only when there are none.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, did_you_mean
from policyengine.facts import VOCABULARY, FactError, Facts, Value, coerce
from policyengine.rules.catalog_overlap import FOREVER, in_force_span, overlap, spans_meet
from policyengine.rules.predicates import compile_condition
from policyengine.rules.ruleset import CompiledEntry, CompiledRule, Pack, PackTest, RuleSet
from policyengine.rules.schema import (
    CatalogEntry,
    Document,
    Effect,
    LicenseEntry,
    Rule,
    RuleFile,
    TestCase,
)
from policyengine.rules.source import Path, Source

_GLOB: Final = re.compile(r"^[A-Za-z0-9._:/*?\[\]!-]+$")


@dataclass(frozen=True, slots=True)
class Unit:
    """One validated rule file of one pack."""

    source: Source
    file: RuleFile
    pack: str


@dataclass
class _Context:
    units: tuple[Unit, ...]
    diagnostics: Diagnostics
    documents: dict[str, Document] = field(default_factory=dict)
    document_pack: dict[str, str] = field(default_factory=dict)
    rules: list[CompiledRule] = field(default_factory=list)
    entries: list[CompiledEntry] = field(default_factory=list)
    licenses: list[LicenseEntry] = field(default_factory=list)
    tests: list[PackTest] = field(default_factory=list)

    def report(
        self, unit: Unit, code: str, message: str, path: Path, help: str = "", *, key: bool = False
    ) -> None:
        location = unit.source.locate(path, key=key)
        self.diagnostics.add(Diagnostic(code, message, location, help))

    def documents_(self) -> Iterator[tuple[Unit, int, Document]]:
        for unit in self.units:
            yield from ((unit, i, d) for i, d in enumerate(unit.file.documents))

    def catalog_(self) -> Iterator[tuple[Unit, int, CatalogEntry | LicenseEntry]]:
        for unit in self.units:
            yield from ((unit, i, e) for i, e in enumerate(unit.file.catalog))

    def entries_(self) -> Iterator[tuple[Unit, int, CatalogEntry]]:
        for unit, i, entry in self.catalog_():
            if isinstance(entry, CatalogEntry):
                yield unit, i, entry

    def licenses_(self) -> Iterator[tuple[Unit, int, LicenseEntry]]:
        for unit, i, entry in self.catalog_():
            if isinstance(entry, LicenseEntry):
                yield unit, i, entry

    def rules_(self) -> Iterator[tuple[Unit, int, Rule]]:
        for unit in self.units:
            yield from ((unit, i, r) for i, r in enumerate(unit.file.rules))

    def tests_(self) -> Iterator[tuple[Unit, int, TestCase]]:
        for unit in self.units:
            yield from ((unit, i, t) for i, t in enumerate(unit.file.tests))


def _duplicate_documents(ctx: _Context) -> None:
    first: dict[str, Unit] = {}
    for unit, i, document in ctx.documents_():
        if document.id in first:
            where = first[document.id].source.name
            ctx.report(
                unit,
                codes.DUPLICATE_DOCUMENT,
                f"document `{document.id}` is defined twice",
                ("documents", i, "id"),
                f"it is first defined in {where}; keep one",
            )
            continue
        first[document.id] = unit
        ctx.documents[document.id] = document
        ctx.document_pack[document.id] = unit.pack
        seen: set[str] = set()
        for j, version in enumerate(document.versions):
            if version.version in seen:
                ctx.report(
                    unit,
                    codes.DUPLICATE_DOCUMENT,
                    f"document `{document.id}` has version `{version.version}` twice",
                    ("documents", i, "versions", j, "version"),
                    "give each version its own name",
                )
            seen.add(version.version)


def _date_windows(ctx: _Context) -> None:
    for unit, i, document in ctx.documents_():
        for j, version in enumerate(document.versions):
            until = version.effective_until
            if until is not None and until < version.effective_from:
                ctx.report(
                    unit,
                    codes.DATE_WINDOW,
                    f"`effective_until` {until} is before `effective_from` "
                    f"{version.effective_from}",
                    ("documents", i, "versions", j, "effective_until"),
                    "`effective_until` is the last day in force; it cannot precede the first",
                )


def _overlapping_versions(ctx: _Context) -> None:
    # Skips windows that _date_windows already reported as inverted.
    for unit, i, document in ctx.documents_():
        spans = sorted(
            (v.effective_from, v.effective_until or FOREVER, j, v.version)
            for j, v in enumerate(document.versions)
            if v.effective_until is None or v.effective_until >= v.effective_from
        )
        for (_, end, _, name), (start, _, j, later) in itertools.pairwise(spans):
            if start <= end:
                ctx.report(
                    unit,
                    codes.OVERLAPPING_VERSIONS,
                    f"versions `{name}` and `{later}` of `{document.id}` are both in force on {start}",
                    ("documents", i, "versions", j, "effective_from"),
                    f"end `{name}` the day before `{later}` starts (`effective_until` is inclusive)",
                )


def _document_references(ctx: _Context) -> None:
    # Relies on _duplicate_documents having indexed ctx.documents.
    known = ctx.documents
    for unit, i, entry in ctx.catalog_():
        for j, document in enumerate(entry.documents):
            if document not in known:
                ctx.report(
                    unit,
                    codes.UNKNOWN_DOCUMENT,
                    f"unknown document `{document}`",
                    ("catalog", i, "documents", j),
                    did_you_mean(document, known),
                )
    for unit, i, rule in ctx.rules_():
        document = rule.document
        if document not in known:
            ctx.report(
                unit,
                codes.UNKNOWN_DOCUMENT,
                f"unknown document `{document}`",
                ("rules", i, "document"),
                did_you_mean(document, known),
            )
            continue
        versions = [v.version for v in known[document].versions]
        for j, version in enumerate(rule.versions):
            if version not in versions:
                ctx.report(
                    unit,
                    codes.UNKNOWN_VERSION,
                    f"document `{document}` has no version `{version}`",
                    ("rules", i, "versions", j),
                    did_you_mean(version, versions) or "versions: " + ", ".join(versions),
                )


def _model_globs(ctx: _Context) -> None:
    for unit, i, entry in ctx.entries_():
        globs = []
        for j, glob in enumerate(entry.models):
            if not _GLOB.match(glob) or glob.count("[") != glob.count("]"):
                ctx.report(
                    unit,
                    codes.BAD_GLOB,
                    f"`{glob}` is not a usable model pattern",
                    ("catalog", i, "models", j),
                    "write a model id with `*` and `?` wildcards, e.g. `gpt-4o*`",
                )
                continue
            globs.append(glob)
        ctx.entries.append(
            CompiledEntry(entry, unit.pack, tuple(globs), unit.source.locate(("catalog", i)))
        )


def _catalog_conflicts(ctx: _Context) -> None:
    # Relies on _document_references (known documents) and _model_globs (ctx.entries, in order).
    placed = [(u, i) for u, i, _ in ctx.entries_()]
    for a in range(len(ctx.entries)):
        for b in range(a + 1, len(ctx.entries)):
            first, second = ctx.entries[a].entry, ctx.entries[b].entry
            if overlap(first, second, ctx.documents) and first.precedence == second.precedence:
                unit, i = placed[b]
                ctx.report(
                    unit,
                    codes.CATALOG_CONFLICT,
                    f"this entry and the one at {ctx.entries[a].location} both claim "
                    f"`{first.provider}` models on the same channel and dates",
                    ("catalog", i),
                    "narrow the model globs or channels, or set `precedence` on the entry "
                    "that should govern",
                )


def _licence_catalog(ctx: _Context) -> None:
    # Relies on _document_references (known documents) for the date spans it compares.
    first: dict[str, tuple[int | None, str, tuple[dt.date, dt.date] | None]] = {}
    for unit, i, entry in ctx.licenses_():
        span = in_force_span(entry, ctx.documents)
        ctx.licenses.append(entry)
        for j, licence in enumerate(entry.licenses):
            key = licence.lower()
            if key in first:
                precedence, where, other = first[key]
                if precedence == entry.precedence and spans_meet(span, other):
                    ctx.report(
                        unit,
                        codes.CATALOG_CONFLICT,
                        f"licence `{licence}` is claimed again on the same dates (first at {where})",
                        ("catalog", i, "licenses", j),
                        "list the documents in one entry, or set `precedence` on the one that governs",
                    )
                continue
            first[key] = (entry.precedence, str(unit.source.locate(("catalog", i))), span)


def _duplicate_rules(ctx: _Context) -> None:
    first: dict[str, str] = {}
    for unit, i, rule in ctx.rules_():
        rule_id = rule.id
        if rule_id in first:
            ctx.report(
                unit,
                codes.DUPLICATE_RULE,
                f"rule id `{rule_id}` is used twice",
                ("rules", i, "id"),
                f"it is first used at {first[rule_id]}; rule ids must be unique across all packs",
            )
            continue
        first[rule_id] = str(unit.source.locate(("rules", i, "id")))


def _conditions(ctx: _Context) -> None:
    for unit, i, rule in ctx.rules_():

        def report(code: str, message: str, path: Path, help: str, unit: Unit = unit) -> None:
            ctx.report(unit, code, message, path, help)

        when = compile_condition(rule.when, ("rules", i, "when"), report)
        ctx.rules.append(CompiledRule(rule, unit.pack, when, unit.source.locate(("rules", i))))


def _obligations(ctx: _Context) -> None:
    for unit, i, rule in ctx.rules_():
        effect, obligations = rule.effect, rule.obligations
        if effect is Effect.OBLIGE and not obligations:
            ctx.report(
                unit,
                codes.OBLIGATION_MISFIT,
                "rule with effect `oblige` lists no obligations",
                ("rules", i, "effect"),
                "list what the use obliges, or use `allow`",
            )
        elif effect is not Effect.OBLIGE and obligations:
            ctx.report(
                unit,
                codes.OBLIGATION_MISFIT,
                f"rule with effect `{effect.value}` lists obligations",
                ("rules", i, "obligations"),
                "obligations belong to rules with effect `oblige`",
            )
        for j, obligation in enumerate(obligations):
            document = getattr(obligation, "document", None)
            if document is not None and document not in ctx.documents:
                ctx.report(
                    unit,
                    codes.UNKNOWN_DOCUMENT,
                    f"unknown document `{document}`",
                    ("rules", i, "obligations", j, "document"),
                    did_you_mean(document, ctx.documents),
                )


def _tests(ctx: _Context) -> None:
    # Relies on _duplicate_rules: every rule id is known once ctx.rules is complete.
    rule_ids = {compiled.id for compiled in ctx.rules}
    for unit, i, case in ctx.tests_():
        parsed = _test_facts(ctx, unit, i, case.facts)
        for j, rule_id in enumerate(case.expect.rules):
            if rule_id not in rule_ids:
                ctx.report(
                    unit,
                    codes.UNKNOWN_RULE,
                    f"unknown rule `{rule_id}`",
                    ("tests", i, "expect", "rules", j),
                    did_you_mean(rule_id, rule_ids),
                )
        if parsed is not None:
            ctx.tests.append(PackTest(case, unit.pack, parsed, unit.source.locate(("tests", i))))


def _test_facts(ctx: _Context, unit: Unit, i: int, raw: dict[str, object]) -> Facts | None:
    """The case's facts, each checked once against the vocabulary; None if any is wrong."""
    known: dict[str, Value] = {}
    ok = True
    for name, value in raw.items():
        path = ("tests", i, "facts", name)
        spec = VOCABULARY.get(name)
        if spec is None:
            ok = False
            message = f"unknown fact `{name}`"
            help_text = did_you_mean(name, VOCABULARY)
            ctx.report(unit, codes.UNKNOWN_FACT, message, path, help_text, key=True)
            continue
        if value is None:  # null means unknown, as in Facts.parse
            continue
        try:
            known[name] = coerce(spec, value)
        except FactError as error:
            ok = False
            ctx.report(unit, codes.VALUE_MISFIT, str(error), path)
    return Facts(known) if ok else None


CHECKS: Final[tuple[tuple[str, Callable[[_Context], None]], ...]] = (
    ("duplicate documents", _duplicate_documents),
    ("date windows", _date_windows),
    ("overlapping versions", _overlapping_versions),
    ("document references", _document_references),
    ("model globs", _model_globs),
    ("catalog conflicts", _catalog_conflicts),
    ("licence catalog", _licence_catalog),
    ("duplicate rules", _duplicate_rules),
    ("conditions", _conditions),
    ("obligations", _obligations),
    ("tests", _tests),
)


def compile_packs(
    packs: tuple[Pack, ...], units: tuple[Unit, ...]
) -> tuple[RuleSet | None, Diagnostics]:
    """Run every check over the validated files; build the rule set when none reports an error."""
    ctx = _Context(units, Diagnostics())
    for _name, check in CHECKS:
        check(ctx)
    if ctx.diagnostics.has_errors:
        return None, ctx.diagnostics
    ruleset = RuleSet.build(
        packs,
        dict(ctx.documents),
        dict(ctx.document_pack),
        tuple(ctx.entries),
        tuple(ctx.licenses),
        tuple(ctx.rules),
        tuple(ctx.tests),
    )
    return ruleset, ctx.diagnostics
