"""The package's public surface is exactly what __all__ names."""

from __future__ import annotations

import subprocess
import sys

import policyengine

PUBLIC = {
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
}


def test_all_names_the_public_surface_and_resolves() -> None:
    """__all__ is exactly the pinned public names, without repeats, and every one resolves."""
    assert set(policyengine.__all__) == PUBLIC
    assert len(policyengine.__all__) == len(PUBLIC)
    for name in policyengine.__all__:
        assert getattr(policyengine, name) is not None


def test_import_is_light() -> None:
    """Importing policyengine loads neither pydantic, SQLAlchemy nor Jinja2."""
    code = "import sys, policyengine; print(sorted(m for m in ('pydantic', 'sqlalchemy', 'jinja2') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
