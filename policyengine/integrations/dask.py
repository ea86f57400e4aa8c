"""Dask: the record-level gate on a cluster, over shard files or a DataFrame's partitions.

:func:`scan_files` sends each shard file to a worker as one task that runs the CLI's per-file scan,
and appends the workers' part files in input order, so the outputs and the merged report are those
of ``policyengine scan``. :func:`scan_dataframe` maps the same Arrow batch function over the
partitions of a Dask DataFrame (struct columns stay Arrow with ``dtype_backend="pyarrow"``) and
returns its allowed and blocked records as DataFrames, with the report merged over partitions.
Both load the rules once per worker process and decide each distinct provenance tuple once per
task. The lower-level :func:`gate_dataframe` and :func:`gate_bag` add the outcome to each record.

This is the only module of policyengine that imports Dask (``pip install 'policyengine[dask]'``).
Shard paths and outputs must be readable and writable at the same paths by the client and every
worker (one machine, or a shared file system).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import pyarrow as pa

from policyengine import api
from policyengine.integrations import tasks
from policyengine.scan import runner
from policyengine.scan.formats import temporary_beside, unreadable
from policyengine.scan.policy_lines import POLICY
from policyengine.scan.report_model import ScanReport
from policyengine.scan.summary import ShareLimit, report
from policyengine.scan.tally import Tally
from policyengine.scan.writers import POLICY_TYPE, Sink

if TYPE_CHECKING:
    import datetime as dt

    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, Future

    from policyengine.facts import Facts
    from policyengine.scan.arrow import PolicyColumn
    from policyengine.scan.fields import FieldMap
    from policyengine.scan.tracing import Tracer

COLUMNS: Final = {
    "_policy_verdict": "verdict",
    "_policy_rules": "rules",
    "_policy_reason": "reason",
    "_policy_generation": "generation",
}
"""The columns :func:`gate_dataframe` adds, and the ``_policy`` field each one holds."""


@dataclass(frozen=True, slots=True)
class DaskScan:
    """A DataFrame gated: the records that may be used, the others with their ``_policy``, and
    the report (the CLI's ``--report``) merged over the partitions.

    ``allowed`` keeps the input's columns; ``blocked`` replaces any ``_policy`` column with the
    gate's struct (``verdict``, ``rules``, ``reason``, ``file`` naming the partition, ``line``
    counting its rows from 1, ``generation``). Both are lazy: computing them reads the input again.
    """

    allowed: dd.DataFrame
    blocked: dd.DataFrame
    summary: ScanReport


@dataclass(frozen=True, slots=True)
class FilesScan:
    """Shard files scanned on a cluster: the merged report, and each file's own, in input order."""

    summary: ScanReport
    files: tuple[ScanReport, ...]


def scan_dataframe(
    frame: dd.DataFrame,
    rules: Sequence[str | Path],
    use: str,
    target: Facts | dict[str, object] | None = None,
    *,
    fields: FieldMap | None = None,
    on_unknown: str = "review",
    as_of: dt.date | None = None,
    max_shares: Sequence[str | ShareLimit] = (),
    tracer: Tracer | None = None,
    cache: Path | None = None,
) -> DaskScan:
    """Gate every record of ``frame`` for ``use`` on ``target``, as ``policyengine scan`` does.

    The report is computed now, one task per partition on the current scheduler (a
    ``distributed.Client`` when one is active); ``persist()`` the frame first when it fits in
    memory, so that writing the allowed and blocked frames does not read the input again.
    The options are those of :func:`policyengine.api.scan` that apply. Raises PolicyEngineError for
    invalid rules, a partition Arrow cannot hold (PE601) and a field map the columns do not fit
    (PE603).
    """
    from dask.base import compute
    from dask.delayed import delayed

    policy = _policy(rules, use, target, fields, on_unknown, as_of, tracer, cache)
    limits = tasks.share_limits(max_shares)
    parts = frame.to_delayed()  # type: ignore[no-untyped-call]
    counted = [delayed(_tally_pandas)(part, policy, n) for n, part in enumerate(parts)]
    tallies = [tasks.unwrap(result) for result in compute(*counted)]  # type: ignore[no-untyped-call]
    summary = report(tasks.merged(tallies), tasks.context(policy, limits))
    return DaskScan(_allowed(frame, policy), _blocked(frame, policy), summary)


def _policy(
    rules: Sequence[str | Path],
    use: str,
    target: Facts | dict[str, object] | None,
    fields: FieldMap | None,
    on_unknown: str,
    as_of: dt.date | None,
    tracer: Tracer | None,
    cache: Path | None,
) -> PolicyColumn:
    """The batch function the tasks share, its paths absolute: a worker has its own working
    directory. Raises PolicyEngineError for invalid rules here, rather than in every task."""
    rules = [Path(path).absolute() for path in rules]
    cache = cache.absolute() if cache is not None else None
    api.require_rules(rules, cache=cache)
    return api.policy_column(
        use=use,
        target=target,
        rules=rules,
        cache=cache,
        fields=fields,
        on_unknown=on_unknown,
        tracer=tracer,
        as_of=as_of,
    )


def _tally_pandas(part: pd.DataFrame, policy: PolicyColumn, number: int) -> Tally | tasks.Failed:
    try:
        table = _arrow(part)
    except pa.ArrowException as error:  # an object column of mixed types, say
        name = Path(tasks.partition_name(number))
        return tasks.Failed(tuple(unreadable(name, str(error).splitlines()[0]).diagnostics))
    return tasks.tally_partition(table, policy, number)


def _allowed(frame: dd.DataFrame, policy: PolicyColumn) -> dd.DataFrame:
    kept = frame.map_partitions(_allowed_part, policy, meta=frame._meta)  # type: ignore[no-untyped-call]
    return cast("dd.DataFrame", kept)


def _blocked(frame: dd.DataFrame, policy: PolicyColumn) -> dd.DataFrame:
    import pandas as pd

    meta = _without_policy(frame._meta).assign(
        **{POLICY: pd.Series([], dtype=pd.ArrowDtype(POLICY_TYPE))}
    )
    found = frame.map_partitions(_blocked_part, policy, meta=meta)  # type: ignore[no-untyped-call]
    return cast("dd.DataFrame", found)


def _allowed_part(
    part: pd.DataFrame, policy: PolicyColumn, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The records of one partition that may be used, columns and index as they were."""
    if part.empty:
        return part
    judged = tasks.judge_partition(_arrow(part), policy, _number(partition_info))
    return part[judged.allowed.to_numpy(zero_copy_only=False)]


def _blocked_part(
    part: pd.DataFrame, policy: PolicyColumn, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The records of one partition that may not be used, each with its ``_policy`` struct."""
    import pandas as pd

    number = _number(partition_info)
    rows, policies = pa.array([], pa.uint64()), pa.array([], POLICY_TYPE)
    if not part.empty:
        rows, policies = tasks.blocked_policy(
            tasks.judge_partition(_arrow(part), policy, number), number
        )
    chosen = _without_policy(part).iloc[rows.to_numpy(zero_copy_only=False)]
    column = pd.Series(pd.arrays.ArrowExtensionArray(policies), index=chosen.index)
    return chosen.assign(**{POLICY: column})


def _without_policy(part: pd.DataFrame) -> pd.DataFrame:
    return part.drop(columns=[POLICY]) if POLICY in part.columns else part


def _number(partition_info: dict[str, Any] | None) -> int:
    return int(partition_info["number"]) if partition_info else 0


def _arrow(part: pd.DataFrame) -> pa.Table:
    """A partition as Arrow: ``ArrowDtype`` columns (structs included) pass through as they are."""
    return pa.Table.from_pandas(part, preserve_index=False)


def scan_files(
    paths: Sequence[str | Path],
    *,
    client: Client,
    use: str,
    target: Facts | dict[str, object] | None = None,
    rules: Sequence[str | Path] = (api.BUNDLED_RULES,),
    fields: FieldMap | None = None,
    on_unknown: str = "review",
    as_of: dt.date | None = None,
    allowed: str | Path | None = None,
    blocked: str | Path | None = None,
    max_shares: Sequence[str | ShareLimit] = (),
    tracer: Tracer | None = None,
    cache: Path | None = None,
) -> FilesScan:
    """Scan JSON Lines or Parquet shards on ``client``'s workers, one task per file.

    Each task runs the CLI's per-file scan and writes its records to hidden part files beside
    ``allowed`` and ``blocked``; the client appends them in input order and renames the outputs
    into place only when every file is done, so they and the report are what ``policyengine
    scan`` writes (files named by absolute path: workers do not share the caller's working
    directory). Options are those of :func:`policyengine.api.scan`. Raises PolicyEngineError
    for invalid rules or bad input (PE6xx), leaving no output and no part file behind.
    """
    policy = _policy(rules, use, target, fields, on_unknown, as_of, tracer, cache)
    limits = tasks.share_limits(max_shares)
    inputs = runner.shards([Path(path).absolute() for path in paths])
    outputs = runner.Outputs(_path(allowed), _path(blocked))
    runner.check_outputs(inputs, outputs)
    runner.check_fields(inputs, policy.settings.fields)
    with ExitStack() as stack:
        sinks = {
            name: Sink(path, outputs.formats[name], blocked=name == "blocked", parts=True)
            for name, path in outputs.paths().items()
        }
        for sink in sinks.values():
            stack.callback(sink.discard)
        tallies = _fan_out(client, inputs, policy, sinks)
        # Blocked first, as the CLI does: whoever waits for the allowed file finds both in place.
        for name in ("blocked", "allowed"):
            if name in sinks:
                sinks[name].commit()
    each = tuple(report(tally, tasks.context(policy, limits)) for tally in tallies)
    merged = report(tasks.merged(tallies), tasks.context(policy, limits, outputs.paths()))
    return FilesScan(merged, each)


def _path(path: str | Path | None) -> Path | None:
    return Path(path) if path is not None else None


def _fan_out(
    client: Client, inputs: Sequence[runner.Shard], policy: PolicyColumn, sinks: dict[str, Sink]
) -> list[Tally]:
    """One task per file; each file's parts appended in input order as soon as it is done."""
    from distributed import wait

    parts = [{name: temporary_beside(sink.path) for name, sink in sinks.items()} for _ in inputs]
    futures: list[Future[Any]] = []
    try:
        futures = [
            client.submit(tasks.scan_shard, shard, policy, _specs(sinks, part), pure=False)
            for shard, part in zip(inputs, parts, strict=True)
        ]
        tallies = []
        for shard, future, part in zip(inputs, futures, parts, strict=True):
            tallies.append(tasks.unwrap(future.result()))
            for name, sink in sinks.items():
                sink.append(part[name], str(shard.path))
        return tallies
    finally:
        # A task still running would write into a part file removed under it: let them end.
        wait(futures)  # type: ignore[no-untyped-call]
        for part in parts:
            for path in part.values():
                path.unlink(missing_ok=True)


def _specs(sinks: dict[str, Sink], part: dict[str, Path]) -> tasks.PartSpec:
    return {
        name: (sink.path, sink.format, sink.blocked, part[name]) for name, sink in sinks.items()
    }


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
