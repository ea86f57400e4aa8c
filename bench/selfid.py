"""Benchmark: self-identification detection over an Arrow batch of ~1 KB texts.

Prints texts per second for `Signatures.detect_arrow` and for the pure-Python `Signatures.detect`
(on a slice, it is slower), and ratios against floors measured in the same run on the same array:
`pyarrow.compute.utf8_length` (touches every byte once) and one case-insensitive RE2 substring
search for a single word (`match_substring_regex` with `chatgpt`). One text in 200 carries a
self-identification, one in 10 mentions a provider or company name the RE2 prefilter must hand to the
Python matcher (Google, Meta, Claude ...), the rest is plain prose.

    .venv/bin/python bench/selfid.py [TEXTS]
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan.selfid import BUNDLED_SIGNATURES, Signatures

WORDS = [
    "the",
    "model",
    "answer",
    "reasoning",
    "step",
    "first",
    "then",
    "because",
    "therefore",
    "result",
    "data",
    "output",
    "user",
    "report",
    "river",
    "market",
    "village",
    "energy",
    "summary",
    "question",
    "water",
    "budget",
    "policy",
    "season",
    "garden",
]
MENTIONS = [
    "I searched Google for the opening hours.",
    "Meta changed the feed again this week.",
    "My colleague Claude sent the figures on Monday.",
    "We compared Qwen and Mistral on the translation task.",
    "The Microsoft Teams call dropped twice.",
]
SELF_IDS = [
    "I'm ChatGPT, a large language model trained by OpenAI.",
    "I am Claude, an AI assistant made by Anthropic.",
    "我是通义千问，由阿里云开发的AI助手。",
    "As an AI developed by DeepSeek, I don't have opinions.",
]


def make_texts(count: int) -> list[str]:
    """Synthetic records of about 1,000 characters each."""
    rng = random.Random(11)
    texts = []
    for i in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(160))
        if i % 200 == 0:
            words = f"{words[:500]} {rng.choice(SELF_IDS)} {words[500:]}"
        elif i % 10 == 0:
            words = f"{words[:500]} {rng.choice(MENTIONS)} {words[500:]}"
        texts.append(words[:1000])
    return texts


def timed(action: Callable[[], object]) -> float:
    """Best of three runs, in seconds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main(count: int) -> None:
    texts = make_texts(count)
    array = pa.array(texts, pa.string())
    signatures = Signatures.load(BUNDLED_SIGNATURES)
    python_slice = texts[: max(1, count // 10)]

    length = timed(lambda: pc.utf8_length(array))
    one_word = timed(lambda: pc.match_substring_regex(array, "chatgpt", ignore_case=True))
    arrow = timed(lambda: signatures.detect_arrow(array))
    python = timed(lambda: signatures.detect(python_slice)) * count / len(python_slice)

    found = signatures.detect_arrow(array)
    flagged = count - found.null_count
    megabytes = pc.sum(pc.binary_length(array)).as_py() / 1e6
    print(f"{count:,} texts, {megabytes:,.0f} MB, {flagged:,} self-identifications found")
    for name, seconds in (
        ("floor: utf8_length", length),
        ("floor: one RE2 word", one_word),
        ("detect_arrow", arrow),
        ("detect (pure Python, extrapolated)", python),
    ):
        print(
            f"{name:38s} {count / seconds:>12,.0f} texts/s  {megabytes / seconds:>8,.0f} MB/s"
            f"  {seconds / length:>7.1f}x utf8_length  {seconds / one_word:>6.1f}x one word"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
