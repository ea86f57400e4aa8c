"""The gate as one Arrow batch function, for data frameworks that hand out Arrow batches.

:class:`PolicyColumn` is a picklable callable: Arrow records in, the same records with a
``_policy`` struct column out (``verdict``, ``rules``, ``reason``, ``file`` (null), ``line`` (the
row within the batch), ``generation``). It is what the Dask integration maps over partitions, and
what Ray Data's ``map_batches(fn, batch_format="pyarrow")`` and Spark's ``mapInArrow`` take:

    ds.map_batches(policy, batch_format="pyarrow")                    # Ray Data
    df.mapInArrow(policy.batches, schema)                             # Spark (pyspark >= 3.3)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from policyengine.scan.columns import arange
from policyengine.scan.gate import Gate
from policyengine.scan.judge import Judge
from policyengine.scan.parquet import from_arrow
from policyengine.scan.policy_lines import POLICY
from policyengine.scan.runner import Settings
from policyengine.scan.tracing import Tracer
from policyengine.scan.writers import POLICY_TYPE, policy_column


class PolicyColumn:
    """Adds the gate's ``_policy`` column to Arrow record batches or tables."""

    def __init__(self, settings: Settings, tracer: Tracer | None = None) -> None:
        self.settings = settings
        self.tracer = tracer
        self._judge: Judge | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The gate holds compiled rules, which do not pickle; each process loads its own.
        return {"settings": self.settings, "tracer": self.tracer}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.settings, self.tracer, self._judge = state["settings"], state["tracer"], None

    def gate(self) -> Gate:
        """The gate, built on first use in this process."""
        return self.judge().gate

    def judge(self) -> Judge:
        """The judge (the gate, tracer and signatures, and every tuple decided so far), built on
        first use in this process and kept across batches."""
        if self._judge is None:
            self._judge = Judge(self.settings.gate(), self.tracer, self.settings.detector())
        return self._judge

    def __call__(self, records: pa.RecordBatch | pa.Table) -> pa.Table:
        """``records`` with a ``_policy`` column (an existing one is replaced)."""
        table = records if isinstance(records, pa.Table) else pa.Table.from_batches([records])
        batch = from_arrow(table, self.settings.fields, 1, "<batch>", keep=False)
        judged = self.judge()(batch)
        if POLICY in table.column_names:
            table = table.drop_columns([POLICY])
        column = policy_column(judged, arange(table.num_rows), None)
        return table.append_column(pa.field(POLICY, POLICY_TYPE), column)

    def batches(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The same for a stream of record batches (Spark's ``mapInArrow``)."""
        for batch in batches:
            yield from self(batch).to_batches()
