"""What one task of a data framework does, without the framework: scan one shard file into part
files, or judge one in-memory Arrow partition, counting into a :class:`Tally` either way.

The shard task is the one the CLI's ``--workers`` run (:func:`runner.scan_file` into
part files that the caller appends in input order); the partition task is the Arrow batch function
(the policy's judge over :func:`from_arrow`) with the CLI's tally. Neither imports Dask, so Ray or
Spark adapters can reuse them. A task reports bad input as :class:`Failed` rather than raising, because
:class:`PolicyEngineError` does not survive pickling back to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.diagnostics import Diagnostic, PolicyEngineError
from policyengine.scan import runner
from policyengine.scan.arrow import PolicyColumn
from policyengine.scan.formats import Format
from policyengine.scan.judge import Judged
from policyengine.scan.parquet import from_arrow
from policyengine.scan.report_model import FileCount
from policyengine.scan.summary import Context, ShareLimit
from policyengine.scan.tally import Tally
from policyengine.scan.writers import Sink, policy_column

PARTITION_FORMAT: Final = "Dask partition"
"""The ``format`` a summary gives a partition in its ``files``."""

PartSpec = dict[str, tuple[Path, Format, bool, Path]]
"""Output name → (output path, format, blocked, the part file one task writes)."""


@dataclass(frozen=True, slots=True)
class Failed:
    """The diagnostics of a task that stopped on bad input, carried back as a value."""

    diagnostics: tuple[Diagnostic, ...]


def unwrap(result: Tally | Failed) -> Tally:
    """A task's tally; PolicyEngineError with its diagnostics when it failed."""
    if isinstance(result, Failed):
        raise PolicyEngineError(result.diagnostics)
    return result


def scan_shard(shard: runner.Shard, policy: PolicyColumn, specs: PartSpec) -> Tally | Failed:
    """Scan one file into its part files (closed, never renamed); its tally, or why it failed."""
    tally = Tally()
    parts = {
        name: Sink(path, fmt, blocked=blocked, temporary=temporary)
        for name, (path, fmt, blocked, temporary) in specs.items()
    }
    try:
        runner.scan_file(shard, policy.judge(), policy.settings.fields, parts, tally)
    except PolicyEngineError as error:
        return Failed(tuple(error.diagnostics))
    finally:
        for sink in parts.values():
            sink.close()
    return tally


def partition_name(number: int) -> str:
    """What a partition is called where a file name would go (reports, ``_policy.file``)."""
    return f"<partition {number}>"


def judge_partition(table: pa.Table, policy: PolicyColumn, number: int) -> Judged:
    """Every record of one partition judged; ``line`` counts its rows from 1."""
    batch = from_arrow(table, policy.settings.fields, 1, partition_name(number), keep=False)
    return policy.judge()(batch)


def tally_partition(table: pa.Table, policy: PolicyColumn, number: int) -> Tally | Failed:
    """The counts of one partition, as the CLI counts one file."""
    tally = Tally()
    name = partition_name(number)
    try:
        records = tally.add(judge_partition(table, policy, number), name) if table.num_rows else 0
    except PolicyEngineError as error:
        return Failed(tuple(error.diagnostics))
    tally.files.append(FileCount(path=name, format=PARTITION_FORMAT, records=records))
    return tally


def blocked_policy(judged: Judged, number: int) -> tuple[pa.Array, pa.Array]:
    """The rows of the blocked records and their ``_policy`` structs."""
    rows = pc.indices_nonzero(pc.invert(judged.allowed))
    return rows, policy_column(judged, rows, partition_name(number))


def merged(tallies: Iterable[Tally]) -> Tally:
    """One tally of several, in order (examples keep the order of the parts)."""
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def context(
    policy: PolicyColumn, limits: Sequence[ShareLimit], outputs: Mapping[str, Path] | None = None
) -> Context:
    """What a report says the scan was asked, as the CLI's runner builds it."""
    settings = policy.settings
    return Context(
        use=settings.use,
        target=settings.target,
        fields=settings.fields.describe(),
        on_unknown=settings.on_unknown.value,
        as_of=settings.as_of,
        outputs={name: str(path) for name, path in (outputs or {}).items()},
        limits=limits,
    )


def share_limits(max_shares: Sequence[str | ShareLimit]) -> list[ShareLimit]:
    """``provider=openai:0.05`` texts parsed (PE605 for a bad one); limits kept as they are."""
    return [m if isinstance(m, ShareLimit) else ShareLimit.parse(m) for m in max_shares]
