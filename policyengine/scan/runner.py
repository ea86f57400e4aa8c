"""Scanning shards end to end: read, judge, split into outputs, tally; on one thread or several.

With ``workers > 1`` the files are spread over worker processes forked from this one, which start
with the rules loaded (threads where the system does not fork; see :mod:`.workers`). Each worker
writes its files' outputs to temporary part files beside the outputs; they are appended in input
order, so the outputs and the report are the same as with one worker. Whatever fails, no output is
left half written.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.facts import Value
from policyengine.rules.loader import load_rules
from policyengine.rules.ruleset import RuleSet
from policyengine.scan import columns, jsonl, parquet
from policyengine.scan.batch import Batch
from policyengine.scan.fields import FieldMap
from policyengine.scan.formats import (
    Family,
    Format,
    check_output,
    check_readable,
    require_format,
    temporary_beside,
)
from policyengine.scan.gate import Gate, OnUnknown
from policyengine.scan.judge import Judge
from policyengine.scan.prefetch import prefetched
from policyengine.scan.report_model import FileCount, ScanReport
from policyengine.scan.selfid import Signatures
from policyengine.scan.summary import Context, ShareLimit, report
from policyengine.scan.tally import Tally
from policyengine.scan.tracing import Tracer
from policyengine.scan.workers import Progress, WorkerLost, Workers
from policyengine.scan.writers import Sink

AHEAD: Final = 8
"""Batches of provenance alone read ahead (65,536 records of a few dictionary ids each)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What every process needs to decide records the same way (plain, picklable data)."""

    rules: tuple[str, ...]
    cache: str | None
    use: str
    target: Mapping[str, Value]
    fields: FieldMap
    on_unknown: OnUnknown = OnUnknown.REVIEW
    as_of: dt.date | None = None
    signatures: str | None = None
    """The self-identification signature file to detect with (None: no detection)."""

    def gate(self, ruleset: RuleSet | None = None) -> Gate:
        """A gate over ``ruleset``, or over the rules these settings name (loaded once a process)."""
        if ruleset is None:
            ruleset = _ruleset(self.rules, self.cache)
        return Gate(ruleset, self.target, self.use, on_unknown=self.on_unknown, as_of=self.as_of)

    def detector(self) -> Signatures | None:
        """The compiled signatures (loaded once a process), or None without self-identification.

        Raises PolicyEngineError with the file's diagnostics (PE65x) when it is not valid.
        """
        if self.signatures is None:
            return None
        path = Path(self.signatures)
        try:
            stat = path.stat()
        except OSError:
            return Signatures.load(path)  # says the file cannot be read
        return _signatures(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _signatures(path: str, mtime: int, size: int) -> Signatures:
    """The signature file at ``path`` as it was at ``mtime`` and ``size``."""
    return Signatures.load(Path(path))


@functools.cache
def _ruleset(paths: tuple[str, ...], cache: str | None) -> RuleSet:
    ruleset, diagnostics = load_rules(paths, cache=Path(cache) if cache else None)
    if ruleset is None:
        raise PolicyEngineError(diagnostics)
    return ruleset


@dataclass(frozen=True, slots=True)
class Shard:
    """One input file and its format."""

    path: Path
    format: Format


@dataclass(slots=True)
class Outputs:
    """Where allowed and blocked records go (None: not written)."""

    allowed: Path | None = None
    blocked: Path | None = None
    formats: dict[str, Format] = field(default_factory=dict)

    def paths(self) -> dict[str, Path]:
        """The outputs asked for, by name."""
        found = {"allowed": self.allowed, "blocked": self.blocked}
        return {name: path for name, path in found.items() if path is not None}


def shards(paths: Sequence[Path]) -> list[Shard]:
    """Check each input exists and has a format its name says (PE601, PE602)."""
    found = []
    for path in paths:
        check_readable(path)
        found.append(Shard(path, require_format(path, "shard")))
    return found


def check_fields(inputs: Sequence[Shard], fields: FieldMap) -> None:
    """The field map fits the shards, before any record is read (PE603): JSON Lines can read it
    (no key read both as an object and not); each Parquet file has text columns where it points,
    and a column for every field mapped explicitly."""
    for shard in inputs:
        if shard.format.family is Family.PARQUET:
            parquet.check_schema(shard.path, fields)
    if not any(shard.format.family is Family.JSONL for shard in inputs):
        return
    try:
        columns.json_schema(fields)
    except columns.PathConflict as error:
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_FIELD_MAP,
                    f"the field map cannot be read: {error}",
                    Location("--field"),
                    help="map each field to its own path; one key cannot be both text and an object",
                )
            ]
        ) from None


def check_outputs(inputs: Sequence[Shard], outputs: Outputs) -> None:
    """Every output is of the inputs' family and is not an input (PE602, PE606)."""
    if not outputs.paths():
        return
    families = {shard.format.family for shard in inputs}
    if len(families) > 1:
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_OUTPUT,
                    "the shards mix JSON Lines and Parquet, and outputs take one format",
                    Location("--allowed" if outputs.allowed else "--blocked"),
                    help="scan each format into its own outputs",
                )
            ]
        )
    family = families.pop() if families else Family.JSONL
    allowed, blocked = outputs.allowed, outputs.blocked
    if allowed is not None and blocked is not None and allowed.resolve() == blocked.resolve():
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_OUTPUT,
                    f"cannot write `{outputs.blocked}`: it is also the allowed output",
                    Location("--blocked"),
                    help="write allowed and blocked records to two different files",
                )
            ]
        )
    for name, path in outputs.paths().items():
        outputs.formats[name] = check_output(path, [s.path for s in inputs], family)


def run(
    inputs: Sequence[Shard],
    settings: Settings,
    *,
    ruleset: RuleSet | None = None,
    outputs: Outputs | None = None,
    tracer: Tracer | None = None,
    workers: int = 1,
    limits: Sequence[ShareLimit] = (),
    progress: Progress | None = None,
    characters: bool = True,
) -> ScanReport:
    """Scan ``inputs`` and split them into ``outputs``; returns the report, which counts the
    characters of text only with ``characters`` (reading every text costs time)."""
    outputs = outputs or Outputs()
    with ExitStack() as stack:
        stack.enter_context(_older_objects_frozen())
        parallel = workers > 1 and len(inputs) > 1
        sinks = {
            name: Sink(path, outputs.formats[name], blocked=name == "blocked", parts=parallel)
            for name, path in outputs.paths().items()
        }
        for sink in sinks.values():
            stack.callback(sink.discard)
        judge = Judge(settings.gate(ruleset), tracer, settings.detector())
        if parallel:
            tally = _parallel(inputs, judge, settings.fields, sinks, workers, progress, characters)
        else:
            tally = Tally(characters=characters)
            for shard in inputs:
                scan_file(shard, judge, settings.fields, sinks, tally, progress)
        # Blocked first: a pipeline that waits for the allowed file finds everything in place.
        for name in ("blocked", "allowed"):
            if name in sinks:
                sinks[name].commit()
    context = Context(
        use=settings.use,
        target=settings.target,
        fields=settings.fields.describe(),
        on_unknown=settings.on_unknown.value,
        as_of=settings.as_of,
        outputs={name: str(path) for name, path in outputs.paths().items()},
        limits=limits,
        signatures=settings.signatures,
    )
    return report(tally, context)


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects alive when a scan starts (the loaded rules, the caller's own) out of the
    garbage collector's passes until it ends. A scan makes few objects, and they die young, but
    their count still sets off full passes, each over every older object (0.1 s a pass with the
    bundled rules loaded): 3-6 % of a JSON Lines scan. Objects someone else froze stay frozen."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def scan_file(
    shard: Shard,
    judge: Judge,
    fields: FieldMap,
    sinks: Mapping[str, Sink],
    tally: Tally,
    progress: Progress | None = None,
) -> None:
    """Scan one file into ``sinks``, counting into ``tally``; the next batch is read while this
    one is judged and written."""
    name = str(shard.path)
    records = 0
    texts = judge.needs_text
    batches = _batches(shard, fields, sinks, progress, texts, tally.characters)
    # Batches of provenance alone are small: read several ahead while the first batch's tuples
    # are decided (the rules take ~40 µs a tuple, and the first batch brings most of them).
    small = shard.format.family is Family.PARQUET and not (sinks or texts or tally.characters)
    for batch in prefetched(batches, depth=AHEAD if small else 1):
        judged = judge(batch)
        for sink in sinks.values():
            sink.write(judged, name)
        records += tally.add(judged, name)
    tally.files.append(FileCount(path=name, format=str(shard.format), records=records))


def _batches(
    shard: Shard,
    fields: FieldMap,
    sinks: Mapping[str, Sink],
    progress: Progress | None,
    texts: bool,
    characters: bool,
) -> Iterator[Batch]:
    """The file's batches; ``texts``: judging reads the texts, ``characters``: they are counted
    (a JSON Lines reader counts them without the texts, a Parquet one reads the texts)."""
    if shard.format.family is Family.JSONL:
        return jsonl.read(shard.path, shard.format, fields, progress=progress, text=texts)
    schema = parquet.open_file(shard.path).schema_arrow
    for sink in sinks.values():
        sink.prepare(schema, str(shard.path))
    return parquet.read(
        shard.path,
        fields,
        whole_records=bool(sinks),
        text=texts or characters,
        progress=progress,
    )


def _parallel(
    inputs: Sequence[Shard],
    judge: Judge,
    fields: FieldMap,
    sinks: Mapping[str, Sink],
    count: int,
    progress: Progress | None,
    characters: bool,
) -> Tally:
    """Scan the files on ``count`` workers (see :mod:`.workers`), each file into its own part
    files, then append the parts in input order."""
    tally = Tally(characters=characters)
    parts = [{name: temporary_beside(sink.path) for name, sink in sinks.items()} for _ in inputs]

    def job(index: int, progress: Progress | None) -> Tally:
        specs = _specs(sinks, parts[index])
        return _scan_part(inputs[index], judge, fields, specs, characters, progress)

    try:
        with Workers(count, job, progress) as pool:
            futures = [pool.submit(index) for index in range(len(inputs))]
            for shard, future, part in zip(inputs, futures, parts, strict=True):
                try:
                    tally.merge(pool.result(future))
                except WorkerLost:
                    raise _lost(shard) from None
                for name, sink in sinks.items():
                    sink.append(part[name], str(shard.path))
    finally:
        for part in parts:
            for path in part.values():
                path.unlink(missing_ok=True)
    return tally


def _lost(shard: Shard) -> PolicyEngineError:
    return PolicyEngineError(
        [
            Diagnostic(
                codes.SCAN_WORKER,
                "a worker process was stopped by the system (out of memory, or a signal) before "
                f"`{shard.path}` and the files after it were scanned",
                Location(str(shard.path)),
                help="scan again with fewer `--workers` or more memory; no output was written",
            )
        ]
    )


PartSpec = dict[str, tuple[Path, Format, bool, Path]]
"""Output name → (path, format, blocked, the part file to write)."""


def _specs(sinks: Mapping[str, Sink], part: Mapping[str, Path]) -> PartSpec:
    return {
        name: (sink.path, sink.format, sink.blocked, part[name]) for name, sink in sinks.items()
    }


def _scan_part(
    shard: Shard,
    judge: Judge,
    fields: FieldMap,
    specs: PartSpec,
    characters: bool,
    progress: Progress | None,
) -> Tally:
    """On a worker: scan one file into its part files (closed, never renamed)."""
    tally = Tally(characters=characters)
    part = {
        name: Sink(path, fmt, blocked=blocked, temporary=temporary)
        for name, (path, fmt, blocked, temporary) in specs.items()
    }
    try:
        scan_file(shard, judge, fields, part, tally, progress)
    finally:
        for sink in part.values():
            sink.close()
    return tally
