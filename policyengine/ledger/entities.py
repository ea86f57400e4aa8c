"""What the ledger records, as strict pydantic models: one per entity kind.

These are the shapes of manifest entries, of ``Ledger.record_*`` arguments and of chained payloads.
Unknown keys are errors, counts are whole numbers that cannot be negative, references are ids, and
a licence is an SPDX id or ``unknown`` (importers resolve free text first, see ``licenses``).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Final

import pydantic
from pydantic import ConfigDict, Field, StrictBool, StrictInt, model_validator

from policyengine.facts import Activity, Channel, Release
from policyengine.lineage import ArtifactKind

ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.@/+-]{0,199}$"
"""Ledger ids: letters, digits and ``_ . @ / + -`` (Hugging Face repo ids fit); no ``:``."""

PROVIDER_PATTERN: Final = r"^[a-z0-9][a-z0-9_.-]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Provider = Annotated[str, Field(pattern=PROVIDER_PATTERN)]
Count = Annotated[StrictInt, Field(ge=0)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Reference = tuple[str, str, tuple[ArtifactKind, ...]]
"""(field path, id, kinds allowed) of one reference from an entity to another."""


class RunMethod(enum.Enum):
    """How a training run used its datasets."""

    PRETRAINING = "pretraining"
    FINE_TUNING = "fine_tuning"
    DISTILLATION = "distillation"
    REWARD_MODELING = "reward_modeling"
    PREFERENCE_TUNING = "preference_tuning"


class ModelRelation(enum.Enum):
    """How a model came from its base model (Hugging Face's ``base_model_relation``)."""

    FINETUNE = "finetune"
    ADAPTER = "adapter"
    MERGE = "merge"
    QUANTIZED = "quantized"
    DISTILLED = "distilled"


class Transform(enum.Enum):
    """What a dataset did to the records of one input."""

    COPY = "copy"
    FILTER = "filter"
    SAMPLE = "sample"
    DEDUPE = "dedupe"
    MIX = "mix"
    REWRITE = "rewrite"
    TRANSLATE = "translate"
    LABEL = "label"
    FORMAT = "format"


class AgreementKind(enum.Enum):
    """Public terms anyone accepts, or a contract negotiated with the provider."""

    PUBLIC_TERMS = "public_terms"
    ENTERPRISE = "enterprise"


class WaiverReason(enum.Enum):
    """The closed list of reasons a finding may be waived for."""

    LEGAL_REVIEW = "legal_review"
    ENTERPRISE_AGREEMENT = "enterprise_agreement"
    PROVIDER_PERMISSION = "provider_permission"
    RESEARCH_EXEMPTION = "research_exemption"
    FALSE_POSITIVE = "false_positive"


class _Entity(pydantic.BaseModel):
    """Fields every entity has: its id and, for a correction, the id it supersedes."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    id: Id
    supersedes: Id | None = None

    def payload(self) -> dict[str, Any]:
        """The entity as chained JSON data: everything but the id, nulls left out."""
        return self.model_dump(mode="json", exclude={"id"}, exclude_none=True)

    def references(self) -> list[Reference]:
        """(field path, id, kinds allowed) for each id this entity points at."""
        found: list[Reference] = []
        if self.supersedes is not None:
            found.append(("supersedes", self.supersedes, (KIND_OF[type(self)],)))
        return found

    def happened(self) -> list[tuple[str, dt.date]]:
        """(field, date) for each date of something that has happened (not after the as-of)."""
        return []

    def windows(self) -> list[tuple[str, dt.date, str, dt.date | None]]:
        """(start field, start, end field, end) for each time window; the end may not precede."""
        return []


class Agreement(_Entity):
    """Terms the outputs were obtained under: public terms or an enterprise contract."""

    provider: Provider
    kind: AgreementKind = AgreementKind.ENTERPRISE
    title: Text | None = None
    effective_from: dt.date
    effective_until: dt.date | None = None

    def windows(self) -> list[tuple[str, dt.date, str, dt.date | None]]:
        return [("effective_from", self.effective_from, "effective_until", self.effective_until)]

    def happened(self) -> list[tuple[str, dt.date]]:
        return [("effective_from", self.effective_from)]


class Generation(_Entity):
    """One job that produced outputs of a provider's model.

    ``by_model`` names the ledger's record of that model, when it has one: then the generation's
    lineage continues through the model (outputs of a model we trained carry what it was trained
    on), and a model can be traced across any number of such hops.
    """

    provider: Provider
    model: Text
    channel: Channel
    agreement: Id | None = None
    by_model: Id | None = None
    generated_from: dt.date
    generated_until: dt.date
    records: Count
    outputs_digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None

    def windows(self) -> list[tuple[str, dt.date, str, dt.date | None]]:
        return [("generated_from", self.generated_from, "generated_until", self.generated_until)]

    def references(self) -> list[Reference]:
        found = super().references()
        if self.agreement is not None:
            found.append(("agreement", self.agreement, (ArtifactKind.AGREEMENT,)))
        if self.by_model is not None:
            found.append(("by_model", self.by_model, (ArtifactKind.MODEL,)))
        return found

    def happened(self) -> list[tuple[str, dt.date]]:
        return [("generated_from", self.generated_from), ("generated_until", self.generated_until)]


class DatasetInput(pydantic.BaseModel):
    """Where some of a dataset's records came from: exactly one of a generation, a dataset or an
    external source (which then names its licence)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generation: Id | None = None
    dataset: Id | None = None
    external: Text | None = None
    provider: Provider | None = None
    license: str | None = None
    transform: Transform | None = None
    records: Count | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> DatasetInput:
        given = [k for k in ("generation", "dataset", "external") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an input names exactly one of `generation`, `dataset`, `external`")
        if self.external is None and (self.license is not None or self.provider is not None):
            raise ValueError("only an `external` input takes `license` and `provider`")
        return self


class Dataset(_Entity):
    """A named, versioned collection of records and where they came from."""

    name: Text
    version: Text
    license: str = "unknown"
    release: Release | None = None
    inputs: list[DatasetInput] = Field(default_factory=list)

    def references(self) -> list[Reference]:
        found = super().references()
        for i, item in enumerate(self.inputs):
            if item.generation is not None:
                found.append(
                    (f"inputs.{i}.generation", item.generation, (ArtifactKind.GENERATION,))
                )
            if item.dataset is not None:
                found.append((f"inputs.{i}.dataset", item.dataset, (ArtifactKind.DATASET,)))
        return found


class Run(_Entity):
    """A training run: its method, the model it started from and the datasets it trained on."""

    method: RunMethod | None = None
    base_model: Id | None = None
    datasets: list[Id] = Field(default_factory=list)
    started: dt.date | None = None
    ended: dt.date | None = None

    def windows(self) -> list[tuple[str, dt.date, str, dt.date | None]]:
        return [("started", self.started, "ended", self.ended)] if self.started else []

    def references(self) -> list[Reference]:
        found = super().references()
        if self.base_model is not None:
            found.append(("base_model", self.base_model, (ArtifactKind.MODEL,)))
        found += [
            (f"datasets.{i}", d, (ArtifactKind.DATASET,)) for i, d in enumerate(self.datasets)
        ]
        return found

    def happened(self) -> list[tuple[str, dt.date]]:
        return [(k, v) for k, v in (("started", self.started), ("ended", self.ended)) if v]


class Model(_Entity):
    """A model: ours (made by a run, from base models) or a third party's (a ``provider``'s)."""

    name: Text
    version: Text | None = None
    provider: Provider | None = None
    run: Id | None = None
    base_models: list[Id] = Field(default_factory=list)
    base_model_relation: ModelRelation | None = None
    release: Release | None = None
    commercial: StrictBool | None = None
    competes_with: list[Provider] | None = None
    notices: list[Text] | None = None
    license: str = "unknown"
    license_link: Annotated[str, Field(max_length=500)] | None = None

    def references(self) -> list[Reference]:
        found = super().references()
        if self.run is not None:
            found.append(("run", self.run, (ArtifactKind.RUN,)))
        models = (ArtifactKind.MODEL,)
        found += [(f"base_models.{i}", m, models) for i, m in enumerate(self.base_models)]
        return found


_USABLE: Final = (
    ArtifactKind.GENERATION,
    ArtifactKind.DATASET,
    ArtifactKind.MODEL,
)


class Use(_Entity):
    """One artifact (``source``) used on another (``target``): a judge model, a filter, a benchmark."""

    activity: Activity
    source: Id
    target: Id
    used_on: dt.date | None = None

    def references(self) -> list[Reference]:
        return [
            *super().references(),
            ("source", self.source, _USABLE),
            ("target", self.target, _USABLE),
        ]

    def happened(self) -> list[tuple[str, dt.date]]:
        return [("used_on", self.used_on)] if self.used_on else []


class Waiver(_Entity):
    """A decision to accept one rule's finding for one artifact, until it expires."""

    rule: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    scope: Id
    reason: WaiverReason
    approver: Text
    ticket: Text
    expires: dt.date

    def references(self) -> list[Reference]:
        return [*super().references(), ("scope", self.scope, _USABLE)]


Entity = Agreement | Generation | Dataset | Run | Model | Use | Waiver

KIND_OF: Final[dict[type[_Entity], ArtifactKind]] = {
    Agreement: ArtifactKind.AGREEMENT,
    Generation: ArtifactKind.GENERATION,
    Dataset: ArtifactKind.DATASET,
    Run: ArtifactKind.RUN,
    Model: ArtifactKind.MODEL,
    Use: ArtifactKind.USE,
    Waiver: ArtifactKind.WAIVER,
}
MODEL_OF: Final[dict[ArtifactKind, type[_Entity]]] = {kind: m for m, kind in KIND_OF.items()}

SECTIONS: Final[dict[str, ArtifactKind]] = {
    "agreements": ArtifactKind.AGREEMENT,
    "generations": ArtifactKind.GENERATION,
    "datasets": ArtifactKind.DATASET,
    "runs": ArtifactKind.RUN,
    "models": ArtifactKind.MODEL,
    "uses": ArtifactKind.USE,
    "waivers": ArtifactKind.WAIVER,
}
"""Manifest sections, in the order that references allow (agreements before generations, …)."""


def kind_of(entity: Entity) -> ArtifactKind:
    """The artifact kind of an entity."""
    return KIND_OF[type(entity)]


def from_payload(kind: ArtifactKind, entity_id: str, payload: dict[str, Any]) -> Entity:
    """Rebuild the entity a chained payload was made from."""
    model: Any = MODEL_OF[kind]
    entity: Entity = model.model_validate({"id": entity_id, **payload})
    return entity
