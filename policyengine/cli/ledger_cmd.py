"""`policyengine ledger …`: create, write, verify, show, trace and export the usage ledger.

Only click is imported at module level; SQLAlchemy and the ledger are imported inside commands so
that `policyengine --help` stays fast. This module reads the environment (the database URL) and the
clock (each write's `recorded_at`); the ledger itself reads neither.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from policyengine.cli import output
from policyengine.cli.exitcodes import ExitCode, for_input
from policyengine.diagnostics import PolicyEngineError

if TYPE_CHECKING:
    from policyengine.ledger.cards import CardKind
    from policyengine.ledger.store import Ledger

DEFAULT_DB = "sqlite:///policyengine.db"
ENV_DB = "POLICYENGINE_DATABASE_URL"

DB = click.option(
    "--db",
    "db",
    metavar="URL",
    envvar=ENV_DB,
    default=DEFAULT_DB,
    show_default=True,
    help=f"SQLAlchemy URL or SQLite file path of the ledger (else ${ENV_DB}).",
)
AS_OF = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date that recorded events may not come after (default: today).",
)


class LedgerGroup(click.Group):
    """A group whose commands report ledger diagnostics and exit 2 instead of raising."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PolicyEngineError as error:
            output.diagnostics(error.diagnostics)
            ctx.exit(for_input(error.diagnostics))


def now() -> dt.datetime:
    """The time a write is recorded at (the one clock read of the ledger commands)."""
    return dt.datetime.now(dt.UTC)


def today(as_of: dt.datetime | None) -> dt.date:
    """The as-of date: the one given, else today."""
    return as_of.date() if as_of else now().date()


def open_ledger(url: str) -> Ledger:
    """Connect and check the schema is this version's (PE401–PE403 otherwise)."""
    from policyengine.ledger import db, schema
    from policyengine.ledger.store import Ledger

    engine = db.engine_for(url)
    click.get_current_context().call_on_close(engine.dispose)
    db.check_connection(engine)
    schema.require_current(engine)
    return Ledger(engine)


@click.group(cls=LedgerGroup)
def ledger() -> None:
    """Record how model outputs flow into datasets, runs and models; verify and trace it.

    The ledger is append-only and hash-chained. It lives in ./policyengine.db unless --db or
    $POLICYENGINE_DATABASE_URL names another database (SQLite file or PostgreSQL URL).
    """


@ledger.command()
@DB
def init(db: str) -> None:
    """Create the ledger, or upgrade it to this version's schema."""
    from policyengine.ledger import db as database
    from policyengine.ledger import schema

    engine = database.engine_for(db)
    click.get_current_context().call_on_close(engine.dispose)
    database.check_connection(engine)
    before, after = schema.upgrade(engine)
    where = database.where(engine)
    if before is None:
        click.echo(f"created the ledger at {where} (schema {after})")
    elif before == after:
        click.echo(f"the ledger at {where} is up to date (schema {after})")
    else:
        click.echo(f"upgraded the ledger at {where} from schema {before} to {after}")


@ledger.command()
@DB
@click.option(
    "--expect",
    metavar="HASH",
    help="Also fail unless HASH (a head published earlier) is in the chain.",
)
@click.pass_context
def verify(ctx: click.Context, db: str, expect: str | None) -> None:
    """Recompute the hash chain and check every table against it; exit 1 naming the first problem."""
    from policyengine.ledger.verify import expected_head, verify

    store = open_ledger(db)
    with store.engine.connect() as connection:
        result = verify(connection)
        if result.ok and expect:
            result.diagnostics += expected_head(connection, expect)
    if not result.ok:
        output.diagnostics(result.diagnostics)
        ctx.exit(ExitCode.VIOLATION)
    click.echo(f"ok: {result.entries} entries, head {result.head}")


@ledger.command()
@click.argument("artifact_id", metavar="ID")
@DB
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def show(artifact_id: str, db: str, fmt: str) -> None:
    """Show one artifact as recorded: its fields, its chained entry, what supersedes it."""
    from policyengine.cli.ledger_render import describe

    store = open_ledger(db)
    entity, link, superseded_by = store.entry(artifact_id)
    outputs = store.outputs(artifact_id) if link.kind == "generation" else []
    shown = describe(entity, link, superseded_by, outputs)
    if fmt == "json":
        output.emit_json(shown)
        return
    for key, value in shown.items():
        click.echo(
            f"{key}: {value}" if not isinstance(value, dict | list) else f"{key}: {_inline(value)}"
        )


def _inline(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


@ledger.command()
@click.argument("artifact_id", metavar="ID")
@DB
@click.option(
    "--upstream",
    "direction",
    flag_value="upstream",
    default=True,
    help="What the artifact came from (default).",
)
@click.option(
    "--downstream", "direction", flag_value="downstream", help="What came from the artifact."
)
@click.option(
    "--format", "fmt", type=click.Choice(["tree", "json", "dot"]), default="tree", show_default=True
)
def lineage(artifact_id: str, db: str, direction: str, fmt: str) -> None:
    """Trace an artifact's lineage upstream (its sources) or downstream (what used it)."""
    from policyengine.cli import ledger_render

    store = open_ledger(db)
    found = store.graph(artifact_id, "downstream" if direction == "downstream" else "upstream")
    if fmt == "dot":
        click.echo(ledger_render.dot(found))
    elif fmt == "json":
        sources = store.lineage(artifact_id).sources if direction == "upstream" else ()
        output.emit_json(ledger_render.graph_json(found, sources))
    else:
        click.echo(ledger_render.tree(found))


@ledger.command()
@DB
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
def export(db: str, target: Path | None) -> None:
    """Write the whole ledger as JSON Lines (entries in chain order, then fingerprints)."""
    from policyengine.ledger.export import export_lines

    store = open_ledger(db)
    if target is None:
        for line in export_lines(store.engine):
            click.echo(line)
        return
    with target.open("w", encoding="utf-8") as stream:
        for line in export_lines(store.engine):
            stream.write(line + "\n")
    click.echo(f"exported {store.head()[0]} entries to {target}", err=True)


@ledger.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DB
@AS_OF
def import_cmd(file: Path, db: str, as_of: dt.datetime | None) -> None:
    """Import a manifest (YAML or JSON) in one transaction, or an export into an empty ledger."""
    from policyengine.ledger.export import import_lines, is_export

    store = open_ledger(db)
    with file.open("rb") as stream:
        first = stream.readline()
    if is_export(first):
        with file.open("rb") as stream:
            entries, head = import_lines(store.engine, stream, str(file))
        click.echo(f"imported {entries} entries, head {head}")
        return
    imported = import_manifest_file(store, file, today(as_of))
    output.diagnostics(imported.diagnostics)
    click.echo(
        f"{len(imported.ids)} entries in {file}: {imported.written} new, {len(imported.ids) - imported.written} already recorded"
    )


def import_manifest_file(store: Ledger, file: Path, as_of: dt.date) -> Any:
    """Import a manifest file into ``store`` in one transaction (raises on any error)."""
    from policyengine.ledger.manifest import import_manifest
    from policyengine.rules.source import parse

    text = _read_text(file)
    source, diagnostics = parse(text, str(file))
    if source is None:
        raise PolicyEngineError(diagnostics)
    return import_manifest(store, source.data, source, as_of=as_of, recorded_at=now())


def _read_text(file: Path) -> str:
    from policyengine import codes
    from policyengine.diagnostics import Diagnostic, Location

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyEngineError(
            [Diagnostic(codes.NOT_UTF8, "the file is not UTF-8", Location(str(file)))]
        ) from None
    if not text.strip():
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.LEDGER_MISSING_KEY,
                    "the manifest is empty",
                    Location(str(file)),
                    help="see docs/ledger.md for the manifest format",
                )
            ]
        )
    return text


@ledger.command("import-card")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DB
@click.option(
    "--name",
    help="The model or dataset's Hub id (default: the card's `model_name` or `pretty_name`).",
)
@click.option("--version", help="Version to record (datasets default to `main`).")
@click.option(
    "--kind",
    type=click.Choice(["model", "dataset"]),
    help="What the card describes (default: guessed from its keys).",
)
@AS_OF
def import_card(
    card: Path,
    db: str,
    name: str | None,
    version: str | None,
    kind: str | None,
    as_of: dt.datetime | None,
) -> None:
    """Import a Hugging Face model or dataset card's front matter (README.md) into the ledger."""
    from policyengine.ledger.cards import front_matter, read_card

    store = open_ledger(db)
    data = front_matter(_read_text(card), str(card))
    shown = name or data.get("model_name") or data.get("pretty_name")
    if not isinstance(shown, str) or not shown:
        raise click.UsageError("the card has no `model_name` or `pretty_name`; pass --name")
    found = read_card(
        data,
        name=shown,
        where=str(card),
        version=version,
        kind=cast("CardKind | None", kind),
        known=store.kinds,
    )
    output.diagnostics(found.diagnostics)
    ids = store.record(found.entities, recorded_at=now(), as_of=today(as_of))
    click.echo(ids[-1])


def register(group: click.Group) -> None:
    """Attach the `record` sub-group (kept in its own module)."""
    from policyengine.cli.ledger_record import record

    group.add_command(record)


register(ledger)


@ledger.command("checks")
@click.argument("target", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@DB
def checks_cmd(target: str | None, fmt: str, db: str) -> None:
    """List the recorded `check` runs (of TARGET only, when given), oldest first."""
    from policyengine.ledger.audit import checks

    store = open_ledger(db)
    with store.engine.connect() as connection:
        found = checks(connection, target)
    if fmt == "json":
        output.emit_json(
            [
                {"seq": r.seq, "target": r.target, "recorded_at": r.recorded_at, **r.payload}
                for r in found
            ]
        )
        return
    rows = [
        [
            str(r.seq),
            r.recorded_at[:19] + "Z",
            r.target,
            r.payload["use"],
            r.payload["as_of"],
            r.payload["verdict"],
            r.payload["rules_digest"][:19] + "…",
        ]
        for r in found
    ]
    header = ["ENTRY", "RECORDED", "TARGET", "USE", "AS OF", "VERDICT", "RULES"]
    click.echo(output.table(rows, header) if rows else "no check runs recorded")
