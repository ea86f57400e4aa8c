"""Self-identification signatures: the bundled file, the labeled set, bad files, and the Arrow path.

Run as a script to print the precision/recall table of docs/self-id.md, or with `--write-docs` to
replace it there:

    .venv/bin/python tests/scan/test_selfid.py --write-docs
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from policyengine import codes
from policyengine.diagnostics import PolicyEngineError
from policyengine.scan.selfid import BUNDLED_SIGNATURES, Signatures

ROOT = Path(__file__).resolve().parent.parent.parent
LABELED = ROOT / "tests" / "data" / "selfid-labeled.jsonl"
DOC = ROOT / "docs" / "self-id.md"
TABLE_START = "<!-- selfid-table:start -->"
TABLE_END = "<!-- selfid-table:end -->"

# Self-identifications the signatures do not catch, on purpose or not yet: each stays an expected
# failure until it is caught (strict xfail), and docs/self-id.md lists them.
KNOWN_MISSES = {
    "As Grok, I'm designed": "a name that is also a word needs a cue or a version after it",
    "Hello, this is Bing.": "`this is NAME` is not a frame: it is too common in human text",
}


def load_rows() -> list[dict[str, str | None]]:
    """The labeled examples, in file order."""
    with LABELED.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


ROWS = load_rows()


@pytest.fixture(scope="module")
def signatures() -> Signatures:
    return Signatures.load(BUNDLED_SIGNATURES)


# ------------------------------------------------------------------------------------ bundled


def test_bundled_signatures_load_and_name_rule_packs(signatures: Signatures) -> None:
    """The shipped file compiles, and every provider id is the id of a rule pack under rules/."""
    packs = {
        yaml.safe_load(p.read_text(encoding="utf-8"))["pack"]["id"]
        for p in (ROOT / "rules").glob("*/pack.yaml")
    }
    assert len(signatures.providers) >= 13
    assert sorted(set(signatures.providers) - packs) == []


def test_signature_folder_is_not_a_rule_pack() -> None:
    """rules/self-id has no pack.yaml, so the rule loader never reads the signature file."""
    assert BUNDLED_SIGNATURES.parent.parent == ROOT / "rules"
    assert not (BUNDLED_SIGNATURES.parent / "pack.yaml").exists()


def test_every_provider_cites_https_sources() -> None:
    """Each provider entry says where its phrasing is documented, with an https URL."""
    data = yaml.safe_load(BUNDLED_SIGNATURES.read_text(encoding="utf-8"))
    for provider in data["providers"]:
        assert provider["sources"], provider["id"]
        for source in provider["sources"]:
            assert re.match(r"^https://\S+$", source["url"]), provider["id"]
            assert source["shows"].strip(), provider["id"]


# ------------------------------------------------------------------------------------ labeled


def test_labeled_set_is_well_formed(signatures: Signatures) -> None:
    """At least 300 distinct examples: 120 self-identifications across providers, 100 look-alikes, 80 clean."""
    kinds = Counter(row["kind"] for row in ROWS)
    assert len(ROWS) >= 300
    assert kinds["self_id"] >= 120
    assert kinds["look_alike"] >= 100
    assert kinds["clean"] >= 80
    assert set(kinds) == {"self_id", "look_alike", "clean"}
    assert len({row["text"] for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert set(row) == {"text", "label", "kind", "note"}
        assert (row["label"] is not None) == (row["kind"] == "self_id"), row["text"]
    labels = {row["label"] for row in ROWS if row["label"]}
    assert labels == set(signatures.providers)


def _row_param(index: int, row: dict[str, str | None]) -> object:
    text = str(row["text"])
    miss = next((why for start, why in KNOWN_MISSES.items() if text.startswith(start)), None)
    marks = [pytest.mark.xfail(strict=True, reason=miss)] if miss else []
    return pytest.param(row, id=f"{index:03d}-{row['kind']}-{row['label'] or 'none'}", marks=marks)


@pytest.mark.parametrize("row", [_row_param(i, row) for i, row in enumerate(ROWS)])
def test_labeled_example(signatures: Signatures, row: dict[str, str | None]) -> None:
    """Each labeled text is detected as its provider, or as nothing when it is a look-alike or clean."""
    assert signatures.detect([row["text"]]) == [row["label"]], signatures.evidence(str(row["text"]))


@dataclass(frozen=True)
class Score:
    """Precision and recall of one slice of the labeled set."""

    name: str
    examples: int
    true_pos: int
    false_pos: int
    false_neg: int

    @property
    def precision(self) -> float:
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 1.0


def score(name: str, rows: list[dict[str, str | None]], found: list[str | None]) -> Score:
    """A detection is right when it names the labeled provider; naming another one is wrong twice."""
    tp = sum(1 for r, f in zip(rows, found, strict=True) if f is not None and f == r["label"])
    fp = sum(1 for r, f in zip(rows, found, strict=True) if f is not None and f != r["label"])
    fn = sum(1 for r, f in zip(rows, found, strict=True) if r["label"] and f != r["label"])
    return Score(name, len(rows), tp, fp, fn)


def scores(signatures: Signatures) -> list[Score]:
    """Overall, per kind and per labeled provider."""
    found = signatures.detect(str(r["text"]) for r in ROWS)
    pairs = list(zip(ROWS, found, strict=True))
    result = [score("all", ROWS, found)]
    for kind in ("self_id", "look_alike", "clean"):
        picked = [(r, f) for r, f in pairs if r["kind"] == kind]
        result.append(score(f"kind: {kind}", [r for r, _ in picked], [f for _, f in picked]))
    for provider in signatures.providers:
        # A provider's slice: its own examples plus every text it was (wrongly) detected in.
        picked = [(r, f) for r, f in pairs if provider in (r["label"], f)]
        result.append(
            score(f"provider: {provider}", [r for r, _ in picked], [f for _, f in picked])
        )
    return result


def table(signatures: Signatures) -> str:
    """The Markdown table docs/self-id.md shows."""
    lines = [
        "| slice | examples | true pos. | false pos. | missed | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores(signatures):
        lines.append(
            f"| {s.name} | {s.examples} | {s.true_pos} | {s.false_pos} | {s.false_neg} "
            f"| {s.precision:.3f} | {s.recall:.3f} |"
        )
    return "\n".join(lines)


def test_precision_and_recall_on_the_labeled_set(signatures: Signatures) -> None:
    """Overall precision at least 0.98 and recall at least 0.95; look-alikes and clean texts never match."""
    overall, _self_id, look_alike, clean = scores(signatures)[:4]
    print(f"\nprecision {overall.precision:.3f}, recall {overall.recall:.3f} on {overall.examples}")
    assert overall.precision >= 0.98
    assert overall.recall >= 0.95
    assert look_alike.false_pos == 0
    assert clean.false_pos == 0


def test_docs_table_matches_the_measured_figures(signatures: Signatures) -> None:
    """docs/self-id.md shows exactly the table measured now (regenerate with --write-docs)."""
    text = DOC.read_text(encoding="utf-8")
    shown = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert shown == table(signatures), (
        "run `.venv/bin/python tests/scan/test_selfid.py --write-docs`"
    )


# ------------------------------------------------------------------------------ API behaviour


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param("   \n", None, id="blank"),
        pytest.param("I'm ChatGPT.", "openai", id="plain"),
        pytest.param("I AM CLAUDE, AN AI ASSISTANT.", "anthropic", id="upper-case"),
    ],
)
def test_detect_handles_missing_and_plain_texts(
    signatures: Signatures, text: str | None, expected: str | None
) -> None:
    """None and empty texts are None; matching ignores case."""
    assert signatures.detect([text]) == [expected]


def test_evidence_names_provider_and_phrase(signatures: Signatures) -> None:
    """Evidence is the provider and the exact phrase, for reports; None when nothing matches."""
    text = "Sure. I'm Kimi, an AI assistant created by Moonshot AI. Here is the summary."
    provider, phrase = signatures.evidence(text) or ("", "")
    assert provider == "moonshot"
    assert phrase.startswith("I'm Kimi")
    assert phrase in text
    assert signatures.evidence("The weather is fine.") is None


def test_a_quoted_candidate_does_not_hide_a_later_self_identification(
    signatures: Signatures,
) -> None:
    """Matching goes on after a quoted phrase, so a real self-identification later still counts."""
    text = 'People often write "I am ChatGPT" in jokes. I am Qwen, created by Alibaba Cloud.'
    assert signatures.detect([text]) == ["alibaba"]


def _arrow_texts() -> list[str | None]:
    return [str(r["text"]) for r in ROWS] + [None, "", "I'm Grok, built by xAI."]


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda xs: pa.array(xs, pa.string()), id="string"),
        pytest.param(lambda xs: pa.array(xs, pa.large_string()), id="large_string"),
        pytest.param(lambda xs: pa.chunked_array([xs[:100], xs[100:]], pa.string()), id="chunked"),
    ],
)
def test_detect_arrow_agrees_with_detect(signatures: Signatures, build: object) -> None:
    """The RE2-prefiltered Arrow path returns what detect returns, row for row, nulls included."""
    texts = _arrow_texts()
    result = signatures.detect_arrow(build(texts))  # type: ignore[operator]
    assert result.type == pa.string()
    assert result.to_pylist() == signatures.detect(texts)


def test_detect_arrow_on_an_all_null_array(signatures: Signatures) -> None:
    """An array of nulls (Arrow type `null`) gives a string array of nulls."""
    result = signatures.detect_arrow(pa.nulls(3))
    assert result.type == pa.string()
    assert result.to_pylist() == [None, None, None]


def test_detect_arrow_refuses_non_strings(signatures: Signatures) -> None:
    """Numbers are a programming error, not text to scan."""
    with pytest.raises(TypeError, match="takes strings"):
        signatures.detect_arrow(pa.array([1, 2]))


# ------------------------------------------------------------------------------------ bad files

VALID = """\
version: 1
vocabulary:
  ai_noun: '(?:AI|model)'
  verb: '(?:made|built)'
  cue: '(?:\\bAI\\b)'
  version: '\\s?\\d+'
  reporting_verb: '(?:said)'
frames:
  name:
    - pattern: '\\bI\\s+am\\s+<<name>>'
      example: "I am Acme Bot"
  company:
    - pattern: '\\bI\\s+was\\s+<<verb>>\\s+by\\s+<<company>>'
      example: "I was built by Acme Labs"
providers:
  - id: acme
    names: [Acme Bot]
    common_names: [Ace]
    companies: [Acme Labs]
    sources:
      - url: https://example.com/acme
        shows: a made-up provider for tests
    examples:
      - "I am Acme Bot."
      - "I am Ace, an AI."
counter_examples:
  - "Acme Bot is a chatbot."
"""

SECOND = """\
  - id: acme
    names: [Other]
    sources:
      - url: https://example.com/other
        shows: another entry
    examples:
      - "I am Other."
"""


@dataclass(frozen=True)
class Bad:
    """One change to VALID and the diagnostic it must give, at the first `at` in the changed text."""

    old: str
    new: str
    code: str
    at: str
    help: str


BAD = {
    "unknown-provider-key": Bad(
        "    names: [Acme Bot]",
        "    nmes: [Acme Bot]",
        codes.SIGNATURE_UNKNOWN_KEY,
        "nmes",
        "`names`",
    ),
    "unknown-top-level-key": Bad(
        "counter_examples:",
        "counter_exemples:",
        codes.SIGNATURE_UNKNOWN_KEY,
        "counter_exemples",
        "counter_examples",
    ),
    "missing-sources": Bad(
        "    sources:\n      - url: https://example.com/acme\n        shows: a made-up provider for tests\n",
        "",
        codes.SIGNATURE_MISSING_KEY,
        "id: acme",
        "`sources`",
    ),
    "http-url": Bad(
        "https://example.com/acme",
        "http://example.com/acme",
        codes.SIGNATURE_BAD_VALUE,
        "http://",
        "https://",
    ),
    "bad-regex": Bad(
        "'\\bI\\s+am\\s+<<name>>'",
        "'\\bI\\s+(am\\s+<<name>>'",
        codes.SIGNATURE_BAD_REGEX,
        "'\\bI\\s+(am",
        "brackets",
    ),
    "capturing-group": Bad(
        "'\\bI\\s+am\\s+<<name>>'",
        "'\\bI\\s+(am)\\s+<<name>>'",
        codes.SIGNATURE_UNSUPPORTED_REGEX,
        "'\\bI\\s+(am)",
        "(?:...)",
    ),
    "lookahead-in-provider-pattern": Bad(
        "    companies: [Acme Labs]\n",
        "    companies: [Acme Labs]\n    patterns: ['\\bAcme(?!\\s+Labs)']\n",
        codes.SIGNATURE_UNSUPPORTED_REGEX,
        "'\\bAcme(?!",
        "RE2",
    ),
    "unknown-placeholder": Bad(
        "<<verb>>\\s+by",
        "<<verbs>>\\s+by",
        codes.SIGNATURE_PLACEHOLDER,
        "'\\bI\\s+was",
        "`<<verb>>`",
    ),
    "frame-without-hole": Bad(
        "'\\bI\\s+am\\s+<<name>>'",
        "'\\bI\\s+am\\s+Acme'",
        codes.SIGNATURE_PLACEHOLDER,
        "'\\bI\\s+am\\s+Acme'",
        "`<<name>>`",
    ),
    "missing-vocabulary": Bad(
        "  reporting_verb: '(?:said)'\n",
        "",
        codes.SIGNATURE_MISSING_KEY,
        "ai_noun",
        "reporting_verb",
    ),
    "duplicate-provider": Bad(
        "counter_examples:",
        SECOND + "counter_examples:",
        codes.SIGNATURE_DUPLICATE,
        "acme\n    names: [Other]",
        "merge",
    ),
    "name-claimed-twice": Bad(
        "counter_examples:",
        SECOND.replace("id: acme", "id: other").replace("[Other]", "[acme bot]")
        + "counter_examples:",
        codes.SIGNATURE_DUPLICATE,
        "acme bot]",
        "one provider",
    ),
    "example-not-detected": Bad(
        '"I am Acme Bot."',
        '"Hello from Acme Bot."',
        codes.SIGNATURE_EXAMPLE,
        '"Hello from',
        "examples are checked",
    ),
    "counter-example-detected": Bad(
        '"Acme Bot is a chatbot."',
        '"I am Acme Bot, honestly."',
        codes.SIGNATURE_EXAMPLE,
        '"I am Acme Bot, honestly',
        "examples are checked",
    ),
    "frame-example-mismatch": Bad(
        'example: "I am Acme Bot"',
        'example: "You are Acme Bot"',
        codes.SIGNATURE_EXAMPLE,
        '"You are',
        "examples are checked",
    ),
    "yaml-syntax": Bad(
        "    names: [Acme Bot]", "    names: [Acme Bot", codes.YAML_SYNTAX, "", "brackets"
    ),
}


def _position(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


@pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))
def test_bad_signature_file_gives_code_position_and_help(bad: Bad) -> None:
    """Each defect is one error with its code, the file:line:col of the offending text, and a fix."""
    assert bad.old in VALID
    text = VALID.replace(bad.old, bad.new, 1)
    with pytest.raises(PolicyEngineError) as raised:
        Signatures.from_text(text, "sig.yaml")
    found = [d for d in raised.value.diagnostics if d.code == bad.code]
    assert len(found) == 1, [d.render() for d in raised.value.diagnostics]
    diagnostic = found[0]
    if bad.at:
        line, column = _position(text, bad.at)
        assert str(diagnostic.location) == f"sig.yaml:{line}:{column}"
    assert diagnostic.location.line > 0
    assert bad.help in diagnostic.help
    assert not diagnostic.message[0].isupper()
    assert not diagnostic.message.endswith(".")


def test_valid_signature_file_compiles() -> None:
    """The base of the table above is itself valid, so each row tests one defect."""
    assert Signatures.from_text(VALID, "sig.yaml").detect(["I was built by Acme Labs"]) == ["acme"]


def test_missing_file_is_reported_with_its_path(tmp_path: Path) -> None:
    """A path that does not exist is PE101 naming the path."""
    with pytest.raises(PolicyEngineError) as raised:
        Signatures.load(tmp_path / "nope.yaml")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == codes.FILE_NOT_FOUND
    assert "nope.yaml" in diagnostic.message


if __name__ == "__main__":
    rendered = table(Signatures.load(BUNDLED_SIGNATURES))
    if sys.argv[1:] == ["--write-docs"]:
        head, rest = DOC.read_text(encoding="utf-8").split(TABLE_START, 1)
        tail = rest.split(TABLE_END, 1)[1]
        DOC.write_text(f"{head}{TABLE_START}\n{rendered}\n{TABLE_END}{tail}", encoding="utf-8")
    print(rendered)
