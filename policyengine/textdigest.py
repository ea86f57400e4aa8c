"""The fingerprint of a text: a 128-bit digest of its normalised form.

Normalising (Unicode NFC, every run of whitespace to one space, none at the ends) makes the same text
match however a pipeline re-encoded or re-wrapped it. The digest is BLAKE2b with a 16-byte output.
The ledger stores these digests for recorded outputs; the scanner computes them for records without
provenance. Both must agree byte for byte, so both use this module.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Final

DIGEST_SIZE: Final = 16

_OTHER_SPACE: Final = bytes(c for c in range(128) if chr(c).isspace() and c != ord(" "))
"""The ASCII characters `str.split` splits at besides the space: tab, line breaks, separators."""


def normalize(text: str) -> str:
    """NFC, whitespace runs collapsed to one space, trimmed."""
    if text.isascii():
        # Most outputs are ASCII already in normal form; these C-speed scans prove it: no ASCII
        # whitespace but the space (deleting it leaves the length alone), and no space that
        # `split` would drop.
        data = text.encode("ascii")
        if (
            len(data.translate(None, _OTHER_SPACE)) == len(data)
            and "  " not in text
            and not text.startswith(" ")
            and not text.endswith(" ")
        ):
            return text
    else:
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def digest(text: str) -> bytes:
    """The 16-byte fingerprint of a text."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=DIGEST_SIZE).digest()
