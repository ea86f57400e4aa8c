"""The provider × use matrix is computed by the evaluator, so it agrees with every check."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from conftest import ACME

from policyengine import api
from policyengine.cli.main import cli
from policyengine.report.matrix import ACTIVITIES, matrix


def test_rows_follow_the_terms_in_force_on_the_day() -> None:
    """Before the July 2024 terms competing training is allowed; from that day it is denied."""
    ruleset = api.require_rules([ACME])
    june = {(r.subject, r.channel): r for r in matrix(ruleset, dt.date(2024, 6, 30))}
    july = {(r.subject, r.channel): r for r in matrix(ruleset, dt.date(2024, 7, 1))}
    key = ("acme-chat*, acme-pro-*", "api")
    fine_tuning = ACTIVITIES.index("fine_tuning")
    assert june[key].terms == "acme.terms@2024-01"
    assert june[key].cells[fine_tuning] == "allow"
    assert july[key].cells[fine_tuning] == "deny / allow"


def test_entries_without_terms_in_force_have_no_row() -> None:
    """A day before every version yields no rows rather than rows of reviews."""
    assert matrix(api.require_rules([ACME]), dt.date(2023, 1, 1)) == []


def test_agreement_overlays_are_not_public_rows() -> None:
    """Overlays apply to one contract, so the public matrix leaves them out."""
    rows = matrix(api.require_rules([ACME]), dt.date(2024, 8, 1))
    assert all("globex" not in row.terms for row in rows)


def test_matrix_command_prints_markdown() -> None:
    """`rules matrix --format markdown` prints a table with one column per activity."""
    result = CliRunner().invoke(
        cli, ["rules", "matrix", str(ACME), "--as-of", "2024-08-01", "--format", "markdown"]
    )
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if line.startswith("| PACK"))
    assert header.count("|") == len(ACTIVITIES) + 5
    assert "| acme | acme-open-* | open_weights | acme.open-license@1.0 |" in result.stdout


def test_matrix_rejects_a_malformed_day() -> None:
    """A day that is not YYYY-MM-DD is a usage error (exit 2)."""
    result = CliRunner().invoke(cli, ["rules", "matrix", str(ACME), "--as-of", "2024-13-01"])
    assert result.exit_code == 2
