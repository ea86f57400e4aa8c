"""Constants and ledger builders shared by the report tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from policyengine.ledger import db, schema
from policyengine.ledger.manifest import import_manifest
from policyengine.ledger.store import Ledger
from policyengine.rules.source import parse

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "frontier-distillation" / "lineage.yaml"
DEMO_TARGET = "halcyon-32b-distill@1.0"
AS_OF = dt.date(2025, 10, 1)
GENERATED = dt.datetime(2025, 10, 1, 12, 0, tzinfo=dt.UTC)
RECORDED = dt.datetime(2025, 10, 1, 9, 0, tzinfo=dt.UTC)
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def make_ledger(path: Path, manifest: str) -> str:
    """Create a SQLite ledger at ``path`` holding ``manifest``; returns its URL."""
    url = f"sqlite:///{path}"
    engine = db.engine_for(url)
    try:
        schema.upgrade(engine)
        source, diagnostics = parse(manifest, "manifest.yaml")
        assert source is not None, diagnostics
        import_manifest(Ledger(engine), source.data, source, as_of=AS_OF, recorded_at=RECORDED)
    finally:
        engine.dispose()
    return url


XSS_MANIFEST = f"""
version: 1
generations:
  - id: gen-hostile
    provider: openai
    model: gpt-4o-2024-08-06
    channel: api
    generated_from: 2025-01-06
    generated_until: 2025-01-07
    records: 10
datasets:
  - id: hostile@1
    name: "{XSS}"
    version: "1"
    license: unknown
    release: internal
    inputs:
      - generation: gen-hostile
        transform: filter
        records: 10
waivers:
  - id: waiver-hostile
    rule: openai.business-terms.2023-11.no-competing-models
    scope: hostile@1
    reason: legal_review
    approver: "{XSS}"
    ticket: "{XSS}"
    expires: 2026-01-01
"""
