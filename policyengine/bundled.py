"""Where the data shipped beside the package lives in a checkout: the rule packs under ``rules/``.

A module of its own, importing nothing, so that `--help` and the rule loader find the packs without
loading the facade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

RULES: Final = Path(__file__).resolve().parent.parent / "rules"
"""The bundled rule packs."""

SIGNATURES: Final = RULES / "self-id" / "signatures.yaml"
"""The bundled self-identification signatures."""
