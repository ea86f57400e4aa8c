"""The error-code reference and the code catalogue list the same codes."""

from __future__ import annotations

import re

from conftest import ROOT

from policyengine import codes


def test_every_code_is_documented_and_every_documented_code_exists() -> None:
    """docs/error-codes.md has one `## PExxx` section per catalogue entry, no more, no fewer."""
    text = (ROOT / "docs" / "error-codes.md").read_text(encoding="utf-8")
    documented = re.findall(r"^## (PE\d{3}) ", text, flags=re.MULTILINE)
    assert sorted(documented) == sorted(codes.CATALOGUE)
    assert len(documented) == len(set(documented))


def test_code_constants_match_the_catalogue() -> None:
    """Every PExxx constant in codes.py has a meaning in the catalogue."""
    constants = {v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str)}
    assert constants == set(codes.CATALOGUE)
