"""`scan --detect-self-id`: texts that say which provider's model wrote them, against provenance.

Declared human or another provider: blocked for review (PE616) with the phrase in the reason;
declared the same provider: unchanged; no provenance: attributed to the provider named. Nothing is
lost, look-alikes pass, and without the flag nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from policyengine import api, codes
from policyengine.cli.main import cli
from policyengine.facts import Facts
from policyengine.scan.selfid import BUNDLED_SIGNATURES
from policyengine.textdigest import digest

from .conftest import DEEPSEEK, ROOT, Scan, jsonl_bytes, read_jsonl, write_parquet

HUMAN = {"provider": "human", "license": "CC0-1.0"}
"""Human-written and CC0: allowed for any use, so only self-identification can block it."""

SHARD = ROOT / "examples" / "shards" / "self-id.jsonl"
LABELED = ROOT / "tests" / "data" / "selfid-labeled.jsonl"
TARGET_FLAGS = ["--competes-with", "openai", "--base-model", "llama-3.1-8b"]

# id → (text, provenance, where it goes with the flag, self-identification status or None)
CASES: dict[str, tuple[str, Mapping[str, str], str, str | None]] = {
    "human-plain": ("Photosynthesis turns light into glucose.", HUMAN, "allowed", None),
    "human-as-openai": (
        "As an AI language model trained by OpenAI, I cannot browse the internet.",
        HUMAN,
        "blocked",
        "contradicting",
    ),
    "human-as-alibaba": (
        "我是通义千问，由阿里云开发的大语言模型。",
        HUMAN,
        "blocked",
        "contradicting",
    ),
    "deepseek-as-anthropic": (
        "I'm Claude, made by Anthropic. The roots are 2 and 3.",
        DEEPSEEK,
        "blocked",
        "contradicting",
    ),
    "deepseek-as-deepseek": (
        "Hi! I'm DeepSeek-R1, an AI assistant created by DeepSeek. The speed is 80 km/h.",
        DEEPSEEK,
        "allowed",
        "consistent",
    ),
    "anon-as-openai": (
        "Hello! I'm ChatGPT, a large language model trained by OpenAI.",
        {},
        "blocked",
        "attributed",
    ),
    "human-server-claude": (
        "Hi, I'm Claude, and I'll be your server tonight.",
        HUMAN,
        "allowed",
        None,
    ),
    "human-third-person": (
        "ChatGPT is a model trained by OpenAI; the article compares it with Claude.",
        HUMAN,
        "allowed",
        None,
    ),
    "human-quoted": (
        'The bot replied: "I am ChatGPT, a model by OpenAI." We laughed.',
        HUMAN,
        "allowed",
        None,
    ),
    "anon-plain": ("Step 1: factor the quadratic.", {}, "blocked", None),
}


def rows() -> list[dict[str, Any]]:
    """The cases as records, in CASES order."""
    return [{"id": name, "text": text, **fields} for name, (text, fields, _, _) in CASES.items()]


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    """``records`` as JSON Lines or Parquet (every provenance column present, as text)."""
    if path.suffix == ".jsonl":
        path.write_bytes(jsonl_bytes(records))
        return path
    names = ["id", "text", *DEEPSEEK, "license"]
    schema = pa.schema([(name, pa.string()) for name in names])
    return write_parquet(path, [{n: r.get(n) for n in names} for r in records], schema)


def read(path: Path) -> list[dict[str, Any]]:
    """The records of an output, whatever its format."""
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    return pq.read_table(path).to_pylist()


@pytest.fixture(params=[".jsonl", ".parquet"])
def suffix(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("flag", [True, False], ids=["detect", "no flag"])
def test_records_are_routed_and_none_is_lost(
    scan: Scan, tmp_path: Path, suffix: str, flag: bool
) -> None:
    """Contradicting and attributed records are blocked, the rest as without the flag."""
    shard = write(tmp_path / f"s{suffix}", rows())
    allowed, blocked = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    report = scan(shard, allowed=allowed, blocked=blocked, detect_self_id=flag)
    passed = [r["id"] for r in read(allowed)]
    stopped = [r["id"] for r in read(blocked)]
    assert sorted(passed + stopped) == sorted(CASES)
    expected = [
        name
        for name, (_, fields, where, _) in CASES.items()
        if where == "allowed" or (not flag and fields)  # without the flag: by provenance alone
    ]
    assert passed == [name for name in CASES if name in expected]
    assert report.allowed == len(passed)
    assert report.blocked == len(stopped)
    assert (report.self_id is not None) == flag


def test_contradictions_are_blocked_for_review_naming_provider_and_phrase(
    scan: Scan, tmp_path: Path, suffix: str
) -> None:
    """`_policy`: needs_review, the provider detected and declared, the phrase, the line."""
    shard = write(tmp_path / f"s{suffix}", rows())
    blocked = tmp_path / f"b{suffix}"
    scan(shard, blocked=blocked, detect_self_id=True)
    policies = {r["id"]: r["_policy"] for r in read(blocked)}
    line = {name: i for i, name in enumerate(CASES, 1)}
    expected = {
        "human-as-openai": (
            "the text identifies a model of `openai`, but the record declares provider `human`; "
            "the text says `As an AI language model trained by OpenAI, I`"
        ),
        "human-as-alibaba": (
            "the text identifies a model of `alibaba`, but the record declares provider `human`; "
            "the text says `我是通义千问`"
        ),
        "deepseek-as-anthropic": (
            "the text identifies a model of `anthropic`, but the record declares provider "
            "`deepseek`; the text says `I'm Claude, made by Anthropic`"
        ),
    }
    for name, reason in expected.items():
        assert policies[name]["verdict"] == "needs_review"
        assert policies[name]["rules"] == []
        assert policies[name]["reason"] == reason
        assert policies[name]["line"] == line[name]


def test_unprovenanced_text_is_attributed_to_the_provider_it_names(
    scan: Scan, tmp_path: Path
) -> None:
    """The provider named becomes the record's provider, model unknown: the rules ask for review."""
    shard = write(tmp_path / "s.jsonl", rows())
    blocked = tmp_path / "b.jsonl"
    report = scan(shard, blocked=blocked, detect_self_id=True)
    policy = {r["id"]: r["_policy"] for r in read_jsonl(blocked)}["anon-as-openai"]
    assert policy["verdict"] == "needs_review"
    assert policy["reason"].startswith("provider `openai` attributed by self-identification; ")
    assert policy["reason"].endswith("; the text says `I'm ChatGPT`")
    [row] = [p for p in report.provenance if p.self_id == "openai" and p.provider == "openai"]
    assert (row.model, row.records, row.problem) == (None, 1, None)
    assert [s.records for s in report.providers if s.name == "openai"] == [1]
    assert report.problems["missing"] == 1  # only the plain text without provenance


@pytest.mark.parametrize("on_unknown", ["allow", "review", "deny"])
def test_contradictions_need_review_whatever_on_unknown_says(
    scan: Scan, tmp_path: Path, on_unknown: str
) -> None:
    """`--on-unknown` does not apply to a contradiction, nor lets an attributed record pass."""
    shard = write(tmp_path / "s.jsonl", rows())
    report = scan(shard, detect_self_id=True, on_unknown=on_unknown)
    by_self_id = {(p.provider, p.self_id): p.verdict for p in report.provenance if p.self_id}
    assert by_self_id == {
        ("human", "openai"): "needs_review",
        ("human", "alibaba"): "needs_review",
        ("deepseek", "anthropic"): "needs_review",
        ("openai", "openai"): "needs_review",
    }


def test_report_counts_self_identification_per_provider(scan: Scan, tmp_path: Path) -> None:
    """Per detected provider: consistent, contradicting, attributed; contradictions as problems."""
    shard = write(tmp_path / "s.jsonl", rows())
    report = scan(shard, detect_self_id=True)
    found = report.self_id
    assert found is not None
    assert found.signatures == str(BUNDLED_SIGNATURES)
    table = {r.provider: (r.consistent, r.contradicting, r.attributed) for r in found.providers}
    assert table == {
        "openai": (0, 1, 1),
        "alibaba": (0, 1, 0),
        "anthropic": (0, 1, 0),
        "deepseek": (1, 0, 0),
    }
    assert (found.records, found.consistent, found.contradicting, found.attributed) == (5, 1, 3, 1)
    assert report.problems["contradicted"] == 3
    examples = [(e.line, e.code) for e in report.examples if e.problem == "contradicted"]
    assert examples == [(2, codes.SCAN_SELF_ID_CONFLICT), (3, "PE616"), (4, "PE616")]
    assert report.verdict == "needs_review"


def labeled(kind: str) -> list[dict[str, Any]]:
    """The labeled examples of one kind, as human-written CC0 records."""
    found = []
    for number, line in enumerate(LABELED.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        if row["kind"] == kind:
            found.append({"id": f"{kind}-{number}", "text": row["text"], **HUMAN, "label": row})
    return found


def test_no_look_alike_of_the_labeled_set_is_flagged(scan: Scan, tmp_path: Path) -> None:
    """Third-person mentions, quotes, denials, people named Claude: declared human, all allowed."""
    records = labeled("look_alike") + labeled("clean")
    shard = write(tmp_path / "s.jsonl", records)
    report = scan(shard, detect_self_id=True)
    assert report.self_id is not None
    assert report.self_id.records == 0
    assert report.allowed == report.records == len(records)


def test_every_detected_self_identification_of_the_labeled_set_is_blocked(
    scan: Scan, tmp_path: Path
) -> None:
    """Declared human, each self-identification found is a contradiction naming its provider."""
    records = labeled("self_id")
    shard = write(tmp_path / "s.jsonl", records)
    blocked = tmp_path / "b.jsonl"
    report = scan(shard, blocked=blocked, detect_self_id=True)
    assert report.self_id is not None
    assert report.self_id.contradicting == report.blocked >= len(records) - 2  # two known misses
    for record in read_jsonl(blocked):
        detected = f"identifies a model of `{record['label']['label']}`"
        assert detected in record["_policy"]["reason"]


def test_flag_off_or_nothing_found_changes_no_output(
    scan: Scan, tmp_path: Path, suffix: str
) -> None:
    """Without self-identifying text the outputs are byte-identical with and without the flag."""
    plain = [r for r in rows() if CASES[r["id"]][3] is None]
    shard = write(tmp_path / f"s{suffix}", plain)
    reports, outputs = [], []
    for flag in (False, True):
        allowed, blocked = tmp_path / f"a{flag}{suffix}", tmp_path / f"b{flag}{suffix}"
        reports.append(scan(shard, allowed=allowed, blocked=blocked, detect_self_id=flag))
        outputs.append((allowed.read_bytes(), blocked.read_bytes()))
    assert outputs[0] == outputs[1]
    without, with_flag = (r.model_dump(exclude={"self_id", "outputs"}) for r in reports)
    assert without == with_flag


def test_a_record_traced_by_fingerprint_counts_as_declared(scan: Scan, tmp_path: Path) -> None:
    """Provenance found by fingerprint is checked like declared provenance, never replaced."""
    text = "I'm Claude, made by Anthropic. Here is the answer."
    facts = Facts.parse({f"source.{k}": v for k, v in DEEPSEEK.items()})

    def tracer(digests: Sequence[bytes]) -> Mapping[bytes, list[tuple[str, Facts]]]:
        return {d: [("gen-r1", facts)] for d in digests if d == digest(text)}

    shard = write(tmp_path / "s.jsonl", [{"id": 1, "text": text}])
    blocked = tmp_path / "b.jsonl"
    report = scan(shard, blocked=blocked, tracer=tracer, detect_self_id=True)
    [record] = read_jsonl(blocked)
    assert record["_policy"]["generation"] == "gen-r1"
    assert "declares provider `deepseek`" in record["_policy"]["reason"]
    assert report.self_id is not None
    assert report.self_id.contradicting == report.traced == 1


def test_existing_policy_and_unicode_phrases_stay_valid_json(scan: Scan, tmp_path: Path) -> None:
    """A record that already holds `_policy` gets the phrase too; every line parses."""
    records = [
        {"id": 1, "text": "我是通义千问。", **HUMAN, "_policy": {"old": True}},
        {"id": 2, "text": 'As an AI language model trained by OpenAI, I "quote" \\ you.', **HUMAN},
    ]
    shard = write(tmp_path / "s.jsonl", records)
    blocked = tmp_path / "b.jsonl"
    scan(shard, blocked=blocked, detect_self_id=True)
    found = read_jsonl(blocked)
    assert [r["_policy"]["reason"].rsplit("; ", 1)[1] for r in found] == [
        "the text says `我是通义千问`",
        "the text says `As an AI language model trained by OpenAI, I`",
    ]
    assert "old" not in found[0]["_policy"]


def test_policy_column_detects_self_identification_too() -> None:
    """The Arrow batch function for Dask, Ray and Spark gives the same `_policy` reasons."""
    policy = api.policy_column(use="distillation", detect_self_id=True)
    table = pa.table(
        {"text": ["I'm Claude, made by Anthropic.", "hello"], "provider": ["human", "human"]}
    )
    reasons = [p["reason"] for p in policy(table).column("_policy").to_pylist()]
    assert reasons[0].endswith("the text says `I'm Claude, made by Anthropic`")
    assert "the text says" not in reasons[1]


# ------------------------------------------------------------------------------------------ CLI


def run(*args: str | Path) -> Result:
    """Invoke `policyengine scan ARGS…`; no invocation may show a traceback."""
    result = CliRunner().invoke(cli, ["scan", *(str(a) for a in args)])
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (["human-plain", "deepseek-as-deepseek", "human-third-person"], 0),
        (["human-plain", "human-as-openai"], 4),
        (["anon-as-openai"], 4),
        (["human-as-openai", "gpt-denied"], 1),
    ],
    ids=["consistent and look-alikes", "contradiction", "attributed", "with a violation"],
)
def test_exit_codes(tmp_path: Path, names: list[str], code: int) -> None:
    """0 when consistent, 4 for a contradiction or an attributed record, 1 beside a violation."""
    cases = {r["id"]: r for r in rows()}
    cases["gpt-denied"] = {
        "id": "gpt-denied",
        "text": "An answer.",
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "channel": "api",
        "generated_at": "2025-06-02",
    }
    shard = write(tmp_path / "s.jsonl", [cases[name] for name in names])
    result = run(shard, "--use", "distillation", *TARGET_FLAGS, "--detect-self-id")
    assert result.exit_code == code, result.output


def test_the_example_shard_prints_counts_and_line_numbers(tmp_path: Path) -> None:
    """The summary counts self-identification and lists contradictions with their lines."""
    report = tmp_path / "r.json"
    result = run(
        SHARD, "--use", "distillation", *TARGET_FLAGS, "--detect-self-id", "--report", report
    )
    assert result.exit_code == 4
    lines = result.stdout.splitlines()
    assert "self-identified: 4 records (1 consistent, 2 contradicting, 1 attributed)" in lines
    assert f"  {SHARD}:2: PE616 the text identifies a model of `openai`, but the record " in (
        result.stdout
    )
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["schema_version"] == 3
    assert document["self_id"]["contradicting"] == 2


def test_without_the_flag_the_report_has_no_self_identification(tmp_path: Path) -> None:
    """`self_id` is null in the JSON report and the summary says nothing of it."""
    report = tmp_path / "r.json"
    result = run(SHARD, "--use", "distillation", *TARGET_FLAGS, "--report", report)
    assert "self-identified" not in result.stdout
    assert json.loads(report.read_text(encoding="utf-8"))["self_id"] is None


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_markdown_and_html_reports_show_the_counts(tmp_path: Path, suffix: str) -> None:
    """Both reports have a self-identification table with each provider detected."""
    report = tmp_path / f"r{suffix}"
    run(SHARD, "--use", "distillation", *TARGET_FLAGS, "--detect-self-id", "--report", report)
    text = report.read_text(encoding="utf-8")
    assert "Self-identification" in text
    assert "anthropic" in text
    assert "PE616" in text


BAD_SIGNATURES = """\
version: 1
vocabulary:
  cue: 'AI'
  version: '\\d'
  reporting_verb: 'said'
frames:
  name:
    - pattern: 'I am <<name>>'
      example: 'I am Acme Bot'
  company:
    - pattern: 'made by <<company>>'
      example: 'made by Acme'
providers:
  - id: acme
    nmes: ['Acme Bot']
"""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--detect-self-id", "--signatures", "{bad}"], "{bad}:15:5: PE650 unknown key `nmes`"),
        (["--detect-self-id", "--signatures", "{missing}"], "PE101 signature file"),
        (["--signatures", "{bad}"], "--signatures is read only with --detect-self-id"),
    ],
    ids=["bad file", "missing file", "without the flag"],
)
def test_bad_signatures_exit_2_before_anything_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """A bad signature file gives its diagnostics with file:line:col and exit 2; no output."""
    bad = tmp_path / "signatures.yaml"
    bad.write_text(BAD_SIGNATURES, encoding="utf-8")
    paths = {"bad": str(bad), "missing": str(tmp_path / "none.yaml")}
    allowed = tmp_path / "a.jsonl"
    filled = [a.format(**paths) for a in args]
    result = run(SHARD, "--use", "distillation", *filled, "--allowed", allowed)
    assert result.exit_code == 2
    assert message.format(**paths) in result.output
    assert not allowed.exists()


def test_a_signature_file_of_ones_own_is_used(tmp_path: Path) -> None:
    """`--signatures FILE` replaces the bundled file: only its providers are detected."""
    own = tmp_path / "own.yaml"
    own.write_text(
        BAD_SIGNATURES.replace("nmes", "names").replace("id: acme", "id: openai")
        + "    companies: ['Acme']\n"
        + "    sources: [{url: 'https://example.com/bot', shows: 'how the bot introduces itself'}]\n"
        + "    examples: ['I am Acme Bot']\n",
        encoding="utf-8",
    )
    shard = write(
        tmp_path / "s.jsonl",
        [{"id": 1, "text": "I am Acme Bot.", **HUMAN}, {"id": 2, "text": "I'm Claude, an AI."}],
    )
    report = tmp_path / "r.json"
    args = ["--use", "evaluation", "--detect-self-id", "--signatures", own, "--report", report]
    result = run(shard, *args)
    assert result.exit_code == 4, result.output
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["self_id"]["signatures"] == str(own)
    assert [p["provider"] for p in document["self_id"]["providers"]] == ["openai"]


def test_two_workers_count_like_one(tmp_path: Path) -> None:
    """Counts from worker processes add up to those of one process."""
    first = write(tmp_path / "one.jsonl", rows())
    second = write(tmp_path / "two.jsonl", rows()[:4])
    documents = []
    for workers in ("1", "2"):
        report = tmp_path / f"r{workers}.json"
        args = ["--use", "distillation", "--detect-self-id", "--workers", workers]
        run(first, second, *args, "--report", report)
        documents.append(json.loads(report.read_text(encoding="utf-8")))
    assert documents[0] == documents[1]
    assert documents[0]["self_id"]["contradicting"] == 6
