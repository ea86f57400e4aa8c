"""The catalogue of stable diagnostic codes.

PE1xx: reading a rule file (bytes, YAML). PE2xx: its shape against the rule-pack schema.
PE3xx: compiling packs (references, overlaps, types). PE4xx: the ledger (its database, manifests,
cards, outputs files, the hash chain). PE5xx: deciding (`check`, `impact`). PE6xx: scanning shards
(inputs, field maps, outputs, the problems found in single records; PE65x the self-identification
signatures). PE7xx: reports and their templates. Codes never change meaning once released;
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

# Ledger (PE4xx)
LEDGER_CONNECT: Final = "PE401"
LEDGER_NOT_INITIALISED: Final = "PE402"
LEDGER_NEWER_SCHEMA: Final = "PE403"
LEDGER_UNKNOWN_KEY: Final = "PE404"
LEDGER_MISSING_KEY: Final = "PE405"
LEDGER_BAD_VALUE: Final = "PE406"
LEDGER_UNKNOWN_ID: Final = "PE407"
LEDGER_DUPLICATE_ID: Final = "PE408"
LEDGER_DATE_WINDOW: Final = "PE409"
LEDGER_FUTURE_DATE: Final = "PE410"
LEDGER_CYCLE: Final = "PE411"
LEDGER_LICENSE: Final = "PE412"
LEDGER_CONFLICT: Final = "PE413"
LEDGER_BAD_RECORD: Final = "PE414"
LEDGER_CHAIN_BROKEN: Final = "PE415"
LEDGER_TABLE_TAMPERED: Final = "PE416"
LEDGER_WRONG_KIND: Final = "PE417"
LEDGER_SUPERSEDED: Final = "PE418"
LEDGER_NO_FRONT_MATTER: Final = "PE419"
LEDGER_BAD_EXPORT: Final = "PE420"

# Deciding (PE5xx)
CHECK_BAD_FACT: Final = "PE501"
CHECK_AS_OF: Final = "PE502"
CHECK_UNVERIFIED: Final = "PE503"
CHECK_CONTRADICTION: Final = "PE504"
CHECK_AMBIGUOUS_TARGET: Final = "PE505"
CHECK_BAD_DOCUMENT: Final = "PE506"

# Scanning shards (PE6xx)
SCAN_UNREADABLE: Final = "PE601"
SCAN_FORMAT: Final = "PE602"
SCAN_FIELD_MAP: Final = "PE603"
SCAN_CONFIG: Final = "PE604"
SCAN_SHARE_LIMIT: Final = "PE605"
SCAN_OUTPUT: Final = "PE606"
SCAN_WORKER: Final = "PE607"
SCAN_MALFORMED: Final = "PE610"
SCAN_NO_PROVENANCE: Final = "PE611"
SCAN_UNKNOWN_PROVENANCE: Final = "PE612"
SCAN_INVALID_PROVENANCE: Final = "PE613"
SCAN_SHARE_EXCEEDED: Final = "PE614"
SCAN_AMBIGUOUS_TRACE: Final = "PE615"
SCAN_SELF_ID_CONFLICT: Final = "PE616"

# Self-identification signatures (PE65x; the scanner's own codes are PE6xx below PE650)
SIGNATURE_UNKNOWN_KEY: Final = "PE650"
SIGNATURE_MISSING_KEY: Final = "PE651"
SIGNATURE_BAD_VALUE: Final = "PE652"
SIGNATURE_BAD_REGEX: Final = "PE653"
SIGNATURE_UNSUPPORTED_REGEX: Final = "PE654"
SIGNATURE_DUPLICATE: Final = "PE655"
SIGNATURE_EXAMPLE: Final = "PE656"
SIGNATURE_PLACEHOLDER: Final = "PE657"

# Reports (PE7xx)
TEMPLATE_SYNTAX: Final = "PE701"
TEMPLATE_UNSAFE: Final = "PE702"
TEMPLATE_UNDEFINED: Final = "PE703"
TEMPLATE_NOT_FOUND: Final = "PE704"
TEMPLATE_FAILED: Final = "PE705"

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
    LEDGER_CONNECT: "the ledger database cannot be reached",
    LEDGER_NOT_INITIALISED: "the database holds no ledger, or an older schema of it",
    LEDGER_NEWER_SCHEMA: "the ledger was created by a newer version of policyengine",
    LEDGER_UNKNOWN_KEY: "a manifest key the manifest format does not have",
    LEDGER_MISSING_KEY: "a required manifest key is missing",
    LEDGER_BAD_VALUE: "a ledger value has the wrong type or is not one of those allowed",
    LEDGER_UNKNOWN_ID: "a reference names an id that neither the ledger nor the manifest holds",
    LEDGER_DUPLICATE_ID: "two entries share one id, or one name and version",
    LEDGER_DATE_WINDOW: "a time window ends before it starts",
    LEDGER_FUTURE_DATE: "a date of something that happened lies after the as-of date",
    LEDGER_CYCLE: "a write would make an artifact its own ancestor",
    LEDGER_LICENSE: "a licence is not an SPDX id and is recorded as unknown",
    LEDGER_CONFLICT: "a re-imported entry differs from the one the ledger holds",
    LEDGER_BAD_RECORD: "a line of an outputs file is not a JSON record with the text field",
    LEDGER_CHAIN_BROKEN: "the hash chain does not verify at an entry",
    LEDGER_TABLE_TAMPERED: "a query table disagrees with the hash chain",
    LEDGER_WRONG_KIND: "a reference names an artifact of another kind than the one expected",
    LEDGER_SUPERSEDED: "a correction supersedes something it cannot",
    LEDGER_NO_FRONT_MATTER: "a model or dataset card has no usable YAML front matter",
    LEDGER_BAD_EXPORT: "an export file cannot be imported as it is",
    CHECK_BAD_FACT: "a what-if value does not fit the fact it sets",
    CHECK_AS_OF: "the as-of day comes before anything the target's lineage records",
    CHECK_UNVERIFIED: "the ledger's hash chain does not verify, so no decision is made on it",
    CHECK_CONTRADICTION: "two options say things about the target that cannot both hold",
    CHECK_AMBIGUOUS_TARGET: "a target name matches several recorded datasets or models",
    CHECK_BAD_DOCUMENT: "`--document` does not name a document version the rules hold",
    TEMPLATE_SYNTAX: "a report template is not valid Jinja",
    TEMPLATE_UNSAFE: "a report template reaches outside the sandbox (Python internals, modules, files)",
    TEMPLATE_UNDEFINED: "a report template names something the view-model does not have",
    TEMPLATE_NOT_FOUND: "a report template extends or includes a template that is not built in",
    TEMPLATE_FAILED: "a report template failed while rendering",
    SIGNATURE_UNKNOWN_KEY: "a key the self-identification signature format does not have",
    SIGNATURE_MISSING_KEY: "a required key of the signature file is missing",
    SIGNATURE_BAD_VALUE: "a signature-file value has the wrong type or form",
    SIGNATURE_BAD_REGEX: "a signature pattern is not a valid regular expression",
    SIGNATURE_UNSUPPORTED_REGEX: "a signature pattern uses look-around, a back-reference or a capturing group",
    SIGNATURE_DUPLICATE: "a provider, name or company appears twice in the signature file",
    SIGNATURE_EXAMPLE: "a signature example does not match, or a counter-example does",
    SIGNATURE_PLACEHOLDER: "a signature pattern names an unknown `<<placeholder>>` or lacks its own",
    SCAN_UNREADABLE: "a shard cannot be read: missing, not a file, corrupt or cut short",
    SCAN_FORMAT: "a shard or output file name does not end in a format scan reads or writes",
    SCAN_FIELD_MAP: "a field map names an unknown field, or a path that does not fit the records",
    SCAN_CONFIG: "a scan config file cannot be read, has the wrong shape or lacks the profile",
    SCAN_SHARE_LIMIT: "a `--max-share` limit is not `FIELD=VALUE:FRACTION`",
    SCAN_OUTPUT: "an output cannot be written as asked",
    SCAN_WORKER: "a worker process ended before it finished its file (stopped by the system)",
    SCAN_MALFORMED: "a record is not a JSON object, or a provenance field holds no text",
    SCAN_NO_PROVENANCE: "a record names no provider or model, and no fingerprint traces it",
    SCAN_UNKNOWN_PROVENANCE: "a record's provider or model is one no rule pack knows",
    SCAN_INVALID_PROVENANCE: "a record's provenance value does not fit the vocabulary",
    SCAN_SHARE_EXCEEDED: "a provider's or model's share of the records exceeds its `--max-share`",
    SCAN_AMBIGUOUS_TRACE: "a record's text matches outputs of generations with different provenance",
    SCAN_SELF_ID_CONFLICT: "a record's text identifies another provider's model than its provenance declares",
}
