"""The catalogue of stable diagnostic codes.

PE1xx: reading a rule file (bytes, YAML). PE2xx: its shape against the rule-pack schema.
PE3xx: compiling packs (references, overlaps, types). Codes never change meaning once released;
``docs/error-codes.md`` has one entry per code and a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Reading (PE1xx)
FILE_NOT_FOUND: Final = "PE101"
NOT_UTF8: Final = "PE102"
YAML_SYNTAX: Final = "PE103"
TAB_INDENT: Final = "PE104"
DUPLICATE_KEY: Final = "PE105"
UNSAFE_TAG: Final = "PE106"
EMPTY_FILE: Final = "PE107"
FILE_TOO_LARGE: Final = "PE108"
NO_PACKS: Final = "PE109"
NOT_IN_PACK: Final = "PE110"
BAD_SCALAR: Final = "PE111"
YAML_ALIAS: Final = "PE112"

# Shape (PE2xx)
UNKNOWN_KEY: Final = "PE201"
MISSING_KEY: Final = "PE202"
WRONG_TYPE: Final = "PE203"
INVALID_VALUE: Final = "PE204"
UNKNOWN_OPERATOR: Final = "PE205"
MALFORMED_DATE: Final = "PE206"
CONDITION_FORM: Final = "PE207"

# Compiling (PE3xx)
DUPLICATE_RULE: Final = "PE301"
UNKNOWN_FACT: Final = "PE302"
OPERATOR_MISFIT: Final = "PE303"
VALUE_MISFIT: Final = "PE304"
DATE_WINDOW: Final = "PE305"
OVERLAPPING_VERSIONS: Final = "PE306"
CATALOG_CONFLICT: Final = "PE307"
UNKNOWN_VERSION: Final = "PE308"
DUPLICATE_DOCUMENT: Final = "PE309"
UNKNOWN_DOCUMENT: Final = "PE310"
UNKNOWN_RULE: Final = "PE311"
OBLIGATION_MISFIT: Final = "PE312"
PACK_MISMATCH: Final = "PE313"
DUPLICATE_PACK: Final = "PE314"
BAD_GLOB: Final = "PE315"

CATALOGUE: Final[Mapping[str, str]] = {
    FILE_NOT_FOUND: "a path does not exist or cannot be read",
    NOT_UTF8: "a rule file is not valid UTF-8",
    YAML_SYNTAX: "a rule file is not valid YAML",
    TAB_INDENT: "a rule file is indented with a tab",
    DUPLICATE_KEY: "a mapping has the same key twice",
    UNSAFE_TAG: "a YAML tag that could construct objects or is not a plain data type",
    EMPTY_FILE: "a rule file has no content",
    FILE_TOO_LARGE: "a rule file is larger than the limit",
    NO_PACKS: "a directory holds no rule pack",
    NOT_IN_PACK: "a rule file is not inside a pack folder",
    BAD_SCALAR: "a YAML scalar cannot be read as the type its form implies",
    YAML_ALIAS: "a YAML alias (`*name`) stands where rule files take plain values",
    UNKNOWN_KEY: "a key the rule-pack schema does not have",
    MISSING_KEY: "a required key is missing",
    WRONG_TYPE: "a value has the wrong type",
    INVALID_VALUE: "a value is not one of those allowed, or breaks a format",
    UNKNOWN_OPERATOR: "a condition names an operator that does not exist",
    MALFORMED_DATE: "a date is not a valid YYYY-MM-DD date",
    CONDITION_FORM: "a condition is none of `all`, `any`, `not` or a comparison",
    DUPLICATE_RULE: "two rules share one id",
    UNKNOWN_FACT: "a condition or test names a fact outside the vocabulary",
    OPERATOR_MISFIT: "an operator does not fit the type of its fact",
    VALUE_MISFIT: "a literal does not fit the type of its fact",
    DATE_WINDOW: "a version's `effective_until` is before its `effective_from`",
    OVERLAPPING_VERSIONS: "two versions of one document are in force on the same day",
    CATALOG_CONFLICT: "two catalog entries claim the same model, channel and dates",
    UNKNOWN_VERSION: "a rule names a version its document does not have",
    DUPLICATE_DOCUMENT: "two documents share one id, or a document has a version twice",
    UNKNOWN_DOCUMENT: "a catalog entry or rule names a document that does not exist",
    UNKNOWN_RULE: "a test names a rule id that does not exist",
    OBLIGATION_MISFIT: "obligations on a rule whose effect is not `oblige`, or none where it is",
    PACK_MISMATCH: "a rule file declares a different pack than its folder's `pack.yaml`",
    DUPLICATE_PACK: "two folders declare the same pack id",
    BAD_GLOB: "a model pattern is not a usable glob",
}
