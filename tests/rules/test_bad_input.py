"""Bad rule packs: each problem is one diagnostic with a stable code, its position, and a fix.

One table of bad inputs drives four tests: the diagnostic points at the offending key or value, its
message and help say what is wrong and how to fix it, nothing unrelated is reported, and every
message follows the project's style (lowercase, one line, no Python names).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import PackWriter

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Diagnostics, Location
from policyengine.rules.loader import load_rules

# A valid pack `demo` is documents.yaml + rules.yaml; each row changes one thing in it.
# DOCS, line by line (columns count from 1):
#   1 documents:
#   2   - id: demo.terms
#   7       - version: "2024-01"
#   8         effective_from: 2024-01-01      <- value at column 25
#  10         retrieved: 2025-01-01
DOCS = """\
documents:
  - id: demo.terms
    title: Demo Terms
    provider: demo
    kind: terms_of_service
    versions:
      - version: "2024-01"
        effective_from: 2024-01-01
        url: https://example.com/terms
        retrieved: 2025-01-01
"""

# RULE, line by line:
#   2   - id: demo.terms.no-distill          <- mapping at column 5, id value at column 9
#   3     document: demo.terms               <- value at column 15
#   4     versions: ["2024-01"]              <- list at column 15, item at column 16
#   5     when: {fact: use.activity, op: equals, value: distillation}
#         `{` 11, `fact` 12, its value 18, `op` 32, its value 36, `value` 44, its value 51
#   6     effect: deny                       <- value at column 13
#   7     severity: high                     <- value at column 15
RULE = """\
rules:
  - id: demo.terms.no-distill
    document: demo.terms
    versions: ["2024-01"]
    when: {fact: use.activity, op: equals, value: distillation}
    effect: deny
    severity: high
    citation: {section: "1", quote: "do not distill", url: "https://example.com/terms"}
    rationale: Distilling is forbidden.
    remediation: Do not distill.
"""

# CATALOG: two entries that overlap (demo-chat matches demo-*, both on `api`); the second
# starts at line 6, column 5; line 3 holds the first entry's models, list at column 13.
CATALOG = """\
catalog:
  - provider: demo
    models: ["demo-*"]
    channels: [api]
    documents: [demo.terms]
  - provider: demo
    models: ["demo-chat"]
    channels: [api, consumer_app]
    documents: [demo.terms]
"""
ONE_ENTRY = "\n".join(CATALOG.splitlines()[:5]) + "\n"

# TESTS: line 4 holds a fact (key at column 7, value at 20); line 5 the expectation, whose rule
# id sits at column 36.
TESTS = """\
tests:
  - name: distilling is denied
    facts:
      use.activity: distillation
    expect: {effect: deny, rules: [demo.terms.no-distill]}
"""

SECOND_VERSION = """\
      - version: "2024-07"
        effective_from: 2024-06-30
        url: https://example.com/terms
        retrieved: 2025-01-01
"""

Files = Mapping[str, str | bytes]


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from tmp_path, so file names read the same wherever pytest was started."""
    monkeypatch.chdir(tmp_path)


def demo(name: str = "demo", **files: str | bytes) -> dict[str, Files]:
    """The valid pack `name` with some files replaced or added (`a_rules` → `a-rules.yaml`)."""
    named = {key.replace("_", "-") + ".yaml": text for key, text in files.items()}
    return {name: {"documents.yaml": DOCS, "rules.yaml": RULE, **named}}


@dataclass(frozen=True)
class Bad:
    """A bad input and the diagnostic it must give."""

    note: str
    packs: Mapping[str, Files]
    code: str
    file: str
    line: int
    column: int
    message: str
    help: str = ""
    others: tuple[str, ...] = ()  # further codes the same input rightly reports
    loose: Files = field(default_factory=dict)  # files written outside any pack
    target: str = ""  # what to load, relative to tmp_path


BAD = [
    Bad(
        "unclosed bracket",
        demo(rules=RULE.replace('versions: ["2024-01"]', 'versions: ["2024-01"')),
        codes.YAML_SYNTAX,
        "demo/rules.yaml",
        5,
        5,
        "invalid YAML: while parsing a flow sequence",
        "the construct started at demo/rules.yaml:4:15",
    ),
    Bad(
        "tab indentation",
        demo(rules=RULE.replace("    document:", "\tdocument:")),
        codes.TAB_INDENT,
        "demo/rules.yaml",
        3,
        1,
        "tab character where YAML expects indentation",
        "indent with spaces",
    ),
    Bad(
        "unknown top-level key",
        demo(rules=RULE.replace("rules:", "rule:")),
        codes.UNKNOWN_KEY,
        "demo/rules.yaml",
        1,
        1,
        "unknown key `rule`",
        "did you mean `rules`?",
    ),
    Bad(
        "unknown key `whne` in a rule",
        demo(rules=RULE.replace("when:", "whne:")),
        codes.UNKNOWN_KEY,
        "demo/rules.yaml",
        5,
        5,
        "unknown key `whne` in `rules[0]`",
        "did you mean `when`?",
    ),
    Bad(
        "unknown key `vaule` in a comparison",
        demo(rules=RULE.replace("value:", "vaule:")),
        codes.UNKNOWN_KEY,
        "demo/rules.yaml",
        5,
        44,
        "unknown key `vaule` in `rules[0].when`",
        "did you mean `value`?",
        others=(codes.MISSING_KEY,),
    ),
    Bad(
        "missing key",
        demo(rules=RULE.replace("    severity: high\n", "")),
        codes.MISSING_KEY,
        "demo/rules.yaml",
        2,
        5,
        "missing key `severity` in `rules[0]`",
        "add `severity` to this mapping",
    ),
    Bad(
        "missing pack header",
        {"demo": {"pack.yaml": "documents: []\n"}},
        codes.MISSING_KEY,
        "demo/pack.yaml",
        1,
        1,
        "missing key `pack`",
        "starts with `pack:`",
    ),
    Bad(
        "a list where severity takes a word",
        demo(rules=RULE.replace("severity: high", "severity: [high]")),
        codes.WRONG_TYPE,
        "demo/rules.yaml",
        7,
        15,
        "in `rules[0].severity`",
        "got a list",
    ),
    Bad(
        "a string where versions takes a list",
        demo(rules=RULE.replace('versions: ["2024-01"]', 'versions: "x"')),
        codes.WRONG_TYPE,
        "demo/rules.yaml",
        4,
        15,
        "in `rules[0].versions`",
        "got the string `x`",
    ),
    Bad(
        "top level is a list",
        demo(rules="- rules: []\n"),
        codes.WRONG_TYPE,
        "demo/rules.yaml",
        1,
        1,
        "",
        "got a list",
    ),
    Bad(
        "a rule is a list",
        demo(rules="rules:\n  - - id: demo.terms.no-distill\n"),
        codes.WRONG_TYPE,
        "demo/rules.yaml",
        2,
        5,
        "in `rules[0]`",
        "got a list",
    ),
    Bad(
        "a scalar the YAML tag cannot read",
        demo(rules=RULE.replace("severity: high", "severity: !!int abc")),
        codes.BAD_SCALAR,
        "demo/rules.yaml",
        7,
        15,
        "cannot read `abc`",
        "",
    ),
    Bad(
        "invalid effect",
        demo(rules=RULE.replace("effect: deny", "effect: denny")),
        codes.INVALID_VALUE,
        "demo/rules.yaml",
        6,
        13,
        "invalid value `denny` in `rules[0].effect`",
        "did you mean `deny`?",
    ),
    Bad(
        "rule id not a dotted lowercase id",
        demo(rules=RULE.replace("id: demo.terms.no-distill", "id: Demo.Terms")),
        codes.INVALID_VALUE,
        "demo/rules.yaml",
        2,
        9,
        "invalid value `Demo.Terms` in `rules[0].id`",
        "write a dotted id",
    ),
    Bad(
        "empty `in` list",
        demo(rules=RULE.replace("op: equals, value: distillation", "op: in, value: []")),
        codes.INVALID_VALUE,
        "demo/rules.yaml",
        5,
        47,
        "needs at least 1 item in `rules[0].when.value`",
        "add an entry",
    ),
    Bad(
        "unknown operator",
        demo(rules=RULE.replace("op: equals", "op: equal")),
        codes.UNKNOWN_OPERATOR,
        "demo/rules.yaml",
        5,
        36,
        "unknown operator `equal` in `rules[0].when`",
        "did you mean `equals`?",
    ),
    Bad(
        "impossible date unquoted",
        demo(documents=DOCS.replace("effective_from: 2024-01-01", "effective_from: 2024-13-45")),
        codes.MALFORMED_DATE,
        "demo/documents.yaml",
        8,
        25,
        "`2024-13-45` is not a valid date",
        "YYYY-MM-DD",
    ),
    Bad(
        "impossible date quoted",
        demo(documents=DOCS.replace("effective_from: 2024-01-01", 'effective_from: "2024-02-30"')),
        codes.MALFORMED_DATE,
        "demo/documents.yaml",
        8,
        25,
        "`2024-02-30` is not a date in `documents[0].versions[0].effective_from`",
        "YYYY-MM-DD",
    ),
    Bad(
        "a mapping that is no condition",
        demo(
            rules=RULE.replace(
                "{fact: use.activity, op: equals, value: distillation}", "{foo: bar}"
            )
        ),
        codes.CONDITION_FORM,
        "demo/rules.yaml",
        5,
        11,
        "not a condition in `rules[0].when`",
        "write `all: [...]`",
    ),
    Bad(
        "a word that is no condition",
        demo(
            rules=RULE.replace(
                "{fact: use.activity, op: equals, value: distillation}", "distillation"
            )
        ),
        codes.CONDITION_FORM,
        "demo/rules.yaml",
        5,
        11,
        "not a condition in `rules[0].when`",
        "write `all: [...]`",
    ),
    Bad(
        "duplicate key",
        demo(
            rules=RULE.replace(
                "    document: demo.terms\n", "    document: demo.terms\n    document: demo.other\n"
            )
        ),
        codes.DUPLICATE_KEY,
        "demo/rules.yaml",
        4,
        5,
        "key `document` appears twice",
        "the first `document` is at demo/rules.yaml:3:5",
    ),
    Bad(
        "unsafe YAML tag",
        demo(rules='rules: !!python/object/apply:os.system ["touch pwned"]\n'),
        codes.UNSAFE_TAG,
        "demo/rules.yaml",
        1,
        8,
        "YAML tag `tag:yaml.org,2002:python/object/apply:os.system` is not allowed",
        "plain data only",
    ),
    Bad(
        "empty file",
        demo(rules=""),
        codes.EMPTY_FILE,
        "demo/rules.yaml",
        0,
        0,
        "rule file is empty",
        "at least one of `pack`, `documents`",
    ),
    Bad(
        "comments-only file",
        demo(rules="# nothing yet\n\n  # still nothing\n"),
        codes.EMPTY_FILE,
        "demo/rules.yaml",
        0,
        0,
        "rule file is empty",
        "at least one of `pack`, `documents`",
    ),
    Bad(
        "non-UTF-8 byte",
        demo(rules=b"rules:\n  - id: caf\xe9\n"),
        codes.NOT_UTF8,
        "demo/rules.yaml",
        2,
        12,
        "byte 0xe9 is not valid UTF-8",
        "save the file as UTF-8",
    ),
    Bad(
        "non-UTF-8 byte after accented letters",
        demo(rules=b'rules:\n  - id: "\xc3\xa9\xc3\xa9\xff"\n'),  # éé then 0xff, at character 12
        codes.NOT_UTF8,
        "demo/rules.yaml",
        2,
        12,
        "byte 0xff is not valid UTF-8",
        "save the file as UTF-8",
    ),
    Bad(
        "10 MB file",
        demo(rules=b"# padding\n" * 1_000_000),
        codes.FILE_TOO_LARGE,
        "demo/rules.yaml",
        0,
        0,
        "rule file is 10,000,000 bytes, more than the 5,242,880 allowed",
        "split the pack",
    ),
    Bad(
        "rule file outside any pack",
        {},
        codes.NOT_IN_PACK,
        "loose.yaml",
        0,
        0,
        "is not inside a pack folder",
        "a folder with a `pack.yaml`",
        loose={"loose.yaml": RULE},
        target="loose.yaml",
    ),
    Bad(
        "path that does not exist",
        {},
        codes.FILE_NOT_FOUND,
        "missing",
        0,
        0,
        "does not exist",
        "pass a folder of packs",
        target="missing",
    ),
    Bad(
        "folder without packs",
        {},
        codes.NO_PACKS,
        "empty",
        0,
        0,
        "no rule pack under `",
        "a pack is a folder with a `pack.yaml`",
        loose={"empty/rules.yaml": RULE},
        target="empty",
    ),
    Bad(
        "version ends before it starts",
        demo(
            documents=DOCS.replace(
                "effective_from: 2024-01-01",
                "effective_from: 2024-06-01\n        effective_until: 2024-01-01",
            )
        ),
        codes.DATE_WINDOW,
        "demo/documents.yaml",
        9,
        26,
        "`effective_until` 2024-01-01 is before `effective_from` 2024-06-01",
        "last day in force",
    ),
    Bad(
        "overlapping versions",
        demo(
            documents=DOCS.replace(
                "effective_from: 2024-01-01",
                "effective_from: 2024-01-01\n        effective_until: 2024-06-30",
            )
            + SECOND_VERSION
        ),
        codes.OVERLAPPING_VERSIONS,
        "demo/documents.yaml",
        13,
        25,
        "versions `2024-01` and `2024-07` of `demo.terms` are both in force on 2024-06-30",
        "end `2024-01` the day before `2024-07` starts",
    ),
    Bad(
        "catalog entries claim the same models",
        demo(catalog=CATALOG),
        codes.CATALOG_CONFLICT,
        "demo/catalog.yaml",
        6,
        5,
        "this entry and the one at demo/catalog.yaml:2:5 both claim `demo` models",
        "set `precedence`",
    ),
    Bad(
        "rule names a missing version",
        demo(rules=RULE.replace('versions: ["2024-01"]', 'versions: ["2024-10"]')),
        codes.UNKNOWN_VERSION,
        "demo/rules.yaml",
        4,
        16,
        "document `demo.terms` has no version `2024-10`",
        "did you mean `2024-01`?",
    ),
    Bad(
        "rule names a missing document",
        demo(rules=RULE.replace("document: demo.terms", "document: demo.term")),
        codes.UNKNOWN_DOCUMENT,
        "demo/rules.yaml",
        3,
        15,
        "unknown document `demo.term`",
        "did you mean `demo.terms`?",
    ),
    Bad(
        "catalog names a missing document",
        demo(catalog=ONE_ENTRY.replace("[demo.terms]", "[demo.term]")),
        codes.UNKNOWN_DOCUMENT,
        "demo/catalog.yaml",
        5,
        17,
        "unknown document `demo.term`",
        "did you mean `demo.terms`?",
    ),
    Bad(
        "duplicate document id",
        demo(documents=DOCS + DOCS.removeprefix("documents:\n")),
        codes.DUPLICATE_DOCUMENT,
        "demo/documents.yaml",
        11,
        9,
        "document `demo.terms` is defined twice",
        "first defined in demo/documents.yaml",
    ),
    Bad(
        "duplicate rule id in two files of a pack",
        demo(a_rules=RULE),
        codes.DUPLICATE_RULE,
        "demo/rules.yaml",
        2,
        9,
        "rule id `demo.terms.no-distill` is used twice",
        "first used at demo/a-rules.yaml:2:9",
    ),
    Bad(
        "duplicate rule id in two packs",
        {
            **demo("alpha"),
            **demo(
                "beta",
                documents=DOCS.replace("demo.terms", "beta.terms"),
                rules=RULE.replace("document: demo.terms", "document: beta.terms"),
            ),
        },
        codes.DUPLICATE_RULE,
        "beta/rules.yaml",
        2,
        9,
        "rule id `demo.terms.no-distill` is used twice",
        "first used at alpha/rules.yaml:2:9",
    ),
    Bad(
        "unknown fact in a condition",
        demo(rules=RULE.replace("fact: use.activity", "fact: use.activty")),
        codes.UNKNOWN_FACT,
        "demo/rules.yaml",
        5,
        18,
        "unknown fact `use.activty`",
        "did you mean `use.activity`?",
    ),
    Bad(
        "unknown fact in a test",
        demo(tests=TESTS.replace("use.activity:", "use.activty:")),
        codes.UNKNOWN_FACT,
        "demo/tests.yaml",
        4,
        7,
        "unknown fact `use.activty`",
        "did you mean `use.activity`?",
    ),
    Bad(
        "operator misfit",
        demo(
            rules=RULE.replace("op: equals, value: distillation", "op: before, value: 2024-01-01")
        ),
        codes.OPERATOR_MISFIT,
        "demo/rules.yaml",
        5,
        36,
        "operator `before` does not fit `use.activity`",
        "use `equals` or `in`",
    ),
    Bad(
        "value misfit, one letter off",
        demo(rules=RULE.replace("value: distillation", "value: distilation")),
        codes.VALUE_MISFIT,
        "demo/rules.yaml",
        5,
        51,
        "`distilation` is not a value of `use.activity`",
        "did you mean `distillation`?",
    ),
    Bad(
        "value misfit, a truncated word",
        demo(rules=RULE.replace("op: equals, value: distillation", "op: in, value: [pretrain]")),
        codes.VALUE_MISFIT,
        "demo/rules.yaml",
        5,
        48,
        "`pretrain` is not a value of `use.activity`",
        "did you mean `pretraining`?",
    ),
    Bad(
        "test names an unknown rule",
        demo(tests=TESTS.replace("no-distill]", "no-distil]")),
        codes.UNKNOWN_RULE,
        "demo/tests.yaml",
        5,
        36,
        "unknown rule `demo.terms.no-distil`",
        "did you mean `demo.terms.no-distill`?",
    ),
    Bad(
        "oblige without obligations",
        demo(rules=RULE.replace("effect: deny", "effect: oblige")),
        codes.OBLIGATION_MISFIT,
        "demo/rules.yaml",
        6,
        13,
        "rule with effect `oblige` lists no obligations",
        "or use `allow`",
    ),
    Bad(
        "obligations on deny",
        demo(
            rules=RULE.replace(
                "effect: deny",
                "effect: deny\n    obligations: [{kind: notice, text: Built with Demo}]",
            )
        ),
        codes.OBLIGATION_MISFIT,
        "demo/rules.yaml",
        7,
        18,
        "rule with effect `deny` lists obligations",
        "belong to rules with effect `oblige`",
    ),
    Bad(
        "pack block outside pack.yaml",
        demo(rules='pack: {id: demo, title: Demo, version: "1"}\n' + RULE),
        codes.PACK_MISMATCH,
        "demo/rules.yaml",
        1,
        1,
        "only `pack.yaml` may declare `pack`",
        "remove the `pack` block",
    ),
    Bad(
        "two folders declare one pack id",
        {
            "one": {"pack.yaml": 'pack:\n  id: same\n  title: One\n  version: "1"\n'},
            "two": {"pack.yaml": 'pack:\n  id: same\n  title: Two\n  version: "1"\n'},
        },
        codes.DUPLICATE_PACK,
        "two/pack.yaml",
        2,
        7,
        "pack `same` is declared again",
        "first declared in one/pack.yaml",
    ),
    Bad(
        "unusable model glob",
        demo(catalog=ONE_ENTRY.replace('"demo-*"', '"demo-[chat"')),
        codes.BAD_GLOB,
        "demo/catalog.yaml",
        3,
        14,
        "`demo-[chat` is not a usable model pattern",
        "`*` and `?` wildcards",
    ),
]

# Words that show a Python or pydantic message reached the user unchanged.
PYTHON_WORDS = re.compile(
    r"\b(tuple|dictionary|instance of|RuleFile|Rule|after validation|NoneType)\b|int\(\)"
)


def params() -> list[object]:
    """The table as pytest params, each named by its note."""
    return [pytest.param(bad, id=bad.note) for bad in BAD]


def load(bad: Bad, tmp_path: Path, write_pack: PackWriter) -> list[Diagnostic]:
    """Write the row's files, load them, and return the diagnostics (files relative to tmp_path)."""
    for name, files in bad.packs.items():
        write_pack(name, dict(files))
    for relative, content in bad.loose.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    ruleset, diagnostics = load_rules([tmp_path / bad.target])
    assert ruleset is None
    return [relative_to(tmp_path, d) for d in diagnostics]


def relative_to(root: Path, diagnostic: Diagnostic) -> Diagnostic:
    """The diagnostic with its file, message and help shown relative to ``root``."""
    prefix = f"{root}{os.sep}"
    file = diagnostic.location.file.removeprefix(prefix)
    location = Location(file, diagnostic.location.line, diagnostic.location.column)
    return Diagnostic(
        diagnostic.code,
        diagnostic.message.replace(prefix, ""),
        location,
        diagnostic.help.replace(prefix, ""),
        diagnostic.severity,
    )


def the_one(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    """The single diagnostic with ``code``; fails when there is none or more than one."""
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, [d.render() for d in diagnostics]
    return found[0]


@pytest.mark.parametrize("bad", params())
def test_points_at_the_offending_key_or_value(
    bad: Bad, tmp_path: Path, write_pack: PackWriter
) -> None:
    """Each bad input gives one diagnostic of its code at the file, line and column of the problem."""
    diagnostic = the_one(load(bad, tmp_path, write_pack), bad.code)
    location = diagnostic.location
    assert (location.file, location.line, location.column) == (bad.file, bad.line, bad.column)


@pytest.mark.parametrize("bad", params())
def test_says_what_is_wrong_and_how_to_fix_it(
    bad: Bad, tmp_path: Path, write_pack: PackWriter
) -> None:
    """The message names the problem and the help says how to fix it, with a did-you-mean for typos."""
    diagnostic = the_one(load(bad, tmp_path, write_pack), bad.code)
    assert bad.message in diagnostic.message
    assert bad.help in diagnostic.help


@pytest.mark.parametrize("bad", params())
def test_reports_nothing_unrelated(bad: Bad, tmp_path: Path, write_pack: PackWriter) -> None:
    """A bad input reports its own problem and the ones it rightly implies, and nothing else."""
    diagnostics = load(bad, tmp_path, write_pack)
    assert sorted(d.code for d in diagnostics) == sorted((bad.code, *bad.others)), [
        d.render() for d in diagnostics
    ]


@pytest.mark.parametrize("bad", params())
def test_messages_follow_the_style(bad: Bad, tmp_path: Path, write_pack: PackWriter) -> None:
    """Messages are one lowercase line without a final period; no text names Python types."""
    for diagnostic in load(bad, tmp_path, write_pack):
        message = diagnostic.message
        first_word = message.split()[0]
        assert message[0].islower() or message[0] == "`" or first_word.isupper(), message
        assert "\n" not in message, message
        assert not message.endswith("."), message
        for text in (message, diagnostic.help):
            assert not PYTHON_WORDS.search(text), text


def test_an_unsafe_tag_is_never_executed(
    tmp_path: Path, write_pack: PackWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`!!python/object/apply` is refused as data: the command it names never runs."""
    calls: list[str] = []
    monkeypatch.setattr(os, "system", calls.append)
    pwned = tmp_path / "pwned"
    write_pack(
        "demo", {"rules.yaml": f'rules: !!python/object/apply:os.system ["touch {pwned}"]\n'}
    )
    _, diagnostics = load_rules([tmp_path])
    assert [d.code for d in diagnostics] == [codes.UNSAFE_TAG]
    assert calls == []
    assert not pwned.exists()


@pytest.mark.parametrize(
    ("catalog", "codes_found"),
    [
        (CATALOG, [codes.CATALOG_CONFLICT]),
        (
            CATALOG.replace(
                "    documents: [demo.terms]\n  - provider",
                "    documents: [demo.terms]\n    precedence: 1\n  - provider",
            ),
            [],
        ),
        (CATALOG.replace("[api, consumer_app]", "[consumer_app]"), []),
    ],
    ids=["same precedence conflicts", "different precedence settles it", "different channels"],
)
def test_precedence_or_channel_settles_a_catalog_overlap(
    catalog: str, codes_found: list[str], tmp_path: Path, write_pack: PackWriter
) -> None:
    """Overlapping catalog entries conflict unless their precedence or channels differ."""
    write_pack("demo", {"documents.yaml": DOCS, "rules.yaml": RULE, "catalog.yaml": catalog})
    ruleset, diagnostics = load_rules([tmp_path])
    assert [d.code for d in diagnostics] == codes_found
    assert (ruleset is None) == bool(codes_found)


def test_every_problem_in_every_file_is_reported_in_one_run_sorted(
    tmp_path: Path, write_pack: PackWriter
) -> None:
    """The loader never stops at the first problem: all of them come back, by file, line, column."""
    write_pack(
        "demo",
        {
            "documents.yaml": DOCS,
            "rules.yaml": RULE,
            "c.yaml": RULE.replace("no-distill", "other").replace("use.activity", "use.activty"),
            "b.yaml": RULE.replace("no-distill", "third")
            .replace("when:", "whne:")
            .replace("effect: deny", "effect: denny"),
            "a.yaml": "rules: [\n",
        },
    )
    write_pack(
        "zeta",
        {
            "rules.yaml": RULE.replace("no-distill", "obliging").replace(
                "effect: deny", "effect: oblige"
            )
        },
    )
    ruleset, diagnostics = load_rules([tmp_path])
    assert ruleset is None
    found = [relative_to(tmp_path, d) for d in diagnostics]
    assert [(str(d.location), d.code) for d in found] == [
        ("demo/a.yaml:2:1", codes.YAML_SYNTAX),
        ("demo/b.yaml:5:5", codes.UNKNOWN_KEY),
        ("demo/b.yaml:6:13", codes.INVALID_VALUE),
        ("demo/c.yaml:5:18", codes.UNKNOWN_FACT),
        ("zeta/rules.yaml:6:13", codes.OBLIGATION_MISFIT),
    ]
    assert list(diagnostics) == sorted(diagnostics, key=Diagnostic.sort_key)


def test_a_self_referencing_alias_is_a_diagnostic_not_a_crash(
    tmp_path: Path, write_pack: PackWriter
) -> None:
    """A YAML alias that contains itself is reported as a reading error instead of recursing."""
    write_pack("demo", {"rules.yaml": "rules: &loop [*loop]\n"})
    ruleset, diagnostics = load_rules([tmp_path])
    assert ruleset is None
    assert [(d.code, d.location.line, d.location.column) for d in diagnostics] == [("PE112", 1, 15)]


def test_an_alias_bomb_is_refused_before_it_is_expanded(
    tmp_path: Path, write_pack: PackWriter
) -> None:
    """Nested aliases that would expand to 60 000 nodes are a reading error, not a slow parse."""
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for previous, name in zip("abcd", "bcde", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    write_pack("demo", {"rules.yaml": "\n".join(lines) + "\n"})
    _, diagnostics = load_rules([tmp_path])
    assert any(d.code.startswith("PE1") for d in diagnostics), [d.code for d in diagnostics]


def test_diagnostics_iterate_sorted_and_without_repeats() -> None:
    """A Diagnostics list yields its items by file, line, column, and an exact repeat once."""
    late = Diagnostic(codes.UNKNOWN_KEY, "unknown key `b`", Location("b.yaml", 1, 1))
    early = Diagnostic(codes.UNKNOWN_KEY, "unknown key `a`", Location("a.yaml", 9, 9))
    same_line = Diagnostic(codes.UNKNOWN_KEY, "unknown key `c`", Location("a.yaml", 9, 2))
    diagnostics = Diagnostics([late, early, same_line, late])
    assert list(diagnostics) == [same_line, early, late]
    assert len(diagnostics) == 3
