"""`check --format sarif`: SARIF 2.1.0 for code-scanning dashboards.

One result per finding and source group. A ledger has no source files, so each result carries a
logical location: the target and the upstream source it concerns. Every rule's `helpUri` is the
URL of the clause it encodes; waived findings are results with an accepted suppression, never
dropped.
"""

from __future__ import annotations

import json
from typing import Any

from policyengine.evaluate.findings import CheckRun, Finding, SourceGroup
from policyengine.facts import UNKNOWN
from policyengine.rules.schema import Verdict

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/policyengine/policyengine"
_LEVEL = {Verdict.VIOLATION: "error", Verdict.NEEDS_REVIEW: "warning", Verdict.COMPLIANT: "note"}
GAP_RULE = "policyengine.gap"
"""The rule id of findings that no rule stands behind (terms or facts missing)."""


def sarif(run: CheckRun) -> str:
    """The check as a SARIF 2.1.0 log (JSON text, keys sorted, ending with a newline)."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    decision = run.decision
    for finding in decision.gaps:
        results.append(_result(run, finding, None, rules))
    for group in decision.groups:
        results.extend(_result(run, finding, group, rules) for finding in group.findings)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "policyengine",
                        "version": run.tool_version,
                        "informationUri": INFORMATION_URI,
                        "rules": [rules[key] for key in sorted(rules)],
                    }
                },
                "results": results,
                "properties": {
                    "target": decision.target.id,
                    "use": decision.use,
                    "asOf": decision.at.isoformat(),
                    "verdict": decision.verdict.value,
                    "rulesDigest": run.rules_digest,
                    "ledgerHead": run.ledger_head,
                },
            }
        ],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _result(
    run: CheckRun, finding: Finding, group: SourceGroup | None, rules: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    rule_id = finding.rule_id or GAP_RULE
    if rule_id not in rules:
        rules[rule_id] = _rule(finding, rule_id)
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "level": _LEVEL[finding.verdict],
        "kind": "fail",
        "message": {"text": finding.message},
        "locations": [{"logicalLocations": _locations(run, group)}],
        "properties": {"verdict": finding.verdict.value, "finding": finding.kind.value},
    }
    if group is not None:
        result["properties"]["sources"] = group.count
    if finding.waiver is not None:
        waiver = finding.waiver
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{waiver.reason}: approved by {waiver.approver}, "
                f"{waiver.ticket}, until {waiver.expires}",
                "properties": {"waiver": waiver.id},
            }
        ]
    return result


def _rule(finding: Finding, rule_id: str) -> dict[str, Any]:
    outcome = finding.outcome
    if outcome is None:
        return {
            "id": rule_id,
            "shortDescription": {"text": "terms or facts needed to decide are missing"},
            "help": {"text": "record the fact named in the message, or add terms for the source"},
        }
    citation = outcome.citation
    return {
        "id": rule_id,
        "shortDescription": {"text": outcome.rationale.split(". ")[0][:200]},
        "fullDescription": {"text": outcome.rationale},
        "helpUri": str(citation.url),
        "help": {
            "text": f'{outcome.document}@{outcome.version} {citation.section}: "{citation.quote}"'
            + (f" Fix: {outcome.remediation}" if outcome.remediation else "")
        },
        "properties": {"document": outcome.document, "version": outcome.version},
    }


def _locations(run: CheckRun, group: SourceGroup | None) -> list[dict[str, Any]]:
    target = run.decision.target
    found = [
        {
            "name": target.id,
            "fullyQualifiedName": f"{target.kind.value}/{target.id}",
            "kind": "module",
        }
    ]
    if group is not None:
        facts = group.facts
        provider, model = facts["source.provider"], facts["source.model"]
        name = str(provider) + ("" if model is UNKNOWN else f"/{model}")
        found.append(
            {
                "name": name,
                "fullyQualifiedName": f"{target.kind.value}/{target.id}/{name}",
                "kind": "resource",
            }
        )
    return found
