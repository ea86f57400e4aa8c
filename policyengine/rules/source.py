"""YAML text → plain data and a position index, safely.

The text is composed into YAML nodes (never constructed by PyYAML), and this module builds the plain
data itself, so that it can record where every key and value sits, reject a key given twice, and
refuse any tag that is not plain data (``!!python/object/apply`` is a diagnostic, never executed).
It never touches the filesystem: the loader passes the text and the name to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Final, TypeAlias

import yaml

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, Location

Path: TypeAlias = tuple[str | int, ...]

MAX_BYTES: Final = 5 * 1024 * 1024
"""Rule files larger than this are refused: a pack is text a person reviews, not bulk data."""

_SAFE_SCALAR_TAGS: Final = frozenset(
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)
_MAP_TAG: Final = "tag:yaml.org,2002:map"
_STR_TAG: Final = "tag:yaml.org,2002:str"
_SCALAR_WORDS: Final = {
    "int": "a whole number",
    "float": "a number",
    "bool": "`true` or `false`",
    "null": "null",
}
# libyaml's parser when PyYAML was built with it (ten times faster); composing only, never constructing.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed rule file: its plain data and where each key path sits in the text."""

    name: str
    data: object
    # (line, column) pairs; Locations are made only for the few positions a diagnostic needs.
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """The position of the value at ``path`` (or of its key), else of the nearest parent."""
        index = self.keys if key else self.values
        while path:
            if path in index:
                return Location(self.name, *index[path])
            if path in self.values:
                return Location(self.name, *self.values[path])
            path = path[:-1]
        return Location(self.name, *self.values.get((), (1, 1)))


def parse(text: str, name: str) -> tuple[Source | None, Diagnostics]:
    """Parse YAML ``text`` shown as ``name``; returns the source, or None with diagnostics."""
    diagnostics = Diagnostics()
    if not text.strip() or _only_comments(text):
        diagnostics.add(
            Diagnostic(
                codes.EMPTY_FILE,
                "rule file is empty",
                Location(name),
                help="a rule file holds at least one of `pack`, `documents`, `catalog`, `rules`, `tests`",
            )
        )
        return None, diagnostics
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        diagnostics.add(_syntax_diagnostic(error, name, text))
        return None, diagnostics
    except yaml.reader.ReaderError as error:  # a control character the YAML reader refuses
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        diagnostics.add(
            Diagnostic(
                codes.YAML_SYNTAX,
                f"invalid YAML: control character U+{_code_point(error.character):04X} is not allowed",
                Location(name, line, column),
                help="remove the character, or write it as an escape inside a double-quoted string",
            )
        )
        return None, diagnostics
    if node is None:
        diagnostics.add(Diagnostic(codes.EMPTY_FILE, "rule file is empty", Location(name)))
        return None, diagnostics
    builder = _Builder(name, diagnostics)
    data = builder.build(node, ())
    if builder.aliased:
        diagnostics.extend(_aliases(text, name))
    if diagnostics.has_errors:
        return None, diagnostics
    return Source(name, data, builder.values, builder.keys), diagnostics


def _aliases(text: str, name: str) -> list[Diagnostic]:
    """A diagnostic at every alias (`*name`): composed nodes no longer say where aliases stood."""
    found = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent) and event.start_mark is not None:
            mark = event.start_mark
            found.append(
                Diagnostic(
                    codes.YAML_ALIAS,
                    f"YAML alias `*{event.anchor}` is not allowed in rule files",
                    Location(name, mark.line + 1, mark.column + 1),
                    help="write the value out in full; rule files are reviewed as plain text",
                )
            )
    return found


def _code_point(character: object) -> int:
    return ord(character) if isinstance(character, str) else int(str(character))


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _syntax_diagnostic(error: yaml.MarkedYAMLError, name: str, text: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    problem = error.problem or "invalid YAML"
    source_line = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
    if "\t" in problem or "'\\t'" in problem or source_line[: max(column, 1)].strip(" ") == "\t":
        return Diagnostic(
            codes.TAB_INDENT,
            "tab character where YAML expects indentation",
            Location(name, line, column),
            help="indent with spaces; YAML does not allow tabs for indentation",
        )
    context = f"{error.context}: " if error.context else ""
    help_text = "check brackets, quotes and indentation near this position"
    start = error.context_mark
    if start is not None and (start.line + 1, start.column + 1) != (line, column):
        help_text = (
            f"the construct started at {name}:{start.line + 1}:{start.column + 1}; " + help_text
        )
    return Diagnostic(
        codes.YAML_SYNTAX,
        f"invalid YAML: {context}{problem}",
        Location(name, line, column),
        help=help_text,
    )


class _Builder:
    """Turns composed nodes into plain data, recording positions as it goes."""

    def __init__(self, name: str, diagnostics: Diagnostics) -> None:
        self.name = name
        self.diagnostics = diagnostics
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self._scalars = yaml.SafeLoader("")
        self.seen: set[int] = set()
        self.aliased = False

    def at(self, node: yaml.Node) -> Location:
        return Location(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> object:
        mark = node.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        # INVARIANT: every node is built once. A node met again was reached through an alias; it is
        # not expanded, so a self-referencing alias cannot recurse and an alias bomb cannot grow.
        if id(node) in self.seen:
            self.aliased = True
            return None
        self.seen.add(id(node))
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.tag in _SAFE_SCALAR_TAGS:
            return self._scalar(node)
        self.diagnostics.add(
            Diagnostic(
                codes.UNSAFE_TAG,
                f"YAML tag `{node.tag}` is not allowed in rule files",
                self.at(node),
                help="rule files hold plain data only: mappings, lists, strings, numbers, "
                "booleans, dates and null; remove the tag",
            )
        )
        return None

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Hashable, object]:
        result: dict[Hashable, object] = {}
        first_seen: dict[Hashable, Location] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, (*path, "\0key"))
            if not isinstance(key, str | int | bool | float | dt.date) or key is None:
                self.diagnostics.add(
                    Diagnostic(
                        codes.WRONG_TYPE,
                        "mapping key must be a plain scalar",
                        self.at(key_node),
                        help="write the key as a string",
                    )
                )
                continue
            key_text = key if isinstance(key, str) else str(key)
            if key_text in first_seen:
                self.diagnostics.add(
                    Diagnostic(
                        codes.DUPLICATE_KEY,
                        f"key `{key_text}` appears twice in this mapping",
                        self.at(key_node),
                        help=f"the first `{key_text}` is at {first_seen[key_text]}; "
                        "keep one and remove the other",
                    )
                )
                continue
            first_seen[key_text] = self.at(key_node)
            self.keys[(*path, key_text)] = (first_seen[key_text].line, first_seen[key_text].column)
            result[key_text] = self.build(value_node, (*path, key_text))
        self.values.pop((*path, "\0key"), None)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> object:
        if node.tag == _STR_TAG:  # most scalars: skip the constructor's dispatch
            return node.value
        try:
            return self._scalars.construct_object(node)
        except (ValueError, yaml.constructor.ConstructorError):
            kind = node.tag.rsplit(":", 1)[-1]
            if kind == "timestamp":
                self.diagnostics.add(
                    Diagnostic(
                        codes.MALFORMED_DATE,
                        f"`{node.value}` is not a valid date",
                        self.at(node),
                        help="write dates as YYYY-MM-DD with a real month and day",
                    )
                )
            else:
                self.diagnostics.add(
                    Diagnostic(
                        codes.BAD_SCALAR,
                        f"cannot read `{node.value}` as {_SCALAR_WORDS.get(kind, kind)}",
                        self.at(node),
                        help="remove the tag, or quote the value to keep it a string",
                    )
                )
            return None
