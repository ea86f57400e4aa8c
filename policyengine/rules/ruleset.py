"""The compiled, immutable form of every loaded pack: what the evaluator reads.

A :class:`RuleSet` is built only by the compiler and only when the packs have no errors; it indexes
documents by id, rules by (document, version), and keeps each pack's digest for reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from policyengine.diagnostics import Location
from policyengine.facts import Facts
from policyengine.rules.operators import glob_pattern
from policyengine.rules.predicates import Predicate
from policyengine.rules.schema import (
    CatalogEntry,
    Document,
    DocumentVersion,
    LicenseEntry,
    PackHeader,
    Rule,
    TestCase,
)


@dataclass(frozen=True, slots=True)
class Pack:
    """A loaded pack: its header, the files it was read from and a digest of their bytes."""

    header: PackHeader
    folder: str
    files: tuple[str, ...]
    digest: str

    @property
    def id(self) -> str:
        """The pack's id, e.g. `openai`."""
        return self.header.id


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule with its condition compiled and its position in the pack."""

    rule: Rule
    pack: str
    when: Predicate
    location: Location

    @property
    def id(self) -> str:
        """The rule's stable dotted id."""
        return self.rule.id


@dataclass(frozen=True, slots=True)
class CompiledEntry:
    """A catalog entry with its checked model globs (matched case-insensitively).

    The globs become regular expressions on first use: a run asks about a few providers' models,
    and compiling every pack's globs up front would cost more than the whole evaluation.
    """

    entry: CatalogEntry
    pack: str
    globs: tuple[str, ...]
    location: Location

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """The globs as case-insensitive regular expressions."""
        return tuple(glob_pattern(glob) for glob in self.globs)

    def matches_model(self, model: str) -> bool:
        """Whether ``model`` matches one of the entry's globs."""
        return any(glob_pattern(glob).match(model) for glob in self.globs)


@dataclass(frozen=True, slots=True)
class PackTest:
    """A pack self-test with its facts parsed."""

    case: TestCase
    pack: str
    facts: Facts
    location: Location


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every loaded pack, compiled."""

    packs: tuple[Pack, ...]
    documents: Mapping[str, Document]
    document_pack: Mapping[str, str]
    catalog: tuple[CompiledEntry, ...]
    licenses: tuple[LicenseEntry, ...]
    rules: tuple[CompiledRule, ...]
    tests: tuple[PackTest, ...]
    by_version: Mapping[tuple[str, str], tuple[CompiledRule, ...]]
    by_id: Mapping[str, CompiledRule]

    @classmethod
    def build(
        cls,
        packs: tuple[Pack, ...],
        documents: Mapping[str, Document],
        document_pack: Mapping[str, str],
        catalog: tuple[CompiledEntry, ...],
        licenses: tuple[LicenseEntry, ...],
        rules: tuple[CompiledRule, ...],
        tests: tuple[PackTest, ...],
    ) -> RuleSet:
        """Assemble a rule set and its indexes."""
        by_version: dict[tuple[str, str], list[CompiledRule]] = {}
        for compiled in rules:
            for version in compiled.rule.versions:
                by_version.setdefault((compiled.rule.document, version), []).append(compiled)
        return cls(
            packs,
            documents,
            document_pack,
            catalog,
            licenses,
            rules,
            tests,
            {key: tuple(value) for key, value in by_version.items()},
            {compiled.id: compiled for compiled in rules},
        )

    def rules_of(self, document: str, version: str) -> tuple[CompiledRule, ...]:
        """The rules that encode clauses of ``document`` at ``version``, in file order."""
        return self.by_version.get((document, version), ())

    def entries_of(self, provider: object) -> list[CompiledEntry]:
        """The catalog entries of ``provider``, in file order."""
        return [entry for entry in self.catalog if entry.entry.provider == provider]

    def licence_entries(self, licence: str) -> list[LicenseEntry]:
        """The licence entries that name ``licence`` (SPDX ids compare without case)."""
        wanted = licence.lower()
        return [e for e in self.licenses if any(known.lower() == wanted for known in e.licenses)]

    def rule(self, rule_id: str) -> CompiledRule | None:
        """The rule with id ``rule_id``, or None."""
        return self.by_id.get(rule_id)

    @property
    def digest(self) -> str:
        """One digest over every pack's digest, for reproducibility records."""
        joined = "\n".join(f"{pack.id}:{pack.digest}" for pack in self.packs)
        return "sha256:" + hashlib.sha256(joined.encode()).hexdigest()

    def version_in_force(self, document: str, day: dt.date) -> DocumentVersion | None:
        """The version of ``document`` in force on ``day`` (both ends inclusive), or None."""
        for version in self.documents[document].versions:
            until = version.effective_until
            if version.effective_from <= day and (until is None or day <= until):
                return version
        return None
