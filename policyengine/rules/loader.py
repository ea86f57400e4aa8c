"""Find packs under the given paths, read their files and run source → schema → compile.

The only filesystem access in :mod:`policyengine.rules`. A pack is a folder holding a ``pack.yaml``
(with the ``pack:`` header) and any number of further ``*.yaml`` files (documents, catalog, rules,
tests); sub-folders belong to the pack unless they hold a ``pack.yaml`` of their own.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, Location
from policyengine.rules.compile import Unit, compile_packs
from policyengine.rules.ruleset import Pack, RuleSet
from policyengine.rules.schema import PackHeader
from policyengine.rules.shape import validate
from policyengine.rules.source import MAX_BYTES, Source, parse

PACK_FILE = "pack.yaml"
_REFERENCE_CODES = frozenset({codes.UNKNOWN_DOCUMENT, codes.UNKNOWN_VERSION, codes.UNKNOWN_RULE})


def load_rules(
    paths: Sequence[str | Path], *, cache: Path | None = None
) -> tuple[RuleSet | None, Diagnostics]:
    """Load and compile every pack found under ``paths`` (folders of packs, pack folders or files).

    Returns the rule set, or None when any diagnostic is an error; all diagnostics either way.
    With ``cache`` (a folder), files read before with the same bytes skip parsing and validation.
    """
    diagnostics = Diagnostics()
    parsed = _Cache(cache) if cache is not None else None
    folders = _pack_folders(paths, diagnostics)
    packs: list[Pack] = []
    units: list[Unit] = []
    seen: dict[str, Path] = {}
    for folder in folders:
        pack, pack_units = _load_pack(folder, diagnostics, parsed)
        if pack is None:
            continue
        if pack.id in seen:
            diagnostics.add(
                Diagnostic(
                    codes.DUPLICATE_PACK,
                    f"pack `{pack.id}` is declared again",
                    pack_units[0].source.locate(("pack", "id")),
                    help=f"it is first declared in {seen[pack.id] / PACK_FILE}; give each pack its own id",
                )
            )
            continue
        seen[pack.id] = folder
        packs.append(pack)
        units.extend(pack_units)
    if diagnostics.has_errors:
        # Compile anyway so that one run reports problems in every file, but leave out dangling
        # references: they may point into a file that could not be read.
        _, more = compile_packs(tuple(packs), tuple(units))
        diagnostics.extend(d for d in more if d.code not in _REFERENCE_CODES)
        return None, diagnostics
    ruleset, more = compile_packs(tuple(packs), tuple(units))
    diagnostics.extend(more)
    return ruleset, diagnostics


def _pack_folders(paths: Iterable[str | Path], diagnostics: Diagnostics) -> list[Path]:
    folders: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            diagnostics.add(
                Diagnostic(
                    codes.FILE_NOT_FOUND,
                    f"path `{raw}` does not exist",
                    Location(str(raw)),
                    help="pass a folder of packs (such as `rules/`), a pack folder or a rule file",
                )
            )
            continue
        found = [_relative(f.resolve()) for f in _folders_under(path)]
        if not found:
            diagnostics.add(_no_pack(path))
        folders.extend(f for f in found if f not in folders)
    return folders


def _folders_under(path: Path) -> list[Path]:
    if path.is_file():
        folder = next((p for p in path.resolve().parents if (p / PACK_FILE).is_file()), None)
        return [_relative(folder)] if folder is not None else []
    return sorted(p.parent for p in path.rglob(PACK_FILE) if p.is_file())


def _relative(folder: Path) -> Path:
    try:
        return folder.relative_to(Path.cwd())
    except ValueError:
        return folder


def _no_pack(path: Path) -> Diagnostic:
    if path.is_file():
        return Diagnostic(
            codes.NOT_IN_PACK,
            f"rule file `{path}` is not inside a pack folder",
            Location(str(path)),
            help=f"put it in a folder with a `{PACK_FILE}` that declares the pack",
        )
    return Diagnostic(
        codes.NO_PACKS,
        f"no rule pack under `{path}`",
        Location(str(path)),
        help=f"a pack is a folder with a `{PACK_FILE}`; see docs/rule-language.md",
    )


def _pack_files(folder: Path) -> list[Path]:
    """The pack's YAML files, `pack.yaml` first, skipping nested packs."""
    files = [folder / PACK_FILE]
    for path in sorted(folder.rglob("*.y*ml")):
        if path.name == PACK_FILE or not path.is_file():
            continue
        nested = any(
            (p / PACK_FILE).is_file() for p in path.parents if p != folder and folder in p.parents
        )
        if not nested:
            files.append(path)
    return files


def _load_pack(
    folder: Path, diagnostics: Diagnostics, parsed: _Cache | None
) -> tuple[Pack | None, list[Unit]]:
    header: PackHeader | None = None
    units: list[Unit] = []
    digest = hashlib.sha256()
    files = _pack_files(folder)
    for path in files:
        raw = _read(path, diagnostics)
        if raw is None:
            continue
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + raw + b"\0")
        unit = parsed.get(path, raw) if parsed is not None else None
        if unit is None:
            unit = _unit(path, raw, folder.name, diagnostics)
            if unit is not None and parsed is not None:
                parsed.put(raw, unit)
        if unit is None:
            continue
        if path.name == PACK_FILE:
            header = unit.file.pack
            if header is None:
                diagnostics.add(
                    Diagnostic(
                        codes.MISSING_KEY,
                        "missing key `pack`",
                        Location(str(path), 1, 1),
                        help="`pack.yaml` starts with `pack:` and the pack's `id`, `title`, `version`",
                    )
                )
        elif unit.file.pack is not None:
            diagnostics.add(
                Diagnostic(
                    codes.PACK_MISMATCH,
                    "only `pack.yaml` may declare `pack`",
                    unit.source.locate(("pack",), key=True),
                    help=f"remove the `pack` block; this file belongs to the pack in {folder / PACK_FILE}",
                )
            )
        units.append(unit)
    if header is None:
        return None, []
    pack_id = header.id
    units = [Unit(u.source, u.file, pack_id) for u in units]
    pack = Pack(header, str(folder), tuple(str(f) for f in files), "sha256:" + digest.hexdigest())
    return pack, units


def _read(path: Path, diagnostics: Diagnostics) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            diagnostics.add(
                Diagnostic(
                    codes.FILE_TOO_LARGE,
                    f"rule file is {size:,} bytes, more than the {MAX_BYTES:,} allowed",
                    Location(str(path)),
                    help="split the pack into several files",
                )
            )
            return None
        return path.read_bytes()
    except OSError as error:
        diagnostics.add(
            Diagnostic(
                codes.FILE_NOT_FOUND,
                f"cannot read `{path}`: {error.strerror or error}",
                Location(str(path)),
                help="check the path and its permissions",
            )
        )
        return None


def _unit(path: Path, raw: bytes, pack: str, diagnostics: Diagnostics) -> Unit | None:
    name = str(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        # Columns count characters, as YAML positions do, not bytes.
        column = len(raw[line_start : error.start].decode("utf-8", errors="replace")) + 1
        diagnostics.add(
            Diagnostic(
                codes.NOT_UTF8,
                f"byte 0x{raw[error.start]:02x} is not valid UTF-8",
                Location(name, line, column),
                help="save the file as UTF-8",
            )
        )
        return None
    source, problems = parse(text, name)
    diagnostics.extend(problems)
    if source is None:
        return None
    rule_file, problems = validate(source)
    diagnostics.extend(problems)
    if rule_file is None:
        return None
    return Unit(source, rule_file, pack)


class _Cache:
    """Validated rule files by the digest of their bytes, so an unchanged pack is not re-parsed.

    Best effort: a cache that cannot be read or written is ignored. Entries are pickles, so only
    files in a folder owned by this user and writable by nobody else are ever read.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.salt = _code_digest()

    def _path(self, raw: bytes) -> Path:
        return self.folder / (hashlib.sha256(self.salt + raw).hexdigest() + ".pickle")

    def get(self, path: Path, raw: bytes) -> Unit | None:
        entry = self._path(raw)
        try:
            if not _private(self.folder) or not entry.is_file():
                return None
            data, values, keys, rule_file = pickle.loads(entry.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return None
        return Unit(Source(str(path), data, values, keys), rule_file, "")

    def put(self, raw: bytes, unit: Unit) -> None:
        source = unit.source
        payload = pickle.dumps((source.data, source.values, source.keys, unit.file))
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(self.folder):
                return
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                stream.write(payload)
            os.replace(temporary, self._path(raw))
        except OSError:
            return


def _private(folder: Path) -> bool:
    info = folder.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _code_digest() -> bytes:
    """A digest of the code that turns bytes into rule files: a new version invalidates the cache."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("source.py", "schema.py", "shape.py", "../facts.py"):
        digest.update((here / name).read_bytes())
    return digest.digest()
