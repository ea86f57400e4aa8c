"""Field maps: defaults, `--field` options and profiles, with errors at file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from policyengine.diagnostics import PolicyEngineError
from policyengine.scan import fields
from policyengine.scan.columns import PathConflict, json_schema


def test_defaults_read_top_level_keys() -> None:
    """Without options every field is the top-level key of its own name."""
    assert fields.DEFAULT.describe() == {name: name for name in fields.FIELDS}


@pytest.mark.parametrize(
    ("dotted", "path"),
    [
        ("provider", ("provider",)),
        ("meta.source.provider", ("meta", "source", "provider")),
        ("messages.-1.content", ("messages", -1, "content")),
    ],
    ids=["top level", "nested", "list position"],
)
def test_paths_parse(dotted: str, path: tuple[str | int, ...]) -> None:
    """Dots walk objects; integers walk lists."""
    assert fields.parse_path(dotted) == path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("provider", "is not NAME=PATH"),
        ("vendor=x", "unknown field `vendor`"),
        ("provider=", "the path is empty"),
        ("provider=a..b", "empty segment"),
        ("provider=0.a", "starts with a list index"),
    ],
    ids=["no equals", "unknown field", "empty path", "empty segment", "index first"],
)
def test_bad_field_options_are_pe603(spec: str, message: str) -> None:
    """Each bad `--field` is a PE603 diagnostic saying what is wrong."""
    with pytest.raises(PolicyEngineError) as raised:
        fields.from_options([spec])
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "PE603"
    assert message in diagnostic.message


def test_unknown_field_suggests_the_closest() -> None:
    """A misspelt field name gets a did-you-mean."""
    with pytest.raises(PolicyEngineError) as raised:
        fields.from_options(["provder=x"])
    assert "did you mean `provider`?" in raised.value.diagnostics[0].help


CONFIG = textwrap.dedent(
    """\
    profiles:
      chat:
        provider: meta.source.provider
        model: meta.source.model
        text: messages.-1.content
      flat:
        provider: vendor
    """
)


def test_profiles_set_paths_and_options_override_them() -> None:
    """A profile sets its fields; the rest keep defaults; `--field` wins over the profile."""
    chat = fields.from_profile(CONFIG, "scan.yaml", "chat")
    assert chat.describe()["model"] == "meta.source.model"
    assert chat.describe()["channel"] == "channel"
    final = fields.from_options(["model=m"], chat)
    assert final.describe()["model"] == "m"
    assert final.describe()["provider"] == "meta.source.provider"


@pytest.mark.parametrize(
    ("text", "profile", "code", "where", "message"),
    [
        (CONFIG, "chta", "PE604", "scan.yaml:1:1", "no profile `chta`"),
        (
            "profiles:\n  chat:\n    provder: x\n",
            "chat",
            "PE603",
            "scan.yaml:3:5",
            "unknown field `provder`",
        ),
        (
            "profiles:\n  chat:\n    provider: [a]\n",
            "chat",
            "PE603",
            "scan.yaml:3:15",
            "takes a dotted path",
        ),
        ("profile:\n  chat: {}\n", "chat", "PE604", "scan.yaml:1:1", "maps `profiles`"),
        (
            "profiles:\n  chat:\n    provider: a\n    provider: b\n",
            "chat",
            "PE105",
            "scan.yaml:4:5",
            "twice",
        ),
        ("profiles: [\n", "chat", "PE103", "scan.yaml:2:1", "invalid YAML"),
    ],
    ids=[
        "unknown profile",
        "unknown field",
        "path not text",
        "wrong top key",
        "duplicate key",
        "yaml syntax",
    ],
)
def test_bad_config_files_point_at_the_line(
    text: str, profile: str, code: str, where: str, message: str
) -> None:
    """Config errors carry their code, position and message."""
    with pytest.raises(PolicyEngineError) as raised:
        fields.from_profile(text, "scan.yaml", profile)
    diagnostic = raised.value.diagnostics[0]
    assert (diagnostic.code, str(diagnostic.location)) == (code, where)
    assert message in diagnostic.message


def test_unknown_profile_lists_the_profiles_there_are() -> None:
    """The help names the profiles the file has and the closest one."""
    with pytest.raises(PolicyEngineError) as raised:
        fields.from_profile(CONFIG, "scan.yaml", "chta")
    assert "did you mean `chat`?" in raised.value.diagnostics[0].help
    assert "`flat`" in raised.value.diagnostics[0].help


def test_paths_that_read_one_key_two_ways_conflict() -> None:
    """`meta` as an object for one field and as text for another cannot be parsed at once."""
    mapping = fields.from_options(["provider=meta", "model=meta.model"])
    with pytest.raises(PathConflict):
        json_schema(mapping)
