"""User templates render in the sandbox; whatever reaches outside fails with a diagnostic."""

from __future__ import annotations

import pytest

from policyengine import codes, report
from policyengine.diagnostics import PolicyEngineError
from policyengine.evaluate.findings import CheckRun
from policyengine.report import view
from policyengine.report.build import build
from policyengine.report.render import environment
from policyengine.rules.ruleset import RuleSet

from .helpers import GENERATED


@pytest.fixture(scope="module")
def built(demo_run: CheckRun, rules: RuleSet) -> view.Report:
    return build(demo_run, GENERATED, rules=rules)


def test_a_template_reads_the_view_model(built: view.Report) -> None:
    """A user template sees `report` and its fields, loops and filters included."""
    text = report.render_custom(
        built,
        "{{ report.verdict }}: {% for f in report.findings %}{{ f.id }} {% endfor %}"
        "{{ report.counts.sources | thousands }}\n",
        "summary.txt",
    )
    assert text == "violation: " + "".join(f"{f.id} " for f in built.findings) + "14\n"


def test_a_template_may_extend_a_built_in_one(built: view.Report) -> None:
    """Extending report.html.j2 and overriding a block keeps the rest of the built-in report."""
    source = '{% extends "report.html.j2" %}{% block footer %}<p>Acme Legal</p>{% endblock %}'
    page = report.render_custom(built, source, "acme.html")
    assert "<p>Acme Legal</p>" in page
    assert 'id="findings"' in page
    assert "Not legal advice" not in page


def test_html_user_templates_are_autoescaped(built: view.Report) -> None:
    """Autoescaping follows the template's suffix, as for the built-in templates."""
    source = "{{ '<b>' }}"
    assert report.render_custom(built, source, "mine.html") == "&lt;b&gt;"
    assert report.render_custom(built, source, "mine.txt") == "<b>"


@pytest.mark.parametrize(
    ("source", "code", "line", "words"),
    [
        ("ok\n{{ report.__class__ }}", codes.TEMPLATE_UNSAFE, 2, "outside the sandbox"),
        ("{{ report.findings.__class__.__mro__ }}", codes.TEMPLATE_UNSAFE, 1, "__class__"),
        ("{{ report.parse_file('/etc/passwd') }}", codes.TEMPLATE_UNSAFE, 1, "parse_file"),
        ("{{ report.model_dump() }}", codes.TEMPLATE_UNSAFE, 1, "model_dump"),
        ("{{ os.system('id') }}", codes.TEMPLATE_UNDEFINED, 1, "'os' is undefined"),
        ("{{ open('/etc/passwd') }}", codes.TEMPLATE_UNDEFINED, 1, "'open' is undefined"),
        ("{% include '/etc/passwd' %}", codes.TEMPLATE_NOT_FOUND, 1, "`/etc/passwd`"),
        ("{% extends '../../../etc/passwd' %}", codes.TEMPLATE_NOT_FOUND, 1, "not a built-in"),
        ("a\nb\n{% if %}", codes.TEMPLATE_SYNTAX, 3, "expected an expression"),
        ("{% for x in report.sources %}", codes.TEMPLATE_SYNTAX, 1, "for"),
        ("{{ report.verdikt }}", codes.TEMPLATE_UNDEFINED, 1, "verdikt"),
        ("\n\n{{ 1 // 0 }}", codes.TEMPLATE_FAILED, 3, "division"),
    ],
    ids=[
        "dunder class",
        "walking to object",
        "pydantic method reading a file",
        "any method of a model",
        "a module",
        "a builtin",
        "include a file",
        "extend a path",
        "syntax error",
        "unclosed block",
        "misspelled field",
        "runtime error",
    ],
)
def test_what_a_template_may_not_do(
    built: view.Report, source: str, code: str, line: int, words: str
) -> None:
    """Each escape or fault is one diagnostic with its code, the template's file and line."""
    with pytest.raises(PolicyEngineError) as raised:
        report.render_custom(built, source, "templates/mine.html")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == code
    assert (diagnostic.location.file, diagnostic.location.line) == ("templates/mine.html", line)
    assert words in diagnostic.message


def test_a_misspelled_field_gets_a_suggestion(built: view.Report) -> None:
    """An unknown attribute of the view-model suggests the field meant."""
    with pytest.raises(PolicyEngineError) as raised:
        report.render_custom(built, "{{ report.verdikt }}", "mine.md")
    (diagnostic,) = raised.value.diagnostics
    assert "`verdict`" in (diagnostic.help or "")


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("report.html.j2", True),
        ("report.junit.xml.j2", True),
        ("report.md.j2", False),
        ("pack.md.j2", False),
    ],
)
def test_built_in_templates_autoescape_html_and_xml(name: str, escaped: bool) -> None:
    """HTML and XML templates escape what they show; Markdown ones escape through filters."""
    template = environment().get_template(name)
    assert bool(template.environment.autoescape(name)) is escaped  # type: ignore[operator]
