"""When catalog entries claim the same sources: model globs, channels and dates that meet.

The rule-set checks (:mod:`policyengine.rules.compile`) refuse two entries of equal precedence that
could both govern one source.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
from typing import Final

from policyengine.rules.schema import CatalogEntry, Document, LicenseEntry

FOREVER: Final = dt.date.max
"""The end of a version in force until further notice."""


def spans_meet(a: tuple[dt.date, dt.date] | None, b: tuple[dt.date, dt.date] | None) -> bool:
    """Whether two date spans (None: no known dates) share a day."""
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def overlap(a: CatalogEntry, b: CatalogEntry, documents: dict[str, Document]) -> bool:
    """Whether two catalog entries can claim one source: provider, agreement, a channel, a model
    and a day in common."""
    if a.provider != b.provider or a.agreement != b.agreement:
        return False
    if not set(a.channels) & set(b.channels):
        return False
    if not any(globs_overlap(p, q) for p in a.models for q in b.models):
        return False
    return spans_meet(in_force_span(a, documents), in_force_span(b, documents))


def globs_overlap(p: str, q: str) -> bool:
    """Whether two globs can match one model id; exact for globs that differ only in a tail."""
    p, q = p.lower(), q.lower()
    # A glob matches only strings that start with its literal head (the text before its first
    # wildcard), and a wildcard in one glob's text never matches a literal character of the
    # other's head; so unless one head starts the other they cannot meet. Checking that first
    # spares compiling every glob of every pack into a regex on each load.
    head_p, head_q = head(p), head(q)
    if not (head_p.startswith(head_q) or head_q.startswith(head_p)):
        return False
    return fnmatch.fnmatchcase(p, q) or fnmatch.fnmatchcase(q, p)


@functools.cache
def head(glob: str) -> str:
    """The literal text of ``glob`` before its first wildcard."""
    cut = min((i for i in (glob.find(c) for c in "*?[") if i >= 0), default=len(glob))
    return glob[:cut]


def in_force_span(
    entry: CatalogEntry | LicenseEntry, documents: dict[str, Document]
) -> tuple[dt.date, dt.date] | None:
    """The days the entry's documents are in force, first to last (None: no known document)."""
    versions = [v for d in entry.documents if d in documents for v in documents[d].versions]
    if not versions:
        return None
    return (
        min(v.effective_from for v in versions),
        max(v.effective_until or FOREVER for v in versions),
    )
