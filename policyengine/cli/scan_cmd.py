"""`policyengine scan`: the record-level gate over JSON Lines and Parquet shards.

Options are checked first (field map, report format, target facts, rules, ledger); then the API
scans, and this module prints the summary, writes the report and maps the verdict to an exit code.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policyengine.cli import output
from policyengine.cli.exitcodes import for_input, for_verdict
from policyengine.cli.ledger_cmd import DEFAULT_DB, ENV_DB
from policyengine.cli.target_options import (
    as_of_day,
    as_of_option,
    target_options,
    target_overrides,
    use_option,
)
from policyengine.diagnostics import PolicyEngineError

if TYPE_CHECKING:
    from policyengine.scan.fields import FieldMap
    from policyengine.scan.report_model import ScanReport

REPORT_FORMATS = {".json": "json", ".md": "md", ".html": "html"}
NOT_COUNTED = "–"
"""What the summary shows for a share of characters when characters were not counted."""


@click.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@use_option
@click.option(
    "--target", "target_id", metavar="ID", help="Read the target's facts from the ledger."
)
@click.option(
    "--db",
    "db",
    metavar="URL",
    envvar=ENV_DB,
    help=f"The ledger (SQLAlchemy URL or SQLite path) for --target and fingerprints (else ${ENV_DB}).",
)
@target_options
@as_of_option
@click.option(
    "--rules", "rules", multiple=True, type=click.Path(path_type=Path), help="Packs to decide by."
)
@click.option(
    "--field",
    "field_specs",
    multiple=True,
    metavar="NAME=PATH",
    help="Where a field lives, e.g. `provider=meta.source.provider` (repeatable).",
)
@click.option("--profile", metavar="NAME", help="A named field map from --config.")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="YAML file of field-map profiles.",
)
@click.option(
    "--on-unknown",
    type=click.Choice(["allow", "review", "deny"]),
    default="review",
    show_default=True,
    help="What becomes of records whose provenance is missing or unknown to the rules.",
)
@click.option(
    "--allowed", type=click.Path(dir_okay=False, path_type=Path), help="Write allowed records here."
)
@click.option(
    "--blocked", type=click.Path(dir_okay=False, path_type=Path), help="Write blocked records here."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here: .json, .md or .html.",
)
@click.option(
    "--max-share",
    "max_shares",
    multiple=True,
    metavar="FIELD=VALUE:FRACTION",
    help="Fail when more than FRACTION of the records have FIELD=VALUE (repeatable).",
)
@click.option(
    "--fingerprints/--no-fingerprints",
    default=True,
    show_default=True,
    help="Trace records without provenance through the ledger's output fingerprints.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes to spread the files over (threads where the system does not fork).",
)
@click.option(
    "--detect-self-id",
    is_flag=True,
    help="Flag records whose text says which provider's model wrote it (\"I'm Claude, made by "
    'Anthropic") against their provenance: a contradiction is blocked for review, a record '
    "without provenance takes the provider it names.",
)
@click.option(
    "--signatures",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The self-identification signature file for --detect-self-id "
    "(default: the bundled rules/self-id/signatures.yaml).",
)
@click.pass_context
def scan(ctx: click.Context, /, shards: tuple[Path, ...], **options: Any) -> None:
    """Split shards into records that may be used and records that may not.

    SHARDS are JSON Lines (.jsonl, .jsonl.gz, .jsonl.zst) or Parquet files. Exit 0 when every
    record is allowed, 1 for any violation, unreadable record or exceeded share limit, 4 when the
    rest need review, 2 for bad input.

    \b
    Examples:
      policyengine scan examples/shards/mixed.jsonl --use distillation \\
        --competes-with openai --allowed ok.jsonl --blocked no.jsonl --report scan.html
      policyengine scan examples/shards/self-id.jsonl --use distillation \\
        --competes-with openai --detect-self-id --blocked review.jsonl
    """
    from policyengine import api
    from policyengine.cli.rules_cmd import cache_folder, load_or_exit, rule_paths

    try:
        if options["signatures"] is not None and not options["detect_self_id"]:
            raise click.UsageError("--signatures is read only with --detect-self-id; add it")
        fields = _field_map(options)
        report_format = _report_format(options["report_path"])
        _check_report_path(
            options["report_path"], [*shards, options["allowed"], options["blocked"]]
        )
        target = _target(options)
        ruleset = load_or_exit(ctx, options["rules"])
        with _progress(shards) as progress:
            report = api.scan(
                shards,
                use=options["use"],
                target=target,
                rules=rule_paths(options["rules"]),
                cache=cache_folder(),
                ruleset=ruleset,
                fields=fields,
                on_unknown=options["on_unknown"],
                allowed=options["allowed"],
                blocked=options["blocked"],
                max_shares=options["max_shares"],
                tracer=_tracer(options),
                workers=options["workers"],
                as_of=as_of_day(options["as_of"], dt.date.today()),
                progress=progress,
                detect_self_id=options["detect_self_id"],
                signatures=options["signatures"],
                # Shares of characters are reported and limited, not printed: count them then.
                characters=options["report_path"] is not None or bool(options["max_shares"]),
            )
        if options["report_path"] is not None:
            _write_report(report, report_format, options["report_path"])
    except PolicyEngineError as error:
        output.diagnostics(error.diagnostics)
        ctx.exit(for_input(error.diagnostics))
    _print(report, options["report_path"])
    ctx.exit(for_verdict(report.verdict))


def _write_report(report: ScanReport, fmt: str, path: Path) -> None:
    """The report as JSON (its pydantic model), Markdown or HTML (Jinja templates)."""
    from policyengine import codes
    from policyengine.diagnostics import Diagnostic, Location
    from policyengine.scan.formats import AtomicOutput

    if fmt == "json":
        text = report.model_dump_json(indent=2) + "\n"
    else:
        from policyengine.report.render import render

        text = render(f"scan.{fmt}.j2", report=report.model_dump(mode="json"))
    output_file: AtomicOutput | None = None
    try:
        output_file = AtomicOutput(path)
        output_file.temporary.write_text(text, encoding="utf-8")
        output_file.commit()
    except OSError as error:
        if output_file is not None:
            output_file.discard()
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_OUTPUT,
                    f"cannot write `{path}`: {error.strerror or error}",
                    Location(str(path)),
                    help="free space or choose another folder for the report",
                )
            ]
        ) from None


def _check_report_path(path: Path | None, others: list[Path | None]) -> None:
    """A report may not overwrite a shard or an output."""
    if path is None:
        return
    for other in others:
        if other is not None and other.resolve() == path.resolve():
            raise click.BadParameter(
                f"`{path}` is also a shard or an output; write the report to its own file",
                param_hint="'--report'",
            )


def _field_map(options: dict[str, Any]) -> FieldMap:
    from policyengine.scan import fields

    base = fields.DEFAULT
    profile, config = options["profile"], options["config"]
    if profile is not None and config is None:
        raise click.UsageError("--profile needs --config FILE naming the file that holds it")
    if config is not None:
        if profile is None:
            raise click.UsageError("--config needs --profile NAME saying which profile to use")
        try:
            text = config.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise click.BadParameter(
                f"cannot read `{config}`: {getattr(error, 'strerror', None) or error}",
                param_hint="'--config'",
            ) from None
        base = fields.from_profile(text, str(config), profile)
    return fields.from_options(options["field_specs"], base)


def _report_format(path: Path | None) -> str:
    if path is None:
        return "json"
    found = REPORT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise click.BadParameter(
            f"`{path}` does not end in .json, .md or .html", param_hint="'--report'"
        )
    if not path.parent.is_dir():
        raise click.BadParameter(
            f"the folder `{path.parent}` does not exist", param_hint="'--report'"
        )
    return found


def _target(options: dict[str, Any]) -> dict[str, object]:
    from policyengine.facts import FactError, Facts

    known: dict[str, object] = {}
    if options["target_id"] is not None:
        from policyengine.cli.ledger_cmd import open_ledger

        ledger = open_ledger(options["db"] or DEFAULT_DB)
        known.update(ledger.lineage(options["target_id"]).facts.known)
    known.update(target_overrides(options))
    try:
        Facts.parse(known)
    except FactError as error:
        raise click.BadParameter(str(error), param_hint="target options") from None
    return known


def _tracer(options: dict[str, Any]) -> Callable[..., Any] | None:
    db = options["db"] or (DEFAULT_DB if options["target_id"] else None)
    if db is None or not options["fingerprints"]:
        return None
    from policyengine import api
    from policyengine.cli.ledger_cmd import open_ledger

    open_ledger(db)  # fail early (PE401–PE403) rather than at the first untraced record
    tracer = api.LedgerTracer(db)
    click.get_current_context().call_on_close(tracer.close)
    return tracer


@contextmanager
def _progress(shards: tuple[Path, ...]) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    total = sum(path.stat().st_size for path in shards if path.is_file())
    columns = ("scanning", BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scan", total=total)
        yield lambda done: bar.advance(task, done)


def _print(report: ScanReport, report_path: Path | None) -> None:
    for line in summary(report, report_path):
        click.echo(line)


def summary(report: ScanReport, report_path: Path | None) -> Iterator[str]:
    """The text summary; its last line sums the scan up in one line."""
    files = len(report.files)
    chars = "" if report.characters is None else f", {report.characters:,} characters of text"
    yield f"scanned {files} file{'s' * (files != 1)}: {_records(report.records)}{chars}"
    if report.traced:
        yield f"traced by fingerprint: {_records(report.traced)}"
    if report.self_id is not None:
        yield from _self_id_lines(report)
    problems = {k: v for k, v in report.problems.items() if v}
    if problems:
        yield "problems: " + ", ".join(f"{v:,} {k}" for k, v in problems.items())
        for example in report.examples:
            yield f"  {example.file}:{example.line}: {example.code} {example.reason}"
        shown = len(report.examples)
        if sum(problems.values()) > shown:
            yield f"  … {sum(problems.values()) - shown:,} more (first {shown} shown)"
    rows = [
        (
            s.name or "(none)",
            f"{s.records:,}",
            _percent(s.record_share),
            _percent(s.character_share),
            f"{s.allowed:,}",
            f"{s.blocked:,}",
        )
        for s in report.providers
    ]
    if rows:
        header = ("PROVIDER", "RECORDS", "SHARE", "CHARS", "ALLOWED", "BLOCKED")
        yield output.table(rows, header)
    for rule in report.rules:
        yield f"rule {rule.rule}: {_records(rule.records)}"
    for limit in report.limits:
        state = "exceeded" if limit.exceeded else "ok"
        yield (
            f"{'PE614 ' if limit.exceeded else ''}share limit {limit.field}={limit.value} at most "
            f"{_percent(limit.max_share)}: "
            f"{_percent(limit.record_share)} of records, {_percent(limit.character_share)} of "
            f"characters: {state}"
        )
    written = [f"{name} → {path}" for name, path in report.outputs.items()]
    if report_path is not None:
        written.append(f"report → {report_path}")
    if written:
        yield "wrote " + ", ".join(written)
    yield _last_line(report)


def _self_id_lines(report: ScanReport) -> Iterator[str]:
    found = report.self_id
    assert found is not None
    yield (
        f"self-identified: {_records(found.records)} ({found.consistent:,} consistent, "
        f"{found.contradicting:,} contradicting, {found.attributed:,} attributed)"
    )
    for row in found.providers:
        yield (
            f"  {row.provider}: {row.records:,} ({row.consistent:,} consistent, "
            f"{row.contradicting:,} contradicting, {row.attributed:,} attributed)"
        )


def _records(count: int) -> str:
    return f"{count:,} record{'s' * (count != 1)}"


def _percent(share: float | None) -> str:
    """A share as a percentage; a dash for one not measured (characters not counted)."""
    return NOT_COUNTED if share is None else f"{100 * share:.1f}%"


def _last_line(report: ScanReport) -> str:
    blocked = [
        f"{report.verdicts[name]:,} {name.replace('_', ' ')}"
        for name in ("violation", "needs_review", "invalid")
        if report.verdicts[name]
    ]
    detail = f" ({', '.join(blocked)})" if blocked else ""
    exceeded = sum(limit.exceeded for limit in report.limits)
    limits = f"; {exceeded} share limit{'s' * (exceeded != 1)} exceeded" if exceeded else ""
    return (
        f"{_records(report.records)}: {report.allowed:,} allowed, {report.blocked:,} blocked"
        f"{detail}{limits}; verdict {report.verdict.replace('_', ' ')}"
    )
