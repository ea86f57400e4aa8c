"""Model globs: the head check before comparing two globs, and patterns compiled on first use."""

from __future__ import annotations

import fnmatch
import itertools
import random

from policyengine import api
from policyengine.rules.catalog_overlap import globs_overlap
from policyengine.rules.operators import glob_pattern

GLOBS = [
    "gpt-4o*",
    "gpt-4o-mini*",
    "gpt-4*",
    "gpt-?o",
    "gpt-[34]o*",
    "GPT-4O-2024-*",
    "claude-3-5-*",
    "claude-*-sonnet*",
    "*",
    "*-instruct",
    "llama-3.1-*b-instruct",
    "llama-[!2]*",
    "llama?3*",
    "ab]c[",
    "a[",
    "a",
    "",
]


def _naive(p: str, q: str) -> bool:
    p, q = p.lower(), q.lower()
    return fnmatch.fnmatchcase(p, q) or fnmatch.fnmatchcase(q, p)


def test_head_check_gives_the_answer_of_the_full_comparison() -> None:
    for p, q in itertools.product(GLOBS, repeat=2):
        assert globs_overlap(p, q) == _naive(p, q), (p, q)


def test_head_check_on_random_globs() -> None:
    rng = random.Random(5)
    alphabet = "ab-*?[]!"
    globs = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(300)]
    for p, q in zip(globs, reversed(globs), strict=True):
        assert globs_overlap(p, q) == _naive(p, q), (p, q)


def test_catalog_entries_match_as_compiled_globs() -> None:
    ruleset = api.require_rules()
    entry = next(e for e in ruleset.catalog if "gpt-4*" in e.globs)
    assert entry.matches_model("GPT-4o-2024-08-06")
    assert not entry.matches_model("gpt-oss-20b")
    assert [p.pattern for p in entry.patterns] == [glob_pattern(g).pattern for g in entry.globs]
    assert glob_pattern("gpt-4o*").match("gpt-4O-mini")
