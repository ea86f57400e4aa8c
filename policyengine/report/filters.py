"""Jinja filters for the report templates: escaping for Markdown, code spans for HTML, numbers.

Text in a report comes partly from users (dataset names, waiver reasons) and partly from the
evaluator, whose messages mark ids and values as `code spans`. These filters keep the spans and
escape everything else, so a name such as ``<script>`` is shown, never run, in every format.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_SPAN = re.compile(r"`([^`\n]*)`")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(value: object) -> str:
    """Plain text for Markdown: special characters backslashed, `<` `&` as entities, one line."""
    return _escape(" ".join(str(value).split()))


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(value: object) -> str:
    """``value`` as one Markdown code span, whatever backticks or pipes it holds."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_text(value: object) -> str:
    """Text whose `code spans` stay spans and whose other parts are escaped for Markdown."""
    text = " ".join(str(value).split())
    out, start = [], 0
    for match in _SPAN.finditer(text):
        out.append(_escape(text[start : match.start()]))
        out.append(md_code(match.group(1)) if match.group(1) else "")
        start = match.end()
    out.append(_escape(text[start:]))
    return "".join(out)


def html_text(value: object) -> Markup:
    """Text for HTML: escaped, with each `code span` turned into a ``<code>`` element."""
    escaped = str(escape(str(value)))
    return Markup(_SPAN.sub(lambda m: f"<code>{m.group(1)}</code>", escaped))


def thousands(value: int | None) -> str:
    """A count with thousands separators, or an em dash when it was not recorded."""
    return "—" if value is None else f"{value:,}"


def dash(value: object) -> object:
    """The value, or an em dash for None and the empty string."""
    return "—" if value is None or value == "" else value


FILTERS = {
    "md": md,
    "md_code": md_code,
    "md_text": md_text,
    "html_text": html_text,
    "thousands": thousands,
    "dash": dash,
}
"""The filters every report template (built-in or the user's) may use."""
