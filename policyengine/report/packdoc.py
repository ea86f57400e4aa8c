"""A pack's reference page: documents, catalog and every rule in words, built from the rule set."""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.report import wording
from policyengine.report.render import render
from policyengine.rules.ruleset import Pack, RuleSet
from policyengine.rules.schema import CatalogEntry, Document, LicenseEntry, Rule


@dataclass(frozen=True, slots=True)
class VersionView:
    """One version of a document as the page shows it."""

    version: str
    effective_from: str
    effective_until: str
    url: str
    source: str


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document with its versions and the rules that encode it."""

    id: str
    title: str
    kind: str
    versions: tuple[VersionView, ...]
    rules: tuple[RuleView, ...]


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule in words."""

    id: str
    effect: str
    severity: str
    versions: str
    when: str
    obligations: tuple[str, ...]
    section: str
    quote: str
    url: str
    rationale: str
    remediation: str


@dataclass(frozen=True, slots=True)
class PackPage:
    """Everything the page template shows."""

    id: str
    title: str
    version: str
    description: str
    digest: str
    catalog: tuple[str, ...]
    documents: tuple[DocumentView, ...]
    tests: int


def pack_page(ruleset: RuleSet, pack: Pack) -> PackPage:
    """Build the view-model of one pack's page."""
    documents = [d for d in ruleset.documents.values() if ruleset.document_pack[d.id] == pack.id]
    entries: list[CatalogEntry | LicenseEntry] = [
        e.entry for e in ruleset.catalog if e.pack == pack.id
    ]
    entries += [e for e in ruleset.licenses if ruleset.document_pack[e.documents[0]] == pack.id]
    return PackPage(
        id=pack.id,
        title=pack.header.title,
        version=pack.header.version,
        description=" ".join(pack.header.description.split()),
        digest=pack.digest,
        catalog=tuple(_entry(e) for e in entries),
        documents=tuple(_document(ruleset, d) for d in documents),
        tests=sum(1 for t in ruleset.tests if t.pack == pack.id),
    )


def render_pack(ruleset: RuleSet, pack: Pack) -> str:
    """The Markdown page of one pack."""
    return render("pack.md.j2", page=pack_page(ruleset, pack))


def _entry(entry: CatalogEntry | LicenseEntry) -> str:
    documents = ", ".join(f"`{d}`" for d in entry.documents)
    extra = f" (precedence {entry.precedence})" if entry.precedence is not None else ""
    if isinstance(entry, LicenseEntry):
        licences = ", ".join(f"`{name}`" for name in entry.licenses)
        return f"data licensed {licences} → {documents}{extra}"
    models = ", ".join(f"`{m}`" for m in entry.models)
    channels = ", ".join(c.value for c in entry.channels)
    agreement = f", under agreement `{entry.agreement}` only" if entry.agreement else ""
    return f"`{entry.provider}` models {models} via {channels}{agreement} → {documents}{extra}"


def _document(ruleset: RuleSet, document: Document) -> DocumentView:
    rules = [r.rule for r in ruleset.rules if r.rule.document == document.id]
    return DocumentView(
        id=document.id,
        title=document.title,
        kind=document.kind.value.replace("_", " "),
        versions=tuple(
            VersionView(
                v.version,
                str(v.effective_from),
                str(v.effective_until) if v.effective_until else "in force",
                v.url,
                " ".join(v.source.split()),
            )
            for v in document.versions
        ),
        rules=tuple(_rule(r) for r in rules),
    )


def _rule(rule: Rule) -> RuleView:
    return RuleView(
        id=rule.id,
        effect=rule.effect.value,
        severity=rule.severity.value,
        versions=", ".join(rule.versions),
        when=wording.condition(rule.when),
        obligations=tuple(wording.obligation(o) for o in rule.obligations),
        section=rule.citation.section,
        quote=" ".join(rule.citation.quote.split()),
        url=rule.citation.url,
        rationale=" ".join(rule.rationale.split()),
        remediation=" ".join(rule.remediation.split()),
    )
