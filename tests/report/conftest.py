"""Report fixtures: the demo lineage checked once per session, and a hostile one.

Ledgers are written with a fixed recorded-at time, so their head hash (which reports show) is the
same on every run.
"""

from __future__ import annotations

import pytest

from policyengine import api
from policyengine.evaluate.findings import CheckRun
from policyengine.ledger import db
from policyengine.ledger.store import Ledger
from policyengine.rules.ruleset import RuleSet

from .helpers import AS_OF, DEMO, DEMO_TARGET, XSS_MANIFEST, make_ledger


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    """The bundled packs."""
    return api.require_rules()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger holding the frontier-distillation example."""
    path = tmp_path_factory.mktemp("demo") / "ledger.db"
    return make_ledger(path, DEMO.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_run(rules: RuleSet, demo_db: str) -> CheckRun:
    """The example's target checked for distillation as of the demo's day."""
    engine = db.engine_for(demo_db)
    try:
        return api.check(rules, Ledger(engine), DEMO_TARGET, "distillation", at=AS_OF)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger with a dataset and a waiver whose names are HTML that would run script."""
    return make_ledger(tmp_path_factory.mktemp("hostile") / "ledger.db", XSS_MANIFEST)


@pytest.fixture(scope="session")
def hostile_run(rules: RuleSet, hostile_db: str) -> CheckRun:
    """The hostile dataset checked for fine-tuning."""
    engine = db.engine_for(hostile_db)
    try:
        return api.check(rules, Ledger(engine), "hostile@1", "fine_tuning", at=AS_OF)
    finally:
        engine.dispose()
