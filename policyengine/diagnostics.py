"""Errors as values: a stable code, a one-line message, a position and a help text.

Loaders and compilers collect :class:`Diagnostic` values into a :class:`Diagnostics` list and keep
going; nothing here raises for bad input. The one exception type, :class:`PolicyEngineError`, carries
diagnostics out of the few places where continuing makes no sense.

    PolicyEngineError
    └── carries Diagnostics (one or more Diagnostic, sorted by file, line, column)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass


class Severity(enum.Enum):
    """How bad a diagnostic is: errors fail the command, warnings are shown."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """Where in which file: ``line`` and ``column`` count from 1; 0 means the whole file."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line == 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the input, with a stable code and a fix in ``help``."""

    code: str
    message: str
    location: Location
    help: str = ""
    severity: Severity = Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order by file, line, column, then code and message so output is stable."""
        loc = self.location
        return (loc.file, loc.line, loc.column, self.code, self.message)

    def render(self) -> str:
        """The form printed to stderr: ``file:line:col: CODE message`` and an indented help."""
        prefix = "" if self.severity is Severity.ERROR else "warning: "
        text = f"{self.location}: {self.code} {prefix}{self.message}"
        if self.help:
            text += "\n  help: " + self.help.replace("\n", "\n        ")
        return text


class Diagnostics(Sequence[Diagnostic]):
    """An ordered collection of diagnostics; iteration yields them sorted by position."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[Diagnostic] = ()) -> None:
        self._items: list[Diagnostic] = list(items)

    def add(self, diagnostic: Diagnostic) -> None:
        """Record one more diagnostic."""
        self._items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        """Record several diagnostics."""
        self._items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        """Whether any diagnostic is an error (warnings do not fail a command)."""
        return any(d.severity is Severity.ERROR for d in self._items)

    def sorted(self) -> list[Diagnostic]:
        """Every diagnostic, sorted by file, line and column, without exact repeats."""
        return sorted(set(self._items), key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.sorted())

    def __getitem__(self, index: int) -> Diagnostic:  # type: ignore[override]
        return self.sorted()[index]

    def __len__(self) -> int:
        return len(set(self._items))

    def __repr__(self) -> str:
        return f"Diagnostics({self.sorted()!r})"


class PolicyEngineError(Exception):
    """Raised where the input makes going on pointless; carries the diagnostics that say why."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = Diagnostics(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def __reduce__(self) -> tuple[type[PolicyEngineError], tuple[list[Diagnostic]]]:
        # Rebuilt from the diagnostics, not the message, so it survives a worker process.
        return (type(self), (list(self.diagnostics),))


def did_you_mean(name: str, known: Iterable[str], *, limit: int = 3) -> str:
    """A help text naming the known names closest to ``name`` by edit distance, or ``""``."""
    ranked = sorted((_distance(name, candidate), candidate) for candidate in set(known))
    cutoff = max(2, len(name) // 3)
    close = [candidate for distance, candidate in ranked if distance <= cutoff][:limit]
    if not close and len(name) >= 4:
        # A truncated word (`pretrain` for `pretraining`) is far by edit distance but plain to see.
        close = sorted(c for c in set(known) if c.startswith(name))[:limit]
    if not close:
        return ""
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


def _distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current.append(best)
        previous2, previous = previous, current
    return previous[-1]
