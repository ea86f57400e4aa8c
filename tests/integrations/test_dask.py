"""The lower-level gate over Dask partitions: a column per record, or a `_policy` per dict."""

from __future__ import annotations

import pandas as pd
import pytest

from policyengine import api
from policyengine.integrations import dask as gate

dd = pytest.importorskip("dask.dataframe")
dask_bag = pytest.importorskip("dask.bag")

TARGET = {"target.competes_with": ["openai"], "target.base_model": "llama-3.1-8b"}
ROWS = (
    [
        {
            "text": f"r1 {i}",
            "provider": "deepseek",
            "model": "deepseek-r1",
            "channel": "open_weights",
            "generated_at": "2025-02-10",
        }
        for i in range(6)
    ]
    + [
        {
            "text": f"gpt {i}",
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "channel": "api",
            "generated_at": "2025-06-02",
        }
        for i in range(3)
    ]
    + [{"text": "anon", "provider": None, "model": None, "channel": None, "generated_at": None}]
)


def test_dataframe_partitions_gain_the_outcome_of_every_record(client: object) -> None:
    """Every record gets a verdict; allowed() keeps the compliant ones, across partitions."""
    policy = api.policy_column(use="distillation", target=TARGET)
    frame = dd.from_pandas(pd.DataFrame(ROWS), npartitions=3)
    gated = gate.gate_dataframe(frame, policy).compute()
    verdicts = gated.sort_values("text")["_policy_verdict"].value_counts().to_dict()
    assert verdicts == {"compliant": 6, "violation": 3, "needs_review": 1}
    denied = gated[gated["_policy_verdict"] == "violation"]
    assert {tuple(r) for r in denied["_policy_rules"]} == {
        ("openai.services-agreement.2025-05.no-competing-models",)
    }
    kept = gate.allowed(gate.gate_dataframe(frame, policy)).compute()
    assert sorted(kept["text"]) == sorted(r["text"] for r in ROWS[:6])


def test_bag_records_gain_a_policy(client: object) -> None:
    """A Bag of dicts: each record comes back with its `_policy`."""
    policy = api.policy_column(use="distillation", target=TARGET)
    bag = dask_bag.from_sequence(ROWS, npartitions=2)
    gated = gate.gate_bag(bag, policy).compute()
    assert [r["text"] for r in gated] == [r["text"] for r in ROWS]
    assert [r["_policy"]["verdict"] for r in gated][-4:] == ["violation"] * 3 + ["needs_review"]
