"""`check --format github`: workflow commands that GitHub Actions shows as annotations.

Violations are `::error`, reviews `::warning`, waived findings `::notice`, waivers that do not
apply (expired, malformed, out of scope) `::warning`; the last line is the summary. Data in a workflow command is escaped as GitHub's toolkit does (`%`, CR, LF; in
properties also `:` and `,`), so a dataset name cannot inject a command of its own.
"""

from __future__ import annotations

from policyengine.evaluate.findings import CheckRun, Finding, SourceGroup
from policyengine.evaluate.waivers import WaiverStatus
from policyengine.facts import UNKNOWN
from policyengine.rules.schema import Verdict

_COMMAND = {Verdict.VIOLATION: "error", Verdict.NEEDS_REVIEW: "warning"}


def workflow_commands(run: CheckRun) -> str:
    """One workflow command per finding, then the summary line."""
    lines = [_line(finding, None) for finding in run.decision.gaps]
    for group in run.decision.groups:
        lines += [_line(finding, group) for finding in group.findings]
    for check in run.decision.waivers:
        if check.status not in (WaiverStatus.APPLIED, WaiverStatus.UNUSED):
            title = _property(f"waiver {check.waiver.id} does not apply")
            lines.append(
                f"::warning title={title}::{_data(check.status.value + ': ' + check.detail)}"
            )
    lines.append(run.decision.summary())
    return "\n".join(lines) + "\n"


def _line(finding: Finding, group: SourceGroup | None) -> str:
    command = "notice" if finding.waived else _COMMAND.get(finding.verdict, "notice")
    title = finding.rule_id or "policyengine: missing terms or facts"
    message = finding.message
    if group is not None:
        facts = group.facts
        model = facts["source.model"]
        source = str(facts["source.provider"]) + ("" if model is UNKNOWN else f" {model}")
        message = f"{source} ({group.count} source(s)): {message}"
    if finding.outcome is not None:
        message += f" — {finding.outcome.citation.url}"
    if finding.waiver is not None:
        message += f" [waived by {finding.waiver.id} until {finding.waiver.expires}]"
    return f"::{command} title={_property(title)}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
