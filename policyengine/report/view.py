"""The report's view-model: plain, frozen values that templates and the JSON output read.

Everything a report shows is computed into these models first (by :mod:`policyengine.report.build`);
templates only lay it out. The JSON format is these models dumped as they are, with
``schema_version``; ``docs/report.schema.json`` is their JSON Schema, and a test keeps it current.
Change a field's meaning only with a new ``schema_version``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal["1"] = "1"
"""The version of the JSON shape; bump it when a field changes meaning or goes away."""

VerdictName = Literal["compliant", "violation", "needs_review"]
Status = Literal["violation", "needs_review", "waived", "passed"]


class View(BaseModel):
    """Base of every view-model: unknown fields are errors and values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(View):
    """One fact as shown: its dotted name and its value in words (`unknown` when not recorded)."""

    name: str
    value: str


class Target(View):
    """The dataset or model the report is about, with the target facts the decision used."""

    id: str
    kind: str
    name: str | None
    facts: tuple[Fact, ...]


class Terms(View):
    """A terms document version that governed a source, and why that version was chosen."""

    document: str
    title: str
    version: str
    effective_from: dt.date
    effective_until: dt.date | None = Field(description="Last day in force; null while current.")
    url: str | None
    digest: str | None = Field(description="sha256 of the text the version encodes, if recorded.")
    why: str


class RuleCheck(View):
    """One rule of the governing terms and how it came out for a decision (the trace)."""

    rule_id: str
    document: str
    version: str
    section: str
    truth: Literal["true", "false", "unknown"]
    effect: str | None = Field(
        description="The effect the rule yields; null when it does not hold."
    )
    status: Status
    missing: tuple[str, ...] = Field(description="Facts the rule needed that were not recorded.")


class Decision(View):
    """One decision, shared by every source with the same facts: verdict, reasons and trace."""

    id: str
    verdict: VerdictName
    effect: str
    activity: str
    activity_recorded: bool = Field(description="Whether the lineage records the activity.")
    hops: int
    reasons: tuple[str, ...]
    terms: tuple[Terms, ...]
    rules: tuple[RuleCheck, ...]
    facts: tuple[Fact, ...]
    sources: tuple[str, ...]


class Source(View):
    """An upstream source reached along one path: what produced it, when, and its decision."""

    id: str
    kind: str
    provider: str | None
    model: str | None
    channel: str | None
    agreement: str | None
    license: str | None
    generated_from: dt.date | None
    generated_until: dt.date | None
    records: int | None = Field(description="Records taken from the source on its path.")
    hops: int
    activity: str
    via: tuple[str, ...] = Field(description="Artifacts between the target and the source.")
    transforms: tuple[str, ...]
    decision: str
    verdict: VerdictName
    terms: tuple[Terms, ...]


class Finding(View):
    """A reason the target is not simply compliant, with its clause and what to do about it."""

    id: str
    kind: Literal["rule", "obligation", "gap"]
    verdict: Literal["violation", "needs_review"]
    waived: bool
    waiver: str | None = Field(description="Id of the waiver that accepted the finding.")
    message: str
    rule_id: str | None
    severity: str | None
    document: str | None
    document_title: str | None
    version: str | None
    section: str | None
    quote: str | None
    url: str | None
    rationale: str | None
    remediation: str | None
    obligation: str | None = Field(description="What an obligation asks, for obligation findings.")
    missing: tuple[str, ...] = Field(description="Facts to record so that the rule can decide.")
    sources: tuple[str, ...]
    decisions: tuple[str, ...]


class Obligation(View):
    """One obligation of a rule that holds for some source, checked against the target."""

    rule_id: str
    document: str
    section: str
    url: str
    kind: str
    requirement: str
    status: Literal["met", "unmet", "unknown", "carried"]
    detail: str
    decisive: bool = Field(
        description="Whether the obligation decides its sources; false when a deny or review "
        "of the same terms decides them first (it applies once that is resolved)."
    )
    remediation: str
    sources: tuple[str, ...]


class Waiver(View):
    """A waiver in reach of the target and what came of it."""

    id: str
    rule_id: str
    scope: str
    reason: str
    approver: str
    ticket: str
    expires: dt.date
    status: Literal["applied", "unused", "expired", "malformed", "out_of_scope"]
    detail: str
    findings: int


class Edge(View):
    """One step of the lineage: ``downstream`` was made from (or used) ``upstream``."""

    downstream: str
    downstream_kind: str
    upstream: str
    upstream_kind: str
    relation: str
    transform: str | None
    records: int | None
    activity: str | None


class Pack(View):
    """A rule pack as it was used: id, version and the digest of its files."""

    id: str
    version: str
    digest: str


class Counts(View):
    """How many of each thing the report holds."""

    sources: int = Field(description="Distinct upstream sources (a source may have several paths).")
    decisions: int
    violations: int
    needs_review: int
    waived: int
    obligations_unmet: int


class Reproducibility(View):
    """What it takes to make the same decision again and check nothing changed since."""

    tool_version: str
    rules_digest: str
    packs: tuple[Pack, ...]
    ledger_head: str | None
    as_of: dt.date
    use: str
    generated_at: dt.datetime


class Report(View):
    """A compliance report on one target for one intended use, as of one day."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    title: str
    generated_at: dt.datetime
    as_of: dt.date
    use: str
    target: Target
    verdict: VerdictName
    verdict_label: str
    why: str
    summary: str
    counts: Counts
    sources: tuple[Source, ...]
    decisions: tuple[Decision, ...]
    findings: tuple[Finding, ...]
    obligations: tuple[Obligation, ...]
    waivers: tuple[Waiver, ...]
    lineage: tuple[Edge, ...]
    reproducibility: Reproducibility
    disclaimer: str
