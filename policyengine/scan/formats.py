"""Shard formats by file name, compressed input streams, and outputs that appear only when whole.

JSON Lines: ``.jsonl``, ``.ndjson`` or ``.json``, each optionally ``.gz`` or ``.zst`` (``.zstd``).
Parquet: ``.parquet`` or ``.pq``. An output is written to a hidden temporary file in its own folder
and renamed over its path only when the scan completed, so a crash or an error never leaves a
partial output (an older file at the path stays as it was).
"""

from __future__ import annotations

import contextlib
import enum
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError


class Family(enum.Enum):
    """The two record formats scan reads and writes."""

    JSONL = "jsonl"
    PARQUET = "parquet"


_JSONL: Final = (".jsonl", ".ndjson", ".json")
_PARQUET: Final = (".parquet", ".pq")
_CODECS: Final = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}


@dataclass(frozen=True, slots=True)
class Format:
    """A file's record format and, for JSON Lines, its compression codec (None: plain)."""

    family: Family
    codec: str | None = None

    def __str__(self) -> str:
        name = "JSON Lines" if self.family is Family.JSONL else "Parquet"
        return f"{name} ({self.codec})" if self.codec else name


def format_of(path: Path) -> Format | None:
    """The format a file name says, or None."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    codec = _CODECS.get(suffixes[-1]) if suffixes else None
    if codec is not None:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    if suffixes[-1] in _JSONL:
        return Format(Family.JSONL, codec)
    if suffixes[-1] in _PARQUET and codec is None:
        return Format(Family.PARQUET)
    return None


def require_format(path: Path, what: str) -> Format:
    """The format of ``path``; PE602 naming the suffixes scan knows when there is none."""
    found = format_of(path)
    if found is None:
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_FORMAT,
                    f"cannot tell the format of {what} `{path}` from its name",
                    Location(str(path)),
                    help="name JSON Lines files `.jsonl` (or `.ndjson`, `.json`), optionally "
                    "followed by `.gz` or `.zst`, and Parquet files `.parquet`",
                )
            ]
        )
    return found


def unreadable(path: Path, why: str, line: int = 0) -> PolicyEngineError:
    """PE601 for a shard that cannot be read."""
    return PolicyEngineError(
        [
            Diagnostic(
                codes.SCAN_UNREADABLE,
                f"cannot read `{path}`: {why}",
                Location(str(path), line, 1 if line else 0),
                help="check the path, and that the file is complete and in the format its name says",
            )
        ]
    )


def check_readable(path: Path) -> None:
    """PE601 unless ``path`` is a readable file."""
    if not path.exists():
        raise unreadable(path, "no such file")
    if not path.is_file():
        raise unreadable(path, "not a file")
    if not os.access(path, os.R_OK):
        raise unreadable(path, "permission denied")


@contextlib.contextmanager
def open_input(path: Path, fmt: Format) -> Iterator[tuple[pa.NativeFile, pa.NativeFile]]:
    """The decompressed stream of a JSON Lines file, and the raw file under it (for progress)."""
    raw = pa.OSFile(str(path), "rb")
    try:
        stream = pa.CompressedInputStream(raw, fmt.codec) if fmt.codec else raw
        yield stream, raw
    finally:
        raw.close()


class AtomicOutput:
    """A file written under a temporary name beside ``path`` and renamed over it by ``commit``."""

    def __init__(self, path: Path, temporary: Path | None = None) -> None:
        self.path = path
        self.temporary = temporary or temporary_beside(path)
        self.done = False

    def commit(self) -> None:
        """Rename the finished file over ``path``."""
        os.replace(self.temporary, self.path)
        self.done = True

    def discard(self) -> None:
        """Remove the temporary file (after a failure); ``path`` is left as it was."""
        if not self.done:
            self.temporary.unlink(missing_ok=True)


def temporary_beside(path: Path) -> Path:
    """A new, empty hidden file in ``path``'s folder (a rename from it is atomic)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    return Path(name)


def _same(path: Path, shard: Path) -> bool:
    """Whether ``path`` is ``shard``: the same name once resolved, or the same file (a link)."""
    if path.resolve() == shard.resolve():
        return True
    try:
        return path.exists() and os.path.samefile(path, shard)
    except OSError:
        return False


def check_output(path: Path, inputs: list[Path], family: Family) -> Format:
    """The format of an output; PE602/PE606 when it is unknown, of another family than the
    inputs, an input itself, or in a folder that does not exist."""
    fmt = require_format(path, "output")
    problem = None
    if fmt.family is not family:
        problem = f"the shards are {family.value} records; `{path}` names a {fmt.family.value} file"
    elif not path.parent.is_dir():
        problem = f"the folder `{path.parent}` does not exist"
    elif any(_same(path, shard) for shard in inputs):
        problem = f"`{path}` is one of the shards being scanned"
    if problem:
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.SCAN_OUTPUT,
                    f"cannot write `{path}`: {problem}",
                    Location(str(path)),
                    help="write outputs in the shards' format, to new files in an existing folder",
                )
            ]
        )
    return fmt
