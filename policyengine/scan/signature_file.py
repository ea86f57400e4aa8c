"""The self-identification signature file: its schema and the checks it must pass.

The file is validated strictly (unknown keys, missing keys and bad values are positioned
diagnostics) and then checked as a whole, in order: duplicates, patterns (each compiles alone, and
provider patterns fit RE2), and the vocabulary the frames name. :mod:`policyengine.scan.selfid`
compiles what passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Final, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, did_you_mean
from policyengine.rules.shape import data_path
from policyengine.rules.source import Path as KeyPath
from policyengine.rules.source import Source

PLACEHOLDER: Final = re.compile(r"<<([A-Za-z0-9_]*)>>")
_REQUIRED_VOCABULARY: Final = ("cue", "version", "reporting_verb")

# Provider patterns join the RE2 prefilter, which has no look-around or back-references.
NOT_RE2: Final = re.compile(r"\(\?(?:=|!|<=|<!|P=)|\\[1-9]")

NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SourceRef(_Strict):
    url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")]
    shows: NonEmpty


class _Frame(_Strict):
    pattern: NonEmpty
    example: NonEmpty


class _Frames(_Strict):
    name: tuple[_Frame, ...] = Field(min_length=1)
    company: tuple[_Frame, ...] = Field(min_length=1)


class Provider(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    names: tuple[NonEmpty, ...] = ()
    common_names: tuple[NonEmpty, ...] = ()
    companies: tuple[NonEmpty, ...] = ()
    patterns: tuple[NonEmpty, ...] = ()
    sources: tuple[_SourceRef, ...] = Field(min_length=1)
    examples: tuple[NonEmpty, ...] = Field(min_length=1)


class SignatureFile(_Strict):
    version: Literal[1]
    vocabulary: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], NonEmpty]
    frames: _Frames
    providers: tuple[Provider, ...] = Field(min_length=1)
    counter_examples: tuple[NonEmpty, ...] = ()


def example_error(source: Source, path: KeyPath, example: str, problem: str) -> Diagnostic:
    return Diagnostic(
        codes.SIGNATURE_EXAMPLE,
        f"example `{example}` {problem}",
        source.locate(path),
        help="change the pattern, the names or the example until they agree; "
        "examples are checked on every load",
    )


# ---------------------------------------------------------------------------------------- checks


def validate(source: Source, diagnostics: Diagnostics) -> SignatureFile | None:
    try:
        return SignatureFile.model_validate(source.data)
    except pydantic.ValidationError as error:
        details = error.errors()
        for detail in details:
            loc = detail["loc"]
            # A list is "too short" only because its single item failed: report the item alone.
            if detail["type"] == "too_short" and any(
                len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc
                for other in details
            ):
                continue
            diagnostics.add(_shape_error(source, loc, detail["type"], detail["msg"]))
        return None


# The model whose keys an unknown key sits among, by the nearest key above it.
_PARENTS: Final[dict[str, type[BaseModel]]] = {
    "": SignatureFile,
    "frames": _Frames,
    "name": _Frame,
    "company": _Frame,
    "providers": Provider,
    "sources": _SourceRef,
}


def _shape_error(source: Source, loc: Sequence[str | int], kind: str, msg: str) -> Diagnostic:
    path = data_path(source.data, loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = next((str(s) for s in reversed(loc[:-1]) if isinstance(s, str)), "")
        known = tuple(_PARENTS.get(parent, SignatureFile).model_fields)
        return Diagnostic(
            codes.SIGNATURE_UNKNOWN_KEY,
            f"unknown key `{key}`",
            source.locate(path, key=True),
            help=did_you_mean(key, known) or "allowed keys: " + ", ".join(f"`{k}`" for k in known),
        )
    if kind == "missing":
        return Diagnostic(
            codes.SIGNATURE_MISSING_KEY,
            f"missing key `{loc[-1]}`",
            source.locate(path),
            help=f"add `{loc[-1]}` to this mapping; docs/self-id.md lists every key",
        )
    url = bool(loc) and loc[-1] == "url"
    return Diagnostic(
        codes.SIGNATURE_BAD_VALUE,
        f"invalid value at `{'.'.join(str(s) for s in loc)}`: {msg[0].lower()}{msg[1:]}",
        source.locate(path),
        help="write a full URL starting with https://"
        if url
        else "see docs/self-id.md for the form of each key",
    )


def _check_duplicates(source: Source, model: SignatureFile, diagnostics: Diagnostics) -> None:
    """A provider listed twice, or one name or company claimed twice, would make a match ambiguous."""
    ids: dict[str, int] = {}
    seen: dict[str, tuple[str, str]] = {}
    for i, provider in enumerate(model.providers):
        if provider.id in ids:
            first = source.locate(("providers", ids[provider.id], "id"))
            diagnostics.add(
                Diagnostic(
                    codes.SIGNATURE_DUPLICATE,
                    f"provider `{provider.id}` is listed twice",
                    source.locate(("providers", i, "id")),
                    help=f"the first entry is at {first}; merge the two entries",
                )
            )
            continue
        ids[provider.id] = i
        for key in ("names", "common_names", "companies"):
            for j, value in enumerate(getattr(provider, key)):
                folded = " ".join(re.split(r"[\s-]+", value.casefold().strip()))
                if folded in seen and not _may_share(seen[folded], (provider.id, key)):
                    owner = seen[folded][0]
                    diagnostics.add(
                        Diagnostic(
                            codes.SIGNATURE_DUPLICATE,
                            f"`{value}` is listed twice (for `{owner}` and `{provider.id}`)",
                            source.locate(("providers", i, key, j)),
                            help="a name or company identifies one provider; list it once",
                        )
                    )
                seen.setdefault(folded, (provider.id, key))
        if not (provider.names or provider.common_names or provider.companies or provider.patterns):
            diagnostics.add(
                Diagnostic(
                    codes.SIGNATURE_BAD_VALUE,
                    f"provider `{provider.id}` has no names, companies or patterns",
                    source.locate(("providers", i)),
                    help="add `names`, `common_names`, `companies` or `patterns`",
                )
            )


def _may_share(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """One provider may use a word as a name and as its company (DeepSeek), nothing else."""
    return first[0] == second[0] and first[1] != second[1] and "companies" in (first[1], second[1])


def _check_patterns(source: Source, model: SignatureFile, diagnostics: Diagnostics) -> None:
    """Every regular expression compiles, is RE2-compatible and uses only known placeholders."""
    for key, (path, pattern, allowed) in _patterns(model):
        unknown = [p for p in PLACEHOLDER.findall(pattern) if p not in allowed]
        missing = key in ("name", "company") and f"<<{key}>>" not in pattern
        if unknown or missing:
            wrong = unknown[0] if unknown else ""
            diagnostics.add(
                Diagnostic(
                    codes.SIGNATURE_PLACEHOLDER,
                    f"unknown placeholder `<<{wrong}>>`"
                    if unknown
                    else f"frame has no `<<{key}>>`",
                    source.locate(path),
                    help=(did_you_mean(wrong, allowed) + " " if unknown else "")
                    + "placeholders here: "
                    + ", ".join(f"`<<{p}>>`" for p in sorted(allowed)),
                )
            )
            continue
        _check_regex(source, path, pattern, diagnostics, re2=key == "pattern")


def _patterns(model: SignatureFile) -> Iterator[tuple[str, tuple[KeyPath, str, frozenset[str]]]]:
    vocabulary = frozenset(model.vocabulary)
    for key, value in model.vocabulary.items():
        yield "vocabulary", (("vocabulary", key), value, frozenset({"any_company"}))
    for kind in ("name", "company"):
        for i, frame in enumerate(getattr(model.frames, kind)):
            yield kind, (("frames", kind, i, "pattern"), frame.pattern, vocabulary | {kind})
    for i, provider in enumerate(model.providers):
        for j, pattern in enumerate(provider.patterns):
            yield "pattern", (("providers", i, "patterns", j), pattern, vocabulary)


def _check_regex(
    source: Source, path: KeyPath, pattern: str, diagnostics: Diagnostics, *, re2: bool
) -> None:
    plain = PLACEHOLDER.sub("(?:x)", pattern)
    bare = re.sub(r"\\\\|\[(?:\\.|[^\]\\])*\]", "", plain)  # without escaped backslashes, classes
    unsupported = NOT_RE2.search(bare) if re2 else None
    if unsupported:
        diagnostics.add(
            Diagnostic(
                codes.SIGNATURE_UNSUPPORTED_REGEX,
                f"`{unsupported.group(0)}` is not supported in a provider pattern",
                source.locate(path),
                help="provider patterns also run on RE2, which has no look-around or "
                "back-references; match the context explicitly, or move the context into a frame",
            )
        )
        return
    try:
        compiled = re.compile(plain, re.IGNORECASE)
    except re.error as error:
        diagnostics.add(
            Diagnostic(
                codes.SIGNATURE_BAD_REGEX,
                f"invalid regular expression: {error.msg} at position {error.pos}",
                source.locate(path),
                help="check brackets and escapes; in single-quoted YAML a backslash is written once",
            )
        )
        return
    if compiled.groups:
        diagnostics.add(
            Diagnostic(
                codes.SIGNATURE_UNSUPPORTED_REGEX,
                "capturing groups are not supported in a signature",
                source.locate(path),
                help="write `(?:...)` instead of `(...)`",
            )
        )


def _check_vocabulary(source: Source, model: SignatureFile, diagnostics: Diagnostics) -> None:
    for key in _REQUIRED_VOCABULARY:
        if key not in model.vocabulary:
            diagnostics.add(
                Diagnostic(
                    codes.SIGNATURE_MISSING_KEY,
                    f"missing vocabulary entry `{key}`",
                    source.locate(("vocabulary",)),
                    help="the matcher needs `cue`, `version` and `reporting_verb`; see docs/self-id.md",
                )
            )


CHECKS: Final[tuple[Callable[[Source, SignatureFile, Diagnostics], None], ...]] = (
    _check_vocabulary,
    _check_duplicates,
    _check_patterns,
)
