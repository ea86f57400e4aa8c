"""`policyengine impact`: a diff of recorded decisions between two rule sets (both backends)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from policyengine.cli.main import cli

from .helpers import MANIFEST, MODEL, ROOT

Impact = Callable[..., Result]
DENY_RULE = "openai.business-terms.2023-11.no-competing-models"


@pytest.fixture
def impact(db_url: str) -> Impact:
    """The example manifest imported; returns `policyengine impact ARGS… --db URL`."""
    runner = CliRunner()
    imported = runner.invoke(
        cli, ["ledger", "import", str(MANIFEST), "--db", db_url, "--as-of", "2025-06-01"]
    )
    assert imported.exit_code == 0, imported.stderr

    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, ["impact", *args, "--db", db_url])
        assert "Traceback" not in result.output + result.stderr
        return result

    return invoke


@pytest.fixture(scope="module")
def softened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled packs with OpenAI's Business Terms ban turned from deny into review."""
    folder = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(ROOT / "rules", folder)
    path = folder / "openai" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"  - id: {DENY_RULE}\n")
    end = text.index("    effect: deny", start)
    path.write_text(text[:end] + "    effect: review" + text[end + 16 :], encoding="utf-8")
    return folder


def test_a_softer_rule_makes_the_model_better(impact: Impact, softened: Path) -> None:
    """Once the waiver has expired, deny → review turns the model's violation into a review."""
    result = impact(
        "--rules", str(ROOT / "rules"), "--against", str(softened),
        "--use", "fine_tuning", "--as-of", "2026-01-01", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    changed = {c["target"]: c for c in report["changes"]}
    assert changed[MODEL]["old"] == "violation"
    assert changed[MODEL]["new"] == "needs_review"
    assert changed[MODEL]["direction"] == "better"
    assert report["decided"] == 4


def test_fail_on_worse_exits_1(impact: Impact, softened: Path) -> None:
    """Going the other way (review → deny) makes the model worse; `--fail-on-worse` exits 1."""
    result = impact(
        "--rules", str(softened), "--against", str(ROOT / "rules"),
        "--use", "fine_tuning", "--as-of", "2026-01-01", "--fail-on-worse",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert f"model `{MODEL}`: needs_review → violation (worse)" in result.stdout
    assert f"  ~ {DENY_RULE}: needs_review → violation" in result.stdout
    assert result.stdout.rstrip().endswith("as of 2026-01-01")


def test_a_document_version_against_the_one_before(impact: Impact) -> None:
    """`--document` compares with the previous version staying in force in its place."""
    result = impact(
        "--document", "openai.business-terms@2023-11-14", "--use", "fine_tuning",
        "--as-of", "2025-06-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert f"model `{MODEL}`: violation → needs_review (better)" in result.stdout
    assert "  - openai.terms-of-use.2023-11.no-competing-models" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--use", "fine_tuning"], "pass either `--against DIR`", id="neither"),
        pytest.param(
            ["--use", "fine_tuning", "--against", "rules", "--document", "x@1"],
            "pass either `--against DIR`",
            id="both",
        ),
        pytest.param(
            ["--use", "fine_tuning", "--document", "openai.business-term@2023-11-14"],
            "did you mean `openai.business-terms@2023-11-14`?",
            id="unknown-document",
        ),
    ],
)
def test_bad_input_exits_2(impact: Impact, args: list[str], expected: str) -> None:
    """Missing or contradictory choices and unknown documents are usage errors."""
    result = impact(*args)
    assert result.exit_code == 2
    assert expected in result.stderr
