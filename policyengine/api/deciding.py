"""Deciding recorded lineages: `check`, its audit record and `impact`, with the refusals that come
before any decision (unknown target, bad what-if facts, a broken chain, an as-of before the lineage).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from policyengine import __version__, codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError, did_you_mean
from policyengine.evaluate.findings import CheckRun, PackStamp
from policyengine.evaluate.impact import Change, compare, without_version
from policyengine.evaluate.lineage import evaluate
from policyengine.evaluate.waivers import Waiver
from policyengine.facts import VOCABULARY, FactError, Facts, Value, describe_kind, plain
from policyengine.ledger import audit, gate
from policyengine.ledger.background import verify_chain_meanwhile
from policyengine.ledger.store import Ledger
from policyengine.ledger.verify import Verification
from policyengine.lineage import Lineage
from policyengine.rules.ruleset import RuleSet


def check(
    ruleset: RuleSet,
    ledger: Ledger,
    target: str,
    use: str,
    *,
    at: dt.date,
    what_if: Mapping[str, object] | None = None,
    grouped: bool = False,
) -> CheckRun:
    """Decide whether the outputs in the recorded ``target`` (an id, or a name recorded once) may
    be used for ``use``, as of the day ``at``; ``what_if`` replaces recorded target facts.

    ``grouped`` reads the lineage with sources recorded alike counted rather than listed: the same
    decision, counts and explanations, but the run's lineage and groups then list only the first
    few sources of each kind (enough for text, SARIF and GitHub output, not for reports).

    Refuses (PolicyEngineError) to decide on a ledger whose chain does not verify, for a target it
    does not hold, for what-if values that do not fit their facts, and for an ``at`` before
    anything the lineage records.
    """
    overrides = _what_if(what_if or {})
    use = _activity(use)
    verified = verify_chain_meanwhile(ledger.engine)
    try:
        target_id = _resolve(ledger, target)
        with ledger.engine.connect() as connection:
            records = gate.waivers(connection)
        waivers = [Waiver(*dataclasses.astuple(record)) for record in records]
        # A waiver's scope must stay a source of its own to be told apart from its neighbours.
        scopes = {w.scope for w in waivers}
        lineage = ledger.lineage(target_id, grouped=grouped, apart=scopes)
    finally:
        verification = verified()
    _require_verified(verification)  # before anything is decided from the lineage just read
    _require_after_first_event(lineage, at)
    decision = evaluate(ruleset, lineage, use, overrides, at=at, waivers=waivers)
    return CheckRun(
        decision,
        lineage,
        tuple(PackStamp(p.id, p.header.version, p.digest) for p in ruleset.packs),
        ruleset.digest,
        ledger.head()[1],
        __version__,
    )


def record_check(
    ledger: Ledger,
    run: CheckRun,
    what_if: Mapping[str, object] | None,
    *,
    recorded_at: dt.datetime,
) -> int:
    """Chain the audit record of ``run`` into ``ledger``; returns its entry's seq.

    The record holds the target, use, as-of day, what-if facts, verdict and counts, the rules
    behind the findings, every rule pack's digest, the ledger head the decision was made on, and
    the tool's version.
    """
    decision = run.decision
    counts = decision.counts()
    payload = {
        "use": decision.use,
        "as_of": decision.at.isoformat(),
        "what_if": {name: plain(value) for name, value in _what_if(what_if or {}).items()},
        "verdict": decision.verdict.value,
        "counts": {key: counts[key] for key in ("violation", "needs_review", "waived", "sources")},
        "deciding": list(decision.deciding),
        "waivers": {c.waiver.id: c.status.value for c in decision.waivers},
        "rules_digest": run.rules_digest,
        "packs": [{"id": p.id, "version": p.version, "digest": p.digest} for p in run.packs],
        "ledger_head": run.ledger_head or "",
        "tool_version": run.tool_version,
    }
    return audit.record_check(ledger.engine, decision.target.id, payload, recorded_at=recorded_at)


def impact(
    old: RuleSet,
    new: RuleSet,
    ledger: Ledger,
    use: str,
    *,
    at: dt.date,
) -> tuple[list[Change], int]:
    """Decide every recorded dataset and model under ``old`` and ``new`` rules; the targets whose
    verdict or deciding rules differ, and how many targets were decided."""
    use = _activity(use)
    _require_verified(verify_chain_meanwhile(ledger.engine)())
    with ledger.engine.connect() as connection:
        ids = gate.targets(connection)
        waivers = [Waiver(*dataclasses.astuple(r)) for r in gate.waivers(connection)]
    changes = []
    for target_id in ids:
        lineage = ledger.lineage(target_id)
        before = evaluate(old, lineage, use, at=at, waivers=waivers)
        after = evaluate(new, lineage, use, at=at, waivers=waivers)
        change = compare(before, after)
        if change is not None:
            changes.append(change)
    return changes, len(ids)


def rules_before(ruleset: RuleSet, document_version: str) -> RuleSet:
    """``ruleset`` as it was before ``ID@VERSION`` took effect (PE506 when it holds no such one)."""
    document, _, version = document_version.partition("@")
    try:
        return without_version(ruleset, document, version)
    except KeyError:
        known = [f"{d}@{v.version}" for d, doc in ruleset.documents.items() for v in doc.versions]
        hint = did_you_mean(document_version, known)
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.CHECK_BAD_DOCUMENT,
                    f"no document `{document_version}` in the loaded rules",
                    Location("impact"),
                    help=hint or "write ID@VERSION as `policyengine rules list` shows them",
                )
            ]
        ) from None


def _what_if(raw: Mapping[str, object]) -> dict[str, Value]:
    try:
        parsed = Facts.parse(raw)
    except FactError as error:
        raise _error(codes.CHECK_BAD_FACT, str(error), "see `docs/cli.md` for the values") from None
    _require_consistent(parsed)
    return dict(parsed.known)


def _activity(use: str) -> str:
    try:
        Facts.parse({"use.activity": use})
    except FactError as error:
        hint = did_you_mean(use, VOCABULARY["use.activity"].values)
        raise _error(codes.CHECK_BAD_FACT, str(error), hint or describe_activities()) from None
    return use


def describe_activities() -> str:
    """The activities `--use` takes, for help texts."""
    return "`--use` takes " + describe_kind(VOCABULARY["use.activity"])


_MODEL_ONLY = ("target.base_model",)
_MODEL_RELEASES = frozenset({"commercial_api", "open_weights"})


def _require_consistent(facts: Facts) -> None:
    kind = facts.known.get("target.kind")
    release = facts.known.get("target.release")
    problems = []
    if kind == "model" and release == "dataset_publication":
        problems.append("a model is not released as `dataset_publication`")
    if kind == "dataset" and release in _MODEL_RELEASES:
        problems.append(f"a dataset is not released as `{release}`")
    if kind == "dataset":
        problems += [f"a dataset has no `{name}`" for name in _MODEL_ONLY if name in facts.known]
    if problems:
        raise _error(
            codes.CHECK_CONTRADICTION,
            "; ".join(problems),
            "drop one of the two options, or change `--kind`",
        )


def _require_verified(result: Verification) -> None:
    if not result.ok:
        first = result.diagnostics[0].message if result.diagnostics else "the chain is broken"
        raise _error(
            codes.CHECK_UNVERIFIED,
            f"the ledger does not verify ({first}); no decision is made on it",
            "run `policyengine ledger verify` to see every problem, and restore the ledger "
            "from a good export",
        )


def _resolve(ledger: Ledger, target: str) -> str:
    if ledger.kinds([target]):
        return target
    with ledger.engine.connect() as connection:
        named = gate.ids_named(connection, target)
        known = gate.names(connection)
    if len(named) == 1:
        return named[0]
    if named:
        raise _error(
            codes.CHECK_AMBIGUOUS_TARGET,
            f"`{target}` names {len(named)} recorded artifacts: "
            + ", ".join(f"`{i}`" for i in named),
            "pass the id of the one you mean",
        )
    hint = did_you_mean(target, known)
    raise _error(
        codes.LEDGER_UNKNOWN_ID,
        f"the ledger has no dataset or model `{target}`",
        hint or "`policyengine ledger show ID` shows a recorded artifact; check the spelling",
    )


def _require_after_first_event(lineage: Lineage, at: dt.date) -> None:
    examples = (s for b in lineage.bundles for s in b.examples)  # bundles share their start
    starts = [s.window[0] for s in (*lineage.sources, *examples) if s.window is not None]
    if starts and at < min(starts):
        raise _error(
            codes.CHECK_AS_OF,
            f"as of {at} nothing upstream of {lineage.target} existed yet: the first recorded "
            f"generation began on {min(starts)}",
            "pass an `--as-of` day on or after that, or leave it out to decide as of today",
        )


def _error(code: str, message: str, help_text: str) -> PolicyEngineError:
    return PolicyEngineError([Diagnostic(code, message, Location("check"), help=help_text)])
