"""The facade pipelines call from Python: load rules, decide, run pack tests, scan shards.
Returns values only.

Nothing here prints, exits or reads the environment; the CLI does that with what these return.
"""

from __future__ import annotations

from policyengine.api.deciding import check, impact, record_check, rules_before
from policyengine.api.loading import BUNDLED_RULES, check_facts, coverage, require_rules, run_tests
from policyengine.api.scanning import LedgerTracer, policy_column, scan
from policyengine.rules.loader import load_rules

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
