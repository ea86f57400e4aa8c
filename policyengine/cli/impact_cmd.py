"""`policyengine impact`: which recorded datasets and models change verdict when terms change.

It decides every recorded target twice, under the old and the new rules, and prints the targets
whose verdict or deciding rules differ: a diff of decisions, not of rule text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policyengine.cli import output
from policyengine.cli.exitcodes import ExitCode, for_input
from policyengine.cli.ledger_cmd import DB, now, open_ledger
from policyengine.cli.rules_cmd import RULES, load_or_exit
from policyengine.cli.target_options import as_of_day, as_of_option, use_option
from policyengine.diagnostics import PolicyEngineError

if TYPE_CHECKING:
    from policyengine.evaluate.impact import Change


@click.command()
@RULES
@click.option(
    "--against",
    "against",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="The new rule packs (repeatable); compared with `--rules`.",
)
@click.option(
    "--document",
    "document",
    metavar="ID@VERSION",
    help="Instead of `--against`: the effect of this document version, compared with the "
    "version before it staying in force.",
)
@use_option
@as_of_option
@DB
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--fail-on-worse", is_flag=True, help="Exit 1 when any target's verdict gets worse.")
@click.pass_context
def impact(ctx: click.Context, /, **options: Any) -> None:
    """Show which recorded datasets and models change verdict between two sets of rules.

    \b
    policyengine impact --rules rules-2025/ --against rules/ --use fine_tuning
    policyengine impact --document openai.terms@2026-01-01 --use distillation
    """
    against, document = options["against"], options["document"]
    if bool(against) == bool(document):
        raise click.UsageError("pass either `--against DIR` or `--document ID@VERSION`")
    from policyengine import api

    at = as_of_day(options["as_of"], now().date())
    try:
        if document:
            new = load_or_exit(ctx, options["rules"])
            old = api.rules_before(new, document)
        else:
            old = load_or_exit(ctx, options["rules"])
            new = load_or_exit(ctx, against)
        store = open_ledger(options["db"])
        changes, decided = api.impact(old, new, store, options["use"], at=at)
    except PolicyEngineError as error:
        output.diagnostics(error.diagnostics)
        ctx.exit(for_input(error.diagnostics))
    if options["fmt"] == "json":
        output.emit_json(_json(changes, decided, options["use"], at.isoformat()))
    else:
        click.echo(_text(changes, decided, options["use"], at.isoformat()))
    worse = any(change.direction == "worse" for change in changes)
    ctx.exit(ExitCode.VIOLATION if worse and options["fail_on_worse"] else ExitCode.OK)


def _text(changes: list[Change], decided: int, use: str, at: str) -> str:
    lines = []
    for change in changes:
        old, new = change.old.verdict.value, change.new.verdict.value
        lines.append(f"{change.target}: {old} → {new} ({change.direction})")
        lines += [f"  + {rule}" for rule in change.appeared]
        lines += [f"  - {rule}" for rule in change.vanished]
        lines += [f"  ~ {rule}: {was} → {now}" for rule, was, now in change.shifted]
        lines.append(f"    now: {change.new.summary()}")
    lines.append(
        f"{len(changes)} of {decided} recorded datasets and models change for `{use}` as of {at}"
    )
    return "\n".join(lines)


def _json(changes: list[Change], decided: int, use: str, at: str) -> dict[str, Any]:
    return {
        "use": use,
        "as_of": at,
        "decided": decided,
        "changes": [
            {
                "target": change.target.id,
                "kind": change.target.kind.value,
                "old": change.old.verdict.value,
                "new": change.new.verdict.value,
                "direction": change.direction,
                "appeared": list(change.appeared),
                "vanished": list(change.vanished),
                "shifted": [
                    {"rule": rule, "old": was, "new": now} for rule, was, now in change.shifted
                ],
            }
            for change in changes
        ],
    }
