"""`policyengine rules …`: validate, test, list and show rule packs; write their JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from policyengine import bundled
from policyengine.cli import output
from policyengine.cli.exitcodes import ExitCode, for_diagnostics

if TYPE_CHECKING:
    from policyengine.evaluate.selftest import CaseResult
    from policyengine.rules.ruleset import RuleSet

FORMAT = click.Choice(["text", "json"])
PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
RULES = click.option(
    "--rules",
    "rules",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Rule packs to decide with (repeatable; default $POLICYENGINE_RULES, else bundled).",
)
"""`--rules DIR` of the commands that decide (`check`, `impact`, `report`)."""


def rule_paths(paths: tuple[Path, ...]) -> list[Path]:
    """The paths given, else $POLICYENGINE_RULES (colon-separated), else the bundled packs."""
    if paths:
        return list(paths)
    configured = os.environ.get("POLICYENGINE_RULES")
    if configured:
        return [Path(p) for p in configured.split(os.pathsep) if p]
    return [bundled.RULES]


def cache_folder() -> Path | None:
    """Where parsed rule files are cached: $POLICYENGINE_CACHE_DIR, else the user cache folder;
    None when $POLICYENGINE_NO_CACHE is set."""
    if os.environ.get("POLICYENGINE_NO_CACHE"):
        return None
    configured = os.environ.get("POLICYENGINE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policyengine"


def load_or_exit(ctx: click.Context, paths: tuple[Path, ...]) -> RuleSet:
    """Load the packs, printing every diagnostic; exit 3 (or 2 for bad paths) on errors."""
    from policyengine.rules.loader import load_rules

    ruleset, diagnostics = load_rules(rule_paths(paths), cache=cache_folder())
    output.diagnostics(diagnostics)
    if ruleset is None:
        ctx.exit(for_diagnostics(diagnostics))
    assert ruleset is not None
    return ruleset


@click.group()
def rules() -> None:
    """Validate, test, list and show rule packs.

    PATHS are folders of packs (such as `rules/`), pack folders or rule files. Without PATHS the
    commands read $POLICYENGINE_RULES, else the bundled packs.
    """


@rules.command()
@PATHS
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Check rule packs; exit 3 when any rule is invalid, 2 for a bad path, 0 otherwise."""
    ruleset = load_or_exit(ctx, paths)
    click.echo(
        f"{len(ruleset.packs)} packs, {len(ruleset.documents)} documents, "
        f"{len(ruleset.rules)} rules, {len(ruleset.tests)} tests: valid"
    )


@rules.command("test")
@PATHS
@click.option("--run", "run", metavar="REGEX", help="Only cases whose name matches REGEX.")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@click.option("--coverage", "show_coverage", is_flag=True, help="List rules no case decides.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Fail (exit 1) when fewer than PCT percent of rules decide some case.",
)
@click.pass_context
def test_cmd(
    ctx: click.Context,
    paths: tuple[Path, ...],
    run: str | None,
    fmt: str,
    show_coverage: bool,
    threshold: float | None,
) -> None:
    """Run the packs' test cases: PASS/FAIL per case; exit 1 when any fails."""
    import re

    from policyengine import api

    if run is not None:
        try:
            re.compile(run)
        except re.error as error:
            raise click.BadParameter(
                f"not a regular expression: {error}", param_hint="--run"
            ) from None
    ruleset = load_or_exit(ctx, paths)
    results = api.run_tests(ruleset, run=run)
    percent, missing = api.coverage(ruleset, results)
    failed = sum(not r.passed for r in results)
    if fmt == "json":
        output.emit_json(_results_json(ruleset, results, percent, missing))
    else:
        _print_results(ruleset, results, percent, missing, show_coverage or threshold is not None)
    below = threshold is not None and percent < threshold
    if below:
        click.echo(f"coverage {percent:.1f}% is below the threshold {threshold:g}%", err=True)
    ctx.exit(ExitCode.VIOLATION if failed or below else ExitCode.OK)


def _print_results(
    ruleset: RuleSet,
    results: list[CaseResult],
    percent: float,
    missing: list[str],
    show_coverage: bool,
) -> None:
    for result in results:
        status = "PASS" if result.passed else "FAIL"
        click.echo(f"{status} {result.test.location}: {result.test.case.name}")
        for problem in result.problems:
            click.echo(f"     {problem}")
    if show_coverage:
        click.echo(f"coverage: {percent:.1f}% of {len(ruleset.rules)} rules decide some case")
        for rule_id in missing:
            rule = ruleset.rule(rule_id)
            click.echo(f"  not covered: {rule_id} ({rule.location if rule else ''})")
    passed = sum(r.passed for r in results)
    click.echo(f"{passed} passed, {len(results) - passed} failed")


def _results_json(
    ruleset: RuleSet, results: list[CaseResult], percent: float, missing: list[str]
) -> dict[str, object]:
    return {
        "results": [
            {
                "name": r.test.case.name,
                "pack": r.test.pack,
                "location": str(r.test.location),
                "passed": r.passed,
                "effect": r.decision.effect.value,
                "verdict": r.decision.verdict.value,
                "rules": list(r.decision.deciding),
                "problems": list(r.problems),
            }
            for r in results
        ],
        "coverage": {
            "percent": round(percent, 2),
            "rules": len(ruleset.rules),
            "uncovered": missing,
        },
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
    }


@rules.command("list")
@PATHS
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@click.pass_context
def list_cmd(ctx: click.Context, paths: tuple[Path, ...], fmt: str) -> None:
    """One line per document version: pack, document, version, effective dates, rule count."""
    ruleset = load_or_exit(ctx, paths)
    rows = []
    for document in ruleset.documents.values():
        for version in document.versions:
            count = len(ruleset.rules_of(document.id, version.version))
            until = str(version.effective_until) if version.effective_until else "in force"
            pack = ruleset.document_pack[document.id]
            rows.append(
                (pack, document.id, version.version, str(version.effective_from), until, str(count))
            )
    if fmt == "json":
        keys = ("pack", "document", "version", "effective_from", "effective_until", "rules")
        output.emit_json(
            [{**dict(zip(keys, row, strict=True)), "rules": int(row[-1])} for row in rows]
        )
        return
    click.echo(output.table(rows, ("PACK", "DOCUMENT", "VERSION", "FROM", "UNTIL", "RULES")))
    click.echo(
        f"{len(ruleset.packs)} packs, {len(ruleset.documents)} documents, {len(ruleset.rules)} rules"
    )


@rules.command()
@click.argument("rule_id")
@click.option(
    "--rules", "paths", multiple=True, type=click.Path(path_type=Path), help="Packs to read."
)
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
@click.pass_context
def show(ctx: click.Context, rule_id: str, paths: tuple[Path, ...], fmt: str) -> None:
    """Show one rule with its condition, effect and citation."""
    from policyengine.diagnostics import did_you_mean

    ruleset = load_or_exit(ctx, paths)
    compiled = ruleset.rule(rule_id)
    if compiled is None:
        hint = did_you_mean(rule_id, ruleset.by_id)
        raise click.BadParameter(
            f"no rule `{rule_id}`" + (f"; {hint}" if hint else ""), param_hint="RULE_ID"
        )
    data = compiled.rule.model_dump(mode="json", by_alias=True, exclude_none=True)
    if fmt == "json":
        output.emit_json({"pack": compiled.pack, "location": str(compiled.location), **data})
        return
    import yaml

    click.echo(f"# {compiled.location} (pack `{compiled.pack}`)")
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())


@rules.command()
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
def schema(target: Path | None) -> None:
    """Write the JSON Schema of a rule file, for editors that complete and check YAML."""
    from policyengine.rules.schema import RuleFile

    document = RuleFile.model_json_schema(by_alias=True)
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **document,
        "title": "policyengine rule file",
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if target is None:
        click.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}", err=True)


@rules.command()
@PATHS
@click.option(
    "-o",
    "--output-dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/rules"),
    show_default=True,
    help="Folder to write one PACK.md page per pack into.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when a page is missing or stale."
)
@click.pass_context
def docs(ctx: click.Context, paths: tuple[Path, ...], directory: Path, check: bool) -> None:
    """Write each pack's reference page (documents, catalog, rules in words) as Markdown."""
    from policyengine.report.packdoc import render_pack

    ruleset = load_or_exit(ctx, paths)
    stale = []
    for pack in ruleset.packs:
        target = directory / f"{pack.id}.md"
        text = render_pack(ruleset, pack)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            continue
        stale.append(target)
        if not check:
            directory.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    verb = "out of date" if check else "written"
    for target in stale:
        click.echo(f"{target}: {verb}")
    click.echo(f"{len(ruleset.packs)} pages, {len(stale)} {verb}")
    ctx.exit(ExitCode.VIOLATION if check and stale else ExitCode.OK)


@rules.command()
@PATHS
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day whose terms to show (YYYY-MM-DD); default today.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True
)
@click.pass_context
def matrix(
    ctx: click.Context, paths: tuple[Path, ...], as_of: dt.datetime | None, fmt: str
) -> None:
    """The provider × use matrix: allow / deny / oblige / review as of a day.

    A cell shows the effect for a restrictive target (competes with the provider, commercial,
    open weights) and, after a slash when it differs, for a permissive one (no competitor,
    non-commercial, internal).
    """
    from policyengine.report.matrix import ACTIVITIES
    from policyengine.report.matrix import matrix as build

    ruleset = load_or_exit(ctx, paths)
    day = (as_of or dt.datetime.now()).date()
    rows = build(ruleset, day)
    header = ("PACK", "MODELS", "CHANNEL", "TERMS IN FORCE", *ACTIVITIES)
    cells = [(r.pack, r.subject, r.channel, r.terms, *r.cells) for r in rows]
    if fmt == "markdown":
        click.echo(f"Terms in force on {day}; cells: restrictive target / permissive target.\n")
        click.echo("| " + " | ".join(header) + " |")
        click.echo("|" + " --- |" * len(header))
        for row in cells:
            click.echo("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        return
    click.echo(f"terms in force on {day}; cells: restrictive target / permissive target")
    click.echo(output.table(cells, header))
