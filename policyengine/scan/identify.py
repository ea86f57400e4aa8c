"""Self-identification in a batch: the provider a record's text says made it, against its provenance.

One ``detect_arrow`` pass per batch (an RE2 prefilter over the whole text column, the Python matcher
only on the few texts that name a provider or company) gives each record the provider its text
identifies, or null. Against the declared provider (or the one traced by fingerprint):

- the same provider: consistent, nothing changes;
- another provider, or ``human``: a contradiction, the gate blocks the record for review (PE616);
- no provider at all: the detected provider becomes the record's provider (attributed).

Contradicting and attributed records carry a *claim* (the detected provider) in their provenance
tuple, and the phrase that matched (``Signatures.evidence``, computed for those few records only)
for their ``_policy`` reason. Records that cannot be read or whose trace is ambiguous are left as
they are.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan.selfid import Signatures

SAYS: Final = "; the text says "
"""What joins a record's reason and the phrase its text identified itself with."""


class Status(enum.IntEnum):
    """How a self-identified record's text relates to its provenance."""

    CONSISTENT = 0
    CONTRADICTING = 1
    ATTRIBUTED = 2


@dataclass(slots=True)
class Identified:
    """A batch's provider column after attribution, each record's claim and phrase, and counts.

    ``claim`` and ``evidence`` are null except for contradicting and attributed records; ``counts``
    maps each detected provider to its records per :class:`Status`.
    """

    provider: pa.Array
    claim: pa.Array
    evidence: pa.Array
    counts: Mapping[str, tuple[int, int, int]]


def identify(
    signatures: Signatures, text: pa.Array, provider: pa.Array, problem: pa.Array
) -> Identified | None:
    """Compare what each text identifies itself as with ``provider``; None when no text does."""
    detected = signatures.detect_arrow(text)
    if detected.null_count == len(detected):
        return None
    nothing = pa.scalar(None, pa.string())
    detected = pc.if_else(pc.is_valid(problem), nothing, detected)
    hit = pc.is_valid(detected)
    same = pc.fill_null(pc.equal(detected, provider), False)
    declared = pc.is_valid(provider)
    status = pc.if_else(
        same,
        int(Status.CONSISTENT),
        pc.if_else(declared, int(Status.CONTRADICTING), int(Status.ATTRIBUTED)),
    )
    found = pa.table({"provider": detected, "status": status}).filter(hit)
    grouped = found.group_by(["provider", "status"]).aggregate([("status", "count")]).to_pydict()
    counts: dict[str, list[int]] = {}
    for name, kind, count in zip(
        grouped["provider"], grouped["status"], grouped["status_count"], strict=True
    ):
        counts.setdefault(name, [0, 0, 0])[kind] += count
    claim = pc.if_else(same, nothing, detected)
    flagged = pc.is_valid(claim)
    rows = pc.indices_nonzero(flagged)
    phrases = []
    for value in pc.take(text, rows).to_pylist():
        match = signatures.evidence(value)
        phrases.append(None if match is None else match[1])
    evidence = pc.replace_with_mask(
        pa.nulls(len(detected), pa.string()), flagged, pa.array(phrases, pa.string())
    )
    return Identified(
        provider=pc.coalesce(provider, detected),
        claim=claim,
        evidence=evidence,
        counts={name: (c[0], c[1], c[2]) for name, c in counts.items()},
    )


def with_phrases(reasons: pa.Array, phrases: pa.Array) -> pa.Array:
    """Each reason, followed by its record's phrase where it has one."""
    said = pc.binary_join_element_wise(
        reasons, pa.scalar(SAYS + "`"), phrases, pa.scalar("`"), pa.scalar("")
    )
    return pc.coalesce(said, reasons)
