"""Licence strings → SPDX ids, or ``unknown``: never a default.

The table holds the SPDX ids that model and data releases actually use, and the lowercase names the
Hugging Face Hub gives licences (``apache-2.0``, ``llama3.1``). Licences that SPDX does not list are
written ``LicenseRef-NAME`` (SPDX's own form for such licences) and pass as they are; simple
expressions (``MIT OR Apache-2.0``) pass when every id in them is known.
"""

from __future__ import annotations

import re
from typing import Final

UNKNOWN_LICENSE: Final = "unknown"

SPDX_IDS: Final = frozenset(
    {
        "0BSD",
        "AFL-3.0",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Apache-2.0",
        "Artistic-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "BSD-3-Clause-Clear",
        "BSL-1.0",
        "C-UDA-1.0",
        "CC-BY-2.0",
        "CC-BY-2.5",
        "CC-BY-3.0",
        "CC-BY-4.0",
        "CC-BY-NC-2.0",
        "CC-BY-NC-3.0",
        "CC-BY-NC-4.0",
        "CC-BY-NC-ND-3.0",
        "CC-BY-NC-ND-4.0",
        "CC-BY-NC-SA-2.0",
        "CC-BY-NC-SA-3.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-SA-3.0",
        "CC-BY-SA-4.0",
        "CC-PDDC",
        "CC0-1.0",
        "CDLA-Permissive-1.0",
        "CDLA-Permissive-2.0",
        "CDLA-Sharing-1.0",
        "ECL-2.0",
        "EPL-1.0",
        "EPL-2.0",
        "EUPL-1.1",
        "EUPL-1.2",
        "GFDL-1.3-only",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "ISC",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "LPPL-1.3c",
        "MIT",
        "MPL-2.0",
        "MS-PL",
        "NCSA",
        "ODbL-1.0",
        "ODC-By-1.0",
        "OFL-1.1",
        "OpenRAIL",
        "OSL-3.0",
        "PDDL-1.0",
        "PostgreSQL",
        "Unlicense",
        "UPL-1.0",
        "WTFPL",
        "Zlib",
    }
)
"""SPDX ids seen on model and data releases (a subset of the SPDX list; others are LicenseRef-)."""

_BY_LOWER: Final = {spdx.lower(): spdx for spdx in SPDX_IDS}

HUB_NAMES: Final = {
    "gpl-3.0": "GPL-3.0-only",
    "gpl-2.0": "GPL-2.0-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "agpl-3.0": "AGPL-3.0-only",
    "gfdl": "GFDL-1.3-only",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
    "cc": "CC-PDDC",
    "openrail": "OpenRAIL",
    "openrail++": "LicenseRef-openrail++",
    "bigscience-openrail-m": "LicenseRef-bigscience-openrail-m",
    "bigscience-bloom-rail-1.0": "LicenseRef-bigscience-bloom-rail-1.0",
    "creativeml-openrail-m": "LicenseRef-creativeml-openrail-m",
    "llama2": "LicenseRef-llama2",
    "llama3": "LicenseRef-llama3",
    "llama3.1": "LicenseRef-llama3.1",
    "llama3.2": "LicenseRef-llama3.2",
    "llama3.3": "LicenseRef-llama3.3",
    "llama4": "LicenseRef-llama4",
    "gemma": "LicenseRef-gemma",
    "deepseek": "LicenseRef-deepseek",
    "apple-ascl": "LicenseRef-apple-ascl",
    "intel-research": "LicenseRef-intel-research",
}
"""Licence names of the Hugging Face Hub that are not spelled as SPDX ids."""

_LICENSE_REF: Final = re.compile(r"^LicenseRef-[A-Za-z0-9.+-]+$")
_OPERATORS: Final = frozenset({"AND", "OR", "WITH"})


def is_valid(license_id: str) -> bool:
    """Whether ``license_id`` is what the ledger stores: an SPDX id or expression, or unknown."""
    if license_id == UNKNOWN_LICENSE or license_id in SPDX_IDS or _LICENSE_REF.match(license_id):
        return True
    return _expression(license_id) == license_id


def resolve(text: str | None) -> str:
    """The SPDX id (or ``LicenseRef-``) that ``text`` names, else ``unknown``."""
    if text is None:
        return UNKNOWN_LICENSE
    cleaned = text.strip()
    if cleaned in SPDX_IDS or _LICENSE_REF.match(cleaned) or cleaned == UNKNOWN_LICENSE:
        return cleaned
    lower = cleaned.lower()
    if lower in _BY_LOWER:
        return _BY_LOWER[lower]
    if lower in HUB_NAMES:
        return HUB_NAMES[lower]
    return _expression(cleaned) or UNKNOWN_LICENSE


def license_ref(name: str) -> str:
    """``LicenseRef-NAME`` for a named licence outside SPDX, or unknown if the name is unusable."""
    cleaned = re.sub(r"[^A-Za-z0-9.+-]+", "-", name.strip()).strip("-")
    return f"LicenseRef-{cleaned}" if cleaned else UNKNOWN_LICENSE


def _expression(text: str) -> str | None:
    """A simple SPDX expression with every id resolved, or None."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    if len(tokens) < 3:
        return None
    out = []
    for token in tokens:
        if token.upper() in _OPERATORS:
            out.append(token.upper())
        elif token in "()":
            out.append(token)
        else:
            resolved = _BY_LOWER.get(token.lower()) or (
                token if _LICENSE_REF.match(token) else None
            )
            if resolved is None:
                return None
            out.append(resolved)
    return " ".join(out).replace("( ", "(").replace(" )", ")")
