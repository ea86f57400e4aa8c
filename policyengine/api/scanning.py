"""Scanning shards record by record, and the pieces pipelines hand to Dask, Ray and Spark."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyengine.api.loading import BUNDLED_RULES, require_rules
from policyengine.diagnostics import PolicyEngineError
from policyengine.facts import Facts
from policyengine.rules.ruleset import RuleSet

if TYPE_CHECKING:
    from policyengine.scan.arrow import PolicyColumn
    from policyengine.scan.fields import FieldMap
    from policyengine.scan.report_model import ScanReport
    from policyengine.scan.summary import ShareLimit
    from policyengine.scan.tracing import Origins, Tracer


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
    characters: bool = True,
) -> ScanReport:
    """Gate JSON Lines and Parquet shards record by record for ``use`` (an activity) on ``target``.

    Records that may be used go to ``allowed``, the others to ``blocked`` with a ``_policy`` field
    (each in the shards' format, written whole or not at all); the report counts them per provider,
    model, verdict and rule. ``fields`` says where provenance lives (default: top-level keys),
    ``on_unknown`` (``allow``, ``review`` or ``deny``) what becomes of records whose provenance is
    missing or unknown to the rules, ``tracer`` finds the provenance of records without any from
    the fingerprint of their text (see :class:`LedgerTracer`), ``max_shares`` are composition limits
    (``provider=openai:0.05``), ``workers`` spreads files over worker processes (threads where
    the system does not fork). ``ruleset``, when given, is ``rules`` already loaded.
    ``detect_self_id`` compares what each text identifies itself as ("I'm Claude, made by
    Anthropic") with its provenance, using the ``signatures`` file (default: the bundled one;
    see ``docs/self-id.md``). ``characters`` counts each record's characters of text for the
    report's character totals and shares (left null without it; a Parquet scan then reads no
    text unless something else needs it).

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
    if ruleset is None:
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
        characters=characters,
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
    worker processes; threads share its engine. A process forked from one that used it (a
    ``--workers`` scan's) opens its own engine too, and leaves the parent's connections alone.
    Raises PolicyEngineError (PE401) when the database cannot be queried.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Any = None
        self._lock = threading.Lock()
        _LEDGER_TRACERS.add(self)

    def __getstate__(self) -> dict[str, str]:
        return {"url": self.url}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.url, self._engine, self._lock = state["url"], None, threading.Lock()
        _LEDGER_TRACERS.add(self)

    def __call__(self, digests: Sequence[bytes]) -> Mapping[bytes, Origins]:
        """Digest → (generation id, source facts) for each digest the ledger holds."""
        from sqlalchemy.exc import SQLAlchemyError

        from policyengine import codes
        from policyengine.diagnostics import Diagnostic, Location
        from policyengine.ledger import db
        from policyengine.ledger.trace import origins

        with self._lock:
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

    def _forked(self) -> None:
        """In a forked child: drop the parent's pool without closing its connections, which
        the parent still uses (SQLAlchemy's advice for engines crossing a fork)."""
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._engine, self._lock = None, threading.Lock()


_LEDGER_TRACERS: weakref.WeakSet[LedgerTracer] = weakref.WeakSet()


def _after_fork() -> None:
    for tracer in list(_LEDGER_TRACERS):
        tracer._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
