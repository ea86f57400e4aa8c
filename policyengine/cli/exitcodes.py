"""Exit codes, mapped from outcomes in exactly one place (DESIGN.md §8)."""

from __future__ import annotations

import enum

from policyengine import codes
from policyengine.diagnostics import Diagnostics


class ExitCode(enum.IntEnum):
    """What a command's exit status means to a pipeline."""

    OK = 0
    VIOLATION = 1
    USAGE = 2
    INVALID_RULES = 3
    NEEDS_REVIEW = 4
    INTERNAL = 5


# Problems with what the user pointed at, rather than with the rules themselves.
_INPUT_CODES = frozenset({codes.FILE_NOT_FOUND, codes.NO_PACKS})

# Failures of the program's own work that no input explains (a worker process stopped).
_INTERNAL_CODES = frozenset({codes.SCAN_WORKER})


def for_diagnostics(diagnostics: Diagnostics) -> ExitCode:
    """OK without errors; USAGE when every error is a bad path; INVALID_RULES otherwise."""
    errors = [d for d in diagnostics if d.severity.value == "error"]
    if not errors:
        return ExitCode.OK
    if all(d.code in _INPUT_CODES for d in errors):
        return ExitCode.USAGE
    return ExitCode.INVALID_RULES


def for_input(diagnostics: Diagnostics) -> ExitCode:
    """OK without errors, USAGE otherwise: for commands that read data, not rules (the ledger);
    INTERNAL when the program's own work failed (a worker process stopped)."""
    errors = [d for d in diagnostics if d.severity.value == "error"]
    if any(d.code in _INTERNAL_CODES for d in errors):
        return ExitCode.INTERNAL
    return ExitCode.USAGE if errors else ExitCode.OK


FAIL_ON = ("violation", "review")
"""`--fail-on` thresholds: fail on violations only, or on anything that needs review too."""


def for_verdict(verdict: str, fail_on: str = "review") -> ExitCode:
    """The gate's code for a verdict (`compliant`, `violation`, `needs_review`).

    Reviews fail the gate unless the user asked for `--fail-on violation` explicitly.
    """
    if verdict == "violation":
        return ExitCode.VIOLATION
    if verdict == "needs_review" and fail_on == "review":
        return ExitCode.NEEDS_REVIEW
    return ExitCode.OK
