"""Constants and small helpers shared by the ledger tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MANIFEST = EXAMPLES / "acme-lineage.yaml"
MODEL = "acme-llama-3.1-8b-instruct@1.0"
AT = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
"""The fixed recorded-at time of test writes."""

Raw = Callable[[str], None]
"""Runs one SQL statement behind the ledger's back."""
