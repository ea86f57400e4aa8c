"""The Arrow batch function that Dask, Ray Data and Spark map over their batches."""

from __future__ import annotations

import pickle

import pyarrow as pa

from policyengine import api

from .conftest import DEEPSEEK, OPENAI, TARGET, records


def test_batches_gain_a_policy_column_and_keep_their_columns() -> None:
    """Each record batch comes back with every column and a `_policy` struct per row."""
    policy = api.policy_column(use="distillation", target=TARGET)
    table = pa.Table.from_pylist([*records(2, **DEEPSEEK), *records(1, **OPENAI)])
    out = list(policy.batches(table.to_batches(max_chunksize=2)))
    joined = pa.Table.from_batches(out)
    assert joined.drop_columns(["_policy"]).to_pylist() == table.to_pylist()
    verdicts = [p["verdict"] for p in joined.column("_policy").to_pylist()]
    assert verdicts == ["compliant", "compliant", "violation"]


def test_the_function_pickles_without_its_rules() -> None:
    """A pickled copy (what a worker receives) loads its own rules and decides the same."""
    policy = api.policy_column(use="distillation", target=TARGET)
    table = pa.Table.from_pylist(records(1, **OPENAI))
    before = policy(table).column("_policy").to_pylist()
    copy = pickle.loads(pickle.dumps(policy))
    assert copy(table).column("_policy").to_pylist() == before
