"""The scan report's stable machine format: :class:`ScanReport` and the models it holds.

The JSON report is ``ScanReport.model_dump``; the Markdown and HTML reports render the same data.
Version 2 added the self-identification counts (``self_id``), each provenance's ``self_id`` claim and
the ``contradicted`` problem; version 3 made the character counts and shares null when the scan did
not count characters (they cost reading every text).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileCount(_Model):
    """One shard: its path, format and how many records it held."""

    path: str
    format: str
    records: int


class Share(_Model):
    """Records of one provider (or model): how many, their text, their share, how many passed."""

    name: str | None
    records: int
    characters: int | None
    record_share: float
    character_share: float | None
    allowed: int
    blocked: int


class RuleCount(_Model):
    """How many records one rule decided."""

    rule: str
    records: int


class Example(_Model):
    """One record whose provenance could not be decided by the rules, by file and line."""

    file: str
    line: int
    code: str
    problem: str
    reason: str


class Provenance(_Model):
    """One distinct provenance tuple, the outcome for it, and how many records had it."""

    provider: str | None
    model: str | None
    channel: str | None
    agreement: str | None
    generated_at: str | None
    license: str | None
    generation: str | None
    self_id: str | None
    records: int
    verdict: str
    rules: list[str]
    reason: str
    detail: str
    problem: str | None


class Limit(_Model):
    """A ``--max-share`` limit and what the scan measured for it."""

    field: str
    value: str
    max_share: float
    record_share: float
    character_share: float | None
    exceeded: bool


class SelfIdCount(_Model):
    """Records whose text identified one provider's model, by how that fits their provenance."""

    provider: str
    records: int
    consistent: int
    contradicting: int
    attributed: int


class SelfIdentification(_Model):
    """What ``--detect-self-id`` found: totals, then one row per detected provider."""

    signatures: str
    records: int
    consistent: int
    contradicting: int
    attributed: int
    providers: list[SelfIdCount]


class ScanReport(_Model):
    """Everything a scan found, in a versioned shape."""

    schema_version: Literal[3] = 3
    use: str
    as_of: str | None
    target: dict[str, object]
    fields: dict[str, str]
    on_unknown: str
    files: list[FileCount]
    records: int
    allowed: int
    blocked: int
    characters: int | None
    traced: int
    verdicts: dict[str, int]
    problems: dict[str, int]
    providers: list[Share]
    models: list[Share]
    rules: list[RuleCount]
    provenance: list[Provenance]
    examples: list[Example]
    limits: list[Limit]
    self_id: SelfIdentification | None
    outputs: dict[str, str]
    verdict: Literal["compliant", "violation", "needs_review"]
