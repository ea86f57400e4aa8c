"""`policyengine check`: the gate a pipeline runs before training or release.

The command reads the clock (today, for `--as-of`), opens the ledger, calls `api.check`, prints
the outcome in the chosen format and maps the verdict to the exit code. It decides nothing itself.
"""

from __future__ import annotations

import datetime as dt
import gc
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policyengine.cli import output
from policyengine.cli.exitcodes import FAIL_ON, for_input, for_verdict
from policyengine.cli.ledger_cmd import DB, import_manifest_file, now, open_ledger
from policyengine.cli.rules_cmd import RULES, load_or_exit
from policyengine.cli.target_options import (
    as_of_day,
    as_of_option,
    target_options,
    target_overrides,
    use_option,
)
from policyengine.diagnostics import PolicyEngineError

if TYPE_CHECKING:
    from policyengine.evaluate.findings import CheckRun
    from policyengine.ledger.store import Ledger
    from policyengine.rules.ruleset import RuleSet

FORMATS = ("text", "json", "sarif", "junit", "github")
GROUPED = frozenset({"text", "sarif", "github"})
QUICK_EXIT = "policyengine.quick_exit"
"""Key in ``ctx.meta``: the command has written and closed all it opened, so the console script
may end the process without tearing the interpreter down (see :func:`policyengine.cli.main.main`)."""


@click.command()
@click.argument("target")
@use_option
@target_options
@as_of_option
@DB
@click.option(
    "--manifest",
    "manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Decide a planned lineage from this manifest instead of the ledger; nothing is written.",
)
@RULES
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--explain", is_flag=True, help="Print the whole trace (text format).")
@click.option(
    "--fail-on",
    "fail_on",
    type=click.Choice(FAIL_ON),
    default="review",
    show_default=True,
    help="Fail (non-zero exit) on violations only, or on reviews too.",
)
@click.pass_context
def check(ctx: click.Context, /, target: str, **options: Any) -> None:
    """Decide whether the outputs in TARGET may be used for `--use`.

    TARGET is the id (or the name) of a dataset or model in the ledger. The what-if options
    replace recorded target facts for this run only. Each run is recorded in the ledger as an
    audit entry (`policyengine ledger checks` lists them); `--manifest` runs are not.

    \b
    Exit codes: 0 compliant · 1 violation · 2 bad input · 3 invalid rules
                4 needs review (0 with `--fail-on violation`) · 5 internal error
    """
    if options["explain"] and options["fmt"] != "text":
        raise click.UsageError("`--explain` is for the text format; json carries the whole trace")
    if options["manifest"] is not None and ctx.get_parameter_source("db") not in (
        click.core.ParameterSource.DEFAULT,
        click.core.ParameterSource.ENVIRONMENT,
    ):
        raise click.UsageError("pass either `--db` or `--manifest`, not both")
    with _rare_collections():
        ruleset = load_or_exit(ctx, options["rules"])
        from policyengine import api  # noqa: F401  (SQLAlchemy and the ledger, loaded here)
    at = as_of_day(options["as_of"], now().date())
    try:
        run = _run(ruleset, target, options, at)
    except PolicyEngineError as error:
        output.diagnostics(error.diagnostics)
        ctx.exit(for_input(error.diagnostics))
    click.echo(_render(run, ruleset, options["fmt"], options["explain"]), nl=False)
    ctx.meta[QUICK_EXIT] = True
    ctx.exit(for_verdict(run.decision.verdict.value, options["fail_on"]))


def _run(ruleset: Any, target: str, options: dict[str, Any], at: dt.date) -> CheckRun:
    from policyengine import api

    what_if = target_overrides(options)
    with _ledger(options, at) as store:
        # Reports list every source; the other formats count them, so the ledger may group them.
        grouped = options["fmt"] in GROUPED
        run = api.check(
            ruleset, store, target, options["use"], at=at, what_if=what_if, grouped=grouped
        )
        if options["manifest"] is None:
            seq = api.record_check(store, run, what_if, recorded_at=now())
            click.echo(f"recorded this check as ledger entry {seq}", err=True)
        return run


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Collect the young generation every 100,000 allocations instead of every 700 meanwhile.

    Start-up (importing SQLAlchemy, the models and the API; loading the rule packs) allocates a
    few hundred thousand objects and frees few of them: the collector, run every 700 allocations,
    walks the same young survivors again and again, 0.02-0.04 s of a run. The usual thresholds
    come back afterwards (the lineage read pauses the collector on its own).
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@contextmanager
def _ledger(options: dict[str, Any], at: dt.date) -> Iterator[Ledger]:
    """The ledger to decide on: the database, or a planned lineage in a scratch ledger."""
    manifest: Path | None = options["manifest"]
    if manifest is None:
        yield open_ledger(options["db"])
        return
    from policyengine.ledger import db, schema
    from policyengine.ledger.store import Ledger

    with tempfile.TemporaryDirectory(prefix="policyengine-plan-") as folder:
        engine = db.engine_for(str(Path(folder) / "plan.db"))
        try:
            schema.upgrade(engine)
            store = Ledger(engine)
            imported = import_manifest_file(store, manifest, at)
            output.diagnostics(imported.diagnostics)
            yield store
        finally:
            engine.dispose()


def _render(run: CheckRun, ruleset: RuleSet, fmt: str, explain: bool) -> str:
    if fmt in ("json", "junit"):
        from policyengine import report

        render = report.json_text if fmt == "json" else report.junit
        return render(run, now(), rules=ruleset)
    if fmt == "sarif":
        from policyengine.report.sarif import sarif

        return sarif(run)
    if fmt == "github":
        from policyengine.report.github import workflow_commands

        return workflow_commands(run)
    from policyengine.report.check_text import text

    return text(run, explain=explain)
