"""Hugging Face model and dataset cards → ledger entities.

A card's YAML front matter (between the leading ``---`` lines of its README.md) names the base
models, the relation to them, the training datasets and the licence. Models and datasets the card
names that the ledger does not hold yet are recorded as stubs: their name, and a provider only where
the publishing organisation is unambiguous. A licence that cannot be resolved is recorded as
``unknown`` with a warning, never defaulted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pydantic
import yaml

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError, Severity
from policyengine.ledger import entities as e
from policyengine.ledger.licenses import UNKNOWN_LICENSE, license_ref, resolve
from policyengine.ledger.validation import from_pydantic
from policyengine.lineage import ArtifactKind

CardKind = Literal["model", "dataset"]

ORGANISATIONS: Final = {
    "meta-llama": "meta",
    "facebook": "meta",
    "deepseek-ai": "deepseek",
    "google": "google",
    "mistralai": "mistral",
    "qwen": "alibaba",
    "microsoft": "microsoft",
    "nvidia": "nvidia",
    "allenai": "ai2",
    "coherelabs": "cohere",
    "cohereforai": "cohere",
    "openai": "openai",
    "moonshotai": "moonshot",
    "minimaxai": "minimax",
    "xai-org": "xai",
}
"""Hub organisations whose models are published by one provider of the vocabulary."""

_DATASET_KEYS: Final = frozenset(
    {
        "task_categories",
        "size_categories",
        "dataset_info",
        "configs",
        "pretty_name",
        "source_datasets",
    }
)


@dataclass
class Card:
    """What a card says, resolved into entities to record (stubs first, the card's own last)."""

    kind: CardKind
    entities: list[e.Entity] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def front_matter(text: str, name: str) -> dict[str, Any]:
    """The YAML mapping between a card's leading ``---`` lines; PE419 when there is none."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise _no_front_matter(name, 1, "the card does not start with a `---` line")
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        raise _no_front_matter(name, 1, "the front matter has no closing `---` line")
    try:
        data = yaml.load(
            "\n".join(lines[1:end]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise _no_front_matter(
            name, line, f"the front matter is not valid YAML: {getattr(error, 'problem', error)}"
        ) from None
    if not isinstance(data, dict):
        raise _no_front_matter(name, 2, "the front matter is not a mapping")
    return data


def read_card(
    data: Mapping[str, Any],
    *,
    name: str,
    where: str,
    version: str | None,
    kind: CardKind | None,
    known: Callable[[list[str]], Mapping[str, ArtifactKind]],
) -> Card:
    """Entities for a card's front matter. ``known`` answers which ids the ledger already holds."""
    card = Card(kind or ("dataset" if _DATASET_KEYS & set(data) else "model"))
    license_id = _licence(data, card, where)
    try:
        if card.kind == "model":
            _model(data, name, version, license_id, card, known)
        else:
            _dataset(data, name, version, license_id, card, known)
    except pydantic.ValidationError as error:
        raise PolicyEngineError(from_pydantic(error, lambda _path: Location(where))) from None
    return card


def _model(
    data: Mapping[str, Any],
    name: str,
    version: str | None,
    license_id: str,
    card: Card,
    known: Callable[[list[str]], Mapping[str, ArtifactKind]],
) -> None:
    bases = _names(data.get("base_model")) or _tagged(data, "base_model:")
    datasets = _names(data.get("datasets")) or _tagged(data, "dataset:")
    present = known([*bases, *datasets])
    card.entities += [_stub_model(b) for b in bases if b not in present]
    card.entities += [_stub_dataset(d) for d in datasets if d not in present]
    model_id = _id(name if version is None else f"{name}@{version}")
    run = None
    if datasets:
        run = e.Run(
            id=f"{model_id}/training",
            datasets=[_id(d) for d in datasets],
            base_model=_id(bases[0]) if len(bases) == 1 else None,
        )
        card.entities.append(run)
    relation = data.get("base_model_relation") or _relation_tag(data)
    card.entities.append(
        e.Model(
            id=model_id,
            name=str(data.get("model_name") or name),
            version=version,
            run=run.id if run else None,
            base_models=[_id(b) for b in bases],
            base_model_relation=e.ModelRelation(relation) if relation in _RELATIONS else None,
            license=license_id,
            license_link=_text(data.get("license_link")),
        )
    )


def _dataset(
    data: Mapping[str, Any],
    name: str,
    version: str | None,
    license_id: str,
    card: Card,
    known: Callable[[list[str]], Mapping[str, ArtifactKind]],
) -> None:
    sources = [s for s in _names(data.get("source_datasets")) if s not in ("original", "extended")]
    present = known(sources)
    card.entities += [_stub_dataset(s) for s in sources if s not in present]
    card.entities.append(
        e.Dataset(
            id=_id(f"{name}@{version or 'main'}"),
            name=str(data.get("pretty_name") or name),
            version=version or "main",
            license=license_id,
            inputs=[e.DatasetInput(dataset=_id(s)) for s in sources],
        )
    )


_RELATIONS: Final = frozenset(r.value for r in e.ModelRelation)


def _licence(data: Mapping[str, Any], card: Card, where: str) -> str:
    raw = data.get("license") or next(iter(_tagged(data, "license:")), None)
    if isinstance(raw, list):
        raw = " OR ".join(str(x) for x in raw)
    if raw == "other" and data.get("license_name"):
        return license_ref(str(data["license_name"]))
    resolved = resolve(None if raw is None else str(raw))
    if resolved == UNKNOWN_LICENSE:
        said = "names no licence" if raw is None else f"licence `{raw}` is not an SPDX id"
        card.diagnostics.append(
            Diagnostic(
                codes.LEDGER_LICENSE,
                f"the card {said}; recorded as `unknown`",
                Location(where),
                help="add `license:` (an SPDX id, or `other` with `license_name`) to the card",
                severity=Severity.WARNING,
            )
        )
    return resolved


def _stub_model(hub_id: str) -> e.Model:
    organisation = hub_id.split("/")[0].lower() if "/" in hub_id else ""
    return e.Model(id=_id(hub_id), name=hub_id, provider=ORGANISATIONS.get(organisation))


def _stub_dataset(hub_id: str) -> e.Dataset:
    return e.Dataset(id=_id(hub_id), name=hub_id, version="main")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)]
    return []


def _tagged(data: Mapping[str, Any], prefix: str) -> list[str]:
    """Values of tags like ``base_model:finetune:org/name`` (the last segment is the name)."""
    tags = data.get("tags")
    found = [
        t.split(":")[-1]
        for t in (tags if isinstance(tags, list) else [])
        if isinstance(t, str) and t.startswith(prefix)
    ]
    return list(dict.fromkeys(found))


def _relation_tag(data: Mapping[str, Any]) -> str | None:
    tags = data.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        parts = str(tag).split(":")
        if len(parts) == 3 and parts[0] == "base_model" and parts[1] in _RELATIONS:
            return parts[1]
    return None


def _text(value: Any) -> str | None:
    return str(value)[:500] if value else None


def _id(name: str) -> str:
    """A ledger id for a Hub name (characters the ledger does not allow become ``-``)."""
    return "".join(c if c.isalnum() or c in "_.@/+-" else "-" for c in name).lstrip("_.@/+-")[:200]


def _no_front_matter(name: str, line: int, message: str) -> PolicyEngineError:
    return PolicyEngineError(
        [
            Diagnostic(
                codes.LEDGER_NO_FRONT_MATTER,
                message,
                Location(name, line, 1),
                help="a card begins with YAML front matter between two `---` lines",
            )
        ]
    )
