"""Options that describe the intended use and the target, shared by `check`, `report` and `scan`.

Each option overrides one target fact for a what-if question ("what if we release it as open
weights?") without writing anything to the ledger. ``target_overrides`` turns the parsed options
into plain ``{fact name: value}`` data that :meth:`policyengine.facts.Facts.parse` checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from policyengine.facts import Activity, Release, TargetKind

F = TypeVar("F", bound=Callable[..., Any])

ACTIVITIES = tuple(a.value for a in Activity)
NO_COMPETITORS = "none"
"""`--competes-with none`: recorded as competing with nobody (an empty set, not unknown)."""


def use_option(function: F) -> F:
    """`--use ACTIVITY`, required."""
    return click.option(
        "--use",
        "use",
        required=True,
        type=click.Choice(ACTIVITIES),
        help="What the outputs are used for.",
    )(function)


def target_options(function: F) -> F:
    """The what-if flags: each one, when given, replaces the recorded target fact."""
    options = [
        click.option(
            "--kind",
            "target_kind",
            type=click.Choice([k.value for k in TargetKind]),
            help="Whether the target is a model or a dataset.",
        ),
        click.option("--name", "target_name", metavar="NAME", help="Name the target ships under."),
        click.option(
            "--release",
            "target_release",
            type=click.Choice([r.value for r in Release]),
            help="How the target is (or will be) released.",
        ),
        click.option(
            "--commercial/--non-commercial",
            "target_commercial",
            default=None,
            help="Whether the target is used commercially.",
        ),
        click.option(
            "--competes-with",
            "target_competes_with",
            metavar="PROVIDERS",
            help=f"Comma-separated provider ids the target competes with (`{NO_COMPETITORS}`: "
            "with nobody).",
        ),
        click.option(
            "--base-model", "target_base_model", metavar="MODEL", help="The model it starts from."
        ),
        click.option(
            "--notice",
            "target_notices",
            metavar="TEXT",
            multiple=True,
            help="An attribution notice the release carries (repeat for several).",
        ),
        click.option(
            "--mau",
            "org_mau",
            type=click.IntRange(min=0),
            metavar="N",
            help="Monthly active users of the releasing organisation.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def as_of_option(function: F) -> F:
    """`--as-of DATE`: the day the decision is made for."""
    return click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(["%Y-%m-%d"]),
        help="Decide as of this day (default: today); waivers expire relative to it.",
    )(function)


_FACTS = {
    "target_kind": "target.kind",
    "target_name": "target.name",
    "target_release": "target.release",
    "target_commercial": "target.commercial",
    "target_base_model": "target.base_model",
    "org_mau": "org.monthly_active_users",
}


def target_overrides(options: dict[str, Any]) -> dict[str, object]:
    """The target facts the flags in ``options`` set, as plain data (absent flags set nothing).

    Raises click.BadParameter for a provider list that is not comma-separated ids.
    """
    found: dict[str, object] = {
        fact: options[key] for key, fact in _FACTS.items() if options.get(key) is not None
    }
    competes = options.get("target_competes_with")
    if competes is not None:
        found["target.competes_with"] = _providers(competes)
    notices = options.get("target_notices")
    if notices:
        found["target.notices"] = list(notices)
    return found


def _providers(text: str) -> list[str]:
    if text.strip() == NO_COMPETITORS:
        return []
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise click.BadParameter(
            f"`{text}` has an empty item; write ids separated by commas, e.g. `openai,google`",
            param_hint="'--competes-with'",
        )
    return items


def as_of_day(as_of: dt.datetime | None, today: dt.date) -> dt.date:
    """The day given by `--as-of`, else ``today`` (read from the clock by the caller)."""
    return as_of.date() if as_of is not None else today
