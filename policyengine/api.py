"""The facade pipelines call from Python: load rules, decide, run pack tests, scan shards.
Returns values only.

Nothing here prints, exits or reads the environment; the CLI does that with what these return.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyengine import __version__, codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError, did_you_mean
from policyengine.evaluate.decision import Decision
from policyengine.evaluate.engine import decide
from policyengine.evaluate.findings import CheckRun, PackStamp
from policyengine.evaluate.impact import Change, compare, without_version
from policyengine.evaluate.lineage import evaluate
from policyengine.evaluate.selftest import CaseResult, run_pack_tests, uncovered
from policyengine.evaluate.waivers import Waiver
from policyengine.facts import VOCABULARY, FactError, Facts, Lineage, Value, describe_kind, plain
from policyengine.ledger import audit, gate
from policyengine.ledger.background import verify_chain_meanwhile
from policyengine.ledger.store import Ledger
from policyengine.ledger.verify import Verification
from policyengine.rules.loader import load_rules
from policyengine.rules.ruleset import RuleSet

if TYPE_CHECKING:
    from policyengine.scan.arrow import PolicyColumn
    from policyengine.scan.fields import FieldMap
    from policyengine.scan.summary import ScanReport, ShareLimit
    from policyengine.scan.tracing import Origins, Tracer

BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules"
"""The packs shipped beside the package in a checkout."""

__all__ = [
    "BUNDLED_RULES",
    "LedgerTracer",
    "check",
    "check_facts",
    "coverage",
    "impact",
    "load_rules",
    "policy_column",
    "record_check",
    "require_rules",
    "rules_before",
    "run_tests",
    "scan",
]


def require_rules(
    paths: Sequence[str | Path] = (BUNDLED_RULES,), *, cache: Path | None = None
) -> RuleSet:
    """Load rules, raising :class:`PolicyEngineError` with every diagnostic when any is an error.

    ``cache`` is a folder where parsed rule files are kept between runs (none by default).
    """
    ruleset, diagnostics = load_rules(paths, cache=cache)
    if ruleset is None:
        raise PolicyEngineError(diagnostics)
    return ruleset


def check_facts(ruleset: RuleSet, facts: Facts | Mapping[str, object]) -> Decision:
    """Decide one source's facts (a :class:`Facts` or plain ``{"fact.name": value}`` data)."""
    parsed = facts if isinstance(facts, Facts) else Facts.parse(facts)
    return decide(ruleset, parsed)


def run_tests(ruleset: RuleSet, *, run: str | None = None) -> list[CaseResult]:
    """Run the packs' own test cases, those whose name matches the regex ``run`` when given."""
    return run_pack_tests(ruleset, select=re.compile(run) if run else None)


def coverage(ruleset: RuleSet, results: Sequence[CaseResult]) -> tuple[float, list[str]]:
    """Percentage of rules that decide some case, and the ids of those that decide none."""
    missing = uncovered(ruleset, results)
    total = len(ruleset.rules)
    percent = 100.0 if total == 0 else 100.0 * (total - len(missing)) / total
    return percent, missing


def check(
    ruleset: RuleSet,
    ledger: Ledger,
    target: str,
    use: str,
    *,
    at: dt.date,
    what_if: Mapping[str, object] | None = None,
) -> CheckRun:
    """Decide whether the outputs in the recorded ``target`` (an id, or a name recorded once) may
    be used for ``use``, as of the day ``at``; ``what_if`` replaces recorded target facts.

    Refuses (PolicyEngineError) to decide on a ledger whose chain does not verify, for a target it
    does not hold, for what-if values that do not fit their facts, and for an ``at`` before
    anything the lineage records.
    """
    overrides = _what_if(what_if or {})
    use = _activity(use)
    verified = verify_chain_meanwhile(ledger.engine)
    try:
        target_id = _resolve(ledger, target)
        lineage = ledger.lineage(target_id)
    finally:
        verification = verified()
    _require_verified(verification)  # before anything is decided from the lineage just read
    _require_after_first_event(lineage, at)
    with ledger.engine.connect() as connection:
        records = gate.waivers(connection)
    waivers = [Waiver(*dataclasses.astuple(record)) for record in records]
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
    starts = [s.window[0] for s in lineage.sources if s.window is not None]
    if starts and at < min(starts):
        raise _error(
            codes.CHECK_AS_OF,
            f"as of {at} nothing upstream of {lineage.target} existed yet: the first recorded "
            f"generation began on {min(starts)}",
            "pass an `--as-of` day on or after that, or leave it out to decide as of today",
        )


def _error(code: str, message: str, help_text: str) -> PolicyEngineError:
    return PolicyEngineError([Diagnostic(code, message, Location("check"), help=help_text)])


def scan(
    shards: Sequence[str | Path],
    *,
    use: str,
    target: Facts | Mapping[str, object] | None = None,
    rules: Sequence[str | Path] = (BUNDLED_RULES,),
    cache: Path | None = None,
    ruleset: RuleSet | None = None,
    fields: FieldMap | None = None,
    on_unknown: str = "review",
    allowed: str | Path | None = None,
    blocked: str | Path | None = None,
    max_shares: Sequence[str | ShareLimit] = (),
    tracer: Tracer | None = None,
    workers: int = 1,
    as_of: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    detect_self_id: bool = False,
    signatures: str | Path | None = None,
) -> ScanReport:
    """Gate JSON Lines and Parquet shards record by record for ``use`` (an activity) on ``target``.

    Records that may be used go to ``allowed``, the others to ``blocked`` with a ``_policy`` field
    (each in the shards' format, written whole or not at all); the report counts them per provider,
    model, verdict and rule. ``fields`` says where provenance lives (default: top-level keys),
    ``on_unknown`` (``allow``, ``review`` or ``deny``) what becomes of records whose provenance is
    missing or unknown to the rules, ``tracer`` finds the provenance of records without any from
    the fingerprint of their text (see :class:`LedgerTracer`), ``max_shares`` are composition limits
    (``provider=openai:0.05``), ``workers`` spreads files over processes. ``ruleset``, when
    given, is ``rules`` already loaded (worker processes load ``rules`` themselves).
    ``detect_self_id`` compares what each text identifies itself as ("I'm Claude, made by
    Anthropic") with its provenance, using the ``signatures`` file (default: the bundled one;
    see ``docs/self-id.md``).

    Raises PolicyEngineError for invalid rules or bad input (PE6xx), FactError for target facts
    that do not fit the vocabulary.
    """
    from policyengine.scan import runner
    from policyengine.scan.fields import DEFAULT
    from policyengine.scan.gate import OnUnknown
    from policyengine.scan.summary import ShareLimit

    limits = [m if isinstance(m, ShareLimit) else ShareLimit.parse(m) for m in max_shares]
    inputs = runner.shards([Path(shard) for shard in shards])
    outputs = runner.Outputs(
        Path(allowed) if allowed is not None else None,
        Path(blocked) if blocked is not None else None,
    )
    runner.check_outputs(inputs, outputs)
    runner.check_fields(inputs, fields or DEFAULT)
    settings = _scan_settings(
        use, target, rules, cache, fields or DEFAULT, OnUnknown(on_unknown), as_of
    )
    if detect_self_id:
        settings = _with_signatures(settings, signatures)
        settings.detector()  # a bad file stops the scan before anything is read (PE65x)
    if ruleset is None and (workers <= 1 or len(inputs) <= 1):
        ruleset = require_rules(rules, cache=cache)
    return runner.run(
        inputs,
        settings,
        ruleset=ruleset,
        outputs=outputs,
        tracer=tracer,
        workers=workers,
        limits=limits,
        progress=progress,
    )


def policy_column(
    *,
    use: str,
    target: Facts | Mapping[str, object] | None = None,
    rules: Sequence[str | Path] = (BUNDLED_RULES,),
    cache: Path | None = None,
    fields: FieldMap | None = None,
    on_unknown: str = "review",
    tracer: Tracer | None = None,
    as_of: dt.date | None = None,
    detect_self_id: bool = False,
    signatures: str | Path | None = None,
) -> PolicyColumn:
    """The gate as a picklable Arrow batch function that adds a ``_policy`` column, for Dask,
    Ray Data's ``map_batches`` and Spark's ``mapInArrow`` (see ``docs/scale.md``);
    ``detect_self_id`` and ``signatures`` as for :func:`scan`."""
    from policyengine.scan.arrow import PolicyColumn
    from policyengine.scan.fields import DEFAULT
    from policyengine.scan.gate import OnUnknown

    settings = _scan_settings(
        use, target, rules, cache, fields or DEFAULT, OnUnknown(on_unknown), as_of
    )
    if detect_self_id:
        settings = _with_signatures(settings, signatures)
        settings.detector()
    return PolicyColumn(settings, tracer)


def _with_signatures(settings: Any, signatures: str | Path | None) -> Any:
    """``settings`` that detect self-identification with ``signatures`` (default: bundled)."""
    from policyengine.scan.selfid import BUNDLED_SIGNATURES

    return dataclasses.replace(settings, signatures=str(signatures or BUNDLED_SIGNATURES))


def _scan_settings(
    use: str,
    target: Facts | Mapping[str, object] | None,
    rules: Sequence[str | Path],
    cache: Path | None,
    fields: FieldMap,
    on_unknown: Any,
    as_of: dt.date | None,
) -> Any:
    from policyengine.scan.runner import Settings

    facts = target if isinstance(target, Facts) else Facts.parse(target or {})
    Facts.parse({"use.activity": use})  # raises FactError for an activity that does not exist
    return Settings(
        rules=tuple(str(path) for path in rules),
        cache=str(cache) if cache is not None else None,
        use=use,
        target=dict(facts.known),
        fields=fields,
        on_unknown=on_unknown,
        as_of=as_of,
    )


class LedgerTracer:
    """Finds the generations whose recorded outputs have given text digests, in a ledger.

    Picklable (it holds the URL; each process opens its own engine), so it can be handed to
    worker processes. Raises PolicyEngineError (PE401) when the database cannot be queried.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Any = None

    def __getstate__(self) -> dict[str, str]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.url, self._engine = state["url"], None

    def __call__(self, digests: Sequence[bytes]) -> Mapping[bytes, Origins]:
        """Digest → (generation id, source facts) for each digest the ledger holds."""
        from sqlalchemy.exc import SQLAlchemyError

        from policyengine import codes
        from policyengine.diagnostics import Diagnostic, Location
        from policyengine.ledger import db
        from policyengine.ledger.trace import origins

        if self._engine is None:
            self._engine = db.engine_for(self.url)
        try:
            with self._engine.connect() as connection:
                return origins(connection, digests)
        except SQLAlchemyError as error:
            where = db.where(self._engine)
            reason = str(error).splitlines()[0]
            raise PolicyEngineError(
                [
                    Diagnostic(
                        codes.LEDGER_CONNECT,
                        f"cannot look up fingerprints in the ledger at {where}: {reason}",
                        Location("ledger"),
                        help="check that the database is reachable and holds a ledger "
                        "(`policyengine ledger init`)",
                    )
                ]
            ) from None

    def close(self) -> None:
        """Release the database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
