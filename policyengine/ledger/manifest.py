"""Manifests: a whole lineage declared in one YAML or JSON file, imported in one transaction.

The caller parses the text into plain data and a position index (anything with
``locate(path, key=False) -> Location``, such as the rule loader's ``Source``), so that every
diagnostic names the manifest's file:line:col. Import is idempotent: an entry whose id the ledger
already holds with the same content is skipped, one with other content is a conflict naming the
field. A licence that is not SPDX is recorded as ``unknown`` with a warning (PE412).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pydantic
from pydantic import ConfigDict, Field

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, Location, PolicyEngineError, Severity
from policyengine.ledger import entities as e
from policyengine.ledger.checks import FieldPath
from policyengine.ledger.licenses import UNKNOWN_LICENSE, resolve
from policyengine.ledger.store import Ledger
from policyengine.ledger.validation import from_pydantic


class Positions(Protocol):
    """Where each key path of the parsed manifest sits in its text."""

    def locate(self, path: tuple[str | int, ...], *, key: bool = False) -> Location:
        """The position of the value at ``path`` (or of its key)."""
        ...


class Manifest(pydantic.BaseModel):
    """A manifest file: a format version and one list per entity kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    agreements: list[e.Agreement] = Field(default_factory=list)
    generations: list[e.Generation] = Field(default_factory=list)
    datasets: list[e.Dataset] = Field(default_factory=list)
    runs: list[e.Run] = Field(default_factory=list)
    models: list[e.Model] = Field(default_factory=list)
    uses: list[e.Use] = Field(default_factory=list)
    waivers: list[e.Waiver] = Field(default_factory=list)


@dataclass
class Imported:
    """What an import did: ids in the manifest, how many were new, and warnings."""

    ids: list[str] = field(default_factory=list)
    written: int = 0
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def read(data: object, positions: Positions) -> tuple[list[e.Entity], list[FieldPath], Diagnostics]:
    """Validate manifest data: its entities in section order, where each sits, and diagnostics."""
    diagnostics = Diagnostics()
    if not isinstance(data, dict):
        diagnostics.add(
            _diagnostic(
                codes.LEDGER_BAD_VALUE, "a manifest is a mapping of sections", positions.locate(())
            )
        )
        return [], [], diagnostics
    data = copy.deepcopy(data)
    diagnostics.extend(_resolve_licences(data, positions))
    try:
        manifest = Manifest.model_validate(data)
    except pydantic.ValidationError as error:
        diagnostics.extend(from_pydantic(error, _locator(positions), data=data, model=Manifest))
        return [], [], diagnostics
    entities: list[e.Entity] = []
    places: list[FieldPath] = []
    for section in e.SECTIONS:
        for i, entity in enumerate(getattr(manifest, section)):
            entities.append(entity)
            places.append((section, i))
    return entities, places, diagnostics


def import_manifest(
    ledger: Ledger,
    data: object,
    positions: Positions,
    *,
    as_of: dt.date,
    recorded_at: dt.datetime,
) -> Imported:
    """Import a parsed manifest in one transaction; raises PolicyEngineError and writes nothing
    when anything is wrong (warnings are returned with the result)."""
    entities, places, diagnostics = read(data, positions)
    if diagnostics.has_errors:
        raise PolicyEngineError(diagnostics)
    before = ledger.head()[0]

    def locate(index: int, path: FieldPath) -> Location:
        return _locator(positions)((*places[index], *path))

    try:
        ids = ledger.record(entities, recorded_at=recorded_at, as_of=as_of, locate=locate)
    except PolicyEngineError as error:
        raise PolicyEngineError([*error.diagnostics, *diagnostics]) from None
    return Imported(ids, ledger.head()[0] - before, diagnostics)


def _locator(positions: Positions) -> Callable[[tuple[str | int, ...]], Location]:
    def locate(path: tuple[str | int, ...]) -> Location:
        if path and path[-1] == "\0key":
            return positions.locate(path[:-1], key=True)
        return positions.locate(path)

    return locate


def _resolve_licences(data: dict[str, Any], positions: Positions) -> list[Diagnostic]:
    """Replace licence strings by SPDX ids in place; warn for those that resolve to nothing."""
    warnings = []
    for path, holder in _licence_holders(data):
        raw = holder["license"]
        if not isinstance(raw, str):
            continue
        resolved = resolve(raw)
        holder["license"] = resolved
        if resolved == UNKNOWN_LICENSE and raw != UNKNOWN_LICENSE:
            warnings.append(
                _diagnostic(
                    codes.LEDGER_LICENSE,
                    f"`{raw}` is not an SPDX licence id; recorded as `unknown`",
                    positions.locate((*path, "license")),
                    help="write the SPDX id (`Apache-2.0`) or `LicenseRef-NAME` for a licence SPDX does not list",
                    severity=Severity.WARNING,
                )
            )
    return warnings


def _licence_holders(data: dict[str, Any]) -> list[tuple[FieldPath, dict[str, Any]]]:
    found: list[tuple[FieldPath, dict[str, Any]]] = []
    for section in ("datasets", "models"):
        items = data.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            if "license" in item:
                found.append(((section, i), item))
            inputs = item.get("inputs") if section == "datasets" else None
            for j, entry in enumerate(inputs if isinstance(inputs, list) else []):
                if isinstance(entry, dict) and "license" in entry:
                    found.append(((section, i, "inputs", j), entry))
    return found


def _diagnostic(
    code: str,
    message: str,
    location: Location,
    *,
    help: str = "",
    severity: Severity = Severity.ERROR,
) -> Diagnostic:
    return Diagnostic(code, message, location, help=help, severity=severity)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a manifest (a copy lives at docs/ledger-manifest.schema.json)."""
    schema = Manifest.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "policyengine ledger manifest",
    }
