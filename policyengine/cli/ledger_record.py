"""`policyengine ledger record …`: write one entity per command, with flags named after the
vocabulary. Each command prints the recorded id on stdout; problems go to stderr with the flag at
fault, and exit 2 with nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from policyengine.cli import output
from policyengine.cli.ledger_cmd import AS_OF, DB, LedgerGroup, now, open_ledger, today

_FLAGS = {
    "inputs": "--input",
    "base_models": "--base-model",
    "datasets": "--dataset",
    "notices": "--notice",
}

ID = click.option("--id", "id_", metavar="ID", help="The id to record under (default: derived).")
SUPERSEDES = click.option("--supersedes", metavar="ID", help="Record this as the correction of ID.")


def _flag(path: tuple[Any, ...]) -> Any:
    from policyengine.diagnostics import Location

    head = str(path[0]) if path else "id"
    return Location(_FLAGS.get(head, "--" + head.replace("_", "-")))


def _write(kind: str, fields: dict[str, Any], db: str, as_of: Any) -> None:
    """Validate ``fields`` as an entity of ``kind``, record it, print its id."""
    import pydantic

    from policyengine.diagnostics import PolicyEngineError
    from policyengine.ledger import entities
    from policyengine.ledger.store import derived_id
    from policyengine.ledger.validation import from_pydantic
    from policyengine.lineage import ArtifactKind

    model = entities.MODEL_OF[ArtifactKind(kind)]
    fields = {k: v for k, v in fields.items() if v is not None and v != ()}
    fields["id"] = fields.pop("id_", None) or derived_id(model, fields)
    try:
        entity: Any = model.model_validate(fields)
    except pydantic.ValidationError as error:
        raise PolicyEngineError(from_pydantic(error, _flag, data=fields, model=model)) from None
    store = open_ledger(db)
    ids = store.record(
        entity, recorded_at=now(), as_of=today(as_of), locate=lambda _i, path: _flag(path)
    )
    click.echo(ids[0])


def _licence(value: str | None, flag: str) -> str | None:
    from policyengine import codes
    from policyengine.diagnostics import Diagnostic, Location, Severity
    from policyengine.ledger.licenses import UNKNOWN_LICENSE, resolve

    if value is None:
        return None
    resolved = resolve(value)
    if resolved == UNKNOWN_LICENSE and value != UNKNOWN_LICENSE:
        warning = Diagnostic(
            codes.LEDGER_LICENSE,
            f"`{value}` is not an SPDX licence id; recorded as `unknown`",
            Location(flag),
            help="write the SPDX id (`Apache-2.0`) or `LicenseRef-NAME`",
            severity=Severity.WARNING,
        )
        output.diagnostics([warning])
    return resolved


@click.group(cls=LedgerGroup)
def record() -> None:
    """Record one agreement, generation, dataset, run, model, use, waiver or outputs file."""


@record.command()
@ID
@click.option("--provider", required=True, help="Provider id (openai, meta, …).")
@click.option(
    "--kind",
    type=click.Choice(["public_terms", "enterprise"]),
    default="enterprise",
    show_default=True,
)
@click.option("--title", help="The agreement's title.")
@click.option("--effective-from", required=True, metavar="DATE")
@click.option("--effective-until", metavar="DATE")
@SUPERSEDES
@DB
@AS_OF
def agreement(db: str, as_of: Any, **fields: Any) -> None:
    """Record an agreement: the public terms or an enterprise contract outputs came under."""
    _write("agreement", fields, db, as_of)


@record.command()
@ID
@click.option("--provider", required=True, help="Provider id of the model (openai, meta, …).")
@click.option("--model", required=True, help="Model id as called (gpt-4o-2024-08-06, …).")
@click.option(
    "--channel",
    required=True,
    type=click.Choice(["consumer_app", "api", "open_weights", "cloud_marketplace"]),
)
@click.option(
    "--agreement",
    metavar="ID",
    help="Agreement the outputs came under (default: the public terms).",
)
@click.option(
    "--by-model",
    metavar="ID",
    help="The ledger's model that generated the outputs, when the ledger records it (our own model).",
)
@click.option("--generated-from", required=True, metavar="DATE")
@click.option("--generated-until", required=True, metavar="DATE")
@click.option("--records", required=True, type=int, help="How many outputs the job produced.")
@click.option("--outputs-digest", metavar="SHA256", help="sha256 of the outputs file, if kept.")
@SUPERSEDES
@DB
@AS_OF
def generation(db: str, as_of: Any, **fields: Any) -> None:
    """Record a generation job: whose model, which channel, which agreement, when, how many."""
    _write("generation", fields, db, as_of)


@record.command()
@ID
@click.option("--name", required=True)
@click.option("--version", required=True)
@click.option(
    "--license", "license_", metavar="SPDX", help="The dataset's licence (default: unknown)."
)
@click.option(
    "--release",
    type=click.Choice(
        ["internal", "research", "commercial_api", "open_weights", "dataset_publication"]
    ),
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="KEY=VALUE,…",
    help="One input: generation=ID, dataset=ID or external=NAME[,license=SPDX][,provider=ID]; optional transform=…, records=N.",
)
@SUPERSEDES
@DB
@AS_OF
def dataset(
    db: str, as_of: Any, license_: str | None, inputs: tuple[str, ...], **fields: Any
) -> None:
    """Record a dataset and where its records came from."""
    fields["license"] = _licence(license_, "--license")
    fields["inputs"] = [_input(text) for text in inputs]
    _write("dataset", fields, db, as_of)


def _input(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"`{part}` is not KEY=VALUE", param_hint="--input")
        found[key.strip()] = value.strip()
    if "records" in found:
        try:
            found["records"] = int(found["records"])
        except ValueError:
            raise click.BadParameter(
                f"records `{found['records']}` is not a whole number", param_hint="--input"
            ) from None
    if "license" in found:
        found["license"] = _licence(found["license"], "--input")
    return found


@record.command()
@ID
@click.option(
    "--method",
    type=click.Choice(
        ["pretraining", "fine_tuning", "distillation", "reward_modeling", "preference_tuning"]
    ),
)
@click.option("--base-model", metavar="ID", help="The model the run started from.")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="ID",
    help="A dataset the run trained on (repeatable).",
)
@click.option("--started", metavar="DATE")
@click.option("--ended", metavar="DATE")
@SUPERSEDES
@DB
@AS_OF
def run(db: str, as_of: Any, datasets: tuple[str, ...], **fields: Any) -> None:
    """Record a training run: method, base model, datasets."""
    fields["datasets"] = list(datasets)
    _write("run", fields, db, as_of)


@record.command()
@ID
@click.option("--name", required=True, help="The name the model is (or will be) released under.")
@click.option("--version")
@click.option("--provider", help="For a third party's model: its provider id.")
@click.option("--run", metavar="ID", help="The training run that made the model.")
@click.option(
    "--base-model",
    "base_models",
    multiple=True,
    metavar="ID",
    help="A base model (repeatable for merges).",
)
@click.option(
    "--base-model-relation",
    type=click.Choice(["finetune", "adapter", "merge", "quantized", "distilled"]),
)
@click.option(
    "--release",
    type=click.Choice(
        ["internal", "research", "commercial_api", "open_weights", "dataset_publication"]
    ),
)
@click.option(
    "--commercial/--not-commercial",
    default=None,
    help="Whether the model is used commercially (default: unknown).",
)
@click.option(
    "--competes-with",
    multiple=True,
    metavar="PROVIDER",
    help="A provider the model competes with (repeatable; `none` records an empty set).",
)
@click.option(
    "--notice",
    "notices",
    multiple=True,
    metavar="TEXT",
    help="An attribution notice the release carries (repeatable).",
)
@click.option("--license", "license_", metavar="SPDX")
@click.option("--license-link", metavar="URL")
@SUPERSEDES
@DB
@AS_OF
def model(
    db: str, as_of: Any, license_: str | None, competes_with: tuple[str, ...], **fields: Any
) -> None:
    """Record a model: its run, base models and release facts."""
    fields["license"] = _licence(license_, "--license")
    if competes_with:
        fields["competes_with"] = [] if competes_with == ("none",) else list(competes_with)
    for key in ("base_models", "notices"):
        fields[key] = list(fields[key]) or None
    _write("model", fields, db, as_of)


@record.command()
@ID
@click.option(
    "--activity",
    required=True,
    type=click.Choice(
        [
            "evaluation",
            "benchmarking",
            "filtering",
            "pretraining",
            "fine_tuning",
            "distillation",
            "reward_modeling",
            "preference_tuning",
            "redistribution",
        ]
    ),
)
@click.option(
    "--source",
    required=True,
    metavar="ID",
    help="The artifact that was used (a judge model, a filter, …).",
)
@click.option("--target", required=True, metavar="ID", help="The artifact it was used on.")
@click.option("--used-on", metavar="DATE")
@SUPERSEDES
@DB
@AS_OF
def use(db: str, as_of: Any, **fields: Any) -> None:
    """Record that one artifact was used on another ("we used model X to validate model Y")."""
    _write("use", fields, db, as_of)


@record.command()
@ID
@click.option("--rule", required=True, metavar="RULE_ID")
@click.option("--scope", required=True, metavar="ID", help="The artifact the waiver applies to.")
@click.option(
    "--reason",
    required=True,
    type=click.Choice(
        [
            "legal_review",
            "enterprise_agreement",
            "provider_permission",
            "research_exemption",
            "false_positive",
        ]
    ),
)
@click.option("--approver", required=True)
@click.option("--ticket", required=True)
@click.option("--expires", required=True, metavar="DATE")
@SUPERSEDES
@DB
@AS_OF
def waiver(db: str, as_of: Any, **fields: Any) -> None:
    """Record a waiver of one rule for one artifact, with approver, ticket and expiry."""
    _write("waiver", fields, db, as_of)


@record.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--generation", required=True, metavar="ID", help="The generation the outputs came from."
)
@click.option(
    "--text-field",
    default="text",
    show_default=True,
    metavar="PATH",
    help="Dotted path of the text in each record (`messages.-1.content`).",
)
@DB
def outputs(file: Path, generation: str, text_field: str, db: str) -> None:
    """Fingerprint every record of a JSON Lines file for a generation (nothing stored on error)."""
    store = open_ledger(db)
    with file.open("rb") as stream:
        batch = store.record_outputs(
            generation, stream, recorded_at=now(), text_field=text_field, name=str(file)
        )
    click.echo(
        f"{batch.records} fingerprints for {generation} (entry {batch.seq}, digest {batch.digest})"
    )
