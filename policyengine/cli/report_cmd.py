"""`policyengine report TARGET --use ACTIVITY`: the compliance report of a recorded target.

The one clock read is here (``--generated-at`` defaults to now); the report itself is a pure
function of the run, the rules and that time, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policyengine.cli import output
from policyengine.cli.exitcodes import ExitCode, for_input, for_verdict
from policyengine.cli.ledger_cmd import DB, open_ledger
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
    from policyengine.report import Report

FORMATS = ("html", "md", "json", "junit")
SUFFIXES = {
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".json": "json",
    ".xml": "junit",
}


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    """Parse `--generated-at`: an ISO 8601 date or date and time; no zone means UTC."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"`{value}` is not an ISO 8601 time; write e.g. `2025-10-01T12:00:00Z`"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@click.command()
@click.argument("target")
@use_option
@target_options
@as_of_option
@DB
@RULES
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Report format (default: from the suffix of -o, else md).",
)
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (default: stdout).",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Render your own Jinja template (sandboxed) instead of a built-in format.",
)
@click.option(
    "--generated-at",
    "generated_at",
    metavar="DATETIME",
    callback=_moment,
    help="The generation time the report shows (default: now); fix it for reproducible bytes.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["violation", "review"]),
    help="Exit 1 for violations (and, with `review`, 4 for needs review) once written.",
)
@click.pass_context
def report(ctx: click.Context, /, **options: Any) -> None:
    """Write the compliance report of TARGET (a recorded dataset or model) for --use.

    \b
    Formats: html (the legal review report, self-contained and printable), md, json, junit.
    Exit 0 once the report is written, whatever the verdict, unless --fail-on is given.
    Example:
      policyengine report acme-llama-3.1-8b-instruct@1.0 --use fine_tuning -o report.html
    """
    fmt = _format(options["fmt"], options["output_path"], options["template"])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ruleset = load_or_exit(ctx, options["rules"])
    try:
        built, text = _render(ruleset, options, fmt, now)
    except PolicyEngineError as error:
        output.diagnostics(error.diagnostics)
        ctx.exit(for_input(error.diagnostics))
    path = options["output_path"]
    if path is None:
        click.echo(text, nl=False)
    else:
        _write(path, text)
        click.echo(f"{path}: {fmt or 'template'} report written ({built.summary})")
    fail_on = options["fail_on"]
    ctx.exit(for_verdict(built.verdict, fail_on) if fail_on else ExitCode.OK)


def _format(fmt: str | None, path: Path | None, template: Path | None) -> str | None:
    """The format asked for, else the one the output suffix names, else md; None: a template."""
    if template is not None:
        if fmt is not None:
            raise click.UsageError("give `--format` or `--template`, not both")
        return None
    if fmt is not None:
        return fmt
    if path is not None and path.suffix.lower() in SUFFIXES:
        return SUFFIXES[path.suffix.lower()]
    return "md"


def _render(
    ruleset: Any, options: dict[str, Any], fmt: str | None, now: dt.datetime
) -> tuple[Report, str]:
    """Decide and render; returns the view-model and the report text."""
    from policyengine import api, report

    store = open_ledger(options["db"])
    at = as_of_day(options["as_of"], now.date())
    generated_at = options["generated_at"] or now
    run = api.check(
        ruleset,
        store,
        options["target"],
        options["use"],
        at=at,
        what_if=target_overrides(options),
    )
    built = report.build(run, generated_at, rules=ruleset)
    template: Path | None = options["template"]
    if template is None:
        assert fmt is not None
        return built, report.render_view(built, fmt)
    return built, report.render_custom(built, _read(template), str(template))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(
            f"cannot read `{path}`: {error}", param_hint="--template"
        ) from None


def _write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename: never a half report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        os.fchmod(handle, 0o666 & ~umask)  # as an ordinary new file would be, not mkstemp's 0600
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
