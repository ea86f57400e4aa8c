"""Writing to the terminal: diagnostics to stderr, results to stdout, nothing else prints."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import click

from policyengine.diagnostics import Diagnostic


def diagnostics(items: Iterable[Diagnostic]) -> None:
    """Print each diagnostic to stderr as `file:line:col: CODE message` and its help."""
    for item in items:
        click.echo(item.render(), err=True)


def emit_json(value: object) -> None:
    """Print ``value`` as indented JSON to stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain text table with columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
