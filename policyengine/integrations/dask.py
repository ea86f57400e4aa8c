"""Dask: the gate over the partitions of a Dask DataFrame or Bag.

Each partition is turned into an Arrow table, passed through the gate's batch function
(:func:`policyengine.api.policy_column`) and returned with the outcome of every record. The batch
function pickles without its compiled rules, so each worker loads the rules once and decides each
distinct provenance tuple once per partition. The same function serves Ray Data and Spark::

    policy = api.policy_column(use="distillation", target={"target.competes_with": ["openai"]})
    dataset.map_batches(policy, batch_format="pyarrow")             # Ray Data
    frame.mapInArrow(policy.batches, schema_with_policy)            # Spark

Needs the ``dask`` extra (``pip install 'policyengine[dask]'``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, cast

import pyarrow as pa

if TYPE_CHECKING:
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    from policyengine.scan.arrow import PolicyColumn

COLUMNS: Final = {
    "_policy_verdict": "verdict",
    "_policy_rules": "rules",
    "_policy_reason": "reason",
    "_policy_generation": "generation",
}
"""The columns a gated DataFrame gains, and the ``_policy`` field each one holds."""


def gate_dataframe(frame: dd.DataFrame, policy: PolicyColumn) -> dd.DataFrame:
    """``frame`` with the columns of :data:`COLUMNS` (``_policy_verdict`` is ``compliant`` for
    records that may be used); its field map reads the DataFrame's columns."""
    import pandas as pd

    empty = frame._meta.assign(**{name: pd.Series([], dtype=object) for name in COLUMNS})
    gated = frame.map_partitions(gate_pandas, policy, meta=empty)  # type: ignore[no-untyped-call]
    return cast("dd.DataFrame", gated)


def gate_pandas(part: pd.DataFrame, policy: PolicyColumn) -> pd.DataFrame:
    """One partition with the policy columns added."""
    import pandas as pd

    table = pa.Table.from_pandas(part, preserve_index=False)
    outcome = policy(table).column("_policy").combine_chunks()
    added = part.copy()
    for name, field in COLUMNS.items():
        values = outcome.field(field).to_pylist()
        added[name] = pd.Series(values, index=part.index, dtype=object)
    return added


def allowed(frame: dd.DataFrame) -> dd.DataFrame:
    """The records of a gated DataFrame that may be used."""
    return cast("dd.DataFrame", frame[frame["_policy_verdict"] == "compliant"])


def gate_bag(bag: db.Bag, policy: PolicyColumn) -> db.Bag:
    """A Bag of records (dicts) whose each record gains a ``_policy`` dict."""
    return cast("db.Bag", bag.map_partitions(gate_records, policy))  # type: ignore[no-untyped-call]


def gate_records(records: Iterable[dict[str, Any]], policy: PolicyColumn) -> list[dict[str, Any]]:
    """One Bag partition's records, each with its ``_policy``."""
    rows = list(records)
    if not rows:
        return []
    gated: list[dict[str, Any]] = policy(pa.Table.from_pylist(rows)).column("_policy").to_pylist()
    return [{**row, "_policy": outcome} for row, outcome in zip(rows, gated, strict=True)]
