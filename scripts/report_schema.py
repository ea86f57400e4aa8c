"""Write docs/report.schema.json: the JSON Schema of `policyengine report --format json`.

    .venv/bin/python scripts/report_schema.py

A test (tests/report/test_view.py) fails when the published copy differs from the code's.
"""

from __future__ import annotations

import json
from pathlib import Path

from policyengine.report.view import Report

TARGET = Path(__file__).resolve().parent.parent / "docs" / "report.schema.json"


def main() -> None:
    """Write the schema, keys sorted, with a final newline."""
    schema = Report.model_json_schema()
    TARGET.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"{TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}: written"
    )


if __name__ == "__main__":
    main()
