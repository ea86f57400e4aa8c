"""The field map: where in a record each provenance fact and the text live.

A path is dotted: ``meta.source.provider`` walks nested objects (Parquet struct columns), and an
integer walks a list (``messages.-1.content``: the last message's content). The defaults read
top-level ``provider``, ``model``, ``channel``, ``agreement``, ``generated_at``, ``license`` and
``text``. A named profile in a YAML config file sets several paths at once; ``--field`` options
override single ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, TypeAlias

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError, did_you_mean

Segment: TypeAlias = str | int
FieldPath: TypeAlias = tuple[Segment, ...]

PROVENANCE: Final = ("provider", "model", "channel", "agreement", "generated_at", "license")
"""The provenance fields, in the order a provenance tuple holds them."""

FIELDS: Final = (*PROVENANCE, "text")

FACT_OF: Final[Mapping[str, str]] = {name: f"source.{name}" for name in PROVENANCE}
"""The fact each provenance field records."""


def parse_path(dotted: str) -> FieldPath:
    """``messages.-1.content`` → ``("messages", -1, "content")``.

    Raises ValueError (with a message in the project's style) for an empty path or segment.
    """
    if not dotted.strip():
        raise ValueError("the path is empty")
    parts: list[Segment] = []
    for part in dotted.split("."):
        if not part:
            raise ValueError(
                f"`{dotted}` has an empty segment; write keys separated by single dots"
            )
        parts.append(int(part) if part.lstrip("-").isdigit() else part)
    if isinstance(parts[0], int):
        raise ValueError(f"`{dotted}` starts with a list index; a record is an object")
    return tuple(parts)


def dotted(path: FieldPath) -> str:
    """The dotted form of a path."""
    return ".".join(str(part) for part in path)


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Where each field lives in a record (a path per field; see the module docstring).

    ``explicit`` names the fields whose path was given (by ``--field`` or a profile) rather than
    left at its default: such a path that occurs nowhere in a shard is a field-map error (PE603),
    where an absent default field just means missing provenance.
    """

    paths: Mapping[str, FieldPath] = field(default_factory=lambda: {n: (n,) for n in FIELDS})
    explicit: frozenset[str] = frozenset()

    def path(self, name: str) -> FieldPath:
        """The path of one field."""
        return self.paths[name]

    def with_paths(self, paths: Mapping[str, FieldPath]) -> FieldMap:
        """This map with some paths replaced (and marked explicit)."""
        return replace(
            self, paths={**self.paths, **paths}, explicit=self.explicit | frozenset(paths)
        )

    def describe(self) -> dict[str, str]:
        """Field name → dotted path, for reports."""
        return {name: dotted(self.paths[name]) for name in FIELDS}

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.paths.items())), self.explicit))


DEFAULT: Final = FieldMap()


def absent(name: str, path: FieldPath, shard: str, where: str) -> Diagnostic:
    """PE603 for an explicitly mapped field whose path occurs nowhere in ``shard``."""
    return _field_error(
        f"field `{name}`: `{dotted(path)}` occurs in no {where} of `{shard}`",
        Location(shard),
        "check the path given with `--field` or the profile; leave the field unmapped if the "
        "shards do not record it",
    )


def _field_error(message: str, location: Location, help_text: str) -> Diagnostic:
    return Diagnostic(codes.SCAN_FIELD_MAP, message, location, help=help_text)


def from_options(specs: Sequence[str], base: FieldMap = DEFAULT) -> FieldMap:
    """Apply ``--field NAME=PATH`` options to ``base``; every bad option is a PE603 diagnostic."""
    problems: list[Diagnostic] = []
    paths: dict[str, FieldPath] = {}
    where = Location("--field")
    for spec in specs:
        name, sep, path = spec.partition("=")
        name = name.strip()
        if not sep:
            problems.append(
                _field_error(
                    f"`{spec}` is not NAME=PATH",
                    where,
                    "write e.g. `--field provider=meta.source.provider`",
                )
            )
            continue
        if name not in FIELDS:
            problems.append(_unknown_field(name, where))
            continue
        try:
            paths[name] = parse_path(path.strip())
        except ValueError as error:
            problems.append(_field_error(f"field `{name}`: {error}", where, _PATH_HELP))
    if problems:
        raise PolicyEngineError(problems)
    return base.with_paths(paths)


_PATH_HELP = (
    "a path is keys separated by dots, with integers for list positions (`messages.-1.content`)"
)


def _unknown_field(name: str, location: Location) -> Diagnostic:
    hint = did_you_mean(name, FIELDS)
    known = ", ".join(f"`{f}`" for f in FIELDS)
    return _field_error(
        f"unknown field `{name}`",
        location,
        (hint + " " if hint else "") + f"the fields are {known}",
    )


def from_profile(text: str, name: str, profile: str) -> FieldMap:
    """The field map of ``profile`` in a YAML config file (``text``, shown as ``name``).

    The file holds ``profiles: {NAME: {FIELD: PATH, ...}, ...}``; fields a profile leaves out keep
    their defaults. Raises PolicyEngineError with located diagnostics (PE1xx for YAML syntax,
    PE604 for the file's shape or a missing profile, PE603 for a bad field or path).
    """
    from policyengine.rules.source import parse

    source, diagnostics = parse(text, name)
    if source is None:
        raise PolicyEngineError(diagnostics)
    data = source.data
    if not isinstance(data, dict) or set(data) != {"profiles"}:
        raise PolicyEngineError([_config_error(source.locate(()), _SHAPE)])
    profiles = data["profiles"]
    if not isinstance(profiles, dict):
        raise PolicyEngineError([_config_error(source.locate(("profiles",)), _SHAPE)])
    if profile not in profiles:
        hint = did_you_mean(profile, [str(p) for p in profiles])
        listed = ", ".join(f"`{p}`" for p in profiles) or "none"
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_CONFIG,
                    f"no profile `{profile}` in `{name}`",
                    source.locate(("profiles",), key=True),
                    help=(hint + " " if hint else "") + f"the file's profiles: {listed}",
                )
            ]
        )
    return _profile(source, profiles[profile], ("profiles", profile))


_SHAPE = "the file holds one key, `profiles`, mapping each profile name to `FIELD: PATH` pairs"


def _config_error(location: Location, help_text: str) -> Diagnostic:
    return Diagnostic(
        codes.SCAN_CONFIG,
        "a scan config file maps `profiles` to named field maps",
        location,
        help_text,
    )


def _profile(source: object, entries: object, at: tuple[str, ...]) -> FieldMap:
    from policyengine.rules.source import Source

    assert isinstance(source, Source)
    if not isinstance(entries, dict):
        raise PolicyEngineError([_config_error(source.locate(at), _SHAPE)])
    problems: list[Diagnostic] = []
    paths: dict[str, FieldPath] = {}
    for key, value in entries.items():
        if key not in FIELDS:
            problems.append(_unknown_field(str(key), source.locate((*at, key), key=True)))
        elif not isinstance(value, str):
            problems.append(
                _field_error(
                    f"field `{key}` takes a dotted path", source.locate((*at, key)), _PATH_HELP
                )
            )
        else:
            try:
                paths[key] = parse_path(value)
            except ValueError as error:
                problems.append(
                    _field_error(f"field `{key}`: {error}", source.locate((*at, key)), _PATH_HELP)
                )
    if problems:
        raise PolicyEngineError(problems)
    return DEFAULT.with_paths(paths)
