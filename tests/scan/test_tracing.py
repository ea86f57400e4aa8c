"""Records without provenance traced through the ledger's output fingerprints, on SQLite and
PostgreSQL (each test in a schema of its own; the PostgreSQL half needs
$POLICYENGINE_TEST_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from policyengine import api
from policyengine.ledger import db, entities, schema, trace
from policyengine.ledger.store import Ledger
from policyengine.textdigest import digest

from .conftest import TARGET, Scan, jsonl_bytes, read_jsonl

PG_ENV = "POLICYENGINE_TEST_DATABASE_URL"
AT = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
GPT = "Photosynthesis turns light into chemical energy."
R1 = "The roots of x^2 - 5x + 6 are 2 and 3."
BOTH = "Hello! How can I help you today?"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty ledger on the backend under test."""
    if request.param == "sqlite":
        found = f"sqlite:///{tmp_path / 'ledger.db'}"
        _migrate(found)
        yield found
        return
    if not os.environ.get(PG_ENV):
        pytest.skip(f"${PG_ENV} is not set, so the PostgreSQL half of the tracing tests is skipped")
    name = "pe_scan_" + uuid.uuid4().hex[:12]
    admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    found = make_url(os.environ[PG_ENV]).update_query_dict({"options": f"-csearch_path={name}"})
    rendered = found.render_as_string(hide_password=False)
    try:
        _migrate(rendered)
        yield rendered
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = db.engine_for(url)
    schema.upgrade(engine)
    engine.dispose()


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    """An engine on a ledger holding two generations and their outputs' fingerprints."""
    created = db.engine_for(url)
    ledger = Ledger(created)
    for generation, provider, model, channel, texts in [
        ("gen-gpt", "openai", "gpt-4o-2024-08-06", "api", [GPT, BOTH]),
        ("gen-r1", "deepseek", "deepseek-r1", "open_weights", [R1, BOTH]),
    ]:
        ledger.record_generation(
            recorded_at=AT,
            id=generation,
            provider=provider,
            model=model,
            channel=channel,
            generated_from=dt.date(2025, 6, 1),
            generated_until=dt.date(2025, 6, 2),
            records=len(texts),
        )
        lines = [json.dumps({"text": t}).encode() for t in texts]
        ledger.record_outputs(generation, lines, recorded_at=AT)
    yield created
    created.dispose()


def test_origins_finds_generations_by_digest(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each digest maps to its generations with their facts; unknown digests are left out."""
    monkeypatch.setattr(trace, "CHUNK", 1)  # every lookup crosses IN-list batches
    with engine.connect() as connection:
        found = trace.origins(connection, [digest(GPT), digest(BOTH), digest("nothing")])
    assert [g for g, _ in found[digest(GPT)]] == ["gen-gpt"]
    assert [g for g, _ in found[digest(BOTH)]] == ["gen-gpt", "gen-r1"]
    assert digest("nothing") not in found
    facts = found[digest(GPT)][0][1]
    assert facts["source.provider"] == "openai"
    assert facts["source.generated_at"] == dt.date(2025, 6, 1)


def test_a_corrected_generation_traces_to_its_correction(engine: Engine) -> None:
    """Outputs of a superseded generation carry the facts of the newest correction."""
    correction = entities.Generation(
        id="gen-gpt-fixed",
        provider="openai",
        model="gpt-4o-mini",
        channel="api",
        generated_from=dt.date(2025, 6, 1),
        generated_until=dt.date(2025, 6, 2),
        records=2,
    )
    Ledger(engine).supersede("gen-gpt", correction, recorded_at=AT)
    with engine.connect() as connection:
        found = trace.origins(connection, [digest(GPT)])
    ((generation, facts),) = found[digest(GPT)]
    assert (generation, facts["source.model"]) == ("gen-gpt-fixed", "gpt-4o-mini")


def test_scan_traces_records_without_provenance(
    scan: Scan, engine: Engine, url: str, tmp_path: Path
) -> None:
    """Untagged records take their generation's provenance; the report counts them."""
    shard = tmp_path / "s.jsonl"
    rows = [
        {
            "text": "  Photosynthesis turns light\ninto chemical energy. "
        },  # re-wrapped: still matches
        {"text": R1},
        {"text": BOTH},
        {"text": "never recorded"},
    ]
    shard.write_bytes(jsonl_bytes(rows))
    tracer = api.LedgerTracer(url)
    try:
        report = scan(
            shard, tracer=tracer, allowed=tmp_path / "a.jsonl", blocked=tmp_path / "b.jsonl"
        )
    finally:
        tracer.close()
    assert report.traced == 3
    assert read_jsonl(tmp_path / "a.jsonl") == [rows[1]]
    blocked = {b["_policy"]["line"]: b["_policy"] for b in read_jsonl(tmp_path / "b.jsonl")}
    assert blocked[1]["generation"] == "gen-gpt"
    assert blocked[1]["verdict"] == "violation"
    assert blocked[3]["generation"] == "gen-gpt,gen-r1"
    assert "differ in provenance" in blocked[3]["reason"]
    assert "names no provider" in blocked[4]["reason"]
    assert (report.problems["ambiguous"], report.problems["missing"]) == (1, 1)
    providers = {share.name: share.records for share in report.providers}
    assert providers == {"openai": 1, "deepseek": 1, None: 2}


def test_tracing_works_in_worker_processes(engine: Engine, url: str, tmp_path: Path) -> None:
    """The ledger tracer pickles into worker processes, which open their own connections; forked
    workers leave the connections the scanning process holds alone, so it traces on after."""
    shards = []
    for index, value in enumerate([GPT, R1]):
        shard = tmp_path / f"s{index}.jsonl"
        shard.write_bytes(jsonl_bytes([{"text": value}]))
        shards.append(shard)
    tracer = api.LedgerTracer(url)
    try:
        first = api.scan(shards[:1], use="distillation", target=TARGET, tracer=tracer)
        report = api.scan(shards, use="distillation", target=TARGET, tracer=tracer, workers=2)
        again = api.scan(shards[1:], use="distillation", target=TARGET, tracer=tracer)
        unpickled = pickle.loads(pickle.dumps(tracer))
        last = api.scan(shards[:1], use="distillation", target=TARGET, tracer=unpickled)
        unpickled.close()
    finally:
        tracer.close()
    assert report.traced == 2
    assert report.allowed == 1
    assert (first.traced, again.traced, last.traced) == (1, 1, 1)
