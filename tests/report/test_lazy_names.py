"""The package's public names resolve, and printing a check run does not load the report formats."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from policyengine import report
from policyengine.report import formats, view


def test_public_names_are_the_functions_of_their_modules() -> None:
    for name in report.__all__:
        home = view if name in ("Report", "SCHEMA_VERSION") else formats
        built = importlib.import_module("policyengine.report.build")
        expected = built.build if name == "build" else getattr(home, name)
        assert getattr(report, name) is expected
    assert set(report.__all__) <= set(dir(report))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        _ = report.nonesuch  # type: ignore[attr-defined]


def test_check_text_leaves_jinja_unloaded() -> None:
    probe = (
        "import sys; import policyengine.report.check_text; "
        "from policyengine.report import build; "
        "print('jinja2' in sys.modules, callable(build))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
