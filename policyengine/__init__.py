"""policyengine: decide, with citations, whether model outputs may be used the way you plan to.

The public surface is the :mod:`policyengine.api` facade and the value types it returns; importing
this package has no side effects and loads nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "UNKNOWN",
    "Decision",
    "Diagnostic",
    "Diagnostics",
    "Facts",
    "PolicyEngineError",
    "RuleSet",
    "__version__",
    "check_facts",
    "coverage",
    "load_rules",
    "require_rules",
    "run_tests",
]

_HOMES = {
    "Decision": "policyengine.evaluate.decision",
    "Diagnostic": "policyengine.diagnostics",
    "Diagnostics": "policyengine.diagnostics",
    "Facts": "policyengine.facts",
    "PolicyEngineError": "policyengine.diagnostics",
    "RuleSet": "policyengine.rules.ruleset",
    "UNKNOWN": "policyengine.facts",
    "check_facts": "policyengine.api",
    "coverage": "policyengine.api",
    "load_rules": "policyengine.api",
    "require_rules": "policyengine.api",
    "run_tests": "policyengine.api",
}

if TYPE_CHECKING:
    from policyengine.api import check_facts, coverage, load_rules, require_rules, run_tests
    from policyengine.diagnostics import Diagnostic, Diagnostics, PolicyEngineError
    from policyengine.evaluate.decision import Decision
    from policyengine.facts import UNKNOWN, Facts
    from policyengine.rules.ruleset import RuleSet


def __getattr__(name: str) -> Any:
    # Lazy re-exports keep `import policyengine` (and so `policyengine --help`) light.
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'policyengine' has no attribute {name!r}")
