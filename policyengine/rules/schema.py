"""The rule-pack schema: pydantic models of what a rule file may say.

Every model forbids unknown keys and is frozen. Polymorphic nodes name their variant: a comparison by
its ``op``, an obligation by its ``kind``, a combinator by its single key (``all``, ``any``, ``not``),
so a validation error points into one branch instead of listing every alternative. The types of fact
literals are checked later, by the compiler, against the vocabulary in :mod:`policyengine.facts`.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Final, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag

from policyengine.facts import VOCABULARY, Channel

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
DottedId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")
]
DocumentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
LicenseId = Annotated[
    str, StringConstraints(pattern=r"^(?:[A-Za-z0-9][A-Za-z0-9.+-]*|NOASSERTION)$")
]
Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Quote = Annotated[str, StringConstraints(min_length=1, max_length=600)]


class Strict(BaseModel):
    """Base of every schema model: unknown keys are errors and values are immutable."""

    # defer_build: a schema is built on first validation, which a cached load never needs.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Effect(enum.Enum):
    """What a rule says of a use, strongest first: deny > review > oblige > allow."""

    DENY = "deny"
    REVIEW = "review"
    OBLIGE = "oblige"
    ALLOW = "allow"


class Verdict(enum.Enum):
    """What a decision means for a gate, once obligations are checked against the target."""

    COMPLIANT = "compliant"
    VIOLATION = "violation"
    NEEDS_REVIEW = "needs_review"


class Severity(enum.Enum):
    """How much a finding of the rule matters to a reviewer."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DocumentKind(enum.Enum):
    """What sort of legal text a document is."""

    TERMS_OF_SERVICE = "terms_of_service"
    API_AGREEMENT = "api_agreement"
    USAGE_POLICY = "usage_policy"
    MODEL_LICENSE = "model_license"
    DATASET_LICENSE = "dataset_license"
    ENTERPRISE_AGREEMENT = "enterprise_agreement"


class PackHeader(Strict):
    """The `pack:` block of a pack's `pack.yaml`: which pack this folder is."""

    id: Id
    title: Text
    version: Text = Field(description="The pack's own version, e.g. the date it was last reviewed.")
    description: str = ""


class DocumentVersion(Strict):
    """One version of a terms document and the days it was in force (both ends inclusive)."""

    version: Text
    effective_from: dt.date
    effective_until: dt.date | None = Field(
        default=None, description="Last day in force; absent while the version is current."
    )
    url: Url
    retrieved: dt.date = Field(description="The day the text this version encodes was read.")
    source: str = Field(default="", description="Where the text was read, e.g. an archive capture.")
    digest: Digest | None = Field(default=None, description="sha256 of the text that was read.")


class Document(Strict):
    """A terms document (terms of service, API agreement, usage policy, licence) and its versions."""

    id: DocumentId
    title: Text
    provider: Id
    kind: DocumentKind
    versions: tuple[DocumentVersion, ...] = Field(min_length=1)


class CatalogEntry(Strict):
    """Which documents govern the outputs of which models, obtained through which channels."""

    provider: Id
    models: tuple[Text, ...] = Field(min_length=1, description="Globs over `source.model`.")
    channels: tuple[Channel, ...] = Field(min_length=1)
    documents: tuple[DocumentId, ...] = Field(
        min_length=1, description="Documents that govern together, e.g. terms plus usage policy."
    )
    agreement: Id | None = Field(
        default=None,
        description="Applies only to outputs obtained under this agreement, replacing public terms.",
    )
    precedence: int | None = Field(
        default=None, description="Among overlapping entries, the highest precedence governs."
    )


class LicenseEntry(Strict):
    """Which documents govern data that carries a licence of its own (`source.license`)."""

    licenses: tuple[LicenseId, ...] = Field(
        min_length=1, description="SPDX ids, matched exactly but ignoring case."
    )
    documents: tuple[DocumentId, ...] = Field(min_length=1)
    precedence: int | None = Field(
        default=None, description="Among entries claiming one licence, the highest governs."
    )


def _catalog_tag(value: Any) -> str:
    if isinstance(value, dict):
        return "license" if "licenses" in value else "model"
    return "license" if isinstance(value, LicenseEntry) else "model"


CatalogItem: TypeAlias = Annotated[
    Annotated[CatalogEntry, Tag("model")] | Annotated[LicenseEntry, Tag("license")],
    Discriminator(_catalog_tag),
]


class _Comparison(Strict):
    # The enum is for editors only; the compiler checks names, with positions and did-you-mean.
    fact: str = Field(json_schema_extra={"enum": list(VOCABULARY)})


class Equals(_Comparison):
    """True when the fact equals the literal."""

    op: Literal["equals"]
    value: str | int | bool | dt.date


class In(_Comparison):
    """True when the fact is one of the listed literals."""

    op: Literal["in"]
    value: tuple[str | int, ...] = Field(min_length=1)


class Contains(_Comparison):
    """True when a set or list fact holds the literal."""

    op: Literal["contains"]
    value: str


class Matches(_Comparison):
    """True when a string fact matches the glob (``*``, ``?``, ``[...]``), case-insensitively."""

    op: Literal["matches"]
    value: Text


class Before(_Comparison):
    """True when a date fact is strictly before the literal date."""

    op: Literal["before"]
    value: dt.date


class After(_Comparison):
    """True when a date fact is on or after the literal date."""

    op: Literal["after"]
    value: dt.date


class Exists(_Comparison):
    """True when the fact is recorded; never unknown."""

    op: Literal["exists"]


class Gte(_Comparison):
    """True when a number fact is greater than or equal to the literal."""

    op: Literal["gte"]
    value: int


class Lte(_Comparison):
    """True when a number fact is less than or equal to the literal."""

    op: Literal["lte"]
    value: int


Comparison: TypeAlias = Annotated[
    Equals | In | Contains | Matches | Before | After | Exists | Gte | Lte,
    Field(discriminator="op"),
]

OPERATORS: Final = (
    "equals",
    "in",
    "contains",
    "matches",
    "before",
    "after",
    "exists",
    "gte",
    "lte",
)


class All(Strict):
    """True when every condition is true (Kleene: false wins over unknown)."""

    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(Strict):
    """True when some condition is true (Kleene: true wins over unknown)."""

    any: tuple[Condition, ...] = Field(min_length=1)


class Not(Strict):
    """True when the condition is false; unknown stays unknown."""

    model_config = ConfigDict(populate_by_name=True)

    not_: Condition = Field(alias="not")


COMBINATORS: Final = ("all", "any", "not")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in COMBINATORS:
            if key in value:
                return key
        return "compare" if "op" in value or "fact" in value else None
    if isinstance(value, All):
        return "all"
    if isinstance(value, AnyOf):
        return "any"
    if isinstance(value, Not):
        return "not"
    # A word or a list where a condition belongs: no variant fits, so report the form.
    return "compare" if isinstance(value, BaseModel) else None


Condition: TypeAlias = Annotated[
    Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[Comparison, Tag("compare")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition_form",
        custom_error_message="a condition is `all`, `any`, `not`, or `fact` with `op`",
    ),
]


class NamePrefix(Strict):
    """The target's name must begin with ``prefix`` (Llama 3.1: "Llama" at the start)."""

    kind: Literal["name_prefix"]
    prefix: Text


class Notice(Strict):
    """The release must carry the notice ``text`` ("Built with Llama")."""

    kind: Literal["notice"]
    text: Text


class Attribution(Strict):
    """The release must attribute the source in words that include ``text``."""

    kind: Literal["attribution"]
    text: Text


class LicensePassthrough(Strict):
    """Redistribution must carry ``license`` (a document id or SPDX id) to recipients."""

    kind: Literal["license_passthrough"]
    license: Text


class UseRestrictionsPassthrough(Strict):
    """The use restrictions of ``document`` bind the target and everything derived from it."""

    kind: Literal["use_restrictions_passthrough"]
    document: DocumentId


Obligation: TypeAlias = Annotated[
    NamePrefix | Notice | Attribution | LicensePassthrough | UseRestrictionsPassthrough,
    Field(discriminator="kind"),
]


class Citation(Strict):
    """The clause a rule encodes: its section, the operative words verbatim, and where to read it."""

    section: Text
    quote: Quote
    url: Url


class Rule(Strict):
    """One clause of one document, as a condition over facts and the effect when it holds."""

    id: DottedId
    document: DocumentId
    versions: tuple[Text, ...] = Field(min_length=1, description="Versions the clause is in.")
    when: Condition | None = Field(default=None, description="Absent: the rule always applies.")
    effect: Effect
    severity: Severity
    obligations: tuple[Obligation, ...] = ()
    citation: Citation
    rationale: Text
    remediation: Text


class Expectation(Strict):
    """What a test case expects: the combined effect, the rules that decide it, the verdict."""

    effect: Effect
    rules: tuple[DottedId, ...] = ()
    verdict: Verdict | None = None


class TestCase(Strict):
    """A self-test of a pack: facts in, expected decision out."""

    __test__ = False  # not a pytest class

    name: Text
    facts: dict[str, Any]
    expect: Expectation


class RuleFile(Strict):
    """One YAML file of a pack. Only the pack's `pack.yaml` carries the `pack` block."""

    pack: PackHeader | None = None
    documents: tuple[Document, ...] = ()
    catalog: tuple[CatalogItem, ...] = ()
    rules: tuple[Rule, ...] = ()
    tests: tuple[TestCase, ...] = ()


for _model in (All, AnyOf, Not, Rule, RuleFile):
    _model.model_rebuild()

TAGGED_MODELS: Final[dict[str, type[BaseModel]]] = {
    "model": CatalogEntry,
    "license": LicenseEntry,
    "all": All,
    "any": AnyOf,
    "not": Not,
    "equals": Equals,
    "in": In,
    "contains": Contains,
    "matches": Matches,
    "before": Before,
    "after": After,
    "exists": Exists,
    "gte": Gte,
    "lte": Lte,
    "name_prefix": NamePrefix,
    "notice": Notice,
    "attribution": Attribution,
    "license_passthrough": LicensePassthrough,
    "use_restrictions_passthrough": UseRestrictionsPassthrough,
}
"""Union tags pydantic puts into error locations, and the model each stands for."""
